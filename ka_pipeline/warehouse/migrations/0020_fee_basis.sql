-- 0020: contract terms for fees by basis (domain.md section 6), the dispute-deadline
-- rule per chain and the statement date of a deduction line; the intermediate tables
-- that split the deduction check into named steps (sql/, docs/models.md).
-- Portable SQL: runs unchanged on DuckDB and PostgreSQL.

-- fee_amounts: excl_vat | incl_vat; vat_rate: service VAT on fees; sales_vat_rate: the
-- goods VAT inside sales_amount (margin guarantee check)
alter table ref_contract add column fee_amounts varchar default 'excl_vat';
alter table ref_contract add column vat_rate decimal(7, 4) default 0.06;
alter table ref_contract add column sales_vat_rate decimal(7, 4) default 0.13;

-- amount is null for pct_of_base fees, which give rate (0.0700 = 7 %) of pct_base
-- (sell_in_net | sell_in_gross); max_events caps per_event fees and multiplies per_year
alter table ref_contract_fee alter column amount drop not null;
alter table ref_contract_fee add column rate decimal(7, 4);
alter table ref_contract_fee add column pct_base varchar;
alter table ref_contract_fee add column max_events integer;

-- statement_date | deduction_date: what the dispute window counts from
alter table ref_chain add column dispute_from varchar default 'statement_date';

-- the deductions feed's optional statement_date column
alter table raw_deductions add column statement_date date;

-- One row per raw_deductions line: the contract year it is attributed to, the period it
-- charges for, and whether an earlier line already deducted the same thing.
create table int_deduction_line (
    chain_code          varchar not null,
    statement_no        varchar not null,
    deduction_no        varchar not null,
    statement_date      date not null,     -- statement_date column, else the file's date
    deduction_date      date not null,
    deduction_type      varchar not null,
    amount              decimal(14, 2) not null,
    store_code          varchar,
    barcode             varchar,
    reference           varchar,
    period_start        date,
    period_end          date,
    charged_start       date not null,     -- the period charged (docs/models.md)
    charged_end         date not null,
    contract_year       integer,           -- contract containing coalesce(period_start, deduction_date)
    end_covered         boolean not null,  -- the period's end is inside some contract year too
    dup_rank            integer not null,  -- 1 = first line with its duplicate key
    first_statement_no  varchar not null,
    first_deduction_no  varchar not null,
    primary key (chain_code, statement_no, deduction_no)
);

-- One row per fee-like line that reaches the contract check (not a duplicate, inside a
-- contract year, not unclassified / promo subsidy / rebate): its basis group, the
-- group's allowance in charged money, what this line may take of it, and the
-- stockout-penalty evidence from on-hand units.
create table int_deduction_fee (
    chain_code          varchar not null,
    statement_no        varchar not null,
    deduction_no        varchar not null,
    contract_year       integer not null,
    deduction_type      varchar not null,
    fee_basis           varchar,           -- ref_contract_fee.basis, 'margin_pct', or null: no contract basis
    group_label         varchar not null,  -- e.g. 'store S1 month 2024-03'
    allowance_note      varchar,           -- how the allowance was computed
    group_allowance     decimal(16, 2),    -- in charged money (incl. VAT where the contract quotes excl. VAT)
    group_charged       decimal(16, 2) not null,
    group_lines         varchar not null,  -- 'ST1/D01, ST2/D07' in check order
    line_allowed        decimal(14, 2),    -- the part of the allowance left for this line
    onhand_days         integer,           -- stockout penalty: days with on_hand_units sent
    zero_onhand_days    integer,           -- ... of which on_hand_units = 0
    primary key (chain_code, statement_no, deduction_no)
);
