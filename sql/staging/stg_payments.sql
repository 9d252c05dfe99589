-- stg_payments: the payments feed (remittance lines), typed and renamed once for every
-- model: the payment's month. A view (no copy): one row per raw_payments line.
-- No business logic. Portable SQL (DuckDB and PostgreSQL).

with

payments as (
    select chain_code, business_date, payment_no, payment_date, invoice_no, amount
    from raw_payments
),

final as (
    select
        chain_code,
        business_date,
        payment_no,
        payment_date,
        cast(date_trunc('month', payment_date) as date) as month,
        invoice_no,
        amount
    from payments
)

select * from final
