-- int_sellout_period: the sell-out KPIs of mart_chain_month, mart_chain_week and
-- mart_store_month, counted and divided in one place (docs/models.md, "Sell-out
-- analytics"). One row per chain x period, for three grains:
--   * chain x month  (period_kind 'month', store_code null): months with sales rows or
--     invoice lines;
--   * chain x ISO week ('week', store_code null): weeks with sales rows or invoice lines;
--   * chain x store x month ('month', store_code set): store months with sales rows.
-- Counts come from int_store_item_period (the store x item x period sums), never from
-- the sales rows again, except the chain's distinct sales days (int_store_item_day).
-- LY: the same month a year earlier; for a week the same ISO week of the previous ISO
-- year (a week 53 without one has no LY). Null when that period (store) has no sales rows.
-- Ratios are decimal(12,6), null when the denominator is 0 or null, and null_reasons says
-- why ("kpi: reason" joined by "; ").
-- Incremental (YAML: column period_end, from: day): rebuilds the periods ending on or
-- after :since (the changed day's month and week, and later ones), as
-- int_store_item_period; reads those periods and their LY periods of
-- int_store_item_period, and the sales days, invoices, deductions and out-of-stock days
-- from the month's first day or the week's Monday.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

-- store x item x period of the slice (one import per use)
pairs_for_stores as (
    select
        period_kind,
        period_start,
        store_code,
        sales_rows,
        units,
        sales_amount,
        promo_amount,
        carried,
        must_carry,
        price_rows,
        price_rows_compliant,
        on_hand_days,
        oos_days
    from int_store_item_period
    where chain_code = :chain_code
        and period_end >= :since
),

pairs_for_items as (
    select period_kind, period_start, barcode, units
    from int_store_item_period
    where chain_code = :chain_code
        and period_end >= :since
),

-- last year's months and weeks of the slice's periods
pairs_ly_month as (
    select period_kind, period_start, store_code, sales_rows, sales_amount
    from int_store_item_period
    where chain_code = :chain_code
        and period_kind = 'month'
        and period_start >= cast(cast(:since_month as date) - interval '1 year' as date)
        and period_start < cast(
            cast(date_trunc('month', cast(:until as date)) as date)
            + interval '1 month' - interval '1 year' as date
        )
),

pairs_ly_week as (
    select period_kind, period_start, store_code, sales_rows, sales_amount
    from int_store_item_period
    where chain_code = :chain_code
        and period_kind = 'week'
        and period_start >= cast(cast(:since_week as date) - 371 as date)
        and period_start < cast(cast(:until as date) - 357 as date)
),

sales_dates as (
    select distinct business_date
    from int_store_item_day
    where chain_code = :chain_code
        and business_date >= :since_period
),

invoices as (
    select i.invoice_date, i.net_amount, i.units * p.unit_cost as cost_of_goods
    from stg_invoices as i
    left join ref_product as p
        on p.barcode = i.barcode
    where i.chain_code = :chain_code
        and i.invoice_date >= :since_period
),

-- trade spend: every deduction except type 'rebate' (a rebate is earned by volume and
-- tracked in mart_rebate_progress, not a fee)
deductions as (
    select deduction_date, amount
    from stg_deductions
    where chain_code = :chain_code
        and deduction_date >= :since_period
        and deduction_type <> 'rebate'
),

oos_days as (
    select business_date, store_code, lost_sales_amount
    from mart_oos_day
    where chain_code = :chain_code
        and business_date >= :since_period
),

stores as (
    select store_code, area_m2, opened_on, closed_on
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

kinds as (
    select 'month' as period_kind
    union all
    select 'week' as period_kind
),

-- dated rows (sales days, invoices, deductions, out-of-stock days) once per kind of
-- period, keyed by the period's first day; only the periods of the slice
dated as (
    select
        k.period_kind,
        case
            when k.period_kind = 'month' then cast(date_trunc('month', r.d) as date)
            else cast(r.d - cast(extract(isodow from r.d) - 1 as integer) as date)
        end as period_start,
        r.store_code,
        r.sales_day,
        r.invoice_line,
        r.net_amount,
        r.cost_of_goods,
        r.trade_spend,
        r.lost_sales_amount
    from (
        select
            business_date as d,
            cast(null as varchar) as store_code,
            1 as sales_day,
            0 as invoice_line,
            cast(null as decimal(38, 2)) as net_amount,
            cast(null as decimal(38, 6)) as cost_of_goods,
            cast(null as decimal(38, 2)) as trade_spend,
            cast(null as decimal(38, 2)) as lost_sales_amount
        from sales_dates
        union all
        select invoice_date, null, 0, 1, net_amount, cost_of_goods, null, null
        from invoices
        union all
        select deduction_date, null, 0, 0, null, null, amount, null
        from deductions
        union all
        select business_date, store_code, 0, 0, null, null, null, lost_sales_amount
        from oos_days
    ) as r
    cross join kinds as k
    where k.period_kind = 'month'
        and r.d >= :since_month
        or k.period_kind = 'week'
        and r.d >= :since_week
),

dated_period as (
    select
        period_kind,
        period_start,
        sum(sales_day) as sales_days,
        sum(invoice_line) as invoice_lines,
        sum(net_amount) as sell_in_net,
        sum(cost_of_goods) as cost_of_goods,
        sum(trade_spend) as trade_spend,
        sum(lost_sales_amount) as lost_sales_amount
    from dated
    group by period_kind, period_start
),

store_lost_sales as (
    select period_kind, period_start, store_code, sum(lost_sales_amount) as lost_sales_amount
    from dated
    where store_code is not null
    group by period_kind, period_start, store_code
),

-- the store's items: sell-out, must-carry pairs carried, carried items sold, selling
-- items, price and stock days
store_period as (
    select
        period_kind,
        period_start,
        store_code,
        sum(sales_rows) as sales_rows,
        sum(units) as units,
        sum(sales_amount) as sales_amount,
        sum(promo_amount) as promo_amount,
        sum(case when must_carry then 1 else 0 end) as pairs,
        sum(case when must_carry and carried then 1 else 0 end) as pairs_carried,
        sum(case when must_carry and units > 0 then 1 else 0 end) as pairs_sold,
        sum(case when carried then 1 else 0 end) as carried_items,
        sum(case when carried and units > 0 then 1 else 0 end) as carried_items_sold,
        sum(case when units > 0 then 1 else 0 end) as selling_pairs,
        sum(case when units > 0 then units else 0 end) as selling_units,
        sum(price_rows) as price_rows,
        sum(price_rows_compliant) as price_rows_compliant,
        sum(on_hand_days) as on_hand_days,
        sum(oos_days) as oos_days
    from pairs_for_stores
    group by period_kind, period_start, store_code
),

-- the chain: the stores' sums; active stores = stores with units > 0
chain_period as (
    select
        sp.period_kind,
        sp.period_start,
        sum(sp.sales_rows) as sales_rows,
        sum(sp.units) as units,
        sum(sp.sales_amount) as sales_amount,
        sum(sp.promo_amount) as promo_amount,
        sum(sp.pairs) as pairs,
        sum(sp.pairs_carried) as pairs_carried,
        sum(sp.pairs_sold) as pairs_sold,
        sum(sp.selling_pairs) as selling_pairs,
        sum(sp.selling_units) as selling_units,
        sum(sp.price_rows) as price_rows,
        sum(sp.price_rows_compliant) as price_rows_compliant,
        sum(sp.on_hand_days) as on_hand_days,
        sum(sp.oos_days) as oos_days,
        sum(case when sp.units > 0 then 1 else 0 end) as active_stores,
        sum(case when sp.units > 0 then st.area_m2 end) as active_area_m2
    from store_period as sp
    left join stores as st
        on st.store_code = sp.store_code
    group by sp.period_kind, sp.period_start
),

-- the LY periods' sell-out per store, where the store had sales rows
store_ly as (
    select period_kind, period_start, store_code, sum(sales_amount) as sales_amount
    from (
        select * from pairs_ly_month
        union all
        select * from pairs_ly_week
    ) as p
    group by period_kind, period_start, store_code
    having sum(sales_rows) > 0
),

chain_ly as (
    select period_kind, period_start, sum(sales_amount) as sales_amount
    from store_ly
    group by period_kind, period_start
),

-- the chain's periods: with sales rows or invoice lines
periods as (
    select period_kind, period_start from chain_period where sales_rows > 0
    union
    select period_kind, period_start from dated_period where invoice_lines > 0
),

period_bounds as (
    select
        period_kind,
        period_start,
        case
            when period_kind = 'month'
                then cast(period_start + interval '1 month' as date) - 1
            else cast(period_start + 6 as date)
        end as period_end,
        case
            when period_kind = 'week' then cast(extract(isoyear from period_start) as integer)
        end as iso_year,
        case
            when period_kind = 'week' then cast(extract(week from period_start) as integer)
        end as iso_week
    from periods
),

-- the LY period of each period: the month a year earlier; the same ISO week of the
-- previous ISO year, when that week had sales rows (else no LY week)
ly_periods as (
    select
        period_kind,
        period_start,
        cast(period_start - interval '1 year' as date) as ly_start
    from period_bounds
    where period_kind = 'month'
    union all
    select w.period_kind, w.period_start, ly.period_start as ly_start
    from period_bounds as w
    inner join chain_ly as ly
        on ly.period_kind = 'week'
        and cast(extract(isoyear from ly.period_start) as integer) = w.iso_year - 1
        and cast(extract(week from ly.period_start) as integer) = w.iso_week
    where w.period_kind = 'week'
),

-- items listed for the chain at any time in the period (listed_to inclusive), whatever
-- the store classes: the chain-level sell-through denominator
listed_items as (
    select distinct m.period_kind, m.period_start, l.barcode
    from period_bounds as m
    inner join listings as l
        on l.listed_from <= m.period_end
        and (l.listed_to is null or l.listed_to >= m.period_start)
),

item_units as (
    select period_kind, period_start, barcode, sum(units) as units
    from pairs_for_items
    group by period_kind, period_start, barcode
),

sell_through as (
    select
        li.period_kind,
        li.period_start,
        count(*) as listed_items,
        sum(case when iu.units > 0 then 1 else 0 end) as listed_items_sold
    from listed_items as li
    left join item_units as iu
        on iu.period_kind = li.period_kind
        and iu.period_start = li.period_start
        and iu.barcode = li.barcode
    group by li.period_kind, li.period_start
),

-- like-for-like: stores open through the whole of both periods (opened on or before the
-- LY period's first day, not closed before the end of this period)
lfl as (
    select
        p.period_kind,
        p.period_start,
        count(*) as lfl_stores,
        sum(coalesce(cur.sales_amount, 0)) as lfl_sellout,
        sum(coalesce(ly.sales_amount, 0)) as lfl_sellout_ly
    from ly_periods as p
    inner join period_bounds as b
        on b.period_kind = p.period_kind
        and b.period_start = p.period_start
    inner join stores as st
        on st.opened_on <= p.ly_start
        and (st.closed_on is null or st.closed_on > b.period_end)
    left join store_period as cur
        on cur.period_kind = p.period_kind
        and cur.period_start = p.period_start
        and cur.store_code = st.store_code
    left join store_ly as ly
        on ly.period_kind = p.period_kind
        and ly.period_start = p.ly_start
        and ly.store_code = st.store_code
    group by p.period_kind, p.period_start
),

chain_rows as (
    select
        b.period_kind,
        b.period_start,
        cast(null as varchar) as store_code,
        b.period_end,
        b.iso_year,
        b.iso_week,
        coalesce(cp.sales_amount, 0) as sellout_amount,
        coalesce(cp.units, 0) as sellout_units,
        ly.sales_amount as sellout_amount_ly,
        t.target_amount,
        coalesce(dp.sell_in_net, 0) as sell_in_net,
        coalesce(dp.cost_of_goods, 0) as cost_of_goods,
        coalesce(dp.trade_spend, 0) as trade_spend,
        coalesce(cp.active_stores, 0) as active_stores,
        coalesce(cp.active_area_m2, 0) as active_area_m2,
        cast(null as integer) as area_m2,
        coalesce(cp.promo_amount, 0) as promo_amount,
        coalesce(dp.sales_days, 0) as sales_days,
        coalesce(cp.pairs, 0) as distribution_pairs,
        coalesce(cp.pairs_sold, 0) as distribution_pairs_sold,
        coalesce(cp.pairs_carried, 0) as distribution_pairs_carried,
        coalesce(sth.listed_items, 0) as listed_items,
        coalesce(sth.listed_items_sold, 0) as listed_items_sold,
        cast(null as integer) as carried_items,
        cast(null as integer) as carried_items_sold,
        coalesce(cp.selling_pairs, 0) as selling_pairs,
        coalesce(cp.selling_units, 0) as selling_units,
        coalesce(lf.lfl_stores, 0) as lfl_stores,
        lf.lfl_sellout,
        lf.lfl_sellout_ly,
        coalesce(cp.price_rows, 0) as price_rows,
        coalesce(cp.price_rows_compliant, 0) as price_rows_compliant,
        coalesce(cp.on_hand_days, 0) as on_hand_days,
        coalesce(cp.oos_days, 0) as oos_days,
        coalesce(dp.lost_sales_amount, 0) as lost_sales_amount
    from period_bounds as b
    left join chain_period as cp
        on cp.period_kind = b.period_kind
        and cp.period_start = b.period_start
    left join ly_periods as lp
        on lp.period_kind = b.period_kind
        and lp.period_start = b.period_start
    left join chain_ly as ly
        on ly.period_kind = lp.period_kind
        and ly.period_start = lp.ly_start
    left join targets as t
        on b.period_kind = 'month'
        and t.month = b.period_start
    left join dated_period as dp
        on dp.period_kind = b.period_kind
        and dp.period_start = b.period_start
    left join sell_through as sth
        on sth.period_kind = b.period_kind
        and sth.period_start = b.period_start
    left join lfl as lf
        on lf.period_kind = b.period_kind
        and lf.period_start = b.period_start
),

-- store months with sales rows; LY = the same store's month a year earlier; like-for-like
-- = the store's own YoY when it is open through the whole of both months
store_rows as (
    select
        sp.period_kind,
        sp.period_start,
        sp.store_code,
        b.period_end,
        b.iso_year,
        b.iso_week,
        sp.sales_amount as sellout_amount,
        sp.units as sellout_units,
        ly.sales_amount as sellout_amount_ly,
        cast(null as decimal(16, 2)) as target_amount,
        cast(null as decimal(16, 2)) as sell_in_net,
        cast(null as decimal(16, 2)) as cost_of_goods,
        cast(null as decimal(16, 2)) as trade_spend,
        case when sp.units > 0 then 1 else 0 end as active_stores,
        cast(null as bigint) as active_area_m2,
        st.area_m2,
        sp.promo_amount,
        cast(null as integer) as sales_days,
        sp.pairs as distribution_pairs,
        sp.pairs_sold as distribution_pairs_sold,
        sp.pairs_carried as distribution_pairs_carried,
        cast(null as integer) as listed_items,
        cast(null as integer) as listed_items_sold,
        sp.carried_items,
        sp.carried_items_sold,
        sp.selling_pairs,
        sp.selling_units,
        case
            when st.store_code is not null
                and st.opened_on <= cast(sp.period_start - interval '1 year' as date)
                and (st.closed_on is null or st.closed_on > b.period_end)
                then 1
            else 0
        end as lfl_stores,
        sp.sales_amount as lfl_sellout,
        ly.sales_amount as lfl_sellout_ly,
        sp.price_rows,
        sp.price_rows_compliant,
        sp.on_hand_days,
        sp.oos_days,
        coalesce(ls.lost_sales_amount, 0) as lost_sales_amount
    from store_period as sp
    inner join period_bounds as b
        on b.period_kind = sp.period_kind
        and b.period_start = sp.period_start
    left join store_ly as ly
        on ly.period_kind = sp.period_kind
        and ly.period_start = cast(sp.period_start - interval '1 year' as date)
        and ly.store_code = sp.store_code
    left join stores as st
        on st.store_code = sp.store_code
    left join store_lost_sales as ls
        on ls.period_kind = sp.period_kind
        and ls.period_start = sp.period_start
        and ls.store_code = sp.store_code
    where sp.period_kind = 'month'
        and sp.sales_rows > 0
),

joined as (
    select * from chain_rows
    union all
    select * from store_rows
),

-- the ratios, once for the three grains; "chain" and "store" name what differs
final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(period_kind as varchar) as period_kind,
        period_start,
        store_code,
        period_end,
        iso_year,
        iso_week,
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
        cast(round(cost_of_goods, 2) as decimal(16, 2)) as cost_of_goods,
        cast(round(trade_spend, 2) as decimal(16, 2)) as trade_spend,
        -- domain.md section 4: sell-in net - invoice units x unit cost - trade spend
        cast(round(sell_in_net - cost_of_goods - trade_spend, 2) as decimal(16, 2))
            as gross_profit_after_trade_spend,
        -- deductions are charged to the chain: no rate per store
        cast(
            case
                when store_code is not null or sell_in_net = 0 then null
                else trade_spend / sell_in_net
            end as decimal(12, 6)
        ) as trade_spend_rate,
        cast(active_stores as integer) as active_stores,
        cast(active_area_m2 as bigint) as active_area_m2,
        cast(area_m2 as integer) as area_m2,
        cast(round(promo_amount, 2) as decimal(16, 2)) as promo_amount,
        cast(
            case when sellout_amount = 0 then null else promo_amount / sellout_amount end
            as decimal(12, 6)
        ) as promo_share,
        cast(sales_days as integer) as sales_days,
        cast(distribution_pairs as integer) as distribution_pairs,
        cast(distribution_pairs_sold as integer) as distribution_pairs_sold,
        cast(distribution_pairs_carried as integer) as distribution_pairs_carried,
        cast(
            case
                when distribution_pairs = 0 then null
                else cast(distribution_pairs_carried as decimal(16, 6)) / distribution_pairs
            end as decimal(12, 6)
        ) as distribution_rate,
        cast(listed_items as integer) as listed_items,
        cast(listed_items_sold as integer) as listed_items_sold,
        cast(carried_items as integer) as carried_items,
        cast(carried_items_sold as integer) as carried_items_sold,
        -- chain: listed items sold / listed items; store: carried items sold / carried
        cast(
            case
                when store_code is null and listed_items = 0 then null
                when store_code is null
                    then cast(listed_items_sold as decimal(16, 6)) / listed_items
                when carried_items = 0 then null
                else cast(carried_items_sold as decimal(16, 6)) / carried_items
            end as decimal(12, 6)
        ) as sell_through_rate,
        cast(selling_pairs as integer) as selling_pairs,
        -- units / stores selling the item / weeks, summed over items (a month: days / 7
        -- weeks; a week: 1)
        cast(
            case
                when selling_pairs = 0 then null
                when period_kind = 'week'
                    then round(cast(cast(selling_units as decimal(18, 6)) / selling_pairs as decimal(18, 8)), 4)
                else round(cast(cast(selling_units as decimal(18, 6)) * 7 / selling_pairs / (period_end - period_start + 1) as decimal(18, 8)), 4)
            end as decimal(14, 4)
        ) as velocity,
        -- chain: sell-out / active stores; store: its sell-out when active
        cast(
            case
                when store_code is not null
                    then case when sellout_units > 0 then sellout_amount end
                when active_stores = 0 then null
                else round(cast(sellout_amount / active_stores as decimal(18, 6)), 2)
            end as decimal(16, 2)
        ) as sales_per_store,
        -- chain: / the active stores' area; store: / its own area
        cast(
            case
                when store_code is not null
                    then case when area_m2 > 0 then round(cast(sellout_amount / area_m2 as decimal(18, 6)), 2) end
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
                    when store_code is not null or period_kind <> 'month' then null
                    when target_amount is null then 'target_achievement: no target'
                    when target_amount = 0 then 'target_achievement: target is 0'
                end,
                case
                    when distribution_pairs = 0 then 'distribution_rate: no must-carry pairs'
                end,
                case
                    when store_code is null and listed_items = 0
                        then 'sell_through_rate: no listed items'
                    when store_code is not null and carried_items = 0
                        then 'sell_through_rate: no carried items'
                end,
                case when selling_pairs = 0 then 'velocity: no item sold' end,
                case
                    when store_code is null and active_stores = 0
                        then 'sales_per_store: no active stores'
                    when store_code is not null and sellout_units <= 0
                        then 'sales_per_store: store not active'
                end,
                case
                    when store_code is null and active_area_m2 = 0
                        then 'sales_per_m2: no active stores'
                    when store_code is not null and coalesce(area_m2, 0) = 0
                        then 'sales_per_m2: no store area'
                end,
                case
                    when store_code is not null and lfl_stores = 0
                        then 'lfl_growth: store not open through both periods'
                    when sellout_amount_ly is null then 'lfl_growth: no last year'
                    when store_code is not null and sellout_amount_ly = 0
                        then 'lfl_growth: last year''s sell-out is 0'
                    when lfl_stores = 0 then 'lfl_growth: no stores open through both periods'
                    when lfl_sellout_ly = 0
                        then 'lfl_growth: like-for-like stores sold nothing last year'
                end,
                case
                    when store_code is null and sellout_amount = 0 then 'promo_share: no sell-out'
                end,
                case
                    when price_rows = 0 then 'price_compliance: no sales with units > 0 to check'
                end,
                case when on_hand_days = 0 then 'oos_rate: no on-hand sent' end,
                case when on_hand_days = 0 then 'lost_sales_amount: no on-hand sent' end,
                case
                    when store_code is not null
                        then 'trade_spend_rate: deductions are not per store'
                    when sell_in_net = 0 then 'trade_spend_rate: no sell-in'
                end
            ),
            ''
        ) as null_reasons
    from joined
    where period_end >= :since
)

select * from final
