-- int_store_item_day: one row per chain x store x item x business date with sales lines
-- (docs/models.md, "Sell-out analytics"). The sell-out analytics read sales from here.
--
-- * units, sales_amount, promo_units, promo_amount: Σ of the day's stg_sales lines (a line
--   sent twice counts twice, as in stg_sales); on_hand_units: the largest sent that day,
--   null when no line of the day sent it.
-- * must_carry: on that day the store is open (opened_on <= day < closed_on) and a
--   ref_listing row of the chain lists the item (listed_from <= day <= listed_to) for
--   the store's class (listing store_classes null = every class).
-- * required_price: the promo price of an approved promotion covering the store's class,
--   the item and the day (the lowest when several do; promo_id names it), else the
--   product's floor price. Price compliance and the below-floor list compare
--   sales_amount with required_price x units.
-- Incremental (YAML): rebuilds the days >= :since. Portable SQL (DuckDB, PostgreSQL).

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
    from stg_sales
    where chain_code = :chain_code
        and business_date >= :since
),

stores as (
    select store_code, store_class, region, opened_on, closed_on
    from ref_store
    where chain_code = :chain_code
),

listings as (
    select barcode, listed_from, listed_to, store_classes
    from ref_listing
    where chain_code = :chain_code
),

promotions as (
    select promo_id, barcode, store_classes, start_date, end_date, promo_price
    from ref_promotion
    where chain_code = :chain_code
),

products as (
    select barcode, floor_price
    from ref_product
),

-- the store x item x days of the chain's sales inside a promotion of the item (its own
-- import: each CTE over the day's rows is referenced once, PostgreSQL joined
-- materialized CTEs as nested loops, 43 s for one night of 20k rows)
sales_in_promo as (
    select distinct s.business_date, s.store_code, s.barcode
    from stg_sales as s
    inner join promotions as p
        on p.barcode = s.barcode
        and s.business_date between p.start_date and p.end_date
    where s.chain_code = :chain_code
        and s.business_date >= :since
),

-- logic CTEs ----------------------------------------------------------------

day_rows as (
    select
        business_date,
        store_code,
        barcode,
        sum(units) as units,
        sum(sales_amount) as sales_amount,
        sum(promo_units) as promo_units,
        sum(promo_amount) as promo_amount,
        max(on_hand_units) as on_hand_units
    from sales
    group by business_date, store_code, barcode
),

-- the approved promotions covering the row; the lowest promo price wins
promo_match as (
    select
        d.business_date,
        d.store_code,
        d.barcode,
        p.promo_id,
        p.promo_price,
        row_number() over (
            partition by d.business_date, d.store_code, d.barcode
            order by p.promo_price, p.promo_id
        ) as pick
    from sales_in_promo as d
    inner join stores as st
        on st.store_code = d.store_code
    inner join promotions as p
        on p.barcode = d.barcode
        and d.business_date between p.start_date and p.end_date
        and (
            p.store_classes is null
            or ',' || replace(p.store_classes, ' ', '') || ',' like '%,' || st.store_class || ',%'
        )
),

promo_pick as (
    select business_date, store_code, barcode, promo_id, promo_price
    from promo_match
    where pick = 1
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        d.business_date,
        cast(date_trunc('month', d.business_date) as date) as month,
        d.store_code,
        d.barcode,
        st.store_class,
        st.region,
        cast(d.units as integer) as units,
        cast(d.sales_amount as decimal(14, 2)) as sales_amount,
        cast(d.promo_units as integer) as promo_units,
        cast(d.promo_amount as decimal(14, 2)) as promo_amount,
        cast(d.on_hand_units as integer) as on_hand_units,
        coalesce(
            st.opened_on <= d.business_date
            and (st.closed_on is null or st.closed_on > d.business_date)
            and exists (
                select 1
                from listings as l
                where l.barcode = d.barcode
                    and l.listed_from <= d.business_date
                    and (l.listed_to is null or l.listed_to >= d.business_date)
                    and (
                        l.store_classes is null
                        or ',' || replace(l.store_classes, ' ', '') || ','
                        like '%,' || st.store_class || ',%'
                    )
            ),
            false
        ) as must_carry,
        pr.floor_price,
        pm.promo_id,
        pm.promo_price,
        cast(coalesce(pm.promo_price, pr.floor_price) as decimal(14, 2)) as required_price
    from day_rows as d
    left join stores as st
        on st.store_code = d.store_code
    left join promo_pick as pm
        on pm.business_date = d.business_date
        and pm.store_code = d.store_code
        and pm.barcode = d.barcode
    left join products as pr
        on pr.barcode = d.barcode
)

select * from final
