-- int_chain_as_of: one row per chain: its last data date, the latest business_date (file
-- date) of any of its feeds. Every model that reports "as of the last data date" reads
-- it here (receivables, invoice ageing, the review list, contract-year P&L), and the
-- rebate progress the latest of sales, invoices and deductions (last_trade_date).
-- Rules: docs/models.md (receivables). Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

-- one max per feed: each is read on the feed's (chain_code, business_date) index
feed_dates as (
    select 'sales' as feed, max(business_date) as d
    from raw_sales
    where chain_code = :chain_code
    union all
    select 'invoices', max(business_date) from stg_invoices where chain_code = :chain_code
    union all
    select 'deductions', max(business_date) from stg_deductions where chain_code = :chain_code
    union all
    select 'payments', max(business_date) from stg_payments where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        max(d) as last_data_date,
        max(case when feed <> 'payments' then d end) as last_trade_date
    from feed_dates
)

select * from final
