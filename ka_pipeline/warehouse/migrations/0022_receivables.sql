-- 0022: receivables and statement tie-out (domain.md section 8; docs/models.md):
-- open balance per invoice, receivables per chain x month (overdue ageing, DSO, days to
-- pay), the gap per statement, payments naming an unknown invoice.
-- Portable SQL: runs unchanged on DuckDB and PostgreSQL.

create table mart_invoice_balance (
    chain_code         varchar not null,
    invoice_no         varchar not null,
    invoice_date       date not null,
    due_date           date not null,          -- invoice_date + the chain's payment terms
    gross_amount       decimal(16, 2) not null, -- net_amount + vat_amount over its lines
    paid_amount        decimal(16, 2) not null, -- payments naming the invoice
    open_balance       decimal(16, 2) not null, -- gross - paid; negative = overpaid
    last_payment_date  date,
    as_of_date         date not null,          -- the chain's last data date
    days_overdue       integer not null,       -- as_of - due when open > 0 and past due, else 0
    aging_bucket       varchar not null,       -- paid | not_due | 0-30 | 31-60 | 61-90 | 90+
    primary key (chain_code, invoice_no)
);

create table mart_receivables_month (
    chain_code                varchar not null,
    month                     date not null,          -- first day of the month
    as_of_date                date not null,          -- month end, or the last data date
    open_receivables          decimal(16, 2) not null,
    overdue_amount            decimal(16, 2) not null,
    overdue_0_30              decimal(16, 2) not null,
    overdue_31_60             decimal(16, 2) not null,
    overdue_61_90             decimal(16, 2) not null,
    overdue_90_plus           decimal(16, 2) not null,
    sell_in_gross_90d         decimal(16, 2) not null,
    dso_days                  decimal(12, 2),         -- null when no sell-in in the 90 days
    paid_amount               decimal(16, 2) not null, -- payments in the month on known invoices
    days_to_pay               decimal(12, 2),         -- amount-weighted payment - invoice date
    days_late                 decimal(12, 2),         -- days_to_pay - payment terms
    unmatched_payment_amount  decimal(16, 2) not null, -- payments naming an unknown invoice
    primary key (chain_code, month)
);

create table mart_statement_tieout (
    chain_code         varchar not null,
    statement_no       varchar not null,
    statement_date     date not null,
    invoices_from      date,                   -- invoice dates after the previous statement
    invoice_count      integer not null,
    invoiced_gross     decimal(16, 2) not null,
    deducted_amount    decimal(16, 2) not null,
    paid_amount        decimal(16, 2) not null,
    gap_amount         decimal(16, 2) not null, -- invoiced - deducted - paid: to chase
    primary key (chain_code, statement_no)
);

create table mart_payment_unmatched (
    chain_code     varchar not null,
    payment_no     varchar not null,
    payment_date   date not null,
    invoice_no     varchar not null,
    amount         decimal(14, 2) not null,
    business_date  date not null               -- the payments file's date
);
