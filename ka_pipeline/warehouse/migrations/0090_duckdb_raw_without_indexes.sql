-- engine: duckdb
-- 0090: on DuckDB the raw feed tables keep no partition index. DuckDB's min-max zone
-- maps over row groups (rows arrive a chain x day at a time) already narrow a
-- partition's delete and the models' date filters; its ART index did not, and kept
-- about 70 bytes a row in memory until the commit: a 5,000,000-row file replaced in one
-- transaction took 19.9 s and 340 MB more without the index's 6.8 s and 45 MB. A large
-- file is therefore written straight into its partition in one transaction on DuckDB
-- too (ka_pipeline/load.py publish_streamed). PostgreSQL keeps its B-tree indexes: this
-- migration is recorded there without running (the engine line above).
drop index if exists raw_sales_part;
drop index if exists raw_invoices_part;
drop index if exists raw_deductions_part;
drop index if exists raw_payments_part;
