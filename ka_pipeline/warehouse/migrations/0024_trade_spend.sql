-- 0024: gross profit after trade spend per chain x month, and trade spend per deduction
-- type per month and per contract year (domain.md section 4; docs/models.md).
-- Portable SQL: runs unchanged on DuckDB and PostgreSQL.

alter table mart_chain_month add column cost_of_goods decimal(16, 2);
alter table mart_chain_month add column gross_profit_after_trade_spend decimal(16, 2);

create table mart_trade_spend_type_month (
    chain_code      varchar not null,
    month           date not null,       -- month of deduction_date, as in mart_chain_month
    deduction_type  varchar not null,    -- every type, 'unclassified' included, 'rebate' apart
    lines           integer not null,
    amount          decimal(16, 2) not null,
    disputable      decimal(16, 2) not null,  -- Σ mart_deduction_check.disputable_amount
    is_trade_spend  boolean not null,    -- false for rebate (not counted in trade_spend)
    primary key (chain_code, month, deduction_type)
);

create table mart_contract_year_pnl (
    chain_code                      varchar not null,
    contract_year                   integer not null,
    start_date                      date not null,
    end_date                        date not null,
    sell_in_net                     decimal(16, 2) not null,
    cost_of_goods                   decimal(16, 2) not null,
    trade_spend                     decimal(16, 2) not null,  -- lines of the contract year, rebate excluded
    trade_spend_rate                decimal(12, 6),
    rebate_taken                    decimal(16, 2) not null,
    disputable                      decimal(16, 2) not null,
    gross_profit_after_trade_spend  decimal(16, 2) not null,
    primary key (chain_code, contract_year)
);

create table mart_trade_spend_type_year (
    chain_code      varchar not null,
    contract_year   integer not null,
    deduction_type  varchar not null,
    lines           integer not null,
    amount          decimal(16, 2) not null,
    disputable      decimal(16, 2) not null,
    is_trade_spend  boolean not null,
    primary key (chain_code, contract_year, deduction_type)
);
