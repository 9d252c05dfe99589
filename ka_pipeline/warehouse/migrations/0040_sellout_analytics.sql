-- 0040: sell-out analytics (issue 8; domain.md section 4; docs/models.md "Sell-out
-- analytics"). Portable SQL (DuckDB and PostgreSQL). Money decimal(14,2) / (16,2),
-- ratios decimal(12,6), null where an input is missing (the reason in null_reasons).

-- Must-carry per store class: null = every store; 'A,B' = stores of class A or B.
alter table ref_listing add column store_classes varchar;

-- store x item x day: the chain's sales lines summed, with the day's must-carry flag and
-- the price the row must reach (floor, or the promo price inside a promotion)
create table int_store_item_day (
    chain_code      varchar not null,
    business_date   date not null,
    month           date not null,
    store_code      varchar not null,
    barcode         varchar not null,
    store_class     varchar,
    region          varchar,
    units           integer not null,
    sales_amount    decimal(14, 2) not null,
    promo_units     integer not null,
    promo_amount    decimal(14, 2) not null,
    on_hand_units   integer,               -- null: not sent for that row
    must_carry      boolean not null,
    floor_price     decimal(14, 2),
    promo_id        varchar,
    promo_price     decimal(14, 2),
    required_price  decimal(14, 2)
);
-- no primary key on the intermediates: DuckDB maintains a wide key index on millions of
-- rows slowly (7.3M rows: minutes); the slice delete and the bounded reads use the date
create index int_store_item_day_date on int_store_item_day (chain_code, business_date);

-- store x item x period (month, ISO week): sold, carried, must-carry, price and stock days
create table int_store_item_month (
    chain_code            varchar not null,
    month                 date not null,
    store_code            varchar not null,
    barcode               varchar not null,
    store_class           varchar,
    sales_rows            integer not null,
    units                 bigint not null,
    sales_amount          decimal(16, 2) not null,
    carried               boolean not null,
    must_carry            boolean not null,
    price_rows            integer not null,
    price_rows_compliant  integer not null,
    on_hand_days          integer not null,
    oos_days              integer not null
);
create index int_store_item_month_month on int_store_item_month (chain_code, month);

create table int_store_item_week (
    chain_code            varchar not null,
    week_start            date not null,
    store_code            varchar not null,
    barcode               varchar not null,
    store_class           varchar,
    sales_rows            integer not null,
    units                 bigint not null,
    sales_amount          decimal(16, 2) not null,
    carried               boolean not null,
    must_carry            boolean not null,
    price_rows            integer not null,
    price_rows_compliant  integer not null,
    on_hand_days          integer not null,
    oos_days              integer not null
);
create index int_store_item_week_week on int_store_item_week (chain_code, week_start);

create table mart_price_below_floor (
    chain_code      varchar not null,
    store_code      varchar not null,
    barcode         varchar not null,
    business_date   date not null,
    region          varchar,
    units           integer not null,
    sales_amount    decimal(14, 2) not null,
    unit_price      decimal(14, 4) not null,
    required_price  decimal(14, 2) not null,
    floor_price     decimal(14, 2) not null,
    promo_id        varchar,
    gap_amount      decimal(14, 2) not null,
    primary key (chain_code, store_code, barcode, business_date)
);

create table mart_oos_day (
    chain_code          varchar not null,
    store_code          varchar not null,
    barcode             varchar not null,
    business_date       date not null,
    lost_units          decimal(14, 4),
    lost_sales_amount   decimal(14, 2),
    in_stock_days_28d   integer not null,
    units_28d           bigint not null,
    sales_amount_28d    decimal(16, 2) not null,
    primary key (chain_code, store_code, barcode, business_date)
);

create table mart_phantom_inventory (
    chain_code            varchar not null,
    store_code            varchar not null,
    barcode               varchar not null,
    run_start             date not null,
    run_end               date not null,
    zero_days             integer not null,
    on_hand_units         integer not null,
    trailing_daily_units  decimal(12, 4) not null,
    extends_on            date not null,        -- run_end + 1: the day that would extend the run
    primary key (chain_code, store_code, barcode, run_start)
);

create table mart_distribution_gap (
    chain_code   varchar not null,
    month        date not null,
    store_code   varchar not null,
    store_class  varchar,
    barcode      varchar not null,
    primary key (chain_code, month, store_code, barcode)
);

create table mart_sku_rank (
    chain_code        varchar not null,
    month             date not null,
    barcode           varchar not null,
    sellout_amount    decimal(16, 2) not null,
    sellout_units     bigint not null,
    sku_rank          integer not null,
    share             decimal(12, 6),
    cumulative_share  decimal(12, 6),
    abc_class         varchar not null,
    primary key (chain_code, month, barcode)
);

-- the KPIs added to the period marts (same names in each; docs/models.md)
alter table mart_chain_month add column distribution_pairs_carried integer;
alter table mart_chain_month add column listed_items integer;
alter table mart_chain_month add column listed_items_sold integer;
alter table mart_chain_month add column sell_through_rate decimal(12, 6);
alter table mart_chain_month add column selling_pairs integer;
alter table mart_chain_month add column velocity decimal(14, 4);
alter table mart_chain_month add column sales_per_store decimal(16, 2);
alter table mart_chain_month add column active_area_m2 bigint;
alter table mart_chain_month add column sales_per_m2 decimal(14, 2);
alter table mart_chain_month add column lfl_stores integer;
alter table mart_chain_month add column lfl_sellout_amount decimal(16, 2);
alter table mart_chain_month add column lfl_sellout_amount_ly decimal(16, 2);
alter table mart_chain_month add column lfl_growth decimal(12, 6);
alter table mart_chain_month add column price_rows integer;
alter table mart_chain_month add column price_rows_compliant integer;
alter table mart_chain_month add column price_compliance decimal(12, 6);
alter table mart_chain_month add column on_hand_days integer;
alter table mart_chain_month add column oos_days integer;
alter table mart_chain_month add column oos_rate decimal(12, 6);
alter table mart_chain_month add column lost_sales_amount decimal(16, 2);
alter table mart_chain_month add column null_reasons varchar;

alter table mart_chain_week add column distribution_pairs integer;
alter table mart_chain_week add column distribution_pairs_carried integer;
alter table mart_chain_week add column distribution_rate decimal(12, 6);
alter table mart_chain_week add column listed_items integer;
alter table mart_chain_week add column listed_items_sold integer;
alter table mart_chain_week add column sell_through_rate decimal(12, 6);
alter table mart_chain_week add column selling_pairs integer;
alter table mart_chain_week add column velocity decimal(14, 4);
alter table mart_chain_week add column sales_per_store decimal(16, 2);
alter table mart_chain_week add column active_area_m2 bigint;
alter table mart_chain_week add column sales_per_m2 decimal(14, 2);
alter table mart_chain_week add column lfl_stores integer;
alter table mart_chain_week add column lfl_sellout_amount decimal(16, 2);
alter table mart_chain_week add column lfl_sellout_amount_ly decimal(16, 2);
alter table mart_chain_week add column lfl_growth decimal(12, 6);
alter table mart_chain_week add column price_rows integer;
alter table mart_chain_week add column price_rows_compliant integer;
alter table mart_chain_week add column price_compliance decimal(12, 6);
alter table mart_chain_week add column on_hand_days integer;
alter table mart_chain_week add column oos_days integer;
alter table mart_chain_week add column oos_rate decimal(12, 6);
alter table mart_chain_week add column lost_sales_amount decimal(16, 2);
alter table mart_chain_week add column trade_spend decimal(16, 2);
alter table mart_chain_week add column trade_spend_rate decimal(12, 6);
alter table mart_chain_week add column null_reasons varchar;

alter table mart_store_month add column distribution_pairs integer;
alter table mart_store_month add column distribution_pairs_carried integer;
alter table mart_store_month add column distribution_rate decimal(12, 6);
alter table mart_store_month add column carried_items integer;
alter table mart_store_month add column carried_items_sold integer;
alter table mart_store_month add column sell_through_rate decimal(12, 6);
alter table mart_store_month add column selling_items integer;
alter table mart_store_month add column velocity decimal(14, 4);
alter table mart_store_month add column sales_per_store decimal(16, 2);
alter table mart_store_month add column area_m2 integer;
alter table mart_store_month add column sales_per_m2 decimal(14, 2);
alter table mart_store_month add column lfl_growth decimal(12, 6);
alter table mart_store_month add column price_rows integer;
alter table mart_store_month add column price_rows_compliant integer;
alter table mart_store_month add column price_compliance decimal(12, 6);
alter table mart_store_month add column on_hand_days integer;
alter table mart_store_month add column oos_days integer;
alter table mart_store_month add column oos_rate decimal(12, 6);
alter table mart_store_month add column lost_sales_amount decimal(16, 2);
alter table mart_store_month add column trade_spend_rate decimal(12, 6);
alter table mart_store_month add column null_reasons varchar;
