-- 0031: finer incremental slices (docs/models.md "Incremental runs"). Portable SQL
-- (DuckDB and PostgreSQL).
--
-- int_chain_as_of: per chain, the last data date (latest business_date of sales,
-- invoices, deductions and payments), computed once per run for every model that reports
-- "as of the last data date".
create table int_chain_as_of (
    chain_code      varchar primary key,
    last_data_date  date                    -- null while the chain has no data
);

-- int_invoice_balance: per chain x invoice, what changes only with its lines and the
-- payments naming it (gross, paid, open balance); recomputed for the invoices the
-- changed files name. last_business_date: the latest file (business_date) of its lines
-- and payments, so a restated file finds the invoices it used to name.
create table int_invoice_balance (
    chain_code          varchar not null,
    invoice_no          varchar not null,
    invoice_date        date not null,
    due_date            date not null,
    gross_amount        decimal(16, 2) not null,
    paid_amount         decimal(16, 2) not null,
    open_balance        decimal(16, 2) not null,
    last_payment_date   date,
    last_business_date  date not null,
    primary key (chain_code, invoice_no)
);

-- the invoices a file names: key slices of int_invoice_balance
create index raw_invoices_invoice on raw_invoices (chain_code, invoice_no);
create index raw_payments_invoice on raw_payments (chain_code, invoice_no);

-- mart_invoice_balance becomes a view over int_invoice_balance and the chain's last
-- data date (every open invoice ages each day: a table would be rewritten whole nightly).
-- The runner replaces this view by sql/marts/mart_invoice_balance.sql (same columns).
drop table mart_invoice_balance;
create view mart_invoice_balance as
with


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

select * from final;

-- deduction checks sliced by the latest date whose data can change a line's result
-- (its group's, for fees): rows with slice_date >= the changed date are recomputed
alter table int_deduction_fee add column slice_date date;
alter table mart_deduction_check add column slice_date date;
