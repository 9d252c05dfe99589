-- 0070: the sell-out KPIs counted once (issue 7 point 9; docs/models.md "Sell-out
-- analytics"). Portable SQL (DuckDB and PostgreSQL).

-- store x item x period for months and ISO weeks in one table; int_store_item_month and
-- int_store_item_week become views of it (created by the model runner)
drop table int_store_item_month;
drop table int_store_item_week;

create table int_store_item_period (
    chain_code            varchar not null,
    period_kind           varchar not null,   -- 'month' | 'week'
    period_start          date not null,      -- the 1st of the month | the Monday
    period_end            date not null,      -- the month's last day | the Sunday
    store_code            varchar not null,
    barcode               varchar not null,
    store_class           varchar,
    sales_rows            integer not null,
    units                 bigint not null,
    sales_amount          decimal(16, 2) not null,
    promo_amount          decimal(16, 2) not null,
    carried               boolean not null,
    must_carry            boolean not null,
    price_rows            integer not null,
    price_rows_compliant  integer not null,
    on_hand_days          integer not null,
    oos_days              integer not null
);
-- no primary key (as the other store x item intermediates, migration 0040): the slice's
-- delete and reads (period_end >= the changed day) use the first index, the reads of
-- months and last year's periods by their start the second
create index int_store_item_period_end on int_store_item_period (chain_code, period_end);
create index int_store_item_period_start on int_store_item_period (chain_code, period_start);

-- chain x month, chain x ISO week and chain x store x month: the counts and ratios of
-- mart_chain_month, mart_chain_week and mart_store_month (store_code null = the chain)
create table int_sellout_period (
    chain_code                      varchar not null,
    period_kind                     varchar not null,
    period_start                    date not null,
    store_code                      varchar,
    period_end                      date not null,
    iso_year                        integer,          -- weeks only
    iso_week                        integer,
    sellout_amount                  decimal(16, 2) not null,
    sellout_units                   bigint not null,
    sellout_amount_ly               decimal(16, 2),
    yoy_growth                      decimal(12, 6),
    target_amount                   decimal(16, 2),
    target_achievement              decimal(12, 6),
    sell_in_net                     decimal(16, 2),
    cost_of_goods                   decimal(16, 2),
    trade_spend                     decimal(16, 2),
    gross_profit_after_trade_spend  decimal(16, 2),
    trade_spend_rate                decimal(12, 6),
    active_stores                   integer not null,
    active_area_m2                  bigint,
    area_m2                         integer,
    promo_amount                    decimal(16, 2) not null,
    promo_share                     decimal(12, 6),
    sales_days                      integer,
    distribution_pairs              integer not null,
    distribution_pairs_sold         integer not null,
    distribution_pairs_carried      integer not null,
    distribution_rate               decimal(12, 6),
    listed_items                    integer,
    listed_items_sold               integer,
    carried_items                   integer,
    carried_items_sold              integer,
    sell_through_rate               decimal(12, 6),
    selling_pairs                   integer not null,
    velocity                        decimal(14, 4),
    sales_per_store                 decimal(16, 2),
    sales_per_m2                    decimal(14, 2),
    lfl_stores                      integer not null,
    lfl_sellout_amount              decimal(16, 2),
    lfl_sellout_amount_ly           decimal(16, 2),
    lfl_growth                      decimal(12, 6),
    price_rows                      integer not null,
    price_rows_compliant            integer not null,
    price_compliance                decimal(12, 6),
    on_hand_days                    integer not null,
    oos_days                        integer not null,
    oos_rate                        decimal(12, 6),
    lost_sales_amount               decimal(16, 2),
    null_reasons                    varchar
);
create index int_sellout_period_end on int_sellout_period (chain_code, period_end);
