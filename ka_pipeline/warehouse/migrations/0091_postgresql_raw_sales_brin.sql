-- engine: postgresql
-- 0091: on PostgreSQL raw_sales' partition index is a BRIN index (min and max of each
-- range of 128 pages) instead of a B-tree. Rows arrive a chain x day at a time, so each
-- page range holds one chain's day or a few: every read of the table is by chain and a
-- date range (a partition's delete, stg_sales' slice, the newest sales day from the
-- changed partitions on), which BRIN narrows as well, while keeping it costs next to
-- nothing. Maintaining the B-tree was a third of a 1M-row load (2.20-2.45 s with it,
-- 1.86-2.00 s with BRIN, bare COPY 0.65 s); the nightly model run after 1 and 36 months
-- of history was unchanged (3.06 / 4.22 s with BRIN, 3.26 / 4.46 s with the B-tree).
-- DuckDB has no such index at all (0090): this migration is recorded there without
-- running (the engine line above).
drop index if exists raw_sales_part;
create index raw_sales_part on raw_sales using brin (chain_code, business_date);
