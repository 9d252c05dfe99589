-- mart_store_month: one row per chain x store x month with sales rows (docs/models.md).
-- Sell-out and LY, and the store-level sell-out analytics (docs/models.md "Sell-out
-- analytics"), each null with its reason in null_reasons. The KPIs are counted and
-- divided in int_sellout_period (its store months: period_kind 'month', store_code set);
-- this model keeps the scorecard's table and columns.
-- Incremental: builds the months >= :since (a month start).

with

-- import CTEs ---------------------------------------------------------------

store_months as (
    select *
    from int_sellout_period
    where chain_code = :chain_code
        and period_kind = 'month'
        and store_code is not null
        and period_start >= :since
        -- the same rows, by the index (chain_code, period_end)
        and period_end >= :since
),

-- logic CTEs ----------------------------------------------------------------

final as (
    select
        chain_code,
        store_code,
        period_start as month,
        sellout_amount,
        sellout_units,
        sellout_amount_ly,
        yoy_growth,
        distribution_pairs,
        distribution_pairs_carried,
        distribution_rate,
        carried_items,
        carried_items_sold,
        sell_through_rate,
        -- items the store sold (its store x item pairs with units > 0)
        selling_pairs as selling_items,
        velocity,
        sales_per_store,
        area_m2,
        sales_per_m2,
        lfl_growth,
        price_rows,
        price_rows_compliant,
        price_compliance,
        on_hand_days,
        oos_days,
        oos_rate,
        lost_sales_amount,
        trade_spend_rate,
        null_reasons
    from store_months
)

select * from final
