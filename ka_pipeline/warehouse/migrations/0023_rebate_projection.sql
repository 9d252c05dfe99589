-- 0023: rebate progress as of each day with the projection to year end (domain.md
-- section 5), and the per-tier breakdown of the rebate earned (docs/models.md).
-- mart_rebate_progress becomes one row per day of the contract year up to the last data
-- date (it was one per month end); the month-end rows keep their values.
-- Portable SQL: runs unchanged on DuckDB and PostgreSQL.

alter table mart_rebate_progress add column elapsed_days integer;
alter table mart_rebate_progress add column contract_days integer;
alter table mart_rebate_progress add column ly_base_same_days decimal(16, 2);
alter table mart_rebate_progress add column ly_base_full_year decimal(16, 2);
alter table mart_rebate_progress add column projection_method varchar;
alter table mart_rebate_progress add column projected_base decimal(16, 2);
alter table mart_rebate_progress add column projected_tier_no integer;
alter table mart_rebate_progress add column projected_rate decimal(7, 4);
alter table mart_rebate_progress add column projected_rebate decimal(16, 2);

create table mart_rebate_tier_breakdown (
    chain_code      varchar not null,
    contract_year   integer not null,
    as_of_date      date not null,
    tier_no         integer not null,        -- 0 = the part below the first threshold
    band_from       decimal(16, 2) not null,
    band_to         decimal(16, 2),          -- null: the top band is open
    rate_applied    decimal(7, 4) not null,  -- the rate this band earns at
    base_in_band    decimal(16, 2) not null,
    amount          decimal(16, 2) not null, -- rate_applied x base_in_band, rounded
    primary key (chain_code, contract_year, as_of_date, tier_no)
);
