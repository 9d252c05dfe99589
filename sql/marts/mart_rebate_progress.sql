-- mart_rebate_progress: per chain x contract year x day of the contract year, up to the
-- chain's last business date with data: base, tier, rebate earned and taken, and the
-- projection to year end (docs/models.md). Domain: domain.md section 5.
-- Incremental: builds the days >= :since of the contract years ending on or after it
-- (each from its start, for the year to date), reading the sales and invoices from a
-- year before the earliest such start (last year's base).
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

-- the tiers' bands (int_rebate_band; band 0, below the first threshold, earns nothing
-- and is no tier)
tiers as (
    select contract_year, tier_no, band_from as threshold, band_to as band_end, rate
    from int_rebate_band
    where chain_code = :chain_code
        and tier_no > 0
),

-- effective promo_amount: stg_sales applies the promo sales rule (staging/stg_sales.sql)
-- one import per use: a CTE referenced more than once is materialized by PostgreSQL
-- (every sales row of the chain); referenced once, it is inlined
sales_for_base as (
    select business_date, sales_amount, promo_amount
    from stg_sales
    where chain_code = :chain_code
        -- only when a contract of the slice rebates on sell-out
        and exists (
            select 1 from contracts where rebate_base = 'sell_out' and end_date >= :since
        )
        and business_date >= (
            select cast(min(start_date) - interval '1 year' as date)
            from contracts
            where end_date >= :since
        )
),

invoices as (
    select invoice_date, net_amount, vat_amount, promo_id
    from stg_invoices
    where chain_code = :chain_code
        and invoice_date >= (
            select cast(min(start_date) - interval '1 year' as date)
            from contracts
            where end_date >= :since
        )
),

-- a rebate line counts towards the contract year of the period it settles
-- (int_deduction_line.contract_year, as in mart_deduction_check), taken on its date
rebate_deductions as (
    select deduction_date, contract_year, amount
    from int_deduction_line
    where chain_code = :chain_code
        and deduction_type = 'rebate'
        and contract_year is not null
),

-- logic CTEs ----------------------------------------------------------------

-- The chain's last business date with sales, invoices or deductions.
last_data as (
    select last_trade_date as last_date
    from int_chain_as_of
    where chain_code = :chain_code
),

sell_out_daily as (
    select
        business_date as day,
        sum(sales_amount) as total_amount,
        sum(promo_amount) as promo_amount
    from sales_for_base
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
    select deduction_date as day, contract_year, sum(amount) as amount
    from rebate_deductions
    group by deduction_date, contract_year
),

-- the first day the base's feed has data: last year counts only when it is covered
-- (over the whole feed, not only the days read above)
base_first_day as (
    select 'sell_out' as base, min(business_date) as first_day
    from stg_sales
    where chain_code = :chain_code
        -- only when a contract of the slice rebates on sell-out (a scan of every sales
        -- row otherwise)
        and exists (
            select 1 from contracts where rebate_base = 'sell_out' and end_date >= :since
        )
    union all
    select 'sell_in' as base, min(invoice_date) from stg_invoices where chain_code = :chain_code
    union all
    select 'sell_in_gross' as base, min(invoice_date)
    from stg_invoices
    where chain_code = :chain_code
),

contract_span as (
    select
        c.contract_year,
        c.start_date,
        c.end_date,
        c.rebate_base,
        c.rebate_method,
        c.rebate_promo_excluded,
        case when c.end_date < ld.last_date then c.end_date else ld.last_date end as last_day,
        cast(c.end_date - c.start_date + 1 as integer) as contract_days,
        cast(c.start_date - interval '1 year' as date) as ly_start,
        cast(c.end_date - interval '1 year' as date) as ly_end,
        coalesce(bf.first_day <= cast(c.start_date - interval '1 year' as date), false)
            as has_ly
    from contracts as c
    cross join last_data as ld
    left join base_first_day as bf
        on bf.base = c.rebate_base
    where ld.last_date is not null
        and c.start_date <= ld.last_date
        and c.end_date >= :since
),

-- one row per day of the contract year up to the last data date (n = days since start)
contract_days as (
    select cs.*, g.n, cs.start_date + cast(g.n as integer) as as_of_date
    from contract_span as cs
    cross join generate_series(0, 3999) as g(n)
    where g.n <= cast(cs.last_day - cs.start_date as integer)
),

eligible_daily as (
    select
        d.contract_year,
        d.n,
        d.as_of_date,
        coalesce(b.total_amount, 0)
        - case when d.rebate_promo_excluded then coalesce(b.promo_amount, 0) else 0 end
            as eligible
    from contract_days as d
    left join base_daily as b
        on b.base = d.rebate_base
        and b.day = d.as_of_date
),

base_ytd as (
    select
        contract_year,
        n,
        as_of_date,
        sum(eligible) over (
            partition by contract_year order by n rows between unbounded preceding and current row
        ) as eligible_base
    from eligible_daily
),

-- last year: the same dates one year earlier, by the same contract's base rules
ly_days as (
    select
        cs.contract_year,
        g.n,
        cs.ly_start + cast(g.n as integer) as day,
        cs.rebate_base,
        cs.rebate_promo_excluded
    from contract_span as cs
    cross join generate_series(0, 3999) as g(n)
    where cs.has_ly
        and g.n <= cast(cs.ly_end - cs.ly_start as integer)
),

ly_cumulative as (
    select
        l.contract_year,
        l.n,
        sum(
            coalesce(b.total_amount, 0)
            - case when l.rebate_promo_excluded then coalesce(b.promo_amount, 0) else 0 end
        ) over (
            partition by l.contract_year order by l.n
            rows between unbounded preceding and current row
        ) as ly_base_to_date
    from ly_days as l
    left join base_daily as b
        on b.base = l.rebate_base
        and b.day = l.day
),

ly_totals as (
    select contract_year, max(ly_base_to_date) as ly_full_year, max(n) as last_n
    from ly_cumulative
    group by contract_year
),

taken_ytd as (
    select
        d.contract_year,
        d.as_of_date,
        coalesce(sum(r.amount), 0) as rebate_taken
    from contract_days as d
    left join rebate_daily as r
        on r.contract_year = d.contract_year
        and r.day <= d.as_of_date
    group by d.contract_year, d.as_of_date
),

-- Projection: seasonal (base YTD x LY whole year / LY over the same elapsed days) when
-- last year's data covers the contract year and that LY figure is not 0; else run rate
-- (base YTD / elapsed days x contract days).
projected as (
    select
        d.contract_year,
        d.as_of_date,
        d.rebate_method,
        d.n + 1 as elapsed_days,
        d.contract_days,
        cast(round(b.eligible_base, 2) as decimal(16, 2)) as eligible_base,
        lc.ly_base_to_date as ly_same_days,
        lt.ly_full_year,
        case
            when lc.ly_base_to_date is not null and lc.ly_base_to_date <> 0 then 'seasonal'
            else 'run_rate'
        end as projection_method,
        -- run rate in whole cents, rounded half up with integer arithmetic: DuckDB divides
        -- decimals in floating point, which could put an exact half cent 0.01 lower
        cast(
            case
                when lc.ly_base_to_date is not null and lc.ly_base_to_date <> 0
                    then round(b.eligible_base * lt.ly_full_year / lc.ly_base_to_date, 2)
                else cast(floor(
                    (2 * cast(round(b.eligible_base * 100, 0) as bigint) * d.contract_days
                        + (d.n + 1))
                    / (2 * (d.n + 1))
                ) as decimal(18, 0)) * 0.01
            end as decimal(16, 2)) as projected_base
    from contract_days as d
    inner join base_ytd as b
        on b.contract_year = d.contract_year
        and b.n = d.n
    left join ly_totals as lt
        on lt.contract_year = d.contract_year
    left join ly_cumulative as lc
        on lc.contract_year = d.contract_year
        and lc.n = case when d.n < lt.last_n then d.n else lt.last_n end
),

-- the bases to put through the tiers: the base to date and the projected base
progress as (
    select contract_year, as_of_date, rebate_method, 'ytd' as kind, eligible_base
    from projected
    union all
    select contract_year, as_of_date, rebate_method, 'projected' as kind, projected_base
    from projected
),

-- tiers reached: a threshold reached exactly counts as reached (>=)
reached as (
    select
        p.contract_year,
        p.as_of_date,
        p.kind,
        t.tier_no,
        t.rate,
        row_number() over (
            partition by p.contract_year, p.as_of_date, p.kind order by t.threshold desc
        ) as rank_from_top,
        t.rate * (
            case
                when t.band_end is null or p.eligible_base < t.band_end then p.eligible_base
                else t.band_end
            end - t.threshold
        ) as band_rebate
    from progress as p
    inner join tiers as t
        on t.contract_year = p.contract_year
        and t.threshold <= p.eligible_base
),

reached_summary as (
    select
        contract_year,
        as_of_date,
        kind,
        max(case when rank_from_top = 1 then tier_no end) as tier_no_reached,
        max(case when rank_from_top = 1 then rate end) as rate_reached,
        sum(band_rebate) as stepped_rebate
    from reached
    group by contract_year, as_of_date, kind
),

rebates as (
    select
        p.contract_year,
        p.as_of_date,
        p.kind,
        p.eligible_base,
        r.tier_no_reached,
        r.rate_reached,
        case
            when r.tier_no_reached is null then 0
            when p.rebate_method = 'stepped' then r.stepped_rebate
            -- retroactive (slab): the highest tier's rate on the whole base
            else r.rate_reached * p.eligible_base
        end as rebate
    from progress as p
    left join reached_summary as r
        on r.contract_year = p.contract_year
        and r.as_of_date = p.as_of_date
        and r.kind = p.kind
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
    from projected as p
    inner join tiers as t
        on t.contract_year = p.contract_year
        and t.threshold > p.eligible_base
),

joined as (
    select
        p.contract_year,
        p.as_of_date,
        p.eligible_base,
        e.tier_no_reached,
        e.rate_reached,
        e.rebate as rebate_earned,
        tk.rebate_taken,
        n.next_tier_no,
        n.next_tier_threshold,
        p.elapsed_days,
        p.contract_days,
        p.ly_same_days,
        p.ly_full_year,
        p.projection_method,
        p.projected_base,
        pr.tier_no_reached as projected_tier_no,
        pr.rate_reached as projected_rate,
        pr.rebate as projected_rebate
    from projected as p
    inner join rebates as e
        on e.contract_year = p.contract_year
        and e.as_of_date = p.as_of_date
        and e.kind = 'ytd'
    inner join rebates as pr
        on pr.contract_year = p.contract_year
        and pr.as_of_date = p.as_of_date
        and pr.kind = 'projected'
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
        cast(next_tier_threshold - eligible_base as decimal(16, 2)) as gap_to_next_tier,
        cast(elapsed_days as integer) as elapsed_days,
        contract_days,
        cast(round(ly_same_days, 2) as decimal(16, 2)) as ly_base_same_days,
        cast(round(ly_full_year, 2) as decimal(16, 2)) as ly_base_full_year,
        projection_method,
        projected_base,
        cast(projected_tier_no as integer) as projected_tier_no,
        cast(projected_rate as decimal(7, 4)) as projected_rate,
        cast(round(projected_rebate, 2) as decimal(16, 2)) as projected_rebate
    from joined
    where as_of_date >= :since
)

select * from final
