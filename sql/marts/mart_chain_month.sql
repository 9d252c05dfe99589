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
    select store_code, area_m2, opened_on, closed_on
    from ref_store
    where chain_code = :chain_code
),

-- store x item x month: sold, carried, must-carry, price and stock days (one import per use)
pairs_for_kpis as (
    select
        month,
        units,
        carried,
        must_carry,
        price_rows,
        price_rows_compliant,
        on_hand_days,
        oos_days
    from int_store_item_month
    where chain_code = :chain_code
        and month >= :since
),

pairs_for_items as (
    select month, barcode, units
    from int_store_item_month
    where chain_code = :chain_code
        and month >= :since
),

-- like-for-like: the stores' sell-out in the slice's months and their LY months
pairs_for_lfl as (
    select month, store_code, sales_amount
    from int_store_item_month
    where chain_code = :chain_code
        and (
            month >= :since
            or (
                month >= cast(cast(:since as date) - interval '1 year' as date)
                and month < cast(
                    cast(date_trunc('month', cast(:until as date)) as date)
                    + interval '1 month' - interval '1 year' as date
                )
            )
        )
),

oos_days as (
    select cast(date_trunc('month', business_date) as date) as month, lost_sales_amount
    from mart_oos_day
    where chain_code = :chain_code
        and business_date >= :since
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

-- Items listed for the chain at any time in the month (listed_to inclusive), whatever
-- the store classes: the chain-level sell-through denominator.
listed_items as (
    select distinct m.month, l.barcode
    from month_bounds as m
    inner join listings as l
        on l.listed_from <= m.month_end
        and (l.listed_to is null or l.listed_to >= m.month)
),

item_units as (
    select month, barcode, sum(units) as units
    from pairs_for_items
    group by month, barcode
),

-- sell-through (chain level): listed items with units > 0 / listed items
sell_through as (
    select
        li.month,
        count(*) as listed_items,
        sum(case when iu.units > 0 then 1 else 0 end) as listed_items_sold
    from listed_items as li
    left join item_units as iu
        on iu.month = li.month
        and iu.barcode = li.barcode
    group by li.month
),

-- distribution: (open store x must-carry item for its class) pairs, carried = some day
-- with units <> 0 or on_hand > 0; velocity: units of the store x item pairs that sold;
-- price compliance and out-of-stock days (int_store_item_month)
pair_kpis as (
    select
        month,
        sum(case when must_carry then 1 else 0 end) as pairs,
        sum(case when must_carry and carried then 1 else 0 end) as pairs_carried,
        sum(case when must_carry and units > 0 then 1 else 0 end) as pairs_sold,
        sum(case when units > 0 then 1 else 0 end) as selling_pairs,
        sum(case when units > 0 then units else 0 end) as selling_units,
        sum(price_rows) as price_rows,
        sum(price_rows_compliant) as price_rows_compliant,
        sum(on_hand_days) as on_hand_days,
        sum(oos_days) as oos_days
    from pairs_for_kpis
    group by month
),

active_area as (
    select sm.month, sum(st.area_m2) as active_area_m2
    from store_month as sm
    inner join stores as st
        on st.store_code = sm.store_code
    where sm.units > 0
    group by sm.month
),

store_sales as (
    select month, store_code, sum(sales_amount) as sales_amount
    from pairs_for_lfl
    group by month, store_code
),

-- like-for-like: stores open through the whole of both periods (opened on or before the
-- LY month's first day, not closed before the end of this month)
lfl as (
    select
        m.month,
        count(*) as lfl_stores,
        sum(coalesce(cur.sales_amount, 0)) as lfl_sellout,
        sum(coalesce(ly.sales_amount, 0)) as lfl_sellout_ly
    from month_bounds as m
    inner join stores as st
        on st.opened_on <= cast(m.month - interval '1 year' as date)
        and (st.closed_on is null or st.closed_on > m.month_end)
    left join store_sales as cur
        on cur.month = m.month
        and cur.store_code = st.store_code
    left join store_sales as ly
        on ly.month = cast(m.month - interval '1 year' as date)
        and ly.store_code = st.store_code
    group by m.month
),

lost_sales as (
    select month, sum(lost_sales_amount) as lost_sales_amount
    from oos_days
    group by month
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
        coalesce(pk.pairs, 0) as distribution_pairs,
        coalesce(pk.pairs_sold, 0) as distribution_pairs_sold,
        coalesce(pk.pairs_carried, 0) as distribution_pairs_carried,
        coalesce(sth.listed_items, 0) as listed_items,
        coalesce(sth.listed_items_sold, 0) as listed_items_sold,
        coalesce(pk.selling_pairs, 0) as selling_pairs,
        coalesce(pk.selling_units, 0) as selling_units,
        cast(m.month + interval '1 month' as date) - m.month as month_days,
        coalesce(aa.active_area_m2, 0) as active_area_m2,
        coalesce(lf.lfl_stores, 0) as lfl_stores,
        lf.lfl_sellout,
        lf.lfl_sellout_ly,
        coalesce(pk.price_rows, 0) as price_rows,
        coalesce(pk.price_rows_compliant, 0) as price_rows_compliant,
        coalesce(pk.on_hand_days, 0) as on_hand_days,
        coalesce(pk.oos_days, 0) as oos_days,
        coalesce(ls.lost_sales_amount, 0) as lost_sales_amount,
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
    left join pair_kpis as pk
        on pk.month = m.month
    left join sell_through as sth
        on sth.month = m.month
    left join active_area as aa
        on aa.month = m.month
    left join lfl as lf
        on lf.month = m.month
    left join lost_sales as ls
        on ls.month = m.month
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
                else cast(distribution_pairs_carried as decimal(16, 6)) / distribution_pairs
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
            as gross_profit_after_trade_spend,
        cast(distribution_pairs_carried as integer) as distribution_pairs_carried,
        cast(listed_items as integer) as listed_items,
        cast(listed_items_sold as integer) as listed_items_sold,
        cast(
            case
                when listed_items = 0 then null
                else cast(listed_items_sold as decimal(16, 6)) / listed_items
            end as decimal(12, 6)
        ) as sell_through_rate,
        cast(selling_pairs as integer) as selling_pairs,
        -- units / stores selling the item / weeks (days of the month / 7), summed over items
        cast(
            case
                when selling_pairs = 0 then null
                else round(cast(cast(selling_units as decimal(18, 6)) * 7 / selling_pairs / month_days as decimal(18, 8)), 4)
            end as decimal(14, 4)
        ) as velocity,
        cast(
            case when active_stores = 0 then null else round(cast(sellout_amount / active_stores as decimal(18, 6)), 2) end
            as decimal(16, 2)
        ) as sales_per_store,
        cast(active_area_m2 as bigint) as active_area_m2,
        cast(
            case
                when active_area_m2 = 0 then null
                else round(cast(sellout_amount / active_area_m2 as decimal(18, 6)), 2)
            end as decimal(14, 2)
        ) as sales_per_m2,
        cast(lfl_stores as integer) as lfl_stores,
        cast(round(lfl_sellout, 2) as decimal(16, 2)) as lfl_sellout_amount,
        cast(round(lfl_sellout_ly, 2) as decimal(16, 2)) as lfl_sellout_amount_ly,
        cast(
            case
                when sellout_amount_ly is null or lfl_stores = 0 or lfl_sellout_ly = 0 then null
                else lfl_sellout / lfl_sellout_ly - 1
            end as decimal(12, 6)
        ) as lfl_growth,
        cast(price_rows as integer) as price_rows,
        cast(price_rows_compliant as integer) as price_rows_compliant,
        cast(
            case
                when price_rows = 0 then null
                else cast(price_rows_compliant as decimal(16, 6)) / price_rows
            end as decimal(12, 6)
        ) as price_compliance,
        cast(on_hand_days as integer) as on_hand_days,
        cast(oos_days as integer) as oos_days,
        cast(
            case
                when on_hand_days = 0 then null
                else cast(oos_days as decimal(16, 6)) / on_hand_days
            end as decimal(12, 6)
        ) as oos_rate,
        cast(
            case when on_hand_days = 0 then null else round(lost_sales_amount, 2) end
            as decimal(16, 2)
        ) as lost_sales_amount,
        -- "kpi: reason" for every KPI left null (docs/models.md); null when none is
        nullif(
            concat_ws(
                '; ',
                case
                    when sellout_amount_ly is null then 'yoy_growth: no last year'
                    when sellout_amount_ly = 0 then 'yoy_growth: last year''s sell-out is 0'
                end,
                case
                    when target_amount is null then 'target_achievement: no target'
                    when target_amount = 0 then 'target_achievement: target is 0'
                end,
                case
                    when distribution_pairs = 0 then 'distribution_rate: no must-carry pairs'
                end,
                case when listed_items = 0 then 'sell_through_rate: no listed items' end,
                case when selling_pairs = 0 then 'velocity: no item sold' end,
                case when active_stores = 0 then 'sales_per_store: no active stores' end,
                case when active_area_m2 = 0 then 'sales_per_m2: no active stores' end,
                case
                    when sellout_amount_ly is null then 'lfl_growth: no last year'
                    when lfl_stores = 0 then 'lfl_growth: no stores open through both periods'
                    when lfl_sellout_ly = 0
                        then 'lfl_growth: like-for-like stores sold nothing last year'
                end,
                case when sellout_amount = 0 then 'promo_share: no sell-out' end,
                case
                    when price_rows = 0 then 'price_compliance: no sales with units > 0 to check'
                end,
                case when on_hand_days = 0 then 'oos_rate: no on-hand sent' end,
                case when on_hand_days = 0 then 'lost_sales_amount: no on-hand sent' end,
                case when sell_in_net = 0 then 'trade_spend_rate: no sell-in' end
            ),
            ''
        ) as null_reasons
    from joined
    where month >= :since
)

select * from final
