-- mart_distribution_gap: open store x must-carry item x month that the store did NOT
-- carry (no day with units <> 0 or on_hand_units > 0), domain.md section 4; the pairs
-- missing from the distribution rate's numerator (docs/models.md "Sell-out analytics").
-- Incremental (YAML): rebuilds the months >= :since. Portable SQL (DuckDB, PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

pairs as (
    select month, store_code, store_class, barcode, carried, must_carry
    from int_store_item_month
    where chain_code = :chain_code
        and month >= :since
),

-- logic CTEs ----------------------------------------------------------------

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        month,
        store_code,
        store_class,
        barcode
    from pairs
    where must_carry
        and not carried
)

select * from final
