-- 0033: invoices summed per invoice date (sql/intermediate/int_invoice_day), so the
-- receivables of a month and the statement tie-out read a row per day, not per invoice.
-- Portable SQL (DuckDB and PostgreSQL).
create table int_invoice_day (
    chain_code          varchar not null,
    invoice_date        date not null,
    due_date            date not null,           -- invoice_date + the chain's payment terms
    invoice_count       integer not null,
    gross_amount        decimal(16, 2) not null,
    paid_amount         decimal(16, 2) not null,
    open_balance        decimal(16, 2) not null, -- final balances, overpaid ones netting off
    open_positive       decimal(16, 2) not null, -- final balances above 0 only
    last_payment_date   date,                    -- the day's latest payment
    last_business_date  date not null,           -- the latest file of its invoices
    primary key (chain_code, invoice_date)
);
