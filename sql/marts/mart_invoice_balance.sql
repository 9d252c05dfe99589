-- mart_invoice_balance: one row per invoice: due date, gross, paid, open balance and
-- ageing as of the chain's last data date (domain.md section 8). A view (YAML
-- materialized: view) over int_invoice_balance, whose rows change only with invoices and
-- payments, and int_chain_as_of: every open invoice ages each day, so a table would be
-- rewritten whole every night. Rules: docs/models.md (receivables).
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

balances as (
    select
        chain_code,
        invoice_no,
        invoice_date,
        due_date,
        gross_amount,
        paid_amount,
        open_balance,
        last_payment_date
    from int_invoice_balance
),

as_of as (
    select chain_code, last_data_date
    from int_chain_as_of
),

-- logic CTEs ----------------------------------------------------------------

aged as (
    select
        b.*,
        a.last_data_date as as_of_date,
        cast(
            case
                when b.open_balance > 0 and a.last_data_date > b.due_date
                    then a.last_data_date - b.due_date
                else 0
            end as integer
        ) as days_overdue
    from balances as b
    inner join as_of as a
        on a.chain_code = b.chain_code
),

final as (
    select
        chain_code,
        invoice_no,
        invoice_date,
        due_date,
        gross_amount,
        paid_amount,
        open_balance,
        last_payment_date,
        as_of_date,
        days_overdue,
        cast(
            case
                when open_balance <= 0 then 'paid'
                when days_overdue = 0 then 'not_due'
                when days_overdue <= 30 then '0-30'
                when days_overdue <= 60 then '31-60'
                when days_overdue <= 90 then '61-90'
                else '90+'
            end as varchar
        ) as aging_bucket
    from aged
)

select * from final
