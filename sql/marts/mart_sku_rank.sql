-- mart_sku_rank: items ranked by their share of the chain's sell-out in the month, with
-- their A/B/C class (domain.md section 4; docs/models.md "Sell-out analytics").
-- Items with sales lines in the month, ordered by sell-out descending, then barcode.
-- cumulative_share includes the item. A: the items before it reach < 70 % (so the item
-- crossing 70 % is still A); B: they reach < 90 %; C: the rest. Shares are null and
-- every item is C when the month's sell-out is <= 0.
-- Incremental (YAML): rebuilds the months >= :since. Portable SQL (DuckDB, PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

pairs as (
    select month, barcode, units, sales_amount
    from int_store_item_month
    where chain_code = :chain_code
        and month >= :since
        and sales_rows > 0
),

-- logic CTEs ----------------------------------------------------------------

items as (
    select month, barcode, sum(sales_amount) as sellout_amount, sum(units) as sellout_units
    from pairs
    group by month, barcode
),

ranked as (
    select
        month,
        barcode,
        sellout_amount,
        sellout_units,
        row_number() over (partition by month order by sellout_amount desc, barcode) as sku_rank,
        sum(sellout_amount) over (partition by month) as month_total,
        sum(sellout_amount) over (
            partition by month order by sellout_amount desc, barcode
            rows between unbounded preceding and current row
        ) as running
    from items
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        month,
        barcode,
        cast(sellout_amount as decimal(16, 2)) as sellout_amount,
        cast(sellout_units as bigint) as sellout_units,
        cast(sku_rank as integer) as sku_rank,
        cast(
            case when month_total > 0 then sellout_amount / month_total end as decimal(12, 6)
        ) as share,
        cast(case when month_total > 0 then running / month_total end as decimal(12, 6))
            as cumulative_share,
        case
            when month_total <= 0 then 'C'
            when (running - sellout_amount) < 0.7 * month_total then 'A'
            when (running - sellout_amount) < 0.9 * month_total then 'B'
            else 'C'
        end as abc_class
    from ranked
)

select * from final
