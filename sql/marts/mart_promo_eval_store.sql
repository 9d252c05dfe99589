-- mart_promo_eval_store: per promotion x item x participating store, once the promotion
-- has ended (domain.md section 9; docs/models.md "Sell-out analytics").
--
-- * Ended: the chain's sales data reaches its end_date (latest stg_sales business date).
-- * Participating stores: the chain's stores whose class is in the promotion's
--   store_classes (null = every store) and that are open on some day of it.
-- * promo_units: Σ units of the store x item over the promotion's days; executed: its
--   effective promo units (stg_sales' promo rule) are > 0.
-- * Baseline 'pre_28d': average daily units over the promotion-free days among the 28
--   before start_date (days covered by no approved promotion of the item for the store's
--   class; a day without sales counts as 0 units). Used when there is such a day, the
--   store was open on the first of the 28 days and the chain's sales data starts on or
--   before it. Otherwise 'ly_yoy': the store x item's units over the same dates one year
--   earlier / promo_days x (1 + the chain's sell-out YoY of the start month,
--   mart_chain_month), when the chain's data covers those dates and that YoY exists.
--   Otherwise no baseline (null method, lift and profit).
-- * lift_units = promo_units - baseline_daily_units x promo_days;
--   incremental_gp = lift_units x (supply price - unit cost), rounded to cents.
-- Incremental (YAML): rebuilds the promotions ending >= :since (their sales, baseline and
-- LY are all before their end). Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

promotions as (
    select promo_id, barcode, store_classes, start_date, end_date
    from ref_promotion
    where chain_code = :chain_code
        and end_date >= :since
),

all_promotions as (
    select barcode, store_classes, start_date, end_date
    from ref_promotion
    where chain_code = :chain_code
),

stores as (
    select store_code, store_class, opened_on, closed_on
    from ref_store
    where chain_code = :chain_code
),

products as (
    select barcode, unit_cost, supply_price
    from ref_product
),

data_range as (
    select min(business_date) as first_date, max(business_date) as last_date
    from stg_sales
    where chain_code = :chain_code
),

chain_yoy as (
    select month, yoy_growth
    from mart_chain_month
    where chain_code = :chain_code
),

days_in_promo as (
    select store_code, barcode, business_date, units, promo_units
    from int_store_item_day
    where chain_code = :chain_code
),

days_before as (
    select store_code, barcode, business_date, units
    from int_store_item_day
    where chain_code = :chain_code
),

days_ly as (
    select store_code, barcode, business_date, units
    from int_store_item_day
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

participants as (
    select
        p.promo_id,
        p.barcode,
        p.start_date,
        p.end_date,
        st.store_code,
        st.store_class,
        st.opened_on,
        dr.first_date,
        p.end_date - p.start_date + 1 as promo_days
    from promotions as p
    cross join data_range as dr
    inner join stores as st
        on (
            p.store_classes is null
            or ',' || replace(p.store_classes, ' ', '') || ',' like '%,' || st.store_class || ',%'
        )
        and st.opened_on <= p.end_date
        and (st.closed_on is null or st.closed_on > p.start_date)
    where p.end_date <= dr.last_date
),

in_promo as (
    select
        pa.promo_id,
        pa.barcode,
        pa.store_code,
        sum(d.units) as units,
        sum(d.promo_units) as promo_units
    from participants as pa
    inner join days_in_promo as d
        on d.store_code = pa.store_code
        and d.barcode = pa.barcode
        and d.business_date between pa.start_date and pa.end_date
    group by pa.promo_id, pa.barcode, pa.store_code
),

-- the 28 days before the start, without the days an approved promotion covers
window_days as (
    select
        pa.promo_id,
        pa.barcode,
        pa.store_code,
        pa.store_class,
        cast(pa.start_date - cast(g.n as integer) as date) as day
    from participants as pa
    cross join generate_series(1, 28) as g(n)
),

free_days as (
    select w.promo_id, w.barcode, w.store_code, w.day
    from window_days as w
    where not exists (
        select 1
        from all_promotions as ap
        where ap.barcode = w.barcode
            and w.day between ap.start_date and ap.end_date
            and (
                ap.store_classes is null
                or ',' || replace(ap.store_classes, ' ', '') || ','
                like '%,' || w.store_class || ',%'
            )
    )
),

pre_28d as (
    select
        f.promo_id,
        f.barcode,
        f.store_code,
        count(*) as free_days,
        coalesce(sum(d.units), 0) as units
    from free_days as f
    left join days_before as d
        on d.store_code = f.store_code
        and d.barcode = f.barcode
        and d.business_date = f.day
    group by f.promo_id, f.barcode, f.store_code
),

ly as (
    select
        pa.promo_id,
        pa.barcode,
        pa.store_code,
        coalesce(sum(d.units), 0) as units
    from participants as pa
    left join days_ly as d
        on d.store_code = pa.store_code
        and d.barcode = pa.barcode
        and d.business_date >= cast(pa.start_date - interval '1 year' as date)
        and d.business_date <= cast(pa.end_date - interval '1 year' as date)
    group by pa.promo_id, pa.barcode, pa.store_code
),

baseline as (
    select
        pa.promo_id,
        pa.barcode,
        pa.store_code,
        pa.start_date,
        pa.end_date,
        pa.promo_days,
        pre.free_days,
        case
            when coalesce(pre.free_days, 0) > 0
                and pa.opened_on <= cast(pa.start_date - 28 as date)
                and pa.first_date <= cast(pa.start_date - 28 as date)
                then 'pre_28d'
            when pa.first_date <= cast(pa.start_date - interval '1 year' as date)
                and cy.yoy_growth is not null
                then 'ly_yoy'
        end as method,
        cast(pre.units as decimal(18, 6)) / nullif(pre.free_days, 0) as pre_daily,
        cast(l.units as decimal(18, 6)) / pa.promo_days * (1 + cy.yoy_growth) as ly_daily
    from participants as pa
    left join pre_28d as pre
        on pre.promo_id = pa.promo_id
        and pre.barcode = pa.barcode
        and pre.store_code = pa.store_code
    left join ly as l
        on l.promo_id = pa.promo_id
        and l.barcode = pa.barcode
        and l.store_code = pa.store_code
    left join chain_yoy as cy
        on cy.month = cast(date_trunc('month', pa.start_date) as date)
),

evaluated as (
    select
        b.promo_id,
        b.barcode,
        b.store_code,
        b.start_date,
        b.end_date,
        b.promo_days,
        b.method,
        case when b.method = 'pre_28d' then b.free_days end as baseline_days,
        round(
            cast(
                case
                    when b.method = 'pre_28d' then b.pre_daily
                    when b.method = 'ly_yoy' then b.ly_daily
                end as decimal(18, 8)
            ),
            4
        ) as baseline_daily,
        coalesce(ip.units, 0) as promo_units,
        coalesce(ip.promo_units, 0) as feed_promo_units,
        pr.supply_price - pr.unit_cost as unit_margin
    from baseline as b
    left join in_promo as ip
        on ip.promo_id = b.promo_id
        and ip.barcode = b.barcode
        and ip.store_code = b.store_code
    left join products as pr
        on pr.barcode = b.barcode
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        promo_id,
        barcode,
        store_code,
        start_date,
        end_date,
        cast(promo_days as integer) as promo_days,
        cast(method as varchar) as baseline_method,
        cast(baseline_days as integer) as baseline_days,
        cast(baseline_daily as decimal(14, 4)) as baseline_daily_units,
        cast(promo_units as bigint) as promo_units,
        cast(feed_promo_units as bigint) as feed_promo_units,
        feed_promo_units > 0 as executed,
        cast(promo_units - baseline_daily * promo_days as decimal(14, 4)) as lift_units,
        cast(unit_margin as decimal(14, 2)) as unit_margin,
        cast(round((promo_units - baseline_daily * promo_days) * unit_margin, 2) as decimal(14, 2))
            as incremental_gp
    from evaluated
)

select * from final
