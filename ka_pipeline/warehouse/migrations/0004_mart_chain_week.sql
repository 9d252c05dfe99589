-- 0004: model output table mart_chain_week, filled by sql/15_mart_chain_week.sql.
-- KPIs per chain x ISO week (domain.md section 4; docs/models.md, mart_chain_week).
-- Rebuilt per chain like the other mart_ tables. Ratios are decimal(12,6), null where
-- the denominator is 0. Portable SQL: runs unchanged on DuckDB and PostgreSQL.

create table mart_chain_week (
    chain_code          varchar not null,
    iso_year            integer not null,       -- ISO 8601 week-numbering year
    iso_week            integer not null,       -- 1..53
    week_start          date not null,          -- the Monday
    week_end            date not null,          -- the Sunday
    sellout_amount      decimal(16, 2) not null,
    sellout_units       bigint not null,
    sellout_amount_ly   decimal(16, 2),         -- same ISO week of the previous ISO year; null if no data then
    yoy_growth          decimal(12, 6),
    sell_in_net         decimal(16, 2) not null,
    active_stores       integer not null,
    promo_amount        decimal(16, 2) not null,
    promo_share         decimal(12, 6),
    sales_days          integer not null,       -- business dates with sales rows
    primary key (chain_code, iso_year, iso_week)
);
