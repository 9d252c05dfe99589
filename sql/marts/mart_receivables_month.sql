-- mart_receivables_month: per chain x calendar month, as of the month end (the current
-- month: the last data date): open and overdue receivables with ageing, DSO, and the
-- amount-weighted days to pay and days late of the month's payments (domain.md 8).
-- Rules: docs/models.md (receivables). Incremental: builds the months >= :since.
-- Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

-- one import of the chain's invoices per use: PostgreSQL materializes a CTE referenced
-- more than once (every invoice) and inlines one referenced once (the lookups by
-- invoice_no then use the primary key)
-- the invoices per day (one due date per day): a day whose payments all fall by a
-- month's end has its final balances then
invoice_days as (
    select invoice_date, due_date, gross_amount, open_balance, open_positive, last_payment_date
    from int_invoice_day
    where chain_code = :chain_code
),

-- the invoices of the days with a payment after the slice's start, for the months
-- whose end comes before such a payment
invoices_for_balances as (
    select invoice_no, invoice_date, due_date, gross_amount, open_balance, last_payment_date
    from int_invoice_balance
    where chain_code = :chain_code
        and invoice_date in (
            select invoice_date from int_invoice_day
            where chain_code = :chain_code and last_payment_date >= :since
        )
),

invoices_for_payments as (
    select invoice_no, invoice_date
    from int_invoice_balance
    where chain_code = :chain_code
),

invoices_for_unknown as (
    select invoice_no
    from int_invoice_balance
    where chain_code = :chain_code
),

invoices_for_span as (
    select invoice_date
    from int_invoice_day
    where chain_code = :chain_code
),

payments as (
    select invoice_no, payment_date, amount
    from stg_payments
    where chain_code = :chain_code
),

-- the payments of the slice's months (:since is a month start): paid amounts, days to
-- pay and unmatched payments of a month read its own payments only
slice_payments as (
    select invoice_no, payment_date, amount
    from stg_payments
    where chain_code = :chain_code
        and payment_date >= :since
),

chain as (
    select payment_terms_days
    from ref_chain
    where chain_code = :chain_code
),

as_of as (
    select last_data_date as last_date
    from int_chain_as_of
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

-- payments on known invoices, with their days to pay (a payment dated before its
-- invoice counts 0 days: it did not take the chain any time)
known_payments as (
    select
        p.invoice_no,
        p.payment_date,
        p.amount,
        case
            when p.payment_date > i.invoice_date then cast(p.payment_date - i.invoice_date as integer)
            else 0
        end as days_to_pay
    from slice_payments as p
    inner join invoices_for_payments as i
        on i.invoice_no = p.invoice_no
),

unknown_payments as (
    select p.payment_date, p.amount
    from slice_payments as p
    where not exists (select 1 from invoices_for_unknown as i where i.invoice_no = p.invoice_no)
),

span as (
    select
        cast(date_trunc('month', min(i.invoice_date)) as date) as first_month,
        ld.last_date
    from invoices_for_span as i
    cross join as_of as ld
    group by ld.last_date
),

months as (
    select
        cast(s.first_month + g.n * interval '1 month' as date) as month,
        case
            when cast(s.first_month + (g.n + 1) * interval '1 month' as date) - 1 < s.last_date
                then cast(s.first_month + (g.n + 1) * interval '1 month' as date) - 1
            else s.last_date
        end as as_of_date
    from span as s
    cross join generate_series(0, 1199) as g(n)
    where g.n <= cast(
        (extract(year from s.last_date) - extract(year from s.first_month)) * 12
        + extract(month from s.last_date) - extract(month from s.first_month)
        as integer
    )
        -- incremental: the months of the slice (>= :since, a month start); each is as of
        -- its own end, so earlier months are unchanged by later data
        and cast(s.first_month + g.n * interval '1 month' as date) >= :since
),

-- An invoice whose payments are all dated on or before the as-of date has its final
-- open balance then (int_invoice_balance); only one paid after it (a past month's
-- invoice paid later) reads its payments up to the as-of date.
paid_as_of as (
    select m.as_of_date, p.invoice_no, sum(p.amount) as paid
    from months as m
    inner join invoices_for_balances as i
        on i.invoice_date <= m.as_of_date
        and i.last_payment_date > m.as_of_date
    inner join payments as p
        on p.invoice_no = i.invoice_no
        and p.payment_date <= m.as_of_date
    group by m.as_of_date, p.invoice_no
),

-- open balances as of each month end: whole days whose payments all fall by then, and
-- the invoices of the other days one by one (those paid later read their payments up
-- to the month end)
balances as (
    select
        m.month,
        m.as_of_date,
        d.invoice_date,
        d.gross_amount,
        d.open_balance,
        d.open_positive,
        d.due_date
    from months as m
    inner join invoice_days as d
        on d.invoice_date <= m.as_of_date
        and (d.last_payment_date is null or d.last_payment_date <= m.as_of_date)
    union all
    select
        o.month,
        o.as_of_date,
        o.invoice_date,
        o.gross_amount,
        o.open_balance,
        case when o.open_balance > 0 then o.open_balance else 0 end as open_positive,
        o.due_date
    from (
        select
            m.month,
            m.as_of_date,
            i.invoice_date,
            i.due_date,
            i.gross_amount,
            case
                when i.last_payment_date is null or i.last_payment_date <= m.as_of_date
                    then i.open_balance
                else i.gross_amount - coalesce(pa.paid, 0)
            end as open_balance
        from months as m
        inner join invoices_for_balances as i
            on i.invoice_date <= m.as_of_date
        inner join invoice_days as d
            on d.invoice_date = i.invoice_date
            and d.last_payment_date > m.as_of_date
        left join paid_as_of as pa
            on pa.as_of_date = m.as_of_date
            and pa.invoice_no = i.invoice_no
    ) as o
),

aged_balances as (
    select
        b.*,
        case
            when b.as_of_date > b.due_date then cast(b.as_of_date - b.due_date as integer)
            else 0
        end as days_past_due
    from balances as b
),

balance_totals as (
    select
        month,
        sum(open_balance) as open_receivables,
        sum(case when days_past_due > 0 then open_positive else 0 end) as overdue_amount,
        sum(case when days_past_due between 1 and 30 then open_positive else 0 end)
            as overdue_0_30,
        sum(case when days_past_due between 31 and 60 then open_positive else 0 end)
            as overdue_31_60,
        sum(case when days_past_due between 61 and 90 then open_positive else 0 end)
            as overdue_61_90,
        sum(case when days_past_due > 90 then open_positive else 0 end) as overdue_90_plus,
        sum(case when invoice_date > as_of_date - 90 then gross_amount else 0 end)
            as sell_in_gross_90d
    from aged_balances
    group by month
),

month_payments as (
    select
        m.month,
        sum(p.amount) as paid_amount,
        sum(p.amount * p.days_to_pay) as weighted_days
    from months as m
    inner join known_payments as p
        on p.payment_date between m.month and m.as_of_date
    group by m.month
),

month_unknown as (
    select m.month, sum(u.amount) as amount
    from months as m
    inner join unknown_payments as u
        on u.payment_date between m.month and m.as_of_date
    group by m.month
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        m.month,
        m.as_of_date,
        cast(coalesce(b.open_receivables, 0) as decimal(16, 2)) as open_receivables,
        cast(coalesce(b.overdue_amount, 0) as decimal(16, 2)) as overdue_amount,
        cast(coalesce(b.overdue_0_30, 0) as decimal(16, 2)) as overdue_0_30,
        cast(coalesce(b.overdue_31_60, 0) as decimal(16, 2)) as overdue_31_60,
        cast(coalesce(b.overdue_61_90, 0) as decimal(16, 2)) as overdue_61_90,
        cast(coalesce(b.overdue_90_plus, 0) as decimal(16, 2)) as overdue_90_plus,
        cast(coalesce(b.sell_in_gross_90d, 0) as decimal(16, 2)) as sell_in_gross_90d,
        case
            when coalesce(b.sell_in_gross_90d, 0) <> 0
                then cast(round(b.open_receivables * 90 / b.sell_in_gross_90d, 2)
                    as decimal(12, 2))
        end as dso_days,
        cast(coalesce(mp.paid_amount, 0) as decimal(16, 2)) as paid_amount,
        case
            when coalesce(mp.paid_amount, 0) <> 0
                then cast(round(mp.weighted_days / mp.paid_amount, 2) as decimal(12, 2))
        end as days_to_pay,
        case
            when coalesce(mp.paid_amount, 0) <> 0
                then cast(
                    round(mp.weighted_days / mp.paid_amount - c.payment_terms_days, 2)
                    as decimal(12, 2)
                )
        end as days_late,
        cast(coalesce(mu.amount, 0) as decimal(16, 2)) as unmatched_payment_amount
    from months as m
    cross join chain as c
    left join balance_totals as b
        on b.month = m.month
    left join month_payments as mp
        on mp.month = m.month
    left join month_unknown as mu
        on mu.month = m.month
)

select * from final
