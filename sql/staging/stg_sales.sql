-- stg_sales: one row per raw_sales row of the chain, with its month, the store's class and
-- the effective promo values (docs/models.md). The marts read sales from here.
--
-- Promo sales (domain.md section 4), the only place this rule is written:
-- * the chain sends promo columns when any of its raw_sales rows has a non-null
--   promo_amount (at any date); then promo_units / promo_amount are the feed's columns,
--   null = 0;
-- * otherwise a row is a promo row when its store x item x day lies inside a ref_promotion
--   of the chain for that barcode (start_date..end_date inclusive) and the store's class
--   is in the promotion's store_classes ('A,B', spaces ignored; null = every store of
--   ref_store). A promo row's promo_units / promo_amount are its units / sales_amount
--   (counted once even when several promotions cover it); any other row has 0.
-- A store missing from ref_store has a null store_class and no derived promo sales.
-- Incremental (YAML incremental): only the rows with business_date >= :since are
-- built (the runner deletes the same slice first); a full rebuild binds 1900-01-01.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

sales as (
    select
        business_date,
        store_code,
        barcode,
        units,
        sales_amount,
        promo_units,
        promo_amount,
        on_hand_units
    from raw_sales
    where chain_code = :chain_code
        and business_date >= :since
),

stores as (
    select store_code, store_class
    from ref_store
    where chain_code = :chain_code
),

promotions as (
    select barcode, store_classes, start_date, end_date
    from ref_promotion
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

-- Each CTE over the chain's sales is referenced once, so PostgreSQL inlines it instead
-- of materializing every sales row of the chain (which cost minutes on long histories).
-- "sends promo columns at any date" is computed by the runner (ka_pipeline/models.py:
-- an exists over all of the chain's raw_sales on a full rebuild, over the new rows on an
-- incremental one; a change rebuilds every row) and bound as :sends_promo
promo_feed as (
    select cast(:sends_promo as boolean) as sends_promo
),

-- store x item x day inside an approved promotion for the item and the store's class
promo_days as (
    select distinct
        s.store_code,
        s.barcode,
        s.business_date
    from raw_sales as s
    inner join stores as st
        on st.store_code = s.store_code
    inner join promotions as p
        on p.barcode = s.barcode
        and s.business_date between p.start_date and p.end_date
        and (
            p.store_classes is null
            or ',' || replace(p.store_classes, ' ', '') || ',' like '%,' || st.store_class || ',%'
        )
    where s.chain_code = :chain_code
        and s.business_date >= :since
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        s.business_date,
        cast(date_trunc('month', s.business_date) as date) as month,
        s.store_code,
        st.store_class,
        s.barcode,
        s.units,
        s.sales_amount,
        cast(
            case
                when pf.sends_promo then coalesce(s.promo_units, 0)
                when pd.business_date is not null then s.units
                else 0
            end as integer
        ) as promo_units,
        cast(
            case
                when pf.sends_promo then coalesce(s.promo_amount, 0)
                when pd.business_date is not null then s.sales_amount
                else 0
            end as decimal(14, 2)
        ) as promo_amount,
        s.on_hand_units
    from sales as s
    cross join promo_feed as pf
    left join stores as st
        on st.store_code = s.store_code
    left join promo_days as pd
        on pd.store_code = s.store_code
        and pd.barcode = s.barcode
        and pd.business_date = s.business_date
)

select * from final
