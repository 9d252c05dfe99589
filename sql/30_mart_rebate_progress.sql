-- mart_rebate_progress: per chain x contract year x month end of the contract year, up to
-- the chain's last business date with data (docs/models.md). Domain: domain.md section 5.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

contracts as (
    select
        contract_year,
        start_date,
        end_date,
        rebate_base,
        rebate_method,
        rebate_promo_excluded
    from ref_contract
    where chain_code = :chain_code
),

tiers as (
    select contract_year, tier_no, threshold, rate
    from ref_rebate_tier
    where chain_code = :chain_code
),

-- effective promo_amount: stg_sales applies the promo sales rule (05_stg_sales.sql)
sales as (
    select business_date, sales_amount, promo_amount
    from stg_sales
    where chain_code = :chain_code
),

invoices as (
    select invoice_date, net_amount, vat_amount, promo_id
    from raw_invoices
    where chain_code = :chain_code
),

-- a rebate line counts towards the contract year of the period it settles
-- (period_start, else its date), as in mart_deduction_check, and is taken on its date
rebate_deductions as (
    select deduction_date, coalesce(period_start, deduction_date) as settles_on, amount
    from raw_deductions
    where chain_code = :chain_code
        and deduction_type = 'rebate'
),

-- logic CTEs ----------------------------------------------------------------

-- The chain's last business date with any data (sales, invoices or deductions feed).
last_data as (
    select max(d) as last_date
    from (
        select max(business_date) as d from sales
        union all
        select max(business_date) from raw_invoices where chain_code = :chain_code
        union all
        select max(business_date) from raw_deductions where chain_code = :chain_code
    ) as feed_dates
),

sell_out_daily as (
    select
        business_date as day,
        sum(sales_amount) as total_amount,
        sum(promo_amount) as promo_amount
    from sales
    group by business_date
),

sell_in_daily as (
    select
        invoice_date as day,
        sum(net_amount) as total_amount,
        sum(case when promo_id is not null then net_amount else 0 end) as promo_amount,
        sum(net_amount + vat_amount) as gross_amount,
        sum(case when promo_id is not null then net_amount + vat_amount else 0 end)
            as promo_gross_amount
    from invoices
    group by invoice_date
),

-- rebate bases: sell_out, sell_in (net) or sell_in_gross (net + VAT, 含税)
base_daily as (
    select 'sell_out' as base, day, total_amount, promo_amount from sell_out_daily
    union all
    select 'sell_in' as base, day, total_amount, promo_amount from sell_in_daily
    union all
    select 'sell_in_gross' as base, day, gross_amount, promo_gross_amount from sell_in_daily
),

rebate_daily as (
    select deduction_date as day, settles_on, sum(amount) as amount
    from rebate_deductions
    group by deduction_date, settles_on
),

contract_span as (
    select
        c.contract_year,
        c.start_date,
        c.end_date,
        c.rebate_base,
        c.rebate_method,
        c.rebate_promo_excluded,
        cast(date_trunc('month', c.start_date) as date) as first_month,
        case when c.end_date < ld.last_date then c.end_date else ld.last_date end as last_day
    from contracts as c
    cross join last_data as ld
    where ld.last_date is not null
        and c.start_date <= ld.last_date
),

-- one row per month end of the contract year; the current partial month ends at the last
-- data date, a contract ending mid-month at its end date.
as_of_dates as (
    select
        cs.contract_year,
        cs.start_date,
        cs.end_date,
        cs.rebate_base,
        cs.rebate_method,
        cs.rebate_promo_excluded,
        case
            when cast(cs.first_month + (g.n + 1) * interval '1 month' as date) - 1 < cs.last_day
                then cast(cs.first_month + (g.n + 1) * interval '1 month' as date) - 1
            else cs.last_day
        end as as_of_date
    from contract_span as cs
    cross join generate_series(0, 1199) as g(n)
    where g.n <= cast(
        (extract(year from cs.last_day) - extract(year from cs.first_month)) * 12
        + extract(month from cs.last_day) - extract(month from cs.first_month)
        as integer
    )
),

base_ytd as (
    select
        a.contract_year,
        a.as_of_date,
        coalesce(sum(b.total_amount), 0)
        - case
            when a.rebate_promo_excluded then coalesce(sum(b.promo_amount), 0)
            else 0
        end as eligible_base
    from as_of_dates as a
    left join base_daily as b
        on b.base = a.rebate_base
        and b.day between a.start_date and a.as_of_date
    group by a.contract_year, a.as_of_date, a.rebate_promo_excluded
),

taken_ytd as (
    select
        a.contract_year,
        a.as_of_date,
        coalesce(sum(r.amount), 0) as rebate_taken
    from as_of_dates as a
    left join rebate_daily as r
        on r.settles_on between a.start_date and a.end_date
        and r.day <= a.as_of_date
    group by a.contract_year, a.as_of_date
),

-- each tier's band: from its threshold up to the next tier's threshold
tier_bands as (
    select
        contract_year,
        tier_no,
        threshold,
        rate,
        lead(threshold) over (partition by contract_year order by threshold) as band_end
    from tiers
),

progress as (
    select
        a.contract_year,
        a.as_of_date,
        a.rebate_method,
        cast(round(b.eligible_base, 2) as decimal(16, 2)) as eligible_base
    from as_of_dates as a
    inner join base_ytd as b
        on b.contract_year = a.contract_year
        and b.as_of_date = a.as_of_date
),

-- tiers reached: a threshold reached exactly counts as reached (>=)
reached as (
    select
        p.contract_year,
        p.as_of_date,
        t.tier_no,
        t.rate,
        row_number() over (
            partition by p.contract_year, p.as_of_date order by t.threshold desc
        ) as rank_from_top,
        t.rate * (
            case
                when t.band_end is null or p.eligible_base < t.band_end then p.eligible_base
                else t.band_end
            end - t.threshold
        ) as band_rebate
    from progress as p
    inner join tier_bands as t
        on t.contract_year = p.contract_year
        and t.threshold <= p.eligible_base
),

reached_summary as (
    select
        contract_year,
        as_of_date,
        max(case when rank_from_top = 1 then tier_no end) as tier_no_reached,
        max(case when rank_from_top = 1 then rate end) as rate_reached,
        sum(band_rebate) as stepped_rebate
    from reached
    group by contract_year, as_of_date
),

next_tier as (
    select
        p.contract_year,
        p.as_of_date,
        t.tier_no as next_tier_no,
        t.threshold as next_tier_threshold,
        row_number() over (
            partition by p.contract_year, p.as_of_date order by t.threshold
        ) as rank_from_bottom
    from progress as p
    inner join tiers as t
        on t.contract_year = p.contract_year
        and t.threshold > p.eligible_base
),

joined as (
    select
        p.contract_year,
        p.as_of_date,
        p.eligible_base,
        r.tier_no_reached,
        r.rate_reached,
        case
            when r.tier_no_reached is null then 0
            when p.rebate_method = 'stepped' then r.stepped_rebate
            -- retroactive (slab): the highest tier's rate on the whole base
            else r.rate_reached * p.eligible_base
        end as rebate_earned,
        tk.rebate_taken,
        n.next_tier_no,
        n.next_tier_threshold
    from progress as p
    left join reached_summary as r
        on r.contract_year = p.contract_year
        and r.as_of_date = p.as_of_date
    left join taken_ytd as tk
        on tk.contract_year = p.contract_year
        and tk.as_of_date = p.as_of_date
    left join next_tier as n
        on n.contract_year = p.contract_year
        and n.as_of_date = p.as_of_date
        and n.rank_from_bottom = 1
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(contract_year as integer) as contract_year,
        as_of_date,
        eligible_base as eligible_base_ytd,
        cast(tier_no_reached as integer) as tier_no_reached,
        cast(rate_reached as decimal(7, 4)) as rate_reached,
        cast(round(rebate_earned, 2) as decimal(16, 2)) as rebate_earned,
        cast(round(rebate_taken, 2) as decimal(16, 2)) as rebate_taken,
        cast(round(rebate_earned, 2) - round(rebate_taken, 2) as decimal(16, 2))
            as rebate_balance,
        cast(next_tier_no as integer) as next_tier_no,
        cast(next_tier_threshold as decimal(16, 2)) as next_tier_threshold,
        cast(next_tier_threshold - eligible_base as decimal(16, 2)) as gap_to_next_tier
    from joined
)

select * from final
