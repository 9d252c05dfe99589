-- mart_phantom_inventory_idle: the running state of mart_phantom_inventory. One row per
-- store x item x idle day (a sales line with on_hand_units > 0 and units = 0) with the
-- first day of its idle streak (consecutive calendar days each idle; a day without a
-- line, with a sale, or with on-hand 0 or not sent ends it). docs/models.md
-- "Sell-out analytics".
-- Incremental (YAML, column business_date): rebuilds the days >= :since from the day rows
-- of the slice; an idle streak going on from :since on continues the one of the day
-- before (this table's own row of :since - 1, outside the slice and unchanged), so no
-- night reads more than its own days, however long a streak is. A full rebuild
-- (:since = 1900-01-01) finds every streak from the day rows.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

idle_days as (
    select store_code, barcode, business_date, on_hand_units
    from int_store_item_day
    where chain_code = :chain_code
        and business_date >= :since
        and units = 0
        and on_hand_units > 0
),

-- the streaks open on the day before the slice (rows outside the slice: not replaced)
open_streaks as (
    select store_code, barcode, streak_start
    from mart_phantom_inventory_idle
    where chain_code = :chain_code
        and business_date = cast(cast(:since as date) - 1 as date)
),

-- logic CTEs ----------------------------------------------------------------

-- gaps and islands: consecutive days share business_date - their row number
numbered as (
    select
        store_code,
        barcode,
        business_date,
        on_hand_units,
        cast(
            business_date
            - cast(
                row_number() over (partition by store_code, barcode order by business_date)
                as integer
            )
            as date
        ) as island
    from idle_days
),

-- the first day of each island (a window, not a join back: PostgreSQL planned the join
-- of two CTE scans as a nested loop, 5.5 s for 3,200 idle rows)
streaks as (
    select
        store_code,
        barcode,
        business_date,
        on_hand_units,
        min(business_date) over (partition by store_code, barcode, island) as island_start
    from numbered
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        s.store_code,
        s.barcode,
        s.business_date,
        s.on_hand_units,
        -- an island starting on :since continues the streak open the day before
        coalesce(o.streak_start, s.island_start) as streak_start
    from streaks as s
    left join open_streaks as o
        on o.store_code = s.store_code
        and o.barcode = s.barcode
        and s.island_start = :since
)

select * from final
