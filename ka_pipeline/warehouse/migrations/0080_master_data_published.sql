-- 0080: what publish_master_data last wrote to the ref_ tables: the checksum of the
-- config's master data and each table's row count, so a run whose config is unchanged
-- (every nightly but the one after a config edit) leaves the ref_ tables as they are
-- instead of deleting and inserting them again. One row; portable SQL.
create table ops_master_data (
    checksum      varchar not null,   -- sha256 of the published frames (tables, columns, rows)
    row_counts    varchar not null,   -- JSON: ref_ table -> rows published
    published_at  timestamp not null
);
