-- mart_chain_week: one row per chain x ISO week with sales or invoices (docs/models.md).
-- ISO 8601 weeks run Monday..Sunday; week 1 is the week with the year's first Thursday,
-- so a week belongs to one ISO year even when it crosses 31 December (2025-12-29 ..
-- 2026-01-04 is 2026-W01). LY is the same ISO week number of the previous ISO year: a
-- week 53 whose previous ISO year has only 52 weeks finds no LY row, so LY is null.
-- Portable SQL (DuckDB and PostgreSQL): extract(isodow / isoyear / week) agree on both
-- engines; date - integer is cast back to date; money stays decimal, ratios are cast
-- to decimal(12,6).
-- Incremental: builds the weeks starting >= :since (a Monday), reading sales from 53
-- weeks earlier for LY.

with

-- import CTEs ---------------------------------------------------------------

-- effective promo_amount: stg_sales applies the promo sales rule (staging/stg_sales.sql).
-- week_start: the Monday of the row's ISO week (isodow 1 = Monday .. 7 = Sunday).
-- one import per use: a CTE referenced more than once is materialized by PostgreSQL
-- (every sales row of the chain); referenced once, it is inlined
sales_for_totals as (
    select
        cast(
            business_date - cast(extract(isodow from business_date) - 1 as integer) as date
        ) as week_start,
        business_date,
        store_code,
        units,
        sales_amount,
        promo_amount
    from stg_sales
    where chain_code = :chain_code
        -- the slice's weeks and their LY weeks (52 or 53 weeks earlier)
        and (
            business_date >= :since
            or (
                business_date >= cast(cast(:since as date) - 371 as date)
                and business_date < cast(cast(:until as date) - 357 as date)
            )
        )
),

sales_for_stores as (
    select
        cast(
            business_date - cast(extract(isodow from business_date) - 1 as integer) as date
        ) as week_start,
        business_date,
        store_code,
        units,
        sales_amount,
        promo_amount
    from stg_sales
    where chain_code = :chain_code
        -- the slice's weeks and their LY weeks (52 or 53 weeks earlier)
        and (
            business_date >= :since
            or (
                business_date >= cast(cast(:since as date) - 371 as date)
                and business_date < cast(cast(:until as date) - 357 as date)
            )
        )
),

invoices as (
    select
        cast(
            invoice_date - cast(extract(isodow from invoice_date) - 1 as integer) as date
        ) as week_start,
        net_amount
    from stg_invoices
    where chain_code = :chain_code
        and invoice_date >= :since
),

deductions as (
    select
        cast(deduction_date - cast(extract(isodow from deduction_date) - 1 as integer) as date) as week_start,
        deduction_type,
        amount
    from stg_deductions
    where chain_code = :chain_code
        and deduction_date >= :since
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

-- store x item x week: sold, carried, must-carry, price and stock days (one import per use)
pairs_for_kpis as (
    select
        week_start,
        units,
        carried,
        must_carry,
        price_rows,
        price_rows_compliant,
        on_hand_days,
        oos_days
    from int_store_item_week
    where chain_code = :chain_code
        and week_start >= :since
),

pairs_for_items as (
    select week_start, barcode, units
    from int_store_item_week
    where chain_code = :chain_code
        and week_start >= :since
),

-- like-for-like: the stores' sell-out in the slice's weeks and their LY weeks
pairs_for_lfl as (
    select week_start, store_code, sales_amount
    from int_store_item_week
    where chain_code = :chain_code
        and (
            week_start >= :since
            or (
                week_start >= cast(cast(:since as date) - 371 as date)
                and week_start < cast(cast(:until as date) - 357 as date)
            )
        )
),

oos_days as (
    select cast(business_date - cast(extract(isodow from business_date) - 1 as integer) as date) as week_start, lost_sales_amount
    from mart_oos_day
    where chain_code = :chain_code
        and business_date >= :since
),

-- logic CTEs ----------------------------------------------------------------

sales_week as (
    select
        week_start,
        sum(sales_amount) as sellout_amount,
        sum(units) as sellout_units,
        sum(promo_amount) as promo_amount,
        count(distinct business_date) as sales_days
    from sales_for_totals
    group by week_start
),

store_week as (
    select week_start, store_code, sum(units) as units
    from sales_for_stores
    group by week_start, store_code
),

active_stores as (
    select week_start, count(*) as active_stores
    from store_week
    where units > 0
    group by week_start
),

sell_in_week as (
    select week_start, sum(net_amount) as sell_in_net
    from invoices
    group by week_start
),

weeks as (
    select week_start from sales_week
    union
    select week_start from sell_in_week
),

-- the ISO year and week of a week are those of its Monday
iso_weeks as (
    select
        week_start,
        cast(extract(isoyear from week_start) as integer) as iso_year,
        cast(extract(week from week_start) as integer) as iso_week
    from weeks
),

-- weeks with sales rows, keyed by ISO year and week, for the LY lookup
sales_iso_week as (
    select
        iw.iso_year,
        iw.iso_week,
        sw.week_start,
        sw.sellout_amount
    from sales_week as sw
    inner join iso_weeks as iw
        on iw.week_start = sw.week_start
),

-- Trade spend: every deduction except type 'rebate', as in mart_chain_month
trade_spend_week as (
    select week_start, sum(amount) as trade_spend
    from deductions
    where deduction_type <> 'rebate'
    group by week_start
),

listed_items as (
    select distinct w.week_start, l.barcode
    from weeks as w
    inner join listings as l
        on l.listed_from <= cast(w.week_start + 6 as date)
        and (l.listed_to is null or l.listed_to >= w.week_start)
),

item_units as (
    select week_start, barcode, sum(units) as units
    from pairs_for_items
    group by week_start, barcode
),

sell_through as (
    select
        li.week_start,
        count(*) as listed_items,
        sum(case when iu.units > 0 then 1 else 0 end) as listed_items_sold
    from listed_items as li
    left join item_units as iu
        on iu.week_start = li.week_start
        and iu.barcode = li.barcode
    group by li.week_start
),

pair_kpis as (
    select
        week_start,
        sum(case when must_carry then 1 else 0 end) as pairs,
        sum(case when must_carry and carried then 1 else 0 end) as pairs_carried,
        sum(case when units > 0 then 1 else 0 end) as selling_pairs,
        sum(case when units > 0 then units else 0 end) as selling_units,
        sum(price_rows) as price_rows,
        sum(price_rows_compliant) as price_rows_compliant,
        sum(on_hand_days) as on_hand_days,
        sum(oos_days) as oos_days
    from pairs_for_kpis
    group by week_start
),

active_area as (
    select sw.week_start, sum(st.area_m2) as active_area_m2
    from store_week as sw
    inner join stores as st
        on st.store_code = sw.store_code
    where sw.units > 0
    group by sw.week_start
),

store_sales as (
    select week_start, store_code, sum(sales_amount) as sales_amount
    from pairs_for_lfl
    group by week_start, store_code
),

-- like-for-like: stores open through the whole of both weeks (opened on or before the
-- LY week's Monday, not closed before this week's Sunday); only weeks with an LY week
lfl as (
    select
        w.week_start,
        count(*) as lfl_stores,
        sum(coalesce(cur.sales_amount, 0)) as lfl_sellout,
        sum(coalesce(lys.sales_amount, 0)) as lfl_sellout_ly
    from iso_weeks as w
    inner join sales_iso_week as ly
        on ly.iso_year = w.iso_year - 1
        and ly.iso_week = w.iso_week
    inner join stores as st
        on st.opened_on <= ly.week_start
        and (st.closed_on is null or st.closed_on > cast(w.week_start + 6 as date))
    left join store_sales as cur
        on cur.week_start = w.week_start
        and cur.store_code = st.store_code
    left join store_sales as lys
        on lys.week_start = ly.week_start
        and lys.store_code = st.store_code
    group by w.week_start
),

lost_sales as (
    select week_start, sum(lost_sales_amount) as lost_sales_amount
    from oos_days
    group by week_start
),

joined as (
    select
        w.iso_year,
        w.iso_week,
        w.week_start,
        coalesce(sw.sellout_amount, 0) as sellout_amount,
        coalesce(sw.sellout_units, 0) as sellout_units,
        ly.sellout_amount as sellout_amount_ly,
        coalesce(si.sell_in_net, 0) as sell_in_net,
        coalesce(a.active_stores, 0) as active_stores,
        coalesce(sw.promo_amount, 0) as promo_amount,
        coalesce(sw.sales_days, 0) as sales_days,
        coalesce(pk.pairs, 0) as distribution_pairs,
        coalesce(pk.pairs_carried, 0) as distribution_pairs_carried,
        coalesce(sth.listed_items, 0) as listed_items,
        coalesce(sth.listed_items_sold, 0) as listed_items_sold,
        coalesce(pk.selling_pairs, 0) as selling_pairs,
        coalesce(pk.selling_units, 0) as selling_units,
        coalesce(aa.active_area_m2, 0) as active_area_m2,
        coalesce(lf.lfl_stores, 0) as lfl_stores,
        lf.lfl_sellout,
        lf.lfl_sellout_ly,
        coalesce(pk.price_rows, 0) as price_rows,
        coalesce(pk.price_rows_compliant, 0) as price_rows_compliant,
        coalesce(pk.on_hand_days, 0) as on_hand_days,
        coalesce(pk.oos_days, 0) as oos_days,
        coalesce(ls.lost_sales_amount, 0) as lost_sales_amount,
        coalesce(ts.trade_spend, 0) as trade_spend
    from iso_weeks as w
    left join sales_week as sw
        on sw.week_start = w.week_start
    left join sales_iso_week as ly
        on ly.iso_year = w.iso_year - 1
        and ly.iso_week = w.iso_week
    left join sell_in_week as si
        on si.week_start = w.week_start
    left join active_stores as a
        on a.week_start = w.week_start
    left join pair_kpis as pk
        on pk.week_start = w.week_start
    left join sell_through as sth
        on sth.week_start = w.week_start
    left join active_area as aa
        on aa.week_start = w.week_start
    left join lfl as lf
        on lf.week_start = w.week_start
    left join lost_sales as ls
        on ls.week_start = w.week_start
    left join trade_spend_week as ts
        on ts.week_start = w.week_start
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(iso_year as integer) as iso_year,
        cast(iso_week as integer) as iso_week,
        week_start,
        cast(week_start + 6 as date) as week_end,
        cast(round(sellout_amount, 2) as decimal(16, 2)) as sellout_amount,
        cast(sellout_units as bigint) as sellout_units,
        cast(round(sellout_amount_ly, 2) as decimal(16, 2)) as sellout_amount_ly,
        cast(
            case
                when sellout_amount_ly is null or sellout_amount_ly = 0 then null
                else sellout_amount / sellout_amount_ly - 1
            end as decimal(12, 6)
        ) as yoy_growth,
        cast(round(sell_in_net, 2) as decimal(16, 2)) as sell_in_net,
        cast(active_stores as integer) as active_stores,
        cast(round(promo_amount, 2) as decimal(16, 2)) as promo_amount,
        cast(
            case
                when sellout_amount = 0 then null
                else promo_amount / sellout_amount
            end as decimal(12, 6)
        ) as promo_share,
        cast(sales_days as integer) as sales_days,
        cast(distribution_pairs as integer) as distribution_pairs,
        cast(distribution_pairs_carried as integer) as distribution_pairs_carried,
        cast(
            case
                when distribution_pairs = 0 then null
                else cast(distribution_pairs_carried as decimal(16, 6)) / distribution_pairs
            end as decimal(12, 6)
        ) as distribution_rate,
        cast(listed_items as integer) as listed_items,
        cast(listed_items_sold as integer) as listed_items_sold,
        cast(
            case
                when listed_items = 0 then null
                else cast(listed_items_sold as decimal(16, 6)) / listed_items
            end as decimal(12, 6)
        ) as sell_through_rate,
        cast(selling_pairs as integer) as selling_pairs,
        -- units / stores selling the item / 1 week
        cast(
            case
                when selling_pairs = 0 then null
                else round(cast(cast(selling_units as decimal(18, 6)) / selling_pairs as decimal(18, 8)), 4)
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
        cast(round(trade_spend, 2) as decimal(16, 2)) as trade_spend,
        cast(
            case when sell_in_net = 0 then null else trade_spend / sell_in_net end
            as decimal(12, 6)
        ) as trade_spend_rate,
        nullif(
            concat_ws(
                '; ',
                case
                    when sellout_amount_ly is null then 'yoy_growth: no last year'
                    when sellout_amount_ly = 0 then 'yoy_growth: last year''s sell-out is 0'
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
    where week_start >= :since
)

select * from final
