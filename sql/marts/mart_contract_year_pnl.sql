-- mart_contract_year_pnl: per chain x contract year (started by the last data date):
-- sell-in, cost of goods, trade spend and its rate, and gross profit after trade spend
-- (domain.md section 4).
-- Incremental (YAML, keys on contract_year): rebuilds the contract years the changed data
-- touches (slice_keys: years ending on or after the slice bound, where the invoices and
-- the deduction lines of the slice are dated, the years of the deduction checks whose
-- slice_date is from the bound on, and years no longer started by the last data date),
-- reading only the invoices from the first of those years' start on.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

contracts as (
    select contract_year, start_date, end_date
    from ref_contract
    where chain_code = :chain_code
        and contract_year in (select slice_key from slice_keys)
),

invoices as (
    select i.invoice_date, i.net_amount, i.units * p.unit_cost as cost_of_goods
    from stg_invoices as i
    left join ref_product as p
        on p.barcode = i.barcode
    where i.chain_code = :chain_code
        and i.invoice_date >= (select min(start_date) from contracts)
),

spend as (
    select contract_year, deduction_type, amount, disputable
    from mart_trade_spend_type_year
    where chain_code = :chain_code
        and contract_year in (select slice_key from slice_keys)
),

-- logic CTEs ----------------------------------------------------------------

last_data as (
    select last_data_date as last_date
    from int_chain_as_of
    where chain_code = :chain_code
),

sell_in as (
    select
        c.contract_year,
        coalesce(sum(i.net_amount), 0) as sell_in_net,
        coalesce(sum(i.cost_of_goods), 0) as cost_of_goods
    from contracts as c
    left join invoices as i
        on i.invoice_date between c.start_date and c.end_date
    group by c.contract_year
),

spend_year as (
    select
        contract_year,
        sum(case when deduction_type <> 'rebate' then amount else 0 end) as trade_spend,
        sum(case when deduction_type = 'rebate' then amount else 0 end) as rebate_taken,
        sum(disputable) as disputable
    from spend
    group by contract_year
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(c.contract_year as integer) as contract_year,
        c.start_date,
        c.end_date,
        cast(si.sell_in_net as decimal(16, 2)) as sell_in_net,
        cast(round(si.cost_of_goods, 2) as decimal(16, 2)) as cost_of_goods,
        cast(coalesce(sy.trade_spend, 0) as decimal(16, 2)) as trade_spend,
        cast(
            case when si.sell_in_net <> 0 then coalesce(sy.trade_spend, 0) / si.sell_in_net end
            as decimal(12, 6)
        ) as trade_spend_rate,
        cast(coalesce(sy.rebate_taken, 0) as decimal(16, 2)) as rebate_taken,
        cast(coalesce(sy.disputable, 0) as decimal(16, 2)) as disputable,
        cast(
            round(si.sell_in_net - si.cost_of_goods - coalesce(sy.trade_spend, 0), 2)
            as decimal(16, 2)
        ) as gross_profit_after_trade_spend
    from contracts as c
    cross join last_data as ld
    inner join sell_in as si
        on si.contract_year = c.contract_year
    left join spend_year as sy
        on sy.contract_year = c.contract_year
    where c.start_date <= ld.last_date
)

select * from final
