-- mart_phantom_inventory: runs of >= 14 consecutive days on which a store x item had
-- on_hand_units > 0 and units = 0, although its trailing 12-week rate before the run
-- was >= 0.5 units a day (domain.md section 4; docs/models.md "Sell-out analytics").
--
-- * A run is consecutive calendar days each with a row of on_hand_units > 0 and units = 0;
--   a day without a row, or with units <> 0, or with on_hand 0 or not sent, ends it.
-- * trailing_daily_units: Σ units over the 84 days before run_start / 84.
-- * on_hand_units: the on-hand sent on run_end (the last day of the run).
-- Incremental (YAML, column extends_on = run_end + 1): a new day can extend a run that
-- ended the day before, so the slice is every run ending on or after :since - 1; such a
-- run is rebuilt from its start, so the idle days of the store x items idle on or after
-- :since - 1 are read over their whole history. Portable SQL (DuckDB, PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

-- only a store x item idle on :since - 1 or later can have a run in the slice; its
-- whole idle history is read (a run may be long), the other pairs' is not
slice_pairs as (
    select distinct store_code, barcode
    from int_store_item_day
    where chain_code = :chain_code
        and business_date >= cast(cast(:since as date) - 1 as date)
        and units = 0
        and on_hand_units > 0
),

idle_days as (
    select d.store_code, d.barcode, d.business_date, d.on_hand_units
    from int_store_item_day as d
    inner join slice_pairs as p
        on p.store_code = d.store_code
        and p.barcode = d.barcode
    where d.chain_code = :chain_code
        and d.units = 0
        and d.on_hand_units > 0
),

history as (
    select store_code, barcode, business_date, units
    from int_store_item_day
    where chain_code = :chain_code
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

runs as (
    select
        store_code,
        barcode,
        min(business_date) as run_start,
        max(business_date) as run_end,
        count(*) as zero_days
    from numbered
    group by store_code, barcode, island
    having count(*) >= 14
        and max(business_date) >= cast(cast(:since as date) - 1 as date)
),

trailing_84d as (
    select
        r.store_code,
        r.barcode,
        r.run_start,
        coalesce(sum(h.units), 0) as units_84d
    from runs as r
    left join history as h
        on h.store_code = r.store_code
        and h.barcode = r.barcode
        and h.business_date >= cast(r.run_start - 84 as date)
        and h.business_date < r.run_start
    group by r.store_code, r.barcode, r.run_start
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        r.store_code,
        r.barcode,
        r.run_start,
        r.run_end,
        cast(r.zero_days as integer) as zero_days,
        n.on_hand_units,
        cast(round(cast(cast(t.units_84d as decimal(18, 6)) / 84 as decimal(18, 8)), 4) as decimal(12, 4))
            as trailing_daily_units,
        cast(r.run_end + 1 as date) as extends_on
    from runs as r
    inner join trailing_84d as t
        on t.store_code = r.store_code
        and t.barcode = r.barcode
        and t.run_start = r.run_start
    inner join numbered as n
        on n.store_code = r.store_code
        and n.barcode = r.barcode
        and n.business_date = r.run_end
    -- at least 0.5 units a day over 84 days = at least 42 units (exact, no rounding)
    where t.units_84d * 2 >= 84
)

select * from final
