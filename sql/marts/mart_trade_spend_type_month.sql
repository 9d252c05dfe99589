-- mart_trade_spend_type_month: deductions per chain x month x deduction type (domain.md
-- section 4: trade spend per type). Months by deduction_date, as mart_chain_month, so
-- the rows with is_trade_spend sum to mart_chain_month.trade_spend.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

checks as (
    select deduction_date, deduction_type, amount, disputable_amount
    from mart_deduction_check
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(date_trunc('month', deduction_date) as date) as month,
        deduction_type,
        cast(count(*) as integer) as lines,
        cast(sum(amount) as decimal(16, 2)) as amount,
        cast(sum(disputable_amount) as decimal(16, 2)) as disputable,
        deduction_type <> 'rebate' as is_trade_spend
    from checks
    group by cast(date_trunc('month', deduction_date) as date), deduction_type
)

select * from final
