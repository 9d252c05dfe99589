-- mart_trade_spend_type_year: deductions per chain x contract year x deduction type
-- (domain.md section 4). A line belongs to the contract year of the period it charges
-- (int_deduction_line.contract_year, as in the deduction check); lines outside every
-- contract year are not here. Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

line_years as (
    select statement_no, deduction_no, contract_year, deduction_type, amount
    from int_deduction_line
    where chain_code = :chain_code
        and contract_year is not null
),

checks as (
    select statement_no, deduction_no, disputable_amount
    from mart_deduction_check
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cast(l.contract_year as integer) as contract_year,
        l.deduction_type,
        cast(count(*) as integer) as lines,
        cast(sum(l.amount) as decimal(16, 2)) as amount,
        cast(sum(c.disputable_amount) as decimal(16, 2)) as disputable,
        l.deduction_type <> 'rebate' as is_trade_spend
    from line_years as l
    inner join checks as c
        on c.statement_no = l.statement_no
        and c.deduction_no = l.deduction_no
    group by l.contract_year, l.deduction_type
)

select * from final
