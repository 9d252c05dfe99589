-- int_store_item_period: one row per chain x period x store x item that had sales lines in
-- the period or is a must-carry pair of the period, for two kinds of period: calendar
-- months (period_kind 'month', period_start = the 1st) and ISO weeks ('week',
-- period_start = the Monday). docs/models.md, "Sell-out analytics". The views
-- int_store_item_month and int_store_item_week are its two kinds.
--
-- * Periods: those with sales lines or invoice lines (the periods of mart_chain_month
--   and mart_chain_week).
-- * must_carry: the store is open in the period (opened_on <= last day, closed_on null or
--   > first day) and a ref_listing row of the chain lists the item in the period
--   (listed_from <= last day, listed_to null or >= first day) for the store's class
--   (store_classes null = every class).
-- * carried (domain.md section 4): some day of the period has units <> 0 or
--   on_hand_units > 0 for the store x item.
-- * price_rows / price_rows_compliant: days with units > 0 and a required price, and of
--   those the days with sales_amount >= required_price x units.
-- * on_hand_days / oos_days: must-carry days (int_store_item_day.must_carry) whose
--   on_hand_units was sent, and of those the days with on_hand_units = 0.
-- Incremental (YAML: column period_end, from: day): rebuilds the periods ending on or
-- after :since (the changed date's month and week, and later ones), reading the days from
-- the month's first day and the week's Monday (a week's days only from its Monday).
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

days as (
    select
        month,
        cast(business_date - cast(extract(isodow from business_date) - 1 as integer) as date)
            as week_start,
        store_code,
        barcode,
        units,
        sales_amount,
        promo_amount,
        on_hand_units,
        must_carry,
        required_price
    from int_store_item_day
    where chain_code = :chain_code
        and business_date >= :since_period
),

invoice_dates as (
    select distinct invoice_date
    from stg_invoices
    where chain_code = :chain_code
        and invoice_date >= :since_period
),

stores as (
    select store_code, store_class, opened_on, closed_on
    from ref_store
    where chain_code = :chain_code
),

listings as (
    select barcode, listed_from, listed_to, store_classes
    from ref_listing
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

kinds as (
    select 'month' as period_kind
    union all
    select 'week' as period_kind
),

-- the day rows grouped once by month x ISO week x store x item (a week across a month
-- end falls in two groups); months and weeks are then rolled up from these groups, so
-- the day rows are aggregated once, not once per kind of period
day_groups as (
    select
        month,
        week_start,
        store_code,
        barcode,
        count(*) as sales_rows,
        sum(units) as units,
        sum(sales_amount) as sales_amount,
        sum(promo_amount) as promo_amount,
        max(case when units <> 0 or on_hand_units > 0 then 1 else 0 end) as carried,
        sum(case when units > 0 and required_price is not null then 1 else 0 end)
            as price_rows,
        sum(
            case
                when units > 0 and required_price is not null
                    and sales_amount >= required_price * units then 1
                else 0
            end
        ) as price_rows_compliant,
        sum(case when must_carry and on_hand_units is not null then 1 else 0 end)
            as on_hand_days,
        sum(case when must_carry and on_hand_units = 0 then 1 else 0 end) as oos_days
    from days
    group by month, week_start, store_code, barcode
),

-- months and weeks rolled up from the groups in one pass (grouping sets)
rolled_up as (
    select
        case when grouping(week_start) = 1 then 'month' else 'week' end as period_kind,
        coalesce(month, week_start) as period_start,
        store_code,
        barcode,
        sum(sales_rows) as sales_rows,
        sum(units) as units,
        sum(sales_amount) as sales_amount,
        sum(promo_amount) as promo_amount,
        max(carried) as carried,
        sum(price_rows) as price_rows,
        sum(price_rows_compliant) as price_rows_compliant,
        sum(on_hand_days) as on_hand_days,
        sum(oos_days) as oos_days
    from day_groups
    group by grouping sets ((month, store_code, barcode), (week_start, store_code, barcode))
),

-- only the periods of the slice (ending on or after :since): the days read from an
-- earlier Monday also form the end of the month before, which is not rebuilt
pair_period as (
    select *
    from rolled_up
    where period_kind = 'month'
        and period_start >= :since_month
        or period_kind = 'week'
        and period_start >= :since_week
),

invoice_periods as (
    select
        k.period_kind,
        case
            when k.period_kind = 'month'
                then cast(date_trunc('month', i.invoice_date) as date)
            else cast(
                i.invoice_date - cast(extract(isodow from i.invoice_date) - 1 as integer)
                as date
            )
        end as period_start
    from invoice_dates as i
    cross join kinds as k
),

periods as (
    select distinct period_kind, period_start from pair_period
    union
    select period_kind, period_start from invoice_periods
),

period_bounds as (
    select
        period_kind,
        period_start,
        case
            when period_kind = 'month'
                then cast(period_start + interval '1 month' as date) - 1
            else cast(period_start + 6 as date)
        end as period_end
    from periods
),

must_carry_pairs as (
    select distinct
        m.period_kind,
        m.period_start,
        m.period_end,
        st.store_code,
        l.barcode
    from period_bounds as m
    inner join stores as st
        on st.opened_on <= m.period_end
        and (st.closed_on is null or st.closed_on > m.period_start)
    inner join listings as l
        on l.listed_from <= m.period_end
        and (l.listed_to is null or l.listed_to >= m.period_start)
        and (
            l.store_classes is null
            or ',' || replace(l.store_classes, ' ', '') || ',' like '%,' || st.store_class || ',%'
        )
    where m.period_end >= :since
),

pairs as (
    select
        coalesce(p.period_kind, mc.period_kind) as period_kind,
        coalesce(p.period_start, mc.period_start) as period_start,
        coalesce(b.period_end, mc.period_end) as period_end,
        coalesce(p.store_code, mc.store_code) as store_code,
        coalesce(p.barcode, mc.barcode) as barcode,
        coalesce(p.sales_rows, 0) as sales_rows,
        coalesce(p.units, 0) as units,
        coalesce(p.sales_amount, 0) as sales_amount,
        coalesce(p.promo_amount, 0) as promo_amount,
        coalesce(p.carried, 0) = 1 as carried,
        mc.barcode is not null as must_carry,
        coalesce(p.price_rows, 0) as price_rows,
        coalesce(p.price_rows_compliant, 0) as price_rows_compliant,
        coalesce(p.on_hand_days, 0) as on_hand_days,
        coalesce(p.oos_days, 0) as oos_days
    from pair_period as p
    left join period_bounds as b
        on b.period_kind = p.period_kind
        and b.period_start = p.period_start
    full outer join must_carry_pairs as mc
        on mc.period_kind = p.period_kind
        and mc.period_start = p.period_start
        and mc.store_code = p.store_code
        and mc.barcode = p.barcode
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(p.period_kind as varchar) as period_kind,
        p.period_start,
        p.period_end,
        p.store_code,
        p.barcode,
        st.store_class,
        cast(p.sales_rows as integer) as sales_rows,
        cast(p.units as bigint) as units,
        cast(p.sales_amount as decimal(16, 2)) as sales_amount,
        cast(p.promo_amount as decimal(16, 2)) as promo_amount,
        p.carried,
        p.must_carry,
        cast(p.price_rows as integer) as price_rows,
        cast(p.price_rows_compliant as integer) as price_rows_compliant,
        cast(p.on_hand_days as integer) as on_hand_days,
        cast(p.oos_days as integer) as oos_days
    from pairs as p
    left join stores as st
        on st.store_code = p.store_code
    where p.period_end >= :since
)

select * from final
