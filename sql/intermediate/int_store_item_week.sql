-- int_store_item_week: one row per chain x ISO week x store x item that had sales lines
-- in the week or is a must-carry pair of the week (docs/models.md, "Sell-out analytics").
-- The same rules as int_store_item_month, over ISO weeks (Monday..Sunday, week_start =
-- the Monday) instead of months:
--
-- * Weeks: those with sales lines or invoice lines (the weeks of mart_chain_week).
-- * must_carry: the store is open in the week (opened_on <= Sunday, closed_on null or
--   > Monday) and a ref_listing row lists the item in the week for the store's class.
-- * carried (domain.md section 4): some day of the week has units <> 0 or
--   on_hand_units > 0 for the store x item.
-- * price_rows / price_rows_compliant: days with units > 0 and a required price, and of
--   those the days with sales_amount >= required_price x units.
-- * on_hand_days / oos_days: must-carry days (int_store_item_day.must_carry) whose
--   on_hand_units was sent, and of those the days with on_hand_units = 0.
-- Incremental (YAML): rebuilds the weeks >= :since (a Monday).
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

days as (
    select
        cast(business_date - cast(extract(isodow from business_date) - 1 as integer) as date) as week_start,
        store_code,
        barcode,
        units,
        sales_amount,
        on_hand_units,
        must_carry,
        required_price
    from int_store_item_day
    where chain_code = :chain_code
        and business_date >= :since
),

invoice_weeks as (
    select distinct
        cast(invoice_date - cast(extract(isodow from invoice_date) - 1 as integer) as date)
            as week_start
    from stg_invoices
    where chain_code = :chain_code
        and invoice_date >= :since
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

pair_month as (
    select
        week_start,
        store_code,
        barcode,
        count(*) as sales_rows,
        sum(units) as units,
        sum(sales_amount) as sales_amount,
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
    group by week_start, store_code, barcode
),

weeks as (
    select distinct week_start from pair_month
    union
    select week_start from invoice_weeks
),

week_bounds as (
    select week_start, cast(week_start + 6 as date) as week_end
    from weeks
),

must_carry_pairs as (
    select distinct
        m.week_start,
        st.store_code,
        l.barcode
    from week_bounds as m
    inner join stores as st
        on st.opened_on <= m.week_end
        and (st.closed_on is null or st.closed_on > m.week_start)
    inner join listings as l
        on l.listed_from <= m.week_end
        and (l.listed_to is null or l.listed_to >= m.week_start)
        and (
            l.store_classes is null
            or ',' || replace(l.store_classes, ' ', '') || ',' like '%,' || st.store_class || ',%'
        )
),

pairs as (
    select
        coalesce(p.week_start, mc.week_start) as week_start,
        coalesce(p.store_code, mc.store_code) as store_code,
        coalesce(p.barcode, mc.barcode) as barcode,
        coalesce(p.sales_rows, 0) as sales_rows,
        coalesce(p.units, 0) as units,
        coalesce(p.sales_amount, 0) as sales_amount,
        coalesce(p.carried, 0) = 1 as carried,
        mc.barcode is not null as must_carry,
        coalesce(p.price_rows, 0) as price_rows,
        coalesce(p.price_rows_compliant, 0) as price_rows_compliant,
        coalesce(p.on_hand_days, 0) as on_hand_days,
        coalesce(p.oos_days, 0) as oos_days
    from pair_month as p
    full outer join must_carry_pairs as mc
        on mc.week_start = p.week_start
        and mc.store_code = p.store_code
        and mc.barcode = p.barcode
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        p.week_start,
        p.store_code,
        p.barcode,
        st.store_class,
        cast(p.sales_rows as integer) as sales_rows,
        cast(p.units as bigint) as units,
        cast(p.sales_amount as decimal(16, 2)) as sales_amount,
        p.carried,
        p.must_carry,
        cast(p.price_rows as integer) as price_rows,
        cast(p.price_rows_compliant as integer) as price_rows_compliant,
        cast(p.on_hand_days as integer) as on_hand_days,
        cast(p.oos_days as integer) as oos_days
    from pairs as p
    left join stores as st
        on st.store_code = p.store_code
    where p.week_start >= :since
)

select * from final
