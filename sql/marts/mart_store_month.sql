-- mart_store_month: one row per chain x store x month with sales rows (docs/models.md).
-- Sell-out and LY, and the store-level sell-out analytics (docs/models.md "Sell-out
-- analytics"): distribution of its must-carry items, sell-through of its carried items,
-- velocity, sales per m2, like-for-like, price compliance, out-of-stock and lost sales,
-- each null with its reason in null_reasons.
-- Incremental: builds the months >= :since (a month start), reading sales from a year
-- earlier for LY. Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

sales as (
    select store_code, units, sales_amount, month
    from stg_sales
    where chain_code = :chain_code
        -- the slice's months and, for LY, the same months a year earlier
        and (
            business_date >= :since
            or (
                business_date >= cast(cast(:since as date) - interval '1 year' as date)
                and business_date < cast(
                    cast(date_trunc('month', cast(:until as date)) as date)
                    + interval '1 month' - interval '1 year' as date
                )
            )
        )
),

pairs as (
    select
        month,
        store_code,
        units,
        carried,
        must_carry,
        price_rows,
        price_rows_compliant,
        on_hand_days,
        oos_days
    from int_store_item_month
    where chain_code = :chain_code
        and month >= :since
),

oos_days as (
    select
        store_code,
        cast(date_trunc('month', business_date) as date) as month,
        lost_sales_amount
    from mart_oos_day
    where chain_code = :chain_code
        and business_date >= :since
),

stores as (
    select store_code, area_m2, opened_on, closed_on
    from ref_store
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

store_month as (
    select
        store_code,
        month,
        sum(sales_amount) as sellout_amount,
        sum(units) as sellout_units
    from sales
    group by store_code, month
),

-- the store's items: must-carry pairs carried, carried items sold, selling items
pair_kpis as (
    select
        month,
        store_code,
        sum(case when must_carry then 1 else 0 end) as pairs,
        sum(case when must_carry and carried then 1 else 0 end) as pairs_carried,
        sum(case when carried then 1 else 0 end) as carried_items,
        sum(case when carried and units > 0 then 1 else 0 end) as carried_items_sold,
        sum(case when units > 0 then 1 else 0 end) as selling_items,
        sum(case when units > 0 then units else 0 end) as selling_units,
        sum(price_rows) as price_rows,
        sum(price_rows_compliant) as price_rows_compliant,
        sum(on_hand_days) as on_hand_days,
        sum(oos_days) as oos_days
    from pairs
    group by month, store_code
),

lost_sales as (
    select month, store_code, sum(lost_sales_amount) as lost_sales_amount
    from oos_days
    group by month, store_code
),

-- LY = the same store's same month one year earlier; null when that store had no sales
-- rows in that month. Like-for-like: the store is open through the whole of both months.
joined as (
    select
        cur.store_code,
        cur.month,
        cur.sellout_amount,
        cur.sellout_units,
        ly.sellout_amount as sellout_amount_ly,
        st.area_m2,
        st.store_code is not null
        and st.opened_on <= cast(cur.month - interval '1 year' as date)
        and (
            st.closed_on is null
            or st.closed_on > cast(cur.month + interval '1 month' as date) - 1
        ) as open_both,
        cast(cur.month + interval '1 month' as date) - cur.month as month_days,
        coalesce(pk.pairs, 0) as pairs,
        coalesce(pk.pairs_carried, 0) as pairs_carried,
        coalesce(pk.carried_items, 0) as carried_items,
        coalesce(pk.carried_items_sold, 0) as carried_items_sold,
        coalesce(pk.selling_items, 0) as selling_items,
        coalesce(pk.selling_units, 0) as selling_units,
        coalesce(pk.price_rows, 0) as price_rows,
        coalesce(pk.price_rows_compliant, 0) as price_rows_compliant,
        coalesce(pk.on_hand_days, 0) as on_hand_days,
        coalesce(pk.oos_days, 0) as oos_days,
        coalesce(ls.lost_sales_amount, 0) as lost_sales_amount
    from store_month as cur
    left join store_month as ly
        on ly.store_code = cur.store_code
        and ly.month = cast(cur.month - interval '1 year' as date)
    left join stores as st
        on st.store_code = cur.store_code
    left join pair_kpis as pk
        on pk.month = cur.month
        and pk.store_code = cur.store_code
    left join lost_sales as ls
        on ls.month = cur.month
        and ls.store_code = cur.store_code
    where cur.month >= :since
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        store_code,
        month,
        cast(round(sellout_amount, 2) as decimal(16, 2)) as sellout_amount,
        cast(sellout_units as bigint) as sellout_units,
        cast(round(sellout_amount_ly, 2) as decimal(16, 2)) as sellout_amount_ly,
        cast(
            case
                when sellout_amount_ly is null or sellout_amount_ly = 0 then null
                else sellout_amount / sellout_amount_ly - 1
            end as decimal(12, 6)
        ) as yoy_growth,
        cast(pairs as integer) as distribution_pairs,
        cast(pairs_carried as integer) as distribution_pairs_carried,
        cast(
            case when pairs = 0 then null else cast(pairs_carried as decimal(16, 6)) / pairs end
            as decimal(12, 6)
        ) as distribution_rate,
        cast(carried_items as integer) as carried_items,
        cast(carried_items_sold as integer) as carried_items_sold,
        cast(
            case
                when carried_items = 0 then null
                else cast(carried_items_sold as decimal(16, 6)) / carried_items
            end as decimal(12, 6)
        ) as sell_through_rate,
        cast(selling_items as integer) as selling_items,
        -- units / items sold / weeks (days of the month / 7)
        cast(
            case
                when selling_items = 0 then null
                else round(cast(cast(selling_units as decimal(18, 6)) * 7 / selling_items / month_days as decimal(18, 8)), 4)
            end as decimal(14, 4)
        ) as velocity,
        cast(case when sellout_units > 0 then sellout_amount end as decimal(16, 2))
            as sales_per_store,
        cast(area_m2 as integer) as area_m2,
        cast(
            case when area_m2 > 0 then round(cast(sellout_amount / area_m2 as decimal(18, 6)), 2) end as decimal(14, 2)
        ) as sales_per_m2,
        cast(
            case
                when not open_both or sellout_amount_ly is null or sellout_amount_ly = 0 then null
                else sellout_amount / sellout_amount_ly - 1
            end as decimal(12, 6)
        ) as lfl_growth,
        cast(price_rows as integer) as price_rows,
        cast(price_rows_compliant as integer) as price_rows_compliant,
        cast(
            case
                when price_rows = 0 then null
                else cast(price_rows_compliant as decimal(16, 6)) / price_rows
            end as decimal(12, 6)
        ) as price_compliance,
        cast(on_hand_days as integer) as on_hand_days,
        cast(oos_days as integer) as oos_days,
        cast(
            case
                when on_hand_days = 0 then null
                else cast(oos_days as decimal(16, 6)) / on_hand_days
            end as decimal(12, 6)
        ) as oos_rate,
        cast(
            case when on_hand_days = 0 then null else round(lost_sales_amount, 2) end
            as decimal(16, 2)
        ) as lost_sales_amount,
        -- deductions are charged to the chain, not per store: not applicable here
        cast(null as decimal(12, 6)) as trade_spend_rate,
        nullif(
            concat_ws(
                '; ',
                case
                    when sellout_amount_ly is null then 'yoy_growth: no last year'
                    when sellout_amount_ly = 0 then 'yoy_growth: last year''s sell-out is 0'
                end,
                case when pairs = 0 then 'distribution_rate: no must-carry pairs' end,
                case when carried_items = 0 then 'sell_through_rate: no carried items' end,
                case when selling_items = 0 then 'velocity: no item sold' end,
                case when sellout_units <= 0 then 'sales_per_store: store not active' end,
                case when coalesce(area_m2, 0) = 0 then 'sales_per_m2: no store area' end,
                case
                    when not open_both then 'lfl_growth: store not open through both periods'
                    when sellout_amount_ly is null then 'lfl_growth: no last year'
                    when sellout_amount_ly = 0 then 'lfl_growth: last year''s sell-out is 0'
                end,
                case
                    when price_rows = 0 then 'price_compliance: no sales with units > 0 to check'
                end,
                case when on_hand_days = 0 then 'oos_rate: no on-hand sent' end,
                case when on_hand_days = 0 then 'lost_sales_amount: no on-hand sent' end,
                'trade_spend_rate: deductions are not per store'
            ),
            ''
        ) as null_reasons
    from joined
)

select * from final
