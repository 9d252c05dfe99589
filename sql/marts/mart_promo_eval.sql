-- mart_promo_eval: one row per ended promotion, rolled up from mart_promo_eval_store
-- (domain.md section 9; docs/models.md "Sell-out analytics").
--
-- * lift_units, incremental_gp: Σ over the promotion's items and stores (null when no
--   store x item has a baseline; the stores without one add nothing otherwise).
-- * cost_amount: Σ deductions of the chain whose reference is the promo_id (promo
--   subsidies and fees of any type, rebate excluded), whatever their date.
-- * roi = (incremental_gp - cost_amount) / cost_amount; null when the cost is 0.
-- * execution_rate 活动率 = participating open stores with promo units > 0 (any item) /
--   participating open stores.
-- * baseline_method: the stores' method when they all share one, 'mixed' otherwise.
-- Rebuilt whole on every run: a deduction naming a promotion may come months after it.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

store_rows as (
    select
        promo_id,
        barcode,
        store_code,
        start_date,
        end_date,
        baseline_method,
        lift_units,
        incremental_gp,
        executed
    from mart_promo_eval_store
    where chain_code = :chain_code
),

deductions as (
    select reference, amount
    from stg_deductions
    where chain_code = :chain_code
        and reference is not null
        and deduction_type <> 'rebate'
),

-- logic CTEs ----------------------------------------------------------------

store_executed as (
    select promo_id, store_code, max(case when executed then 1 else 0 end) as executed
    from store_rows
    group by promo_id, store_code
),

execution as (
    select promo_id, count(*) as participating, sum(executed) as executing
    from store_executed
    group by promo_id
),

rolled as (
    select
        promo_id,
        min(start_date) as start_date,
        max(end_date) as end_date,
        count(distinct barcode) as items,
        count(distinct baseline_method) as methods,
        min(baseline_method) as one_method,
        sum(lift_units) as lift_units,
        sum(incremental_gp) as incremental_gp
    from store_rows
    group by promo_id
),

costs as (
    select reference as promo_id, sum(amount) as cost_amount
    from deductions
    group by reference
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        r.promo_id,
        r.start_date,
        r.end_date,
        cast(case when r.methods > 1 then 'mixed' else r.one_method end as varchar)
            as baseline_method,
        cast(r.lift_units as decimal(14, 4)) as lift_units,
        cast(r.incremental_gp as decimal(14, 2)) as incremental_gp,
        cast(coalesce(c.cost_amount, 0) as decimal(14, 2)) as cost_amount,
        cast(
            case
                when coalesce(c.cost_amount, 0) = 0 or r.incremental_gp is null then null
                else (r.incremental_gp - c.cost_amount) / c.cost_amount
            end as decimal(12, 6)
        ) as roi,
        cast(
            case
                when e.participating = 0 then null
                else cast(e.executing as decimal(16, 6)) / e.participating
            end as decimal(12, 6)
        ) as execution_rate,
        cast(e.participating as integer) as participating_stores,
        cast(e.executing as integer) as executing_stores,
        cast(r.items as integer) as items,
        nullif(
            concat_ws(
                '; ',
                case
                    when r.lift_units is null
                        then 'lift_units: no baseline (no promotion-free days before, no LY)'
                end,
                case
                    when r.incremental_gp is null then 'incremental_gp: no baseline'
                end,
                case
                    when coalesce(c.cost_amount, 0) = 0
                        then 'roi: no deduction references the promotion'
                    when r.incremental_gp is null then 'roi: no baseline'
                end
            ),
            ''
        ) as null_reasons
    from rolled as r
    inner join execution as e
        on e.promo_id = r.promo_id
    left join costs as c
        on c.promo_id = r.promo_id
)

select * from final
