-- mart_phantom_inventory: runs of >= 14 consecutive days on which a store x item had
-- on_hand_units > 0 and units = 0, although its trailing 12-week rate before the run
-- was >= 0.5 units a day (domain.md section 4; docs/models.md "Sell-out analytics").
--
-- * A run is consecutive calendar days each with a row of on_hand_units > 0 and units = 0;
--   a day without a row, or with units <> 0, or with on_hand 0 or not sent ends it.
--   The runs are the idle streaks of mart_phantom_inventory_idle (its running state).
-- * trailing_daily_units: Σ units over the 84 days before run_start / 84.
-- * on_hand_units: the on-hand sent on run_end (the last day of the run).
-- Incremental (YAML, column extends_on = run_end + 1): a new day can extend a run that
-- ended the day before, so the slice is every run ending on or after :since - 1. A run's
-- start is its last day's streak_start, so only the idle days from :since - 1 on are
-- read (however long the run), and the 84 days before the starts of the runs found.
-- Portable SQL (DuckDB, PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

idle_days as (
    select store_code, barcode, business_date, on_hand_units, streak_start
    from mart_phantom_inventory_idle
    where chain_code = :chain_code
        and business_date >= cast(cast(:since as date) - 1 as date)
),

-- logic CTEs ----------------------------------------------------------------

-- the last day of each streak of >= 14 days (no idle day the day after)
runs as (
    select
        d.store_code,
        d.barcode,
        d.streak_start as run_start,
        d.business_date as run_end,
        d.business_date - d.streak_start + 1 as zero_days,
        d.on_hand_units
    from idle_days as d
    where d.business_date - d.streak_start >= 13
        and not exists (
            select 1
            from idle_days as n
            where n.store_code = d.store_code
                and n.barcode = d.barcode
                and n.business_date = cast(d.business_date + 1 as date)
        )
),

-- the day rows of the 84 days before the earliest run found (none without a run)
history as (
    select store_code, barcode, business_date, units
    from int_store_item_day
    where chain_code = :chain_code
        and business_date >= (select cast(min(run_start) - 84 as date) from runs)
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
        r.on_hand_units,
        cast(round(cast(cast(t.units_84d as decimal(18, 6)) / 84 as decimal(18, 8)), 4) as decimal(12, 4))
            as trailing_daily_units,
        cast(r.run_end + 1 as date) as extends_on
    from runs as r
    inner join trailing_84d as t
        on t.store_code = r.store_code
        and t.barcode = r.barcode
        and t.run_start = r.run_start
    -- at least 0.5 units a day over 84 days = at least 42 units (exact, no rounding)
    where t.units_84d * 2 >= 84
)

select * from final
