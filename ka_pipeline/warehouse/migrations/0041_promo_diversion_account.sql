-- 0041: promotion evaluation, diversion risk, account evaluation and the trade-spend rate
-- by type year over year (issue 8; domain.md sections 7, 9, 10; docs/models.md "Sell-out
-- analytics"). Portable SQL (DuckDB and PostgreSQL).

-- Account evaluation criteria (config analytics.yaml, ka_pipeline/config/analytics.py):
-- a criterion's points = weight x 100 / 80 / 60 / 40 / 20 % by the band its value falls
-- in (limit_100 .. limit_40: the least value of each band when higher is better, the
-- greatest when lower is better). Seeded with the defaults of domain.md section 7;
-- publishing the master data replaces them with the configuration.
create table ref_account_criterion (
    axis              varchar not null,      -- attractiveness | support
    criterion         varchar not null,
    weight            decimal(7, 2) not null,
    higher_is_better  boolean not null,
    limit_100         decimal(18, 6) not null,
    limit_80          decimal(18, 6) not null,
    limit_60          decimal(18, 6) not null,
    limit_40          decimal(18, 6) not null,
    primary key (axis, criterion)
);

-- Scalar settings of the analytics: grade limits, quadrant split, diversion thresholds.
create table ref_analytics_setting (
    setting  varchar primary key,
    value    decimal(18, 6) not null
);

insert into ref_account_criterion values
    ('attractiveness', 'annual_sellout', 40, true, 50000000, 20000000, 10000000, 5000000),
    ('attractiveness', 'sellout_growth', 40, true, 0.15, 0.08, 0.03, 0),
    ('attractiveness', 'days_late', 20, false, 0, 7, 15, 30),
    ('support', 'distribution_rate', 40, true, 0.95, 0.90, 0.80, 0.70),
    ('support', 'promo_execution_rate', 40, true, 0.95, 0.90, 0.80, 0.70),
    ('support', 'price_compliance', 20, true, 0.98, 0.95, 0.90, 0.85);

insert into ref_analytics_setting values
    ('grade_a', 80),
    ('grade_b', 60),
    ('grade_c', 40),
    ('quadrant_split', 60),
    ('diversion_price_gap', 0.10),
    ('diversion_volume_factor', 1.3);

create table mart_promo_eval_store (
    chain_code            varchar not null,
    promo_id              varchar not null,
    barcode               varchar not null,
    store_code            varchar not null,
    start_date            date not null,
    end_date              date not null,
    promo_days            integer not null,
    baseline_method       varchar,               -- pre_28d | ly_yoy; null: no baseline
    baseline_days         integer,               -- promotion-free days of the 28 before
    baseline_daily_units  decimal(14, 4),
    promo_units           bigint not null,       -- Σ units of the store x item in the promotion
    feed_promo_units      bigint not null,       -- Σ effective promo units (stg_sales)
    executed              boolean not null,      -- feed_promo_units > 0
    lift_units            decimal(14, 4),
    unit_margin           decimal(14, 2),        -- supply price - unit cost
    incremental_gp        decimal(14, 2),
    primary key (chain_code, promo_id, barcode, store_code)
);

create table mart_promo_eval (
    chain_code            varchar not null,
    promo_id              varchar not null,
    start_date            date not null,
    end_date              date not null,
    baseline_method       varchar,               -- pre_28d | ly_yoy | mixed; null: none
    lift_units            decimal(14, 4),
    incremental_gp        decimal(14, 2),
    cost_amount           decimal(14, 2) not null,
    roi                   decimal(12, 6),
    execution_rate        decimal(12, 6),
    participating_stores  integer not null,
    executing_stores      integer not null,
    items                 integer not null,
    null_reasons          varchar,
    primary key (chain_code, promo_id)
);

create table mart_diversion_risk (
    chain_code         varchar not null,
    barcode            varchar not null,
    iso_week           date not null,          -- the Monday
    region             varchar not null,
    sellout_units      bigint not null,        -- the week's units in the region
    avg_unit_price     decimal(14, 4),         -- non-promo rows; null without any
    region_count       integer not null,       -- regions with a price that week
    price_gap          decimal(12, 6),
    floor_price        decimal(14, 2),
    sellout_units_4w   bigint not null,
    shipped_units_4w   bigint,           -- null: the 4 weeks had DC shipments
    at_risk            boolean not null,
    risk_reason        varchar,                -- price | volume | price,volume
    primary key (chain_code, barcode, iso_week, region)
);

create table mart_account_eval (
    chain_code             varchar not null,
    month                  date not null,
    attractiveness_score   decimal(7, 2),
    support_score          decimal(7, 2),
    attractiveness_grade   varchar,
    support_grade          varchar,
    quadrant               varchar,
    parts                  varchar not null,   -- JSON: every criterion's value, band, points, weight
    null_reasons           varchar,
    primary key (chain_code, month)
);

create table mart_trade_spend_type_yoy (
    chain_code           varchar not null,
    contract_year        integer not null,
    deduction_type       varchar not null,
    amount               decimal(16, 2) not null,
    sell_in_net          decimal(16, 2) not null,
    trade_spend_rate     decimal(12, 6),
    amount_ly            decimal(16, 2),
    sell_in_net_ly       decimal(16, 2),
    trade_spend_rate_ly  decimal(12, 6),
    rate_change          decimal(12, 6),     -- trade_spend_rate - trade_spend_rate_ly (points / 100)
    primary key (chain_code, contract_year, deduction_type)
);
