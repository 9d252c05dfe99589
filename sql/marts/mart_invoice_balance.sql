-- mart_invoice_balance: one row per invoice of the chain: due date, gross, paid, open
-- balance and ageing as of the chain's last data date (domain.md section 8).
-- Rules: docs/models.md (receivables). Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

invoice_lines as (
    select invoice_no, invoice_date, net_amount, vat_amount
    from stg_invoices
    where chain_code = :chain_code
),

payments as (
    select invoice_no, payment_date, amount
    from stg_payments
    where chain_code = :chain_code
),

chain as (
    select payment_terms_days
    from ref_chain
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

last_data as (
    select max(d) as last_date
    from (
        select max(business_date) as d from raw_sales where chain_code = :chain_code
        union all
        select max(business_date) from stg_invoices where chain_code = :chain_code
        union all
        select max(business_date) from stg_deductions where chain_code = :chain_code
        union all
        select max(business_date) from stg_payments where chain_code = :chain_code
    ) as feed_dates
),

invoices as (
    select
        invoice_no,
        min(invoice_date) as invoice_date,
        sum(net_amount + vat_amount) as gross_amount
    from invoice_lines
    group by invoice_no
),

paid as (
    select invoice_no, sum(amount) as paid_amount, max(payment_date) as last_payment_date
    from payments
    group by invoice_no
),

balances as (
    select
        i.invoice_no,
        i.invoice_date,
        i.invoice_date + c.payment_terms_days as due_date,
        i.gross_amount,
        coalesce(p.paid_amount, 0) as paid_amount,
        i.gross_amount - coalesce(p.paid_amount, 0) as open_balance,
        p.last_payment_date,
        ld.last_date as as_of_date
    from invoices as i
    cross join chain as c
    cross join last_data as ld
    left join paid as p
        on p.invoice_no = i.invoice_no
),

aged as (
    select
        b.*,
        case
            when b.open_balance > 0 and b.as_of_date > b.due_date
                then cast(b.as_of_date - b.due_date as integer)
            else 0
        end as days_overdue
    from balances as b
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        invoice_no,
        invoice_date,
        due_date,
        cast(gross_amount as decimal(16, 2)) as gross_amount,
        cast(paid_amount as decimal(16, 2)) as paid_amount,
        cast(open_balance as decimal(16, 2)) as open_balance,
        last_payment_date,
        as_of_date,
        days_overdue,
        case
            when open_balance <= 0 then 'paid'
            when days_overdue = 0 then 'not_due'
            when days_overdue <= 30 then '0-30'
            when days_overdue <= 60 then '31-60'
            when days_overdue <= 90 then '61-90'
            else '90+'
        end as aging_bucket
    from aged
)

select * from final
