-- 0001: the first warehouse schema.
-- Portable SQL: runs unchanged on DuckDB and PostgreSQL.
-- Prefixes: ref_ master data, raw_ landed feeds (one partition per chain x feed x
-- business_date), ops_ bookkeeping, mart_ model outputs (built from sql/).
-- Money is decimal(14,2), never a float.

create sequence ops_load_id_seq start 1;

create table ops_load_log (
    load_id           bigint primary key default nextval('ops_load_id_seq'),
    chain_code        varchar not null,
    feed              varchar not null,
    business_date     date not null,
    file_name         varchar not null,
    file_path         varchar not null,
    checksum          varchar not null,
    rows_read         integer not null default 0,
    rows_loaded       integer not null default 0,
    rows_quarantined  integer not null default 0,
    status            varchar not null,  -- loaded | rejected | superseded
    message           varchar,
    started_at        timestamp not null,
    finished_at       timestamp
);

create table ops_quarantine (
    load_id        bigint not null,
    chain_code     varchar not null,
    feed           varchar not null,
    business_date  date not null,
    file_name      varchar not null,
    row_number     integer not null,     -- 1-based data row in the file (header excluded)
    column_name    varchar,
    reason         varchar not null,
    raw_record     varchar not null      -- the row as read, JSON
);

create table ops_outbox (
    message_key    varchar primary key,  -- owner|period_kind|period_start: one mail per owner and period
    owner_email    varchar not null,
    locale         varchar not null,
    period_kind    varchar not null,
    period_start   date not null,
    period_end     date not null,
    subject        varchar not null,
    eml_path       varchar not null,
    status         varchar not null,     -- written | sent | failed
    attempts       integer not null default 0,
    last_error     varchar,
    created_at     timestamp not null,
    sent_at        timestamp
);

-- master data -------------------------------------------------------------

create table ref_owner (
    owner_code     varchar primary key,
    name           varchar not null,
    email          varchar not null,
    locale         varchar not null,     -- zh-CN | en
    manager_email  varchar
);

create table ref_chain (
    chain_code           varchar primary key,
    name                 varchar not null,
    name_local           varchar,
    format               varchar not null,
    region               varchar not null,
    settlement_mode      varchar not null,
    payment_terms_days   integer not null,
    dispute_window_days  integer not null,
    owner_code           varchar not null
);

create table ref_store (
    chain_code   varchar not null,
    store_code   varchar not null,
    name         varchar not null,
    city         varchar not null,
    region       varchar not null,
    area_m2      integer not null,
    store_class  varchar not null,       -- A >= 5000 m2, B >= 2000 m2, C below
    opened_on    date not null,
    closed_on    date,
    primary key (chain_code, store_code)
);

create table ref_product (
    barcode           varchar primary key,
    name              varchar not null,
    brand             varchar not null,
    category          varchar not null,
    unit_cost         decimal(14, 2) not null,
    supply_price      decimal(14, 2) not null,
    std_retail_price  decimal(14, 2) not null,
    floor_price       decimal(14, 2) not null
);

create table ref_listing (
    chain_code   varchar not null,
    barcode      varchar not null,
    listed_from  date not null,
    listed_to    date,
    primary key (chain_code, barcode, listed_from)
);

create table ref_promotion (
    promo_id          varchar not null,
    chain_code        varchar not null,
    barcode           varchar not null,
    store_classes     varchar,           -- e.g. 'A,B'; null = every store of the chain
    start_date        date not null,
    end_date          date not null,     -- inclusive
    promo_price       decimal(14, 2) not null,
    subsidy_per_unit  decimal(14, 2) not null,
    primary key (promo_id, barcode)
);

create table ref_contract (
    chain_code            varchar not null,
    contract_year         integer not null,
    start_date            date not null,
    end_date              date not null, -- inclusive
    rebate_base           varchar not null,  -- sell_in | sell_out
    rebate_method         varchar not null,  -- retroactive | stepped
    rebate_promo_excluded boolean not null,
    margin_guarantee_pct  decimal(7, 4),
    primary key (chain_code, contract_year)
);

create table ref_rebate_tier (
    chain_code     varchar not null,
    contract_year  integer not null,
    tier_no        integer not null,
    threshold      decimal(16, 2) not null,
    rate           decimal(7, 4) not null,   -- 0.0250 = 2.5 %
    primary key (chain_code, contract_year, tier_no)
);

create table ref_contract_fee (
    chain_code     varchar not null,
    contract_year  integer not null,
    fee_type       varchar not null,
    basis          varchar not null,  -- per_year | per_month | per_store | per_item | per_store_month | per_event
    amount         decimal(14, 2) not null,  -- the most the contract allows per unit of basis
    primary key (chain_code, contract_year, fee_type)
);

create table ref_target (
    chain_code     varchar not null,
    month          date not null,     -- first day of the month
    target_amount  decimal(16, 2) not null,
    primary key (chain_code, month)
);

-- landed feeds: one partition per (chain_code, business_date) and feed table ----

create table raw_sales (
    chain_code     varchar not null,
    business_date  date not null,
    store_code     varchar not null,
    barcode        varchar not null,
    units          integer not null,
    sales_amount   decimal(14, 2) not null,
    promo_units    integer,
    promo_amount   decimal(14, 2),
    on_hand_units  integer,
    load_id        bigint not null
);

create table raw_invoices (
    chain_code     varchar not null,
    business_date  date not null,
    invoice_no     varchar not null,
    line_no        integer not null,
    invoice_date   date not null,
    ship_to_code   varchar not null,
    barcode        varchar not null,
    units          integer not null,
    unit_price     decimal(14, 2) not null,
    net_amount     decimal(14, 2) not null,
    vat_amount     decimal(14, 2) not null,
    promo_id       varchar,
    load_id        bigint not null
);

create table raw_deductions (
    chain_code      varchar not null,
    business_date   date not null,
    statement_no    varchar not null,
    deduction_no    varchar not null,
    deduction_date  date not null,
    deduction_text  varchar not null,
    deduction_type  varchar not null,   -- canonical type mapped from the text, or 'unclassified'
    amount          decimal(14, 2) not null,
    store_code      varchar,
    barcode         varchar,
    units           integer,
    reference       varchar,
    period_start    date,
    period_end      date,
    load_id         bigint not null
);

create table raw_payments (
    chain_code     varchar not null,
    business_date  date not null,
    payment_no     varchar not null,
    payment_date   date not null,
    invoice_no     varchar not null,
    amount         decimal(14, 2) not null,
    load_id        bigint not null
);

create index raw_sales_part on raw_sales (chain_code, business_date);
create index raw_invoices_part on raw_invoices (chain_code, business_date);
create index raw_deductions_part on raw_deductions (chain_code, business_date);
create index raw_payments_part on raw_payments (chain_code, business_date);
create index ops_load_log_part on ops_load_log (chain_code, feed, business_date);
