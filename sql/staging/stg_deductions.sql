-- stg_deductions: the deductions feed (statement lines), typed and renamed once for every
-- model: the statement date (the feed's statement_date column, else the statement file's
-- date) and the deduction's month. A view (no copy): one row per raw_deductions line.
-- No business logic. Portable SQL (DuckDB and PostgreSQL).

with

deductions as (
    select
        chain_code,
        business_date,
        statement_date,
        statement_no,
        deduction_no,
        deduction_date,
        deduction_text,
        deduction_type,
        amount,
        store_code,
        barcode,
        units,
        reference,
        period_start,
        period_end
    from raw_deductions
),

final as (
    select
        chain_code,
        business_date,
        coalesce(statement_date, business_date) as statement_date,
        statement_no,
        deduction_no,
        deduction_date,
        cast(date_trunc('month', deduction_date) as date) as month,
        deduction_text,
        deduction_type,
        amount,
        store_code,
        barcode,
        units,
        reference,
        period_start,
        period_end
    from deductions
)

select * from final
