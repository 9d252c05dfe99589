-- 0075: the running state of mart_phantom_inventory (sql/marts/mart_phantom_inventory_idle):
-- one row per store x item x idle day (a sales line with units = 0 and on_hand_units > 0)
-- with the first day of the idle streak it belongs to, so a nightly run extends the
-- streak open on the day before its slice instead of re-reading the whole idle history.
-- Portable SQL (DuckDB and PostgreSQL).
create table mart_phantom_inventory_idle (
    chain_code     varchar not null,
    store_code     varchar not null,
    barcode        varchar not null,
    business_date  date not null,
    on_hand_units  integer not null,
    streak_start   date not null          -- first day of the consecutive idle days ending here
);
-- no primary key (as the int_store_item_ intermediates: DuckDB maintains a wide key index
-- on millions of rows slowly); the slice delete and the bounded reads use the date
create index mart_phantom_inventory_idle_date
    on mart_phantom_inventory_idle (chain_code, business_date);
