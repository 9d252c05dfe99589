-- mart_rebate_tier_breakdown: how each mart_rebate_progress row's rebate earned is made
-- up, one row per band: tier 0 is the part of the base below the first threshold, tier k
-- runs from its threshold to the next one (the top band is open). Retroactive: the rate
-- reached applies to every band; stepped: each band earns its own tier's rate (tier 0
-- earns nothing). Domain: domain.md section 5. Rules: docs/models.md.
-- Incremental: the as-of days from :since on. Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

-- incremental: the as-of days from :since on (each row reads its progress row only)
progress as (
    select contract_year, as_of_date, eligible_base_ytd, rate_reached
    from mart_rebate_progress
    where chain_code = :chain_code
        and as_of_date >= :since
),

contracts as (
    select contract_year, rebate_method
    from ref_contract
    where chain_code = :chain_code
),

bands as (
    select contract_year, tier_no, band_from, band_to, rate
    from int_rebate_band
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

rows_per_band as (
    select
        p.contract_year,
        p.as_of_date,
        b.tier_no,
        b.band_from,
        b.band_to,
        case
            when c.rebate_method = 'stepped' then b.rate
            else coalesce(p.rate_reached, 0)
        end as rate_applied,
        case
            when p.eligible_base_ytd <= b.band_from then 0
            when b.band_to is not null and p.eligible_base_ytd > b.band_to
                then b.band_to - b.band_from
            else p.eligible_base_ytd - b.band_from
        end as base_in_band
    from progress as p
    inner join contracts as c
        on c.contract_year = p.contract_year
    inner join bands as b
        on b.contract_year = p.contract_year
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(contract_year as integer) as contract_year,
        as_of_date,
        cast(tier_no as integer) as tier_no,
        cast(band_from as decimal(16, 2)) as band_from,
        cast(band_to as decimal(16, 2)) as band_to,
        cast(rate_applied as decimal(7, 4)) as rate_applied,
        cast(base_in_band as decimal(16, 2)) as base_in_band,
        cast(round(rate_applied * base_in_band, 2) as decimal(16, 2)) as amount
    from rows_per_band
)

select * from final
