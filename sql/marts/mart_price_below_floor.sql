-- mart_price_below_floor: the store x item x day rows that fail price compliance
-- (domain.md section 4; docs/models.md "Sell-out analytics"): units > 0 and
-- sales_amount / units below the required price, which is the floor price, or the
-- promo price inside an approved promotion for the store's class (int_store_item_day).
-- A row selling at the promo price inside its promotion is compliant even below floor.
-- Incremental (YAML): rebuilds the days >= :since. Portable SQL (DuckDB, PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

days as (
    select
        store_code,
        barcode,
        business_date,
        region,
        units,
        sales_amount,
        floor_price,
        promo_id,
        required_price
    from int_store_item_day
    where chain_code = :chain_code
        and business_date >= :since
        and units > 0
        and required_price is not null
),

-- logic CTEs ----------------------------------------------------------------

-- compared without rounding: 3 units for 29.99 is below a 10.00 floor
failing as (
    select *
    from days
    where sales_amount < required_price * units
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        store_code,
        barcode,
        business_date,
        region,
        units,
        sales_amount,
        cast(round(cast(sales_amount / units as decimal(18, 8)), 4) as decimal(14, 4)) as unit_price,
        required_price,
        floor_price,
        promo_id,
        -- (required - unit price) x units = required x units - sales_amount, exactly
        cast(round(required_price * units - sales_amount, 2) as decimal(14, 2)) as gap_amount
    from failing
)

select * from final
