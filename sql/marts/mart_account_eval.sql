-- mart_account_eval: the chain's account evaluation per month, as of that month over
-- the trailing 12 months (domain.md section 7; docs/models.md "Sell-out analytics").
--
-- Criterion values (trailing 12 months = the month and the 11 before):
-- * annual_sellout: Σ sell-out (mart_chain_month);
-- * sellout_growth: that / Σ sell-out of the 12 months before - 1 (null when those have no
--   row or sum to 0);
-- * days_late: days to pay against terms, amount-weighted: Σ days_late x paid_amount /
--   Σ paid_amount over mart_receivables_month (null without payments);
-- * distribution_rate: Σ carried must-carry pairs / Σ pairs (mart_chain_month);
-- * promo_execution_rate: Σ executing / Σ participating stores of the promotions ended in
--   the 12 months (mart_promo_eval);
-- * price_compliance: Σ compliant rows / Σ rows (mart_chain_month).
-- Each configured criterion (ref_account_criterion) falls in a band: 1 when the value
-- reaches limit_100 (>= when higher is better, <= when lower is), 2 for limit_80, 3 for
-- limit_60, 4 for limit_40, else 5; points = weight x (100, 80, 60, 40, 20 %). An axis
-- score = Σ points / Σ weights of its criteria with a value x 100 (criteria without a
-- value are left out and named in null_reasons; null when none has one). Grades: A >=
-- grade_a, B >= grade_b, C >= grade_c, else D; quadrant: attractiveness/support, each
-- 'high' when >= quadrant_split (ref_analytics_setting).
-- Incremental (YAML): rebuilds the months >= :since, reading 23 months before.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

chain_months as (
    select
        month,
        sellout_amount,
        distribution_pairs,
        distribution_pairs_carried,
        price_rows,
        price_rows_compliant
    from mart_chain_month
    where chain_code = :chain_code
        and month >= cast(cast(:since as date) - interval '23 months' as date)
),

eval_months as (
    select month
    from mart_chain_month
    where chain_code = :chain_code
        and month >= :since
),

receivables as (
    select month, paid_amount, days_late
    from mart_receivables_month
    where chain_code = :chain_code
        and month >= cast(cast(:since as date) - interval '11 months' as date)
),

promotions as (
    select end_date, participating_stores, executing_stores
    from mart_promo_eval
    where chain_code = :chain_code
        and end_date >= cast(cast(:since as date) - interval '11 months' as date)
),

criteria as (
    select
        axis,
        criterion,
        weight,
        higher_is_better,
        limit_100,
        limit_80,
        limit_60,
        limit_40
    from ref_account_criterion
),

settings as (
    select
        max(case when setting = 'grade_a' then value end) as grade_a,
        max(case when setting = 'grade_b' then value end) as grade_b,
        max(case when setting = 'grade_c' then value end) as grade_c,
        max(case when setting = 'quadrant_split' then value end) as split
    from ref_analytics_setting
),

-- logic CTEs ----------------------------------------------------------------

trailing_sales as (
    select
        e.month,
        sum(
            case
                when c.month > cast(e.month - interval '12 months' as date) then c.sellout_amount
            end
        ) as sellout_12m,
        sum(
            case
                when c.month <= cast(e.month - interval '12 months' as date) then c.sellout_amount
            end
        ) as sellout_prev_12m,
        sum(
            case
                when c.month > cast(e.month - interval '12 months' as date)
                    then c.distribution_pairs
            end
        ) as pairs,
        sum(
            case
                when c.month > cast(e.month - interval '12 months' as date)
                    then c.distribution_pairs_carried
            end
        ) as pairs_carried,
        sum(
            case when c.month > cast(e.month - interval '12 months' as date) then c.price_rows end
        ) as price_rows,
        sum(
            case
                when c.month > cast(e.month - interval '12 months' as date)
                    then c.price_rows_compliant
            end
        ) as price_rows_compliant
    from eval_months as e
    inner join chain_months as c
        on c.month > cast(e.month - interval '24 months' as date)
        and c.month <= e.month
    group by e.month
),

trailing_pay as (
    select
        e.month,
        sum(r.days_late * r.paid_amount) as weighted_days,
        sum(r.paid_amount) as paid
    from eval_months as e
    inner join receivables as r
        on r.month > cast(e.month - interval '12 months' as date)
        and r.month <= e.month
        and r.days_late is not null
        and r.paid_amount > 0
    group by e.month
),

trailing_promo as (
    select
        e.month,
        sum(p.participating_stores) as participating,
        sum(p.executing_stores) as executing
    from eval_months as e
    inner join promotions as p
        on p.end_date >= cast(e.month - interval '11 months' as date)
        and p.end_date < cast(e.month + interval '1 month' as date)
    group by e.month
),

criterion_values as (
    select month, 'annual_sellout' as criterion, sellout_12m as value
    from trailing_sales
    union all
    select
        month,
        'sellout_growth',
        case when sellout_prev_12m <> 0 then sellout_12m / sellout_prev_12m - 1 end
    from trailing_sales
    union all
    select
        e.month,
        'days_late',
        case when tp.paid > 0 then tp.weighted_days / tp.paid end
    from eval_months as e
    left join trailing_pay as tp
        on tp.month = e.month
    union all
    select
        month,
        'distribution_rate',
        case when pairs > 0 then cast(pairs_carried as decimal(18, 6)) / pairs end
    from trailing_sales
    union all
    select
        e.month,
        'promo_execution_rate',
        case
            when tr.participating > 0
                then cast(tr.executing as decimal(18, 6)) / tr.participating
        end
    from eval_months as e
    left join trailing_promo as tr
        on tr.month = e.month
    union all
    select
        month,
        'price_compliance',
        case
            when price_rows > 0 then cast(price_rows_compliant as decimal(18, 6)) / price_rows
        end
    from trailing_sales
),

scored as (
    select
        v.month,
        c.axis,
        c.criterion,
        c.weight,
        cast(v.value as decimal(18, 6)) as value,
        case
            when v.value is null then null
            when c.higher_is_better then
                case
                    when v.value >= c.limit_100 then 1
                    when v.value >= c.limit_80 then 2
                    when v.value >= c.limit_60 then 3
                    when v.value >= c.limit_40 then 4
                    else 5
                end
            else
                case
                    when v.value <= c.limit_100 then 1
                    when v.value <= c.limit_80 then 2
                    when v.value <= c.limit_60 then 3
                    when v.value <= c.limit_40 then 4
                    else 5
                end
        end as band
    from criterion_values as v
    inner join criteria as c
        on c.criterion = v.criterion
),

pointed as (
    select
        month,
        axis,
        criterion,
        weight,
        value,
        band,
        cast(weight * (6 - band) * 0.2 as decimal(7, 2)) as points
    from scored
),

axis_scores as (
    select
        month,
        sum(case when axis = 'attractiveness' then points end) as a_points,
        sum(case when axis = 'attractiveness' and band is not null then weight end) as a_weight,
        sum(case when axis = 'support' then points end) as s_points,
        sum(case when axis = 'support' and band is not null then weight end) as s_weight,
        '[' || string_agg(
            '{"axis": "' || axis || '", "criterion": "' || criterion || '", "value": '
            || coalesce(cast(value as varchar), 'null') || ', "band": '
            || coalesce(cast(band as varchar), 'null') || ', "points": '
            || coalesce(cast(points as varchar), 'null') || ', "weight": '
            || cast(weight as varchar) || '}',
            ', '
            order by axis, criterion
        ) || ']' as parts,
        string_agg(
            case when band is null then criterion || ': no value in the 12 months' end,
            '; '
            order by axis, criterion
        ) as null_reasons
    from pointed
    group by month
),

graded as (
    select
        a.month,
        cast(
            case when a.a_weight > 0 then round(cast(a.a_points * 100 / a.a_weight as decimal(18, 6)), 2) end
            as decimal(7, 2)
        ) as attractiveness_score,
        cast(
            case when a.s_weight > 0 then round(cast(a.s_points * 100 / a.s_weight as decimal(18, 6)), 2) end
            as decimal(7, 2)
        ) as support_score,
        a.parts,
        a.null_reasons
    from axis_scores as a
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        g.month,
        g.attractiveness_score,
        g.support_score,
        cast(
            case
                when g.attractiveness_score is null then null
                when g.attractiveness_score >= s.grade_a then 'A'
                when g.attractiveness_score >= s.grade_b then 'B'
                when g.attractiveness_score >= s.grade_c then 'C'
                else 'D'
            end as varchar
        ) as attractiveness_grade,
        cast(
            case
                when g.support_score is null then null
                when g.support_score >= s.grade_a then 'A'
                when g.support_score >= s.grade_b then 'B'
                when g.support_score >= s.grade_c then 'C'
                else 'D'
            end as varchar
        ) as support_grade,
        cast(
            case
                when g.attractiveness_score is null or g.support_score is null then null
                else
                    case when g.attractiveness_score >= s.split then 'high' else 'low' end
                    || '/'
                    || case when g.support_score >= s.split then 'high' else 'low' end
            end as varchar
        ) as quadrant,
        cast(g.parts as varchar) as parts,
        cast(g.null_reasons as varchar) as null_reasons
    from graded as g
    cross join settings as s
)

select * from final
