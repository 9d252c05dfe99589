-- stg_invoices: the invoices feed (sell-in), typed and renamed once for every model:
-- the invoice's month and its gross amount (net + VAT). A view (no copy): one row per
-- raw_invoices line. No business logic. Portable SQL (DuckDB and PostgreSQL).

with

invoices as (
    select
        chain_code,
        business_date,
        invoice_no,
        line_no,
        invoice_date,
        ship_to_code,
        barcode,
        units,
        unit_price,
        net_amount,
        vat_amount,
        promo_id
    from raw_invoices
),

final as (
    select
        chain_code,
        business_date,
        invoice_no,
        line_no,
        invoice_date,
        cast(date_trunc('month', invoice_date) as date) as month,
        ship_to_code,
        barcode,
        units,
        unit_price,
        net_amount,
        vat_amount,
        net_amount + vat_amount as gross_amount,
        promo_id
    from invoices
)

select * from final
