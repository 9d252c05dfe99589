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
        sw.sellout_amount
    from sales_week as sw
    inner join iso_weeks as iw
        on iw.week_start = sw.week_start
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
        coalesce(sw.sales_days, 0) as sales_days
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
        cast(sales_days as integer) as sales_days
    from joined
    where week_start >= :since
)

select * from final
