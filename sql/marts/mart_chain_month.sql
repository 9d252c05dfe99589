-- mart_chain_month: one row per chain x month with sales or invoices (docs/models.md).
-- The KPIs are counted and divided in int_sellout_period (the chain's months there:
-- period_kind 'month', no store); this model keeps the scorecard's table and columns.
-- Incremental: builds the months >= :since (a month start).

with

-- import CTEs ---------------------------------------------------------------

chain_months as (
    select *
    from int_sellout_period
    where chain_code = :chain_code
        and period_kind = 'month'
        and store_code is null
        and period_start >= :since
        -- the same rows, by the index (chain_code, period_end)
        and period_end >= :since
),

-- logic CTEs ----------------------------------------------------------------

final as (
    select
        chain_code,
        period_start as month,
        sellout_amount,
        sellout_units,
        sellout_amount_ly,
        yoy_growth,
        target_amount,
        target_achievement,
        sell_in_net,
        active_stores,
        distribution_pairs,
        distribution_pairs_sold,
        distribution_rate,
        promo_amount,
        promo_share,
        trade_spend,
        trade_spend_rate,
        sales_days,
        cost_of_goods,
        gross_profit_after_trade_spend,
        distribution_pairs_carried,
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
        null_reasons
    from chain_months
)

select * from final
