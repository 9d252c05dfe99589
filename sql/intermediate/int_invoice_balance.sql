-- int_invoice_balance: one row per invoice of the chain: due date, gross, paid and open
-- balance, which change only with the invoice's lines and the payments naming it (no
-- ageing: mart_invoice_balance ages these rows as of the last data date).
-- Incremental by key: the invoices the changed files name (runner table slice_keys,
-- from the YAML's keys). Rules: docs/models.md (receivables).
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

invoice_lines as (
    select invoice_no, invoice_date, net_amount, vat_amount, business_date
    from stg_invoices
    where chain_code = :chain_code
        and invoice_no in (select slice_key from slice_keys)
),

payments as (
    select invoice_no, payment_date, amount, business_date
    from stg_payments
    where chain_code = :chain_code
        and invoice_no in (select slice_key from slice_keys)
),

chain as (
    select payment_terms_days
    from ref_chain
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

invoices as (
    select
        invoice_no,
        min(invoice_date) as invoice_date,
        sum(net_amount + vat_amount) as gross_amount,
        max(business_date) as last_business_date
    from invoice_lines
    group by invoice_no
),

paid as (
    select
        invoice_no,
        sum(amount) as paid_amount,
        max(payment_date) as last_payment_date,
        max(business_date) as last_business_date
    from payments
    group by invoice_no
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        i.invoice_no,
        i.invoice_date,
        i.invoice_date + c.payment_terms_days as due_date,
        cast(i.gross_amount as decimal(16, 2)) as gross_amount,
        cast(coalesce(p.paid_amount, 0) as decimal(16, 2)) as paid_amount,
        cast(i.gross_amount - coalesce(p.paid_amount, 0) as decimal(16, 2)) as open_balance,
        p.last_payment_date,
        case
            when p.last_business_date > i.last_business_date then p.last_business_date
            else i.last_business_date
        end as last_business_date
    from invoices as i
    cross join chain as c
    left join paid as p
        on p.invoice_no = i.invoice_no
)

select * from final
