-- mart_deduction_check: one row per stg_deductions line of the chain, with exactly one
-- status (domain.md section 6), expected and disputable amounts, evidence and the dispute
-- deadline. Reads the named steps int_deduction_line (contract year, period charged,
-- duplicates) and int_deduction_fee (fees by basis), and mart_rebate_progress.
-- Rules and precedence: docs/models.md. Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

deductions as (
    select
        statement_no,
        deduction_no,
        business_date,
        deduction_date,
        deduction_type,
        deduction_text,
        amount,
        store_code,
        barcode,
        units,
        reference,
        period_start,
        period_end
    from stg_deductions
    where chain_code = :chain_code
),

line_facts as (
    select
        statement_no,
        deduction_no,
        statement_date,
        contract_year,
        end_covered,
        dup_rank,
        first_statement_no,
        first_deduction_no
    from int_deduction_line
    where chain_code = :chain_code
),

fee_checks as (
    select
        statement_no,
        deduction_no,
        fee_basis,
        group_label,
        allowance_note,
        group_allowance,
        group_charged,
        group_lines,
        line_allowed,
        onhand_days,
        zero_onhand_days,
        slice_date
    from int_deduction_fee
    where chain_code = :chain_code
),

chain as (
    select dispute_window_days, dispute_from
    from ref_chain
    where chain_code = :chain_code
),

promotions as (
    select promo_id, barcode, store_classes, start_date, end_date, subsidy_per_unit
    from ref_promotion
    where chain_code = :chain_code
),

stores as (
    select store_code, store_class
    from ref_store
    where chain_code = :chain_code
),

-- referenced once (pos_daily), so PostgreSQL inlines it instead of materializing every
-- sales row of the chain
sales as (
    select business_date, store_code, barcode, units, promo_units
    from raw_sales
    where chain_code = :chain_code
),

contracts as (
    select contract_year, end_date
    from ref_contract
    where chain_code = :chain_code
),

rebate_progress as (
    select contract_year, as_of_date, rebate_earned
    from mart_rebate_progress
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

-- "sends promo columns at any date", as in stg_sales: computed by the runner (an exists
-- over every sales row of the chain costs a scan each night when it is false)
promo_feed as (
    select cast(:sends_promo as boolean) as sends_promo
),

-- The line with its facts from int_deduction_line: contract year, duplicate rank.
ordered as (
    select
        d.*,
        lf.statement_date,
        lf.contract_year,
        lf.end_covered,
        lf.dup_rank,
        lf.first_statement_no,
        lf.first_deduction_no
    from deductions as d
    inner join line_facts as lf
        on lf.statement_no = d.statement_no
        and lf.deduction_no = d.deduction_no
),

-- Incremental slice (docs/models.md): the latest date whose data can change the line's
-- result: a fee line's group horizon (int_deduction_fee), the last day of a promo
-- line's promotion (its POS window), a rebate line's contract year end (the year's
-- earnings and rebate lines), else its deduction date (earlier lines: duplicates).
promo_ends as (
    select promo_id, max(end_date) as promo_end
    from promotions
    group by promo_id
),

line_slices as (
    select
        o.*,
        case
            when fc.slice_date is not null then fc.slice_date
            when o.deduction_type = 'promo_subsidy' and pe.promo_end > o.deduction_date
                then pe.promo_end
            when o.deduction_type = 'rebate' and c.end_date > o.deduction_date
                then c.end_date
            else o.deduction_date
        end as slice_date
    from ordered as o
    left join fee_checks as fc
        on fc.statement_no = o.statement_no
        and fc.deduction_no = o.deduction_no
    left join promo_ends as pe
        on pe.promo_id = o.reference
    left join contracts as c
        on c.contract_year = o.contract_year
),

sliced as (
    select *
    from line_slices
    where slice_date >= :since
),

-- Promo subsidy lines x the promotion's items they claim (reference = promo_id; the
-- line's barcode when given, else every item of the promotion). The POS window is the
-- line's period clipped to the promotion's dates (the whole promotion when no period).
promo_line_items as (
    select
        d.statement_no,
        d.deduction_no,
        d.store_code as line_store_code,
        p.barcode,
        p.store_classes,
        p.start_date,
        p.end_date,
        p.subsidy_per_unit,
        case
            when d.period_start is not null and d.period_start > p.start_date
                then d.period_start
            else p.start_date
        end as window_start,
        case
            when d.period_end is not null and d.period_end < p.end_date then d.period_end
            else p.end_date
        end as window_end
    from sliced as d
    inner join promotions as p
        on p.promo_id = d.reference
        and (d.barcode is null or p.barcode = d.barcode)
    where d.deduction_type = 'promo_subsidy'
),

promo_barcodes as (
    select distinct barcode from promo_line_items
),

-- the days any claimed window covers, as bounds the sales read is planned on
promo_days as (
    select min(window_start) as first_day, max(window_end) as last_day
    from promo_line_items
),

-- POS units per store x item x day, only for items some promo line claims: the feed's
-- promo_units when the chain sends promo columns, else all units sold (the day is
-- inside the promotion by the window join below).
pos_daily as (
    select
        s.business_date,
        s.store_code,
        s.barcode,
        st.store_class,
        sum(
            case when pf.sends_promo then coalesce(s.promo_units, 0) else s.units end
        ) as pos_units
    from sales as s
    inner join promo_barcodes as pb
        on pb.barcode = s.barcode
    inner join promo_days as pdays
        on s.business_date between pdays.first_day and pdays.last_day
    cross join promo_feed as pf
    left join stores as st
        on st.store_code = s.store_code
    group by s.business_date, s.store_code, s.barcode, st.store_class
),

promo_item_pos as (
    select
        li.statement_no,
        li.deduction_no,
        li.barcode,
        li.subsidy_per_unit,
        coalesce(sum(pd.pos_units), 0) as pos_units
    from promo_line_items as li
    left join pos_daily as pd
        on pd.barcode = li.barcode
        and pd.business_date between li.window_start and li.window_end
        and (li.line_store_code is null or pd.store_code = li.line_store_code)
        and (
            li.store_classes is null
            or ',' || replace(li.store_classes, ' ', '') || ',' like '%,' || pd.store_class || ',%'
        )
    group by li.statement_no, li.deduction_no, li.barcode, li.subsidy_per_unit
),

promo_line as (
    select
        li.statement_no,
        li.deduction_no,
        min(li.start_date) as promo_start,
        max(li.end_date) as promo_end,
        max(li.subsidy_per_unit) as subsidy_per_unit,
        count(*) as promo_items
    from promo_line_items as li
    group by li.statement_no, li.deduction_no
),

promo_line_pos as (
    select
        statement_no,
        deduction_no,
        sum(pos_units) as pos_units,
        sum(pos_units * subsidy_per_unit) as pos_value
    from promo_item_pos
    group by statement_no, deduction_no
),

-- Rebate lines: cumulative rebate taken within the contract year, up to and including
-- the line, over the rebate lines that reach this check (duplicates and lines outside
-- every contract year are disputed in full already).
rebate_lines as (
    select
        o.statement_no,
        o.deduction_no,
        o.deduction_date,
        o.contract_year,
        sum(o.amount) over (
            partition by o.contract_year
            order by o.deduction_date, o.statement_no, o.deduction_no
            rows between unbounded preceding and current row
        ) as taken_to_date
    from ordered as o
    where o.deduction_type = 'rebate'
        and o.dup_rank = 1
        and o.contract_year is not null
        and o.end_covered
),

-- Rebate earned as of the line: the contract year's latest month-end row on or before
-- the deduction date, else (line dated before the first row) the last row available.
rebate_earned_ranked as (
    select
        rl.statement_no,
        rl.deduction_no,
        rp.as_of_date,
        rp.rebate_earned,
        row_number() over (
            partition by rl.statement_no, rl.deduction_no
            order by
                case when rp.as_of_date <= rl.deduction_date then 0 else 1 end,
                rp.as_of_date desc
        ) as pick
    from rebate_lines as rl
    inner join sliced as sl
        on sl.statement_no = rl.statement_no
        and sl.deduction_no = rl.deduction_no
    inner join rebate_progress as rp
        on rp.contract_year = rl.contract_year
),

rebate_check as (
    select
        rl.statement_no,
        rl.deduction_no,
        rl.taken_to_date,
        rer.as_of_date as earned_as_of,
        coalesce(rer.rebate_earned, 0) as rebate_earned
    from rebate_lines as rl
    left join rebate_earned_ranked as rer
        on rer.statement_no = rl.statement_no
        and rer.deduction_no = rl.deduction_no
        and rer.pick = 1
),

lines as (
    select
        o.*,
        fc.fee_basis,
        fc.group_label,
        fc.allowance_note,
        fc.group_allowance,
        fc.group_charged,
        fc.group_lines,
        fc.line_allowed,
        fc.onhand_days,
        fc.zero_onhand_days,
        pl.promo_items,
        pl.promo_start,
        pl.promo_end,
        pl.subsidy_per_unit,
        coalesce(pp.pos_units, 0) as pos_units,
        coalesce(pp.pos_value, 0) as pos_value,
        rc.taken_to_date,
        rc.earned_as_of,
        rc.rebate_earned,
        o.deduction_type = 'promo_subsidy' as is_promo
    from sliced as o
    left join fee_checks as fc
        on fc.statement_no = o.statement_no
        and fc.deduction_no = o.deduction_no
    left join promo_line as pl
        on pl.statement_no = o.statement_no
        and pl.deduction_no = o.deduction_no
    left join promo_line_pos as pp
        on pp.statement_no = o.statement_no
        and pp.deduction_no = o.deduction_no
    left join rebate_check as rc
        on rc.statement_no = o.statement_no
        and rc.deduction_no = o.deduction_no
),

-- Promo subsidy amounts: the allowance for a single-item line with units is
-- min(claimed units, POS promo units) x subsidy; otherwise the POS value.
promo_amounts as (
    select
        l.*,
        case
            when l.units is not null and l.barcode is not null
                then (case when l.units < l.pos_units then l.units else l.pos_units end)
                    * l.subsidy_per_unit
            else l.pos_value
        end as promo_allowed,
        case
            when l.units is not null and l.barcode is not null
                then (l.units - l.pos_units) * l.subsidy_per_unit
            else l.amount - l.pos_value
        end as promo_excess,
        (l.units is not null and l.units > l.pos_units)
        or (l.units is null and l.amount > l.pos_value) as promo_overclaimed
    from lines as l
),

statused as (
    select
        a.*,
        case
            when a.deduction_type = 'unclassified' then 'unclassified'
            when a.dup_rank > 1 then 'duplicate'
            when a.is_promo and a.promo_items is null then 'promo_not_found'
            when a.is_promo
                and (
                    (a.period_start is not null and a.period_start < a.promo_start)
                    or (a.period_end is not null and a.period_end > a.promo_end)
                ) then 'outside_period'
            when not a.is_promo and (a.contract_year is null or not a.end_covered)
                then 'outside_period'
            when a.is_promo and a.promo_overclaimed then 'promo_overclaim'
            when a.is_promo and a.amount > a.promo_allowed then 'over_contract'
            when a.is_promo then 'valid'
            when a.deduction_type = 'rebate' and a.taken_to_date > a.rebate_earned
                then 'rebate_over_taken'
            when a.deduction_type = 'rebate' then 'valid'
            -- a stockout penalty although on-hand was sent and never 0 in the period
            when a.deduction_type = 'stockout_penalty'
                and a.onhand_days > 0 and a.zero_onhand_days = 0 then 'no_evidence'
            when a.fee_basis is null then 'no_contract_basis'
            when a.amount > a.line_allowed then 'over_contract'
            else 'valid'
        end as status
    from promo_amounts as a
),

judged as (
    select
        s.*,
        case
            when s.status in (
                'unclassified', 'duplicate', 'promo_not_found', 'outside_period',
                'no_contract_basis', 'no_evidence'
            ) then 0
            when s.status = 'promo_overclaim' then s.pos_value
            when s.status = 'over_contract' and s.is_promo then s.promo_allowed
            when s.status = 'over_contract' then s.line_allowed
            when s.status = 'rebate_over_taken'
                then s.amount - (
                    case
                        when s.taken_to_date - s.rebate_earned < s.amount
                            then s.taken_to_date - s.rebate_earned
                        else s.amount
                    end
                )
            else s.amount
        end as expected_amount,
        case
            when s.status in ('unclassified', 'valid') then 0
            when s.status in (
                'duplicate', 'promo_not_found', 'outside_period', 'no_contract_basis',
                'no_evidence'
            ) then s.amount
            when s.status = 'promo_overclaim'
                then case when s.promo_excess < s.amount then s.promo_excess else s.amount end
            when s.status = 'over_contract' and s.is_promo then s.amount - s.promo_allowed
            when s.status = 'over_contract' then s.amount - s.line_allowed
            when s.status = 'rebate_over_taken'
                then case
                    when s.taken_to_date - s.rebate_earned < s.amount
                        then s.taken_to_date - s.rebate_earned
                    else s.amount
                end
            else 0
        end as disputable_amount,
        case s.status
            when 'unclassified' then
                'text ''' || s.deduction_text || ''' maps to no known deduction type; needs review'
            when 'duplicate' then
                'same type, reference and period already deducted on statement '
                || s.first_statement_no || ' line ' || s.first_deduction_no
            when 'promo_not_found' then
                'no approved promotion ' || coalesce('''' || s.reference || '''', '(no reference)')
                || coalesce(' for barcode ' || s.barcode, '') || ' for this chain'
            when 'outside_period' then
                case
                    when s.is_promo then
                        'period ' || coalesce(cast(s.period_start as varchar), '...') || '..'
                        || coalesce(cast(s.period_end as varchar), '...')
                        || ' not inside promotion ' || s.reference || ' dates '
                        || cast(s.promo_start as varchar) || '..' || cast(s.promo_end as varchar)
                    else
                        'period ' || cast(coalesce(s.period_start, s.deduction_date) as varchar)
                        || '..' || cast(
                            coalesce(s.period_end, s.period_start, s.deduction_date) as varchar
                        ) || ' not covered by any contract year'
                end
            when 'promo_overclaim' then
                'promotion ' || s.reference || coalesce(' barcode ' || s.barcode, '')
                || ': claimed ' || coalesce(cast(s.units as varchar) || ' units', 'amount')
                || ', POS promo units ' || cast(s.pos_units as varchar)
                || ', allows ' || cast(cast(round(s.pos_value, 2) as decimal(16, 2)) as varchar)
                || '; charged ' || cast(s.amount as varchar)
            when 'rebate_over_taken' then
                'contract ' || cast(s.contract_year as varchar) || ' rebate earned '
                || cast(cast(s.rebate_earned as decimal(16, 2)) as varchar)
                || coalesce(' as of ' || cast(s.earned_as_of as varchar), '')
                || '; taken to date incl. this line '
                || cast(cast(s.taken_to_date as decimal(16, 2)) as varchar)
            when 'no_contract_basis' then
                'contract ' || cast(s.contract_year as varchar) || ' has no '
                || case when s.deduction_type = 'margin_guarantee' then 'margin guarantee %'
                    else s.deduction_type || ' item' end
                || '; charged ' || cast(s.amount as varchar)
            when 'no_evidence' then
                'stockout penalty' || coalesce(' store ' || s.store_code, '')
                || coalesce(' item ' || s.barcode, '') || ': on_hand_units sent on '
                || cast(s.onhand_days as varchar) || ' day(s) in the period charged, never 0'
                || '; charged ' || cast(s.amount as varchar)
            else
                case
                    when s.is_promo then
                        'promotion ' || s.reference || coalesce(' barcode ' || s.barcode, '')
                        || ' allows '
                        || cast(cast(round(s.promo_allowed, 2) as decimal(16, 2)) as varchar)
                        || ' (' || coalesce(cast(s.units as varchar), '-') || ' claimed, '
                        || cast(s.pos_units as varchar) || ' POS promo units x '
                        || cast(s.subsidy_per_unit as varchar) || '); charged '
                        || cast(s.amount as varchar)
                    when s.deduction_type = 'rebate' then
                        'contract ' || cast(s.contract_year as varchar) || ' rebate earned '
                        || cast(cast(s.rebate_earned as decimal(16, 2)) as varchar)
                        || coalesce(' as of ' || cast(s.earned_as_of as varchar), '')
                        || '; taken to date incl. this line '
                        || cast(cast(s.taken_to_date as decimal(16, 2)) as varchar)
                    else
                        'contract ' || cast(s.contract_year as varchar) || ' '
                        || s.deduction_type || ' ' || s.fee_basis || ', group '
                        || s.group_label || ': allowance '
                        || cast(s.group_allowance as varchar) || ' (' || s.allowance_note
                        || '); group charged ' || cast(s.group_charged as varchar)
                        || ' on ' || s.group_lines || '; this line allowed '
                        || cast(s.line_allowed as varchar) || ', charged '
                        || cast(s.amount as varchar)
                end
        end as evidence
    from statused as s
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        j.statement_no,
        j.deduction_no,
        j.business_date,
        j.deduction_date,
        j.deduction_type,
        j.deduction_text,
        j.reference,
        j.store_code,
        j.barcode,
        j.period_start,
        j.period_end,
        j.amount,
        j.status,
        cast(round(j.expected_amount, 2) as decimal(14, 2)) as expected_amount,
        cast(round(j.disputable_amount, 2) as decimal(14, 2)) as disputable_amount,
        j.evidence,
        case
            when c.dispute_from = 'deduction_date' then j.deduction_date
            else j.statement_date
        end + c.dispute_window_days as dispute_deadline,
        j.slice_date
    from judged as j
    left join chain as c
        on 1 = 1
)

select * from final
