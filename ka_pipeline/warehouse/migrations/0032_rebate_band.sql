-- 0032: the rebate bands per contract year, computed once (sql/intermediate/
-- int_rebate_band) for mart_rebate_progress and mart_rebate_tier_breakdown.
-- Portable SQL (DuckDB and PostgreSQL).
create table int_rebate_band (
    chain_code     varchar not null,
    contract_year  integer not null,
    tier_no        integer not null,          -- 0 = the part below the first threshold
    band_from      decimal(16, 2) not null,
    band_to        decimal(16, 2),            -- null for the top band
    rate           decimal(7, 4) not null,
    primary key (chain_code, contract_year, tier_no)
);

-- the last day the rebate progress runs to: the latest of sales, invoices and deductions
-- (payments left out), beside the last data date of every feed
alter table int_chain_as_of add column last_trade_date date;
