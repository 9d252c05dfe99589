-- 0021: mart_deduction_review, the deduction lines whose text maps to no known type,
-- listed for review with their amount and age (domain.md section 6; docs/models.md).
-- Portable SQL: runs unchanged on DuckDB and PostgreSQL.

create table mart_deduction_review (
    chain_code        varchar not null,
    statement_no      varchar not null,
    deduction_no      varchar not null,
    statement_date    date not null,
    deduction_date    date not null,
    deduction_text    varchar not null,
    amount            decimal(14, 2) not null,
    store_code        varchar,
    reference         varchar,
    as_of_date        date not null,     -- the chain's last data date
    age_days          integer not null,  -- as_of_date - statement_date
    dispute_deadline  date not null,
    primary key (chain_code, statement_no, deduction_no)
);
