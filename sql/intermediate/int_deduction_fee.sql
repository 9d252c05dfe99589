-- int_deduction_fee: every fee-like deduction line that reaches the contract check (not
-- a duplicate, inside a contract year, not unclassified / promo subsidy / rebate), with
-- the group of its fee basis, the group's allowance in charged money, the part of the
-- allowance left for this line (earlier lines use it first, so an excess falls on the
-- group's latest lines), and the on-hand evidence of a stockout penalty.
-- Domain: domain.md section 6. Rules: docs/models.md (int_deduction_fee).
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

lines as (
    select
        statement_no,
        deduction_no,
        deduction_date,
        deduction_type,
        amount,
        store_code,
        barcode,
        reference,
        period_start,
        period_end,
        charged_start,
        charged_end,
        contract_year
    from int_deduction_line
    where chain_code = :chain_code
        and dup_rank = 1
        and contract_year is not null
        and end_covered
        and deduction_type not in ('unclassified', 'promo_subsidy', 'rebate')
),

contracts as (
    select
        contract_year,
        start_date,
        end_date,
        fee_amounts,
        vat_rate,
        sales_vat_rate,
        margin_guarantee_pct
    from ref_contract
    where chain_code = :chain_code
),

contract_fees as (
    select contract_year, fee_type, basis, amount, rate, pct_base, max_events
    from ref_contract_fee
    where chain_code = :chain_code
),

stores as (
    select store_code, opened_on, closed_on
    from ref_store
    where chain_code = :chain_code
),

listings as (
    select barcode, listed_from, listed_to
    from ref_listing
    where chain_code = :chain_code
),

invoices as (
    select invoice_date, net_amount, vat_amount
    from stg_invoices
    where chain_code = :chain_code
),

-- two imports of the chain's sales, each referenced once, so PostgreSQL inlines them
-- (a CTE referenced twice is materialized: every sales row of the chain)
onhand_sales as (
    select business_date, store_code, barcode, on_hand_units
    from stg_sales
    where chain_code = :chain_code
),

margin_sales as (
    select business_date, store_code, barcode, units, sales_amount
    from stg_sales
    where chain_code = :chain_code
),

products as (
    select barcode, supply_price
    from ref_product
),

-- logic CTEs ----------------------------------------------------------------

-- The line's contract item and its group key (docs/models.md: fees by basis).
-- The margin guarantee's basis is the contract's margin % ('margin_pct').
based as (
    select
        l.*,
        c.start_date as year_start,
        c.end_date as year_end,
        c.sales_vat_rate,
        c.margin_guarantee_pct,
        case
            when l.deduction_type = 'margin_guarantee' and c.margin_guarantee_pct is not null
                then 'margin_pct'
            when l.deduction_type = 'margin_guarantee' then null
            else f.basis
        end as fee_basis,
        f.amount as fee_amount,
        f.rate as fee_rate,
        coalesce(f.pct_base, 'sell_in_net') as pct_base,
        f.max_events,
        -- the margin top-up is computed from the data, not quoted: no VAT conversion
        case
            when c.fee_amounts = 'excl_vat' and l.deduction_type <> 'margin_guarantee'
                then 1 + c.vat_rate
            else 1
        end as vat_factor,
        cast(date_trunc('month', l.charged_start) as date) as charged_month
    from lines as l
    inner join contracts as c
        on c.contract_year = l.contract_year
    left join contract_fees as f
        on f.contract_year = l.contract_year
        and f.fee_type = l.deduction_type
),

keyed as (
    select
        b.*,
        case b.fee_basis
            when 'per_year' then 'contract year ' || cast(b.contract_year as varchar)
            when 'per_event' then 'contract year ' || cast(b.contract_year as varchar)
            when 'per_month' then 'month ' || substr(cast(b.charged_month as varchar), 1, 7)
            when 'per_store' then
                coalesce('store ' || b.store_code, 'all stores') || ' in contract year '
                || cast(b.contract_year as varchar)
            when 'per_store_month' then
                coalesce('store ' || b.store_code, 'all stores') || ' month '
                || substr(cast(b.charged_month as varchar), 1, 7)
            when 'per_item' then
                coalesce('item ' || b.barcode, 'all items') || ' in contract year '
                || cast(b.contract_year as varchar)
            when 'pct_of_base' then
                'period ' || cast(b.charged_start as varchar) || '..'
                || cast(b.charged_end as varchar)
            when 'margin_pct' then
                'period ' || cast(b.charged_start as varchar) || '..'
                || cast(b.charged_end as varchar)
                || coalesce(' store ' || b.store_code, '') || coalesce(' item ' || b.barcode, '')
            -- no contract item: each line is its own group
            else 'line ' || b.statement_no || '/' || b.deduction_no
        end as group_label,
        -- per_event: an event is a distinct reference, else a distinct period
        coalesce(
            b.reference,
            cast(b.period_start as varchar) || '..' || cast(b.period_end as varchar),
            b.statement_no || '/' || b.deduction_no
        ) as event_key
    from based as b
),

-- Incremental slice (docs/models.md): a line's result depends on its group's lines and
-- on data dated up to the latest of their deduction dates, periods charged and the
-- group's natural end (the contract year, the month, the period charged), so the whole
-- group is recomputed when a change is dated on or before that day (slice_date).
horizons as (
    select
        k.*,
        max(
            case
                when k.natural_end > k.charged_end and k.natural_end > k.deduction_date
                    then k.natural_end
                when k.charged_end > k.deduction_date then k.charged_end
                else k.deduction_date
            end
        ) over (partition by k.contract_year, k.deduction_type, k.group_label) as slice_date
    from (
        select
            kk.*,
            case
                when kk.fee_basis in ('per_year', 'per_event', 'per_store', 'per_item')
                    then kk.year_end
                when kk.fee_basis in ('per_month', 'per_store_month')
                    then cast(kk.charged_month + interval '1 month' as date) - 1
                else kk.charged_end
            end as natural_end
        from keyed as kk
    ) as k
),

sliced as (
    select *
    from horizons
    where slice_date >= :since
),

-- Stockout penalty: on-hand days of the store x item in the period charged. A penalty
-- is contradicted when on-hand was sent and never 0; such a line takes no allowance.
stockout_evidence as (
    select
        l.statement_no,
        l.deduction_no,
        count(s.on_hand_units) as onhand_days,
        count(case when s.on_hand_units = 0 then 1 end) as zero_onhand_days
    from sliced as l
    left join onhand_sales as s
        on s.business_date between l.charged_start and l.charged_end
        and (l.store_code is null or s.store_code = l.store_code)
        and (l.barcode is null or s.barcode = l.barcode)
    where l.deduction_type = 'stockout_penalty'
    group by l.statement_no, l.deduction_no
),

evidenced as (
    select
        s.*,
        se.onhand_days,
        se.zero_onhand_days,
        coalesce(se.onhand_days > 0 and se.zero_onhand_days = 0, false) as contradicted
    from sliced as s
    left join stockout_evidence as se
        on se.statement_no = s.statement_no
        and se.deduction_no = s.deduction_no
),

-- Stores open during a month / a contract year (closed_on is the first day closed), and
-- stores opened in the contract year (listing and new-store fees).
store_counts_year as (
    select
        k.contract_year,
        k.group_label,
        count(distinct s.store_code) as stores_open,
        count(distinct case when s.opened_on between k.year_start and k.year_end
            then s.store_code end) as stores_opened
    from evidenced as k
    inner join stores as s
        on s.opened_on <= k.year_end
        and (s.closed_on is null or s.closed_on > k.year_start)
        and (k.store_code is null or s.store_code = k.store_code)
    where k.fee_basis = 'per_store'
    group by k.contract_year, k.group_label
),

store_counts_month as (
    select
        k.contract_year,
        k.group_label,
        count(distinct s.store_code) as stores_open
    from evidenced as k
    inner join stores as s
        on s.opened_on <= cast(k.charged_month + interval '1 month' as date) - 1
        and (s.closed_on is null or s.closed_on > k.charged_month)
        and (k.store_code is null or s.store_code = k.store_code)
    where k.fee_basis = 'per_store_month'
    group by k.contract_year, k.group_label
),

-- Items listed during the contract year, and items first listed in it (barcode fee).
first_listing as (
    select barcode, min(listed_from) as first_listed
    from listings
    group by barcode
),

item_counts as (
    select
        k.contract_year,
        k.group_label,
        count(distinct li.barcode) as items_listed,
        count(distinct case when fl.first_listed between k.year_start and k.year_end
            then li.barcode end) as items_first_listed
    from evidenced as k
    inner join listings as li
        on li.listed_from <= k.year_end
        and (li.listed_to is null or li.listed_to >= k.year_start)
        and (k.barcode is null or li.barcode = k.barcode)
    inner join first_listing as fl
        on fl.barcode = li.barcode
    where k.fee_basis = 'per_item'
    group by k.contract_year, k.group_label
),

event_counts as (
    select contract_year, deduction_type, count(distinct event_key) as events
    from evidenced
    where fee_basis = 'per_event'
        and not contradicted
    group by contract_year, deduction_type
),

pct_groups as (
    select distinct contract_year, deduction_type, group_label, charged_start, charged_end
    from evidenced
    where fee_basis = 'pct_of_base'
),

pct_sell_in as (
    select
        g.contract_year,
        g.deduction_type,
        g.group_label,
        coalesce(sum(i.net_amount), 0) as sell_in_net,
        coalesce(sum(i.net_amount + i.vat_amount), 0) as sell_in_gross
    from pct_groups as g
    left join invoices as i
        on i.invoice_date between g.charged_start and g.charged_end
    group by g.contract_year, g.deduction_type, g.group_label
),

margin_groups as (
    select distinct
        contract_year, group_label, charged_start, charged_end, store_code, barcode,
        sales_vat_rate, margin_guarantee_pct
    from evidenced
    where fee_basis = 'margin_pct'
),

-- Margin guarantee: R = sell-out without VAT, C = units x supply price; the chain may
-- claim max(0, g x R - (R - C)).
margin_claimable as (
    select
        g.contract_year,
        g.group_label,
        -- cast: DuckDB divides decimals in floating point
        cast(coalesce(sum(s.sales_amount), 0) / (1 + g.sales_vat_rate) as decimal(18, 6))
            as revenue_ex_vat,
        coalesce(sum(s.units * p.supply_price), 0) as supply_cost,
        g.margin_guarantee_pct
    from margin_groups as g
    left join margin_sales as s
        on s.business_date between g.charged_start and g.charged_end
        and (g.store_code is null or s.store_code = g.store_code)
        and (g.barcode is null or s.barcode = g.barcode)
    left join products as p
        on p.barcode = s.barcode
    group by g.contract_year, g.group_label, g.sales_vat_rate, g.margin_guarantee_pct
),

-- The group's allowance before VAT conversion, and how it was computed.
allowed as (
    select
        k.*,
        case k.fee_basis
            when 'per_year' then k.fee_amount * coalesce(k.max_events, 1)
            when 'per_month' then k.fee_amount
            when 'per_store' then k.fee_amount * coalesce(
                case when k.deduction_type in ('listing_fee', 'new_store_fee')
                    then scy.stores_opened
                    when k.store_code is not null then 1
                    else scy.stores_open
                end, 0)
            when 'per_store_month' then k.fee_amount * coalesce(scm.stores_open, 0)
            when 'per_item' then k.fee_amount * coalesce(
                case when k.deduction_type = 'barcode_fee' then ic.items_first_listed
                    when k.barcode is not null then 1
                    else ic.items_listed
                end, 0)
            when 'per_event' then k.fee_amount * (
                case when k.max_events is not null and k.max_events < ec.events
                    then k.max_events else ec.events end)
            when 'pct_of_base' then k.fee_rate * (
                case when k.pct_base = 'sell_in_gross' then ps.sell_in_gross
                    else ps.sell_in_net end)
            when 'margin_pct' then
                case
                    when mc.margin_guarantee_pct * mc.revenue_ex_vat
                        - (mc.revenue_ex_vat - mc.supply_cost) > 0
                        then mc.margin_guarantee_pct * mc.revenue_ex_vat
                            - (mc.revenue_ex_vat - mc.supply_cost)
                    else 0
                end
        end as allowance_base,
        case k.fee_basis
            when 'per_year' then
                cast(k.fee_amount as varchar) || coalesce(' x ' || cast(k.max_events as varchar)
                || ' events', '') || ' per contract year'
            when 'per_month' then cast(k.fee_amount as varchar) || ' per month'
            when 'per_store' then cast(k.fee_amount as varchar) || ' x ' || cast(coalesce(
                case when k.deduction_type in ('listing_fee', 'new_store_fee')
                    then scy.stores_opened
                    when k.store_code is not null then 1
                    else scy.stores_open
                end, 0) as varchar)
                || case when k.deduction_type in ('listing_fee', 'new_store_fee')
                    then ' store(s) opened in the contract year' else ' store(s)' end
            when 'per_store_month' then cast(k.fee_amount as varchar) || ' x '
                || cast(coalesce(scm.stores_open, 0) as varchar) || ' store(s) open that month'
            when 'per_item' then cast(k.fee_amount as varchar) || ' x ' || cast(coalesce(
                case when k.deduction_type = 'barcode_fee' then ic.items_first_listed
                    when k.barcode is not null then 1
                    else ic.items_listed
                end, 0) as varchar)
                || case when k.deduction_type = 'barcode_fee'
                    then ' item(s) first listed in the contract year' else ' item(s)' end
            when 'per_event' then cast(k.fee_amount as varchar) || ' x '
                || cast(case when k.max_events is not null and k.max_events < ec.events
                    then k.max_events else ec.events end as varchar)
                || ' event(s) (' || cast(ec.events as varchar) || ' charged'
                || coalesce(', at most ' || cast(k.max_events as varchar), '') || ')'
            when 'pct_of_base' then cast(k.fee_rate as varchar) || ' x '
                || (case when k.pct_base = 'sell_in_gross' then 'sell-in gross '
                    else 'sell-in net ' end)
                || cast(cast(case when k.pct_base = 'sell_in_gross' then ps.sell_in_gross
                    else ps.sell_in_net end as decimal(16, 2)) as varchar)
            when 'margin_pct' then 'margin guarantee ' || cast(mc.margin_guarantee_pct as varchar)
                || ' x sell-out excl. VAT '
                || cast(cast(round(mc.revenue_ex_vat, 2) as decimal(16, 2)) as varchar)
                || ' - (that - supply cost '
                || cast(cast(mc.supply_cost as decimal(16, 2)) as varchar) || '), at least 0'
        end as allowance_how
    from evidenced as k
    left join store_counts_year as scy
        on scy.contract_year = k.contract_year
        and scy.group_label = k.group_label
    left join store_counts_month as scm
        on scm.contract_year = k.contract_year
        and scm.group_label = k.group_label
    left join item_counts as ic
        on ic.contract_year = k.contract_year
        and ic.group_label = k.group_label
    left join event_counts as ec
        on ec.contract_year = k.contract_year
        and ec.deduction_type = k.deduction_type
    left join pct_sell_in as ps
        on ps.contract_year = k.contract_year
        and ps.deduction_type = k.deduction_type
        and ps.group_label = k.group_label
    left join margin_claimable as mc
        on mc.contract_year = k.contract_year
        and mc.group_label = k.group_label
),

-- Allowance in charged money: a contract quoting amounts without VAT allows
-- amount x (1 + VAT rate) of a charged (VAT-inclusive) deduction.
charged_allowance as (
    select
        a.*,
        cast(round(a.allowance_base * a.vat_factor, 2) as decimal(16, 2)) as group_allowance,
        coalesce(
            sum(case when a.contradicted then 0 else a.amount end) over (
                partition by a.contract_year, a.deduction_type, a.group_label
                order by a.deduction_date, a.statement_no, a.deduction_no
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as charged_before
    from allowed as a
),

group_lines as (
    select
        contract_year,
        deduction_type,
        group_label,
        coalesce(
            string_agg(
                case when not contradicted then statement_no || '/' || deduction_no end, ', '
                order by deduction_date, statement_no, deduction_no
            ),
            ''
        ) as group_lines
    from evidenced
    group by contract_year, deduction_type, group_label
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        ca.statement_no,
        ca.deduction_no,
        ca.contract_year,
        ca.deduction_type,
        ca.fee_basis,
        ca.group_label,
        ca.allowance_how
        || case when ca.vat_factor <> 1
            then ', excl. VAT, x ' || cast(ca.vat_factor as varchar) || ' VAT'
            else '' end as allowance_note,
        ca.group_allowance,
        cast(sum(case when ca.contradicted then 0 else ca.amount end) over (
            partition by ca.contract_year, ca.deduction_type, ca.group_label
        ) as decimal(16, 2)) as group_charged,
        gl.group_lines,
        cast(
            case
                when ca.fee_basis is null or ca.contradicted then null
                -- a credit (negative line) is never disputed
                when ca.amount <= 0 then ca.amount
                when ca.group_allowance - ca.charged_before <= 0 then 0
                when ca.group_allowance - ca.charged_before < ca.amount
                    then ca.group_allowance - ca.charged_before
                else ca.amount
            end as decimal(14, 2)
        ) as line_allowed,
        cast(ca.onhand_days as integer) as onhand_days,
        cast(ca.zero_onhand_days as integer) as zero_onhand_days,
        ca.slice_date
    from charged_allowance as ca
    inner join group_lines as gl
        on gl.contract_year = ca.contract_year
        and gl.deduction_type = ca.deduction_type
        and gl.group_label = ca.group_label
)

select * from final
