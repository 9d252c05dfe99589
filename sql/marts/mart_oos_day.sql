-- mart_oos_day: store x must-carry item x day with on_hand_units = 0, and its lost sales
-- estimate (domain.md section 4; docs/models.md "Sell-out analytics"). Only days whose
-- row sent on-hand: a chain that sends no on-hand has no rows here.
--
-- Lost sales: the item's trailing 28-day average daily units in that store over its days
-- in stock (the 28 days before the day, rows with on_hand_units > 0) x its average unit
-- price over those days (Σ sales_amount / Σ units). Their product is Σ sales_amount of
-- the in-stock days / their count. Null (with 0 in-stock days) when the store had no
-- in-stock day in the window; 0 when the in-stock days sold nothing (or net returns).
-- Incremental (YAML): rebuilds the days >= :since, reading 28 days before it.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

-- the day rows from 28 days before the slice, of the store x items out of stock in it:
-- one scan and a window per store x item
-- (a join on a 28-day date range was planned by PostgreSQL as a nested loop over the
-- date index: 91 s for one night)
-- the store x items with an out-of-stock day in the slice: only their windows are needed
oos_items as (
    select distinct store_code, barcode
    from int_store_item_day
    where chain_code = :chain_code
        and business_date >= :since
        and must_carry
        and on_hand_units = 0
),

day_rows as (
    select
        d.store_code,
        d.barcode,
        d.business_date,
        d.must_carry,
        d.on_hand_units,
        case when d.on_hand_units > 0 then d.units end as stock_units,
        case when d.on_hand_units > 0 then d.sales_amount end as stock_amount
    from int_store_item_day as d
    where d.chain_code = :chain_code
        and d.business_date >= cast(cast(:since as date) - 28 as date)
        and exists (
            select 1
            from oos_items as o
            where o.store_code = d.store_code
                and o.barcode = d.barcode
        )
),

-- logic CTEs ----------------------------------------------------------------

-- the 28 days before each day (one row per store x item x day in int_store_item_day)
window_28d as (
    select
        store_code,
        barcode,
        business_date,
        must_carry,
        on_hand_units,
        count(stock_units) over before_day as in_stock_days,
        coalesce(sum(stock_units) over before_day, 0) as units_28d,
        coalesce(sum(stock_amount) over before_day, 0) as sales_amount_28d
    from day_rows
    window before_day as (
        partition by store_code, barcode
        order by business_date
        range between interval '28 days' preceding and interval '1 day' preceding
    )
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        store_code,
        barcode,
        business_date,
        cast(
            case
                when in_stock_days = 0 then null
                when units_28d <= 0 then 0
                else round(cast(cast(units_28d as decimal(18, 6)) / in_stock_days as decimal(18, 8)), 4)
            end as decimal(14, 4)
        ) as lost_units,
        cast(
            case
                when in_stock_days = 0 then null
                when units_28d <= 0 then 0
                else round(cast(sales_amount_28d / in_stock_days as decimal(18, 6)), 2)
            end as decimal(14, 2)
        ) as lost_sales_amount,
        cast(in_stock_days as integer) as in_stock_days_28d,
        cast(units_28d as bigint) as units_28d,
        cast(sales_amount_28d as decimal(16, 2)) as sales_amount_28d
    from window_28d
    where business_date >= :since
        and must_carry
        and on_hand_units = 0
)

select * from final
