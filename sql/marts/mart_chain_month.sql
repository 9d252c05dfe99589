-- mart_chain_month: one row per chain x month with sales or invoices (docs/models.md).
-- Portable SQL (DuckDB and PostgreSQL): dates from date_trunc / interval arithmetic are
-- cast back to date, money stays decimal, ratios are cast to decimal(12,6).
-- Incremental: builds the months >= :since (a month start); sales are read from a year
-- earlier (LY), invoices and deductions from :since.

with

-- import CTEs ---------------------------------------------------------------

-- effective promo_amount: stg_sales applies the promo sales rule (staging/stg_sales.sql)
-- one import per use: a CTE referenced more than once is materialized by PostgreSQL
-- (every sales row of the chain); referenced once, it is inlined
sales_for_totals as (
    select month, business_date, store_code, barcode, units, sales_amount, promo_amount
    from stg_sales
    where chain_code = :chain_code
        and (
            business_date >= :since
            or (
                business_date >= cast(cast(:since as date) - interval '1 year' as date)
                and business_date < cast(
                    cast(date_trunc('month', cast(:until as date)) as date)
                    + interval '1 month' - interval '1 year' as date
                )
            )
        )
),

sales_for_stores as (
    select month, business_date, store_code, barcode, units, sales_amount, promo_amount
    from stg_sales
    where chain_code = :chain_code
        and (
            business_date >= :since
            or (
                business_date >= cast(cast(:since as date) - interval '1 year' as date)
                and business_date < cast(
                    cast(date_trunc('month', cast(:until as date)) as date)
                    + interval '1 month' - interval '1 year' as date
                )
            )
        )
),

sales_for_items as (
    select month, business_date, store_code, barcode, units, sales_amount, promo_amount
    from stg_sales
    where chain_code = :chain_code
        and (
            business_date >= :since
            or (
                business_date >= cast(cast(:since as date) - interval '1 year' as date)
                and business_date < cast(
                    cast(date_trunc('month', cast(:until as date)) as date)
                    + interval '1 month' - interval '1 year' as date
                )
            )
        )
),

invoices as (
    select
        i.net_amount,
        i.units * p.unit_cost as cost_of_goods,
        cast(date_trunc('month', i.invoice_date) as date) as month
    from stg_invoices as i
    left join ref_product as p
        on p.barcode = i.barcode
    where i.chain_code = :chain_code
        and i.invoice_date >= :since
),

deductions as (
    select
        deduction_type,
        amount,
        cast(date_trunc('month', deduction_date) as date) as month
    from stg_deductions
    where chain_code = :chain_code
        and deduction_date >= :since
),

stores as (
    select store_code, opened_on, closed_on
    from ref_store
    where chain_code = :chain_code
),

listings as (
    select barcode, listed_from, listed_to
    from ref_listing
    where chain_code = :chain_code
),

targets as (
    select month, target_amount
    from ref_target
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

sales_month as (
    select
        s.month,
        sum(s.sales_amount) as sellout_amount,
        sum(s.units) as sellout_units,
        sum(s.promo_amount) as promo_amount,
        count(distinct s.business_date) as sales_days
    from sales_for_totals as s
    group by s.month
),

store_month as (
    select month, store_code, sum(units) as units
    from sales_for_stores
    group by month, store_code
),

active_stores as (
    select month, count(*) as active_stores
    from store_month
    where units > 0
    group by month
),

sell_in_month as (
    select month, sum(net_amount) as sell_in_net, sum(cost_of_goods) as cost_of_goods
    from invoices
    group by month
),

-- Trade spend: every deduction except type 'rebate' (a rebate is earned by volume and
-- tracked in mart_rebate_progress, not a fee).
trade_spend_month as (
    select month, sum(amount) as trade_spend
    from deductions
    where deduction_type <> 'rebate'
    group by month
),

months as (
    select month from sales_month
    union
    select month from sell_in_month
),

month_bounds as (
    select
        month,
        cast(month + interval '1 month' as date) - 1 as month_end
    from months
),

-- A store is open in a month if it opened on or before the month's last day and had not
-- closed before the month's first day (closed_on = first day no longer trading).
open_stores as (
    select m.month, st.store_code
    from month_bounds as m
    inner join stores as st
        on st.opened_on <= m.month_end
        and (st.closed_on is null or st.closed_on > m.month)
),

-- Items listed for the chain at any time in the month (listed_to inclusive).
listed_items as (
    select distinct m.month, l.barcode
    from month_bounds as m
    inner join listings as l
        on l.listed_from <= m.month_end
        and (l.listed_to is null or l.listed_to >= m.month)
),

distribution_pairs as (
    select
        m.month,
        coalesce(os.n, 0) * coalesce(li.n, 0) as pairs
    from months as m
    left join (select month, count(*) as n from open_stores group by month) as os
        on os.month = m.month
    left join (select month, count(*) as n from listed_items group by month) as li
        on li.month = m.month
),

store_item_month as (
    select month, store_code, barcode, sum(units) as units
    from sales_for_items
    group by month, store_code, barcode
),

distribution_sold as (
    select sim.month, count(*) as pairs_sold
    from store_item_month as sim
    inner join open_stores as os
        on os.month = sim.month
        and os.store_code = sim.store_code
    inner join listed_items as li
        on li.month = sim.month
        and li.barcode = sim.barcode
    where sim.units > 0
    group by sim.month
),

joined as (
    select
        m.month,
        coalesce(sm.sellout_amount, 0) as sellout_amount,
        coalesce(sm.sellout_units, 0) as sellout_units,
        ly.sellout_amount as sellout_amount_ly,
        t.target_amount,
        coalesce(si.sell_in_net, 0) as sell_in_net,
        coalesce(si.cost_of_goods, 0) as cost_of_goods,
        coalesce(a.active_stores, 0) as active_stores,
        dp.pairs as distribution_pairs,
        coalesce(ds.pairs_sold, 0) as distribution_pairs_sold,
        coalesce(sm.promo_amount, 0) as promo_amount,
        coalesce(ts.trade_spend, 0) as trade_spend,
        coalesce(sm.sales_days, 0) as sales_days
    from months as m
    left join sales_month as sm
        on sm.month = m.month
    left join sales_month as ly
        on ly.month = cast(m.month - interval '1 year' as date)
    left join targets as t
        on t.month = m.month
    left join sell_in_month as si
        on si.month = m.month
    left join active_stores as a
        on a.month = m.month
    left join distribution_pairs as dp
        on dp.month = m.month
    left join distribution_sold as ds
        on ds.month = m.month
    left join trade_spend_month as ts
        on ts.month = m.month
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        month,
        cast(round(sellout_amount, 2) as decimal(16, 2)) as sellout_amount,
        cast(sellout_units as bigint) as sellout_units,
        cast(round(sellout_amount_ly, 2) as decimal(16, 2)) as sellout_amount_ly,
        cast(
            case
                when sellout_amount_ly is null or sellout_amount_ly = 0 then null
                else sellout_amount / sellout_amount_ly - 1
            end as decimal(12, 6)
        ) as yoy_growth,
        cast(target_amount as decimal(16, 2)) as target_amount,
        cast(
            case
                when target_amount is null or target_amount = 0 then null
                else sellout_amount / target_amount
            end as decimal(12, 6)
        ) as target_achievement,
        cast(round(sell_in_net, 2) as decimal(16, 2)) as sell_in_net,
        cast(active_stores as integer) as active_stores,
        cast(distribution_pairs as integer) as distribution_pairs,
        cast(distribution_pairs_sold as integer) as distribution_pairs_sold,
        cast(
            case
                when distribution_pairs = 0 then null
                else cast(distribution_pairs_sold as decimal(16, 6)) / distribution_pairs
            end as decimal(12, 6)
        ) as distribution_rate,
        cast(round(promo_amount, 2) as decimal(16, 2)) as promo_amount,
        cast(
            case
                when sellout_amount = 0 then null
                else promo_amount / sellout_amount
            end as decimal(12, 6)
        ) as promo_share,
        cast(round(trade_spend, 2) as decimal(16, 2)) as trade_spend,
        cast(
            case
                when sell_in_net = 0 then null
                else trade_spend / sell_in_net
            end as decimal(12, 6)
        ) as trade_spend_rate,
        cast(sales_days as integer) as sales_days,
        cast(round(cost_of_goods, 2) as decimal(16, 2)) as cost_of_goods,
        -- domain.md section 4: sell-in net - invoice units x unit cost - trade spend
        cast(round(sell_in_net - cost_of_goods - trade_spend, 2) as decimal(16, 2))
            as gross_profit_after_trade_spend
    from joined
    where month >= :since
)

select * from final
