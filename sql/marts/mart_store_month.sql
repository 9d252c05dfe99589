-- mart_store_month: one row per chain x store x month with sales rows (docs/models.md).
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

-- LY = the same store's same month one year earlier; null when that store had no sales
-- rows in that month.
joined as (
    select
        cur.store_code,
        cur.month,
        cur.sellout_amount,
        cur.sellout_units,
        ly.sellout_amount as sellout_amount_ly
    from store_month as cur
    left join store_month as ly
        on ly.store_code = cur.store_code
        and ly.month = cast(cur.month - interval '1 year' as date)
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
        ) as yoy_growth
    from joined
    where month >= :since
)

select * from final
