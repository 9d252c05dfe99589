-- 0025: bookkeeping for the staging models the runner keeps as views (sql/staging/*.yml
-- with materialized: view): the checksum of the SQL each view was created from, so a
-- view is replaced only when its SQL changed. Portable SQL (DuckDB and PostgreSQL).

create table ops_model_view (
    view_name   varchar primary key,
    checksum    varchar not null,
    created_at  timestamp not null
);
