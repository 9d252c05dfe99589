-- int_deduction_line: one row per stg_deductions line of the chain, with the facts every
-- later check needs: the statement date, the period charged, the contract year the line
-- is attributed to, and its rank among lines with the same duplicate key.
-- Incremental: the lines dated from :since on (the rank reads every earlier line).
-- Rules: docs/models.md (int_deduction_line). Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

deductions as (
    select
        statement_no,
        deduction_no,
        business_date,
        statement_date,
        deduction_date,
        deduction_type,
        amount,
        store_code,
        barcode,
        reference,
        period_start,
        period_end
    from stg_deductions
    where chain_code = :chain_code
),

contracts as (
    select contract_year, start_date, end_date
    from ref_contract
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

-- The period charged: period_start (else the first day of the deduction date's month)
-- to period_end (else the last day of that start's month).
charged as (
    select
        d.*,
        coalesce(d.period_start, cast(date_trunc('month', d.deduction_date) as date))
            as charged_start
    from deductions as d
),

-- Duplicate key: same type, reference, period, store and barcode (nulls compare equal in
-- a window partition). The first line in (deduction_date, statement_no, deduction_no)
-- order is the original; every later one is a duplicate of it.
ordered as (
    select
        c.*,
        coalesce(
            c.period_end,
            cast(date_trunc('month', c.charged_start) + interval '1 month' as date) - 1
        ) as charged_end,
        row_number() over dup_key as dup_rank,
        first_value(c.statement_no) over dup_key as first_statement_no,
        first_value(c.deduction_no) over dup_key as first_deduction_no
    from charged as c
    window dup_key as (
        partition by
            c.deduction_type, c.reference, c.period_start, c.period_end,
            c.store_code, c.barcode
        order by c.deduction_date, c.statement_no, c.deduction_no
    )
),

-- Contract year: the contract containing coalesce(period_start, deduction_date); the
-- period is covered when its end (or start, or the deduction date) is in a contract too.
line_contract as (
    select
        d.statement_no,
        d.deduction_no,
        max(cs.contract_year) as contract_year,
        count(ce.contract_year) > 0 as end_covered
    from deductions as d
    left join contracts as cs
        on coalesce(d.period_start, d.deduction_date) between cs.start_date and cs.end_date
    left join contracts as ce
        on coalesce(d.period_end, d.period_start, d.deduction_date)
            between ce.start_date and ce.end_date
    group by d.statement_no, d.deduction_no
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        o.statement_no,
        o.deduction_no,
        coalesce(o.statement_date, o.business_date) as statement_date,
        o.deduction_date,
        o.deduction_type,
        o.amount,
        o.store_code,
        o.barcode,
        o.reference,
        o.period_start,
        o.period_end,
        o.charged_start,
        o.charged_end,
        lc.contract_year,
        lc.end_covered,
        cast(o.dup_rank as integer) as dup_rank,
        o.first_statement_no,
        o.first_deduction_no
    from ordered as o
    inner join line_contract as lc
        on lc.statement_no = o.statement_no
        and lc.deduction_no = o.deduction_no
    -- incremental: a line's facts depend on itself and on the lines dated before it
    -- (duplicate rank), so a change dated d changes lines dated d or later only
    where o.deduction_date >= :since
)

select * from final
