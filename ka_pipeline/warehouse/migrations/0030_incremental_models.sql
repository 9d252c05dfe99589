-- 0030: bookkeeping for incremental model runs (ka_pipeline/models.py, docs/models.md
-- "Incremental runs"). Portable SQL (DuckDB and PostgreSQL).
--
-- ops_model_state: per chain, what the last model run was computed from: a hash of the
-- chain's master data and contracts (ref_ tables) and of the models' SQL and YAML (a
-- change forces a full rebuild), whether the chain sends promo columns (a change
-- re-derives every stg_sales row), and the last load modeled (loads after it widen the
-- next run's range, so a failed model run is caught up) and the chain's last data date
-- then (latest business_date of sales, invoices and deductions: rows "as of the last data
-- date" after it are recomputed even when days without files lie between).
create table ops_model_state (
    chain_code    varchar primary key,
    inputs_hash   varchar not null,
    sends_promo   boolean not null,
    last_load_id  bigint not null,
    last_data_date date,
    full_at       timestamp not null,
    modeled_at    timestamp not null
);

-- ops_model_partition: per chain x feed x loaded partition (business_date), the earliest
-- date its rows touched when last modeled (invoice, payment, deduction, period dates).
-- A restated partition may drop rows dated earlier than anything it now holds; this
-- remembers them, so the slices they fed are recomputed.
create table ops_model_partition (
    chain_code     varchar not null,
    feed           varchar not null,
    business_date  date not null,
    min_date       date not null,
    primary key (chain_code, feed, business_date)
);

-- delete / count by slice: the chain's sales staging rows from a date on
create index stg_sales_part on stg_sales (chain_code, business_date);
