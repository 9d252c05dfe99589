-- int_chain_as_of: one row per chain: its last data date, the latest business_date (file
-- date) of any of its feeds, and the latest of sales, invoices and deductions (the last
-- day of the rebate progress). Every model that reports "as of the last data date" reads
-- it here (receivables, invoice ageing, the review list, contract-year P&L, rebates).
-- The runner reads the feeds' latest dates once per run (ka_pipeline.models.plan_run:
-- the sales feed from the changed partitions on, so the nightly run does not scan every
-- sales row) and binds them. Rules: docs/models.md (receivables).
-- Portable SQL (DuckDB and PostgreSQL).

with

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(:last_file_date as date) as last_data_date,
        cast(:last_trade_date as date) as last_trade_date
)

select * from final
