-- mart_statement_tieout: one row per statement of the chain: the invoices it settles,
-- its deductions and what was paid against those invoices; the gap is what is left to
-- chase (domain.md section 8). Rules: docs/models.md (statement tie-out).
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

deduction_lines as (
    select statement_no, statement_date, amount
    from int_deduction_line
    where chain_code = :chain_code
),

-- gross and paid (payments of any date) of the invoices per invoice date: a statement
-- settles whole invoice dates
invoice_days as (
    select invoice_date, invoice_count, gross_amount, paid_amount
    from int_invoice_day
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

statements as (
    select
        statement_no,
        max(statement_date) as statement_date,
        sum(amount) as deducted_amount
    from deduction_lines
    group by statement_no
),

-- A statement settles the invoices dated after the previous statement's date, up to and
-- including its own date (statements in date, then number, order).
statement_windows as (
    select
        s.*,
        lag(s.statement_date) over (order by s.statement_date, s.statement_no) as previous_date
    from statements as s
),

settled as (
    select
        w.statement_no,
        coalesce(sum(i.invoice_count), 0) as invoice_count,
        coalesce(sum(i.gross_amount), 0) as invoiced_gross,
        coalesce(sum(i.paid_amount), 0) as paid_amount
    from statement_windows as w
    left join invoice_days as i
        on i.invoice_date <= w.statement_date
        and (w.previous_date is null or i.invoice_date > w.previous_date)
    group by w.statement_no
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        w.statement_no,
        w.statement_date,
        w.previous_date + 1 as invoices_from,
        cast(s.invoice_count as integer) as invoice_count,
        cast(s.invoiced_gross as decimal(16, 2)) as invoiced_gross,
        cast(w.deducted_amount as decimal(16, 2)) as deducted_amount,
        cast(s.paid_amount as decimal(16, 2)) as paid_amount,
        cast(s.invoiced_gross - w.deducted_amount - s.paid_amount as decimal(16, 2))
            as gap_amount
    from statement_windows as w
    inner join settled as s
        on s.statement_no = w.statement_no
)

select * from final
