-- mart_chain_week: one row per chain x ISO week with sales or invoices (docs/models.md).
-- ISO 8601 weeks run Monday..Sunday; a week belongs to one ISO year even when it crosses
-- 31 December (2025-12-29 .. 2026-01-04 is 2026-W01); LY is the same ISO week number of
-- the previous ISO year. The KPIs are counted and divided in int_sellout_period (the
-- chain's weeks there: period_kind 'week', no store); this model keeps the scorecard's
-- table and columns.
-- Incremental: builds the weeks starting >= :since (a Monday).

with

-- import CTEs ---------------------------------------------------------------

chain_weeks as (
    select *
    from int_sellout_period
    where chain_code = :chain_code
        and period_kind = 'week'
        and store_code is null
        and period_start >= :since
        -- the same rows, by the index (chain_code, period_end)
        and period_end >= :since
),

-- logic CTEs ----------------------------------------------------------------

final as (
    select
        chain_code,
        iso_year,
        iso_week,
        period_start as week_start,
        period_end as week_end,
        sellout_amount,
        sellout_units,
        sellout_amount_ly,
        yoy_growth,
        sell_in_net,
        active_stores,
        promo_amount,
        promo_share,
        sales_days,
        distribution_pairs,
        distribution_pairs_carried,
        distribution_rate,
        listed_items,
        listed_items_sold,
        sell_through_rate,
        selling_pairs,
        velocity,
        sales_per_store,
        active_area_m2,
        sales_per_m2,
        lfl_stores,
        lfl_sellout_amount,
        lfl_sellout_amount_ly,
        lfl_growth,
        price_rows,
        price_rows_compliant,
        price_compliance,
        on_hand_days,
        oos_days,
        oos_rate,
        lost_sales_amount,
        trade_spend,
        trade_spend_rate,
        null_reasons
    from chain_weeks
)

select * from final
