-- int_rebate_band: one row per contract year x rebate band of the chain: band 0 from 0 to
-- the first threshold (rate 0), band k from tier k's threshold to the next tier's (the
-- top band is open: band_to null). Read by mart_rebate_progress (stepped rebates, tiers
-- reached) and mart_rebate_tier_breakdown. Domain: domain.md section 5.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

tiers as (
    select contract_year, tier_no, threshold, rate
    from ref_rebate_tier
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

bands as (
    select
        contract_year,
        tier_no,
        threshold as band_from,
        lead(threshold) over (partition by contract_year order by threshold) as band_to,
        rate
    from tiers
    union all
    select contract_year, 0 as tier_no, 0 as band_from, min(threshold) as band_to, 0 as rate
    from tiers
    group by contract_year
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(contract_year as integer) as contract_year,
        cast(tier_no as integer) as tier_no,
        cast(band_from as decimal(16, 2)) as band_from,
        cast(band_to as decimal(16, 2)) as band_to,
        cast(rate as decimal(7, 4)) as rate
    from bands
)

select * from final
