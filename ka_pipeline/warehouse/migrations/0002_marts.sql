-- 0002: model output tables, filled by the SQL models in sql/ (one file per table).
-- Every model is rebuilt per chain: delete the chain's rows, insert the query result.
-- Ratios are decimal(12,6) (0.125000 = 12.5 %); null where the denominator is 0.

create table mart_chain_month (
    chain_code                varchar not null,
    month                     date not null,          -- first day of the month
    sellout_amount            decimal(16, 2) not null,
    sellout_units             bigint not null,
    sellout_amount_ly         decimal(16, 2),         -- same month one year earlier; null if no data then
    yoy_growth                decimal(12, 6),
    target_amount             decimal(16, 2),
    target_achievement        decimal(12, 6),
    sell_in_net               decimal(16, 2) not null,
    active_stores             integer not null,
    distribution_pairs        integer not null,       -- (store open in month x must-carry item) pairs
    distribution_pairs_sold   integer not null,       -- ... of which with units > 0
    distribution_rate         decimal(12, 6),
    promo_amount              decimal(16, 2) not null,
    promo_share               decimal(12, 6),
    trade_spend               decimal(16, 2) not null,
    trade_spend_rate          decimal(12, 6),
    sales_days                integer not null,       -- business dates with sales rows
    primary key (chain_code, month)
);

create table mart_store_month (
    chain_code         varchar not null,
    store_code         varchar not null,
    month              date not null,
    sellout_amount     decimal(16, 2) not null,
    sellout_units      bigint not null,
    sellout_amount_ly  decimal(16, 2),
    yoy_growth         decimal(12, 6),
    primary key (chain_code, store_code, month)
);

create table mart_rebate_progress (
    chain_code           varchar not null,
    contract_year        integer not null,
    as_of_date           date not null,     -- each month end of the contract year with data
    eligible_base_ytd    decimal(16, 2) not null,
    tier_no_reached      integer,           -- null: no tier reached yet
    rate_reached         decimal(7, 4),
    rebate_earned        decimal(16, 2) not null,
    rebate_taken         decimal(16, 2) not null,
    rebate_balance       decimal(16, 2) not null,  -- earned - taken; negative = chain took too much
    next_tier_no         integer,
    next_tier_threshold  decimal(16, 2),
    gap_to_next_tier     decimal(16, 2),
    primary key (chain_code, contract_year, as_of_date)
);

create table mart_deduction_check (
    chain_code          varchar not null,
    statement_no        varchar not null,
    deduction_no        varchar not null,
    business_date       date not null,     -- the statement file's date
    deduction_date      date not null,
    deduction_type      varchar not null,
    deduction_text      varchar not null,
    reference           varchar,
    store_code          varchar,
    barcode             varchar,
    period_start        date,
    period_end          date,
    amount              decimal(14, 2) not null,
    status              varchar not null,  -- domain.md section 6
    expected_amount     decimal(14, 2) not null,
    disputable_amount   decimal(14, 2) not null,
    evidence            varchar not null,
    dispute_deadline    date not null,
    primary key (chain_code, statement_no, deduction_no)
);
