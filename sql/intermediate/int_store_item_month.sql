-- int_store_item_month: one row per chain x month x store x item that had sales lines in
-- the month or is a must-carry pair of the month (docs/models.md, "Sell-out analytics").
--
-- * Months: those with sales lines or invoice lines (the months of mart_chain_month).
-- * must_carry: the store is open in the month (opened_on <= last day, closed_on null or
--   > first day) and a ref_listing row of the chain lists the item in the month
--   (listed_from <= last day, listed_to null or >= first day) for the store's class
--   (store_classes null = every class).
-- * carried (domain.md section 4): some day of the month has units <> 0 or
--   on_hand_units > 0 for the store x item.
-- * price_rows / price_rows_compliant: days with units > 0 and a required price, and of
--   those the days with sales_amount >= required_price x units.
-- * on_hand_days / oos_days: must-carry days (int_store_item_day.must_carry) whose
--   on_hand_units was sent, and of those the days with on_hand_units = 0.
-- Incremental (YAML): rebuilds the months >= :since (a month start).
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

days as (
    select
        month,
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

invoice_months as (
    select distinct cast(date_trunc('month', invoice_date) as date) as month
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
        month,
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
    group by month, store_code, barcode
),

months as (
    select distinct month from pair_month
    union
    select month from invoice_months
),

month_bounds as (
    select month, cast(month + interval '1 month' as date) - 1 as month_end
    from months
),

must_carry_pairs as (
    select distinct
        m.month,
        st.store_code,
        l.barcode
    from month_bounds as m
    inner join stores as st
        on st.opened_on <= m.month_end
        and (st.closed_on is null or st.closed_on > m.month)
    inner join listings as l
        on l.listed_from <= m.month_end
        and (l.listed_to is null or l.listed_to >= m.month)
        and (
            l.store_classes is null
            or ',' || replace(l.store_classes, ' ', '') || ',' like '%,' || st.store_class || ',%'
        )
),

pairs as (
    select
        coalesce(p.month, mc.month) as month,
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
        on mc.month = p.month
        and mc.store_code = p.store_code
        and mc.barcode = p.barcode
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        p.month,
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
    where p.month >= :since
)

select * from final
