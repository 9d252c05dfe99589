-- mart_deduction_review: the chain's unclassified deduction lines (the text maps to no
-- known type), to be reviewed and mapped or disputed: amount, age and deadline.
-- Rules: docs/models.md (mart_deduction_review). Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

checks as (
    select
        statement_no,
        deduction_no,
        deduction_date,
        deduction_text,
        amount,
        store_code,
        reference,
        dispute_deadline
    from mart_deduction_check
    where chain_code = :chain_code
        and status = 'unclassified'
),

line_facts as (
    select statement_no, deduction_no, statement_date
    from int_deduction_line
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

-- age as of the chain's last data date (the latest file of any feed), so a re-run of
-- the same data gives the same ages
last_data as (
    select last_data_date as last_date
    from int_chain_as_of
    where chain_code = :chain_code
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        c.statement_no,
        c.deduction_no,
        lf.statement_date,
        c.deduction_date,
        c.deduction_text,
        c.amount,
        c.store_code,
        c.reference,
        ld.last_date as as_of_date,
        cast(ld.last_date - lf.statement_date as integer) as age_days,
        c.dispute_deadline
    from checks as c
    inner join line_facts as lf
        on lf.statement_no = c.statement_no
        and lf.deduction_no = c.deduction_no
    cross join last_data as ld
)

select * from final
