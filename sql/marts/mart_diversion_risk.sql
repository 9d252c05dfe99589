-- mart_diversion_risk: per item x ISO week x region with sales, the evidence of
-- diversion 窜货 (domain.md section 10; docs/models.md "Sell-out analytics").
--
-- * avg_unit_price: Σ sales_amount / Σ units of the region's non-promo store x item x
--   day rows with units > 0 (promo_units = 0, stg_sales' promo rule); null without any.
-- * price_gap: (highest - lowest) / highest of the item's regional prices that week
--   (the same on every region's row; null with fewer than two priced regions).
-- * Price risk: price_gap > diversion_price_gap (ref_analytics_setting, default 0.10)
--   and the region's price is below the item's floor price.
-- * Volume risk: the region's sell-out units over the 4 weeks ending with this one
--   exceed diversion_volume_factor (default 1.3) x the units invoiced to its stores
--   over the same 4 weeks. An invoice's ship_to_code that is a store of the chain counts
--   for that store's region. Any other code is a DC, which the feeds give no region: a
--   DC may serve every region, so while the item's 4-week window has units shipped to a
--   DC the volume test cannot be made (shipped_units_4w null, no volume risk).
-- Regions without sales rows in the week have no row (and take no part in the gap).
-- Incremental (YAML): rebuilds the weeks >= :since (a Monday), reading 3 weeks before.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

sales as (
    select
        cast(business_date - cast(extract(isodow from business_date) - 1 as integer) as date)
            as iso_week,
        region,
        barcode,
        units,
        sales_amount,
        promo_units
    from int_store_item_day
    where chain_code = :chain_code
        and business_date >= cast(cast(:since as date) - 21 as date)
        and region is not null
),

invoices as (
    select
        cast(invoice_date - cast(extract(isodow from invoice_date) - 1 as integer) as date)
            as iso_week,
        ship_to_code,
        barcode,
        units
    from stg_invoices
    where chain_code = :chain_code
        and invoice_date >= cast(cast(:since as date) - 21 as date)
),

stores as (
    select store_code, region
    from ref_store
    where chain_code = :chain_code
),

products as (
    select barcode, floor_price
    from ref_product
),

settings as (
    select
        max(case when setting = 'diversion_price_gap' then value end) as price_gap_limit,
        max(case when setting = 'diversion_volume_factor' then value end) as volume_factor
    from ref_analytics_setting
),

-- logic CTEs ----------------------------------------------------------------

region_week as (
    select
        iso_week,
        region,
        barcode,
        sum(units) as units,
        sum(case when promo_units = 0 and units > 0 then sales_amount else 0 end) as np_amount,
        sum(case when promo_units = 0 and units > 0 then units else 0 end) as np_units
    from sales
    group by iso_week, region, barcode
),

priced as (
    select
        iso_week,
        region,
        barcode,
        units,
        case when np_units > 0 then np_amount / np_units end as avg_price
    from region_week
),

item_week as (
    select
        iso_week,
        barcode,
        count(avg_price) as region_count,
        max(avg_price) as high,
        min(avg_price) as low
    from priced
    group by iso_week, barcode
),

-- region null: shipped to a DC (a ship-to that is not a store of the chain)
shipped_week as (
    select
        i.iso_week,
        st.region,
        i.barcode,
        sum(i.units) as units
    from invoices as i
    left join stores as st
        on st.store_code = i.ship_to_code
    group by i.iso_week, st.region, i.barcode
),

window_4w as (
    select
        p.iso_week,
        p.region,
        p.barcode,
        (
            select coalesce(sum(r.units), 0)
            from region_week as r
            where r.region = p.region
                and r.barcode = p.barcode
                and r.iso_week between cast(p.iso_week - 21 as date) and p.iso_week
        ) as sellout_4w,
        (
            select coalesce(sum(s.units), 0)
            from shipped_week as s
            where s.region = p.region
                and s.barcode = p.barcode
                and s.iso_week between cast(p.iso_week - 21 as date) and p.iso_week
        ) as shipped_4w,
        (
            select coalesce(sum(s.units), 0)
            from shipped_week as s
            where s.region is null
                and s.barcode = p.barcode
                and s.iso_week between cast(p.iso_week - 21 as date) and p.iso_week
        ) as shipped_dc_4w
    from priced as p
    where p.iso_week >= :since
),

flagged as (
    select
        p.iso_week,
        p.region,
        p.barcode,
        p.units,
        p.avg_price,
        iw.region_count,
        case when iw.region_count >= 2 and iw.high > 0 then (iw.high - iw.low) / iw.high end
            as gap,
        pr.floor_price,
        w.sellout_4w,
        case when w.shipped_dc_4w = 0 then w.shipped_4w end as shipped_4w,
        coalesce(
            iw.region_count >= 2
            and iw.high > 0
            and (iw.high - iw.low) / iw.high > s.price_gap_limit
            and p.avg_price < pr.floor_price,
            false
        ) as price_risk,
        coalesce(
            w.shipped_dc_4w = 0 and w.sellout_4w > s.volume_factor * w.shipped_4w, false
        ) as volume_risk
    from priced as p
    inner join window_4w as w
        on w.iso_week = p.iso_week
        and w.region = p.region
        and w.barcode = p.barcode
    inner join item_week as iw
        on iw.iso_week = p.iso_week
        and iw.barcode = p.barcode
    cross join settings as s
    left join products as pr
        on pr.barcode = p.barcode
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        barcode,
        iso_week,
        region,
        cast(units as bigint) as sellout_units,
        cast(round(cast(avg_price as decimal(18, 8)), 4) as decimal(14, 4)) as avg_unit_price,
        cast(region_count as integer) as region_count,
        cast(gap as decimal(12, 6)) as price_gap,
        floor_price,
        cast(sellout_4w as bigint) as sellout_units_4w,
        cast(shipped_4w as bigint) as shipped_units_4w,
        price_risk or volume_risk as at_risk,
        cast(
            case
                when price_risk and volume_risk then 'price,volume'
                when price_risk then 'price'
                when volume_risk then 'volume'
            end as varchar
        ) as risk_reason
    from flagged
)

select * from final
