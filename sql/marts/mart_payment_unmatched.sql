-- mart_payment_unmatched: remittance lines naming an invoice number the chain has no
-- invoice for (domain.md section 8): listed so they can be matched by hand.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

payments as (
    select payment_no, payment_date, invoice_no, amount, business_date
    from stg_payments
    where chain_code = :chain_code
),

invoices as (
    select invoice_no
    from int_invoice_balance
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        p.payment_no,
        p.payment_date,
        p.invoice_no,
        p.amount,
        p.business_date
    from payments as p
    where not exists (select 1 from invoices as i where i.invoice_no = p.invoice_no)
)

select * from final
