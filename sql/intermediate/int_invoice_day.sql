-- int_invoice_day: the chain's invoices summed per invoice date (int_invoice_balance):
-- count, gross, paid, final open balance (and its positive part), the day's latest
-- payment. All invoices of a day share their due date, so the receivables of a month
-- read a row per day for the days whose payments all fall by its end, and the statement
-- tie-out sums whole days. Incremental by key: the invoice dates of the invoices this
-- run recomputed, now or when last modeled. Rules: docs/models.md (receivables).
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

invoices as (
    select
        invoice_date,
        due_date,
        gross_amount,
        paid_amount,
        open_balance,
        last_payment_date,
        last_business_date
    from int_invoice_balance
    where chain_code = :chain_code
        and invoice_date in (select slice_key from slice_keys)
),

-- logic CTEs ----------------------------------------------------------------

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        invoice_date,
        max(due_date) as due_date,
        cast(count(*) as integer) as invoice_count,
        cast(sum(gross_amount) as decimal(16, 2)) as gross_amount,
        cast(sum(paid_amount) as decimal(16, 2)) as paid_amount,
        cast(sum(open_balance) as decimal(16, 2)) as open_balance,
        cast(sum(case when open_balance > 0 then open_balance else 0 end) as decimal(16, 2))
            as open_positive,
        max(last_payment_date) as last_payment_date,
        max(last_business_date) as last_business_date
    from invoices
    group by invoice_date
)

select * from final
