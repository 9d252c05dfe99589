-- 0003: staging table stg_sales, filled by sql/05_stg_sales.sql and read by the marts.
-- One row per raw_sales row, with the month, the store's class and the effective promo
-- values (docs/models.md, stg_sales). Rebuilt per chain like the mart_ tables.
-- Portable SQL: runs unchanged on DuckDB and PostgreSQL.

create table stg_sales (
    chain_code     varchar not null,
    business_date  date not null,
    month          date not null,          -- first day of business_date's month
    store_code     varchar not null,
    store_class    varchar,                -- null: store not in ref_store
    barcode        varchar not null,
    units          integer not null,
    sales_amount   decimal(14, 2) not null,
    promo_units    integer not null,       -- effective: feed column, else derived, else 0
    promo_amount   decimal(14, 2) not null,
    on_hand_units  integer
);
