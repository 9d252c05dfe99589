"""The scorecard's warehouse reads: ``ref_`` master data, ``mart_`` models, ``ops_`` logs.

Reads only warehouse tables (never the configuration): owners, chains, stores and
contract years come from the ``ref_`` tables that :mod:`ka_pipeline.masterdata`
publishes. :func:`build_scorecards` returns one :class:`Scorecard` per owner who owns
a chain, and :func:`build_rollups` one per manager (``ref_owner.manager_email``).

Guarantees: missing data (no mart row, no rebate row, no target, no LY) is ``None`` or
an empty list, never an error; every figure is a Decimal; the result is a pure
function of the warehouse state, the period and ``as_of`` (the business date the run
covers: days left and days overdue count from it).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ka_pipeline.scorecard import analytics
from ka_pipeline.scorecard.model import (
    ChainCard,
    ChainInfo,
    DayGap,
    Deduction,
    FeedProblem,
    Kpi,
    OverdueInvoice,
    OwnerInfo,
    RebateProgress,
    ReviewLine,
    Scorecard,
    StoreYoy,
)
from ka_pipeline.scorecard.periods import Period, checked, shift

TREND_PERIODS = 13
STORES_SHOWN = 3


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def owners(conn: sa.Connection) -> list[OwnerInfo]:
    """Owners who own at least one chain, by code (ref_owner, ref_chain)."""
    rows = conn.execute(
        sa.text(
            "select o.owner_code, o.name, o.email, o.locale, o.manager_email from ref_owner o"
            " where exists (select 1 from ref_chain c where c.owner_code = o.owner_code)"
            " order by o.owner_code"
        )
    )
    return [OwnerInfo(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def chains_of(conn: sa.Connection, owner_code: str) -> list[ChainInfo]:
    rows = conn.execute(
        sa.text(
            "select chain_code, name, name_local, owner_code from ref_chain"
            " where owner_code = :o order by chain_code"
        ),
        {"o": owner_code},
    )
    return [ChainInfo(*r) for r in rows]


def store_names(conn: sa.Connection, chain: str, lang: str) -> dict[str, str]:
    """Store code -> name in the reader's language: English mails use ``name_en`` where
    given, the local name otherwise."""
    column = "coalesce(name_en, name)" if lang == "en" else "name"
    rows = conn.execute(
        sa.text(f"select store_code, {column} from ref_store where chain_code = :c"),
        {"c": chain},
    )
    return dict(rows.all())


def contract_year(conn: sa.Connection, chain: str, day: date) -> int | None:
    """The contract year covering ``day`` (ref_contract)."""
    row = conn.execute(
        sa.text(
            "select contract_year from ref_contract where chain_code = :c"
            " and start_date <= :d and end_date >= :d order by contract_year desc limit 1"
        ),
        {"c": chain, "d": day},
    ).first()
    return int(row[0]) if row else None


_KPI_COLUMNS = (
    "sellout_amount, sellout_units, sellout_amount_ly, yoy_growth, {target}, sell_in_net,"
    " active_stores, distribution_rate, promo_share, trade_spend, trade_spend_rate, sales_days,"
    " sell_through_rate, lfl_growth, price_compliance, oos_rate, lost_sales_amount, null_reasons"
)
_KPI_MONTH = (
    f"select {_KPI_COLUMNS.format(target='target_amount, target_achievement')}"
    " from mart_chain_month where chain_code = :c and month = :s"
)
# Weeks have no target (targets are monthly): null, said as such.
_KPI_WEEK = (
    f"select {_KPI_COLUMNS.format(target='null as t, null as a')}"
    " from mart_chain_week where chain_code = :c and week_start = :s"
)


def _reasons(text: str | None) -> dict[str, str]:
    """'oos_rate: no on-hand sent; lfl_growth: ...' -> {kpi: reason}."""
    out = {}
    for part in (text or "").split(";"):
        kpi, _, reason = part.partition(":")
        if kpi.strip() and reason.strip():
            out[kpi.strip()] = reason.strip()
    return out


def kpi(conn: sa.Connection, chain: str, period: Period) -> Kpi | None:
    sql = _KPI_MONTH if period.kind == "month" else _KPI_WEEK
    r = conn.execute(sa.text(sql), {"c": chain, "s": period.start}).first()
    if r is None:
        return None
    return Kpi(
        sellout_amount=_dec(r[0]),
        sellout_units=int(r[1]),
        sellout_amount_ly=_dec(r[2]),
        yoy_growth=_dec(r[3]),
        target_amount=_dec(r[4]),
        target_achievement=_dec(r[5]),
        sell_in_net=_dec(r[6]),
        active_stores=int(r[7]),
        distribution_rate=_dec(r[8]),
        promo_share=_dec(r[9]),
        trade_spend=_dec(r[10]),
        trade_spend_rate=_dec(r[11]),
        sales_days=int(r[12]),
        sell_through_rate=_dec(r[13]),
        lfl_growth=_dec(r[14]),
        price_compliance=_dec(r[15]),
        oos_rate=_dec(r[16]),
        lost_sales_amount=_dec(r[17]),
        null_reasons=_reasons(r[18]),
    )


def trend(conn: sa.Connection, chain: str, period: Period) -> list[tuple[date, Decimal | None]]:
    """Sell-out of the period and the 12 before it, oldest first; None where missing."""
    first = shift(period, -(TREND_PERIODS - 1))
    table, column = (
        ("mart_chain_month", "month")
        if period.kind == "month"
        else ("mart_chain_week", "week_start")
    )
    found = {
        r[0]: _dec(r[1])
        for r in conn.execute(
            sa.text(
                f"select {column}, sellout_amount from {table}"
                f" where chain_code = :c and {column} >= :a and {column} <= :b"
            ),
            {"c": chain, "a": first.start, "b": period.start},
        )
    }
    starts = [shift(first, i).start for i in range(TREND_PERIODS)]
    return [(s, found.get(s)) for s in starts]


def rebate(conn: sa.Connection, chain: str, period_end: date) -> RebateProgress | None:
    """The latest progress row of the contract year covering the period end (ref_contract),
    dated on or before it; without a known contract year the latest such row."""
    year = contract_year(conn, chain, period_end)
    row = (
        conn.execute(
            sa.text(
                "select contract_year, as_of_date, eligible_base_ytd, tier_no_reached,"
                " rate_reached, rebate_earned, rebate_taken, rebate_balance, next_tier_no,"
                " next_tier_threshold, gap_to_next_tier, projection_method, projected_base,"
                " projected_tier_no, projected_rate, projected_rebate"
                " from mart_rebate_progress where chain_code = :c and as_of_date <= :d"
                + (" and contract_year = :y" if year is not None else "")
                + " order by as_of_date desc limit 1"
            ),
            {"c": chain, "d": period_end, "y": year},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return RebateProgress(
        contract_year=int(row["contract_year"]),
        as_of_date=row["as_of_date"],
        eligible_base_ytd=_dec(row["eligible_base_ytd"]),
        tier_no_reached=row["tier_no_reached"],
        rate_reached=_dec(row["rate_reached"]),
        rebate_earned=_dec(row["rebate_earned"]),
        rebate_taken=_dec(row["rebate_taken"]),
        rebate_balance=_dec(row["rebate_balance"]),
        next_tier_no=row["next_tier_no"],
        next_tier_threshold=_dec(row["next_tier_threshold"]),
        gap_to_next_tier=_dec(row["gap_to_next_tier"]),
        projection_method=row["projection_method"],
        projected_base=_dec(row["projected_base"]),
        projected_tier_no=row["projected_tier_no"],
        projected_rate=_dec(row["projected_rate"]),
        projected_rebate=_dec(row["projected_rebate"]),
    )


def deductions(conn: sa.Connection, chain: str, as_of: date) -> list[Deduction]:
    # Open items as of the run date: disputable, on a statement received by then, and
    # whose deadline has not passed (the deadline day itself still counts: 0 days left).
    rows = conn.execute(
        sa.text(
            "select chain_code, statement_no, deduction_no, deduction_date, deduction_type,"
            " deduction_text, reference, store_code, barcode, amount, status,"
            " expected_amount, disputable_amount, evidence, dispute_deadline"
            " from mart_deduction_check where chain_code = :c and disputable_amount > 0"
            " and dispute_deadline >= :d and business_date <= :d"
            " order by disputable_amount desc, dispute_deadline, statement_no, deduction_no"
        ),
        {"c": chain, "d": as_of},
    )
    return [
        Deduction(
            *r[:9],
            amount=_dec(r[9]),
            status=r[10],
            expected_amount=_dec(r[11]),
            disputable_amount=_dec(r[12]),
            evidence=r[13],
            dispute_deadline=r[14],
            days_left=(r[14] - as_of).days,
        )
        for r in rows
    ]


def review_lines(conn: sa.Connection, chain: str, as_of: date) -> list[ReviewLine]:
    """Unclassified lines on statements received by ``as_of``, largest first; the age
    counts from the statement date to ``as_of``."""
    rows = conn.execute(
        sa.text(
            "select chain_code, statement_no, deduction_no, statement_date, deduction_text,"
            " amount, store_code, dispute_deadline from mart_deduction_review"
            " where chain_code = :c and statement_date <= :d"
            " order by amount desc, statement_date, statement_no, deduction_no"
        ),
        {"c": chain, "d": as_of},
    )
    return [
        ReviewLine(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            _dec(r[5]),
            r[6],
            age_days=(as_of - r[3]).days,
            dispute_deadline=r[7],
            days_left=(r[7] - as_of).days,
        )
        for r in rows
    ]


def overdue(conn: sa.Connection, chain: str, as_of: date) -> list[OverdueInvoice]:
    """Invoices with an open balance whose due date is before ``as_of``."""
    rows = conn.execute(
        sa.text(
            "select chain_code, invoice_no, invoice_date, due_date, gross_amount, open_balance"
            " from mart_invoice_balance where chain_code = :c and open_balance > 0"
            " and due_date < :d and invoice_date <= :d"
            " order by open_balance desc, due_date, invoice_no"
        ),
        {"c": chain, "d": as_of},
    )
    return [
        OverdueInvoice(*r[:4], _dec(r[4]), _dec(r[5]), days_overdue=(as_of - r[3]).days)
        for r in rows
    ]


def feed_problems(conn: sa.Connection, chain: str, start: date, end: date) -> list[FeedProblem]:
    # Rejected files (unless a later load of the same slice succeeded) and loaded files
    # with quarantined rows. Superseded loads were replaced by a re-load: not a problem now.
    rows = conn.execute(
        sa.text(
            "select l.feed, l.business_date, l.file_name, l.status, l.rows_read,"
            " l.rows_loaded, l.rows_quarantined, l.message from ops_load_log l"
            " where l.chain_code = :c and l.business_date >= :a and l.business_date <= :b"
            " and ((l.status = 'rejected' and not exists ("
            "   select 1 from ops_load_log g where g.chain_code = l.chain_code"
            "   and g.feed = l.feed and g.business_date = l.business_date"
            "   and g.status in ('loaded', 'superseded') and g.load_id > l.load_id))"
            "  or (l.status = 'loaded' and l.rows_quarantined > 0))"
            " order by l.business_date, l.feed, l.load_id"
        ),
        {"c": chain, "a": start, "b": end},
    )
    return [
        FeedProblem(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), r[7]) for r in rows
    ]


def day_gaps(
    conn: sa.Connection, chain: str, start: date, end: date, as_of: date
) -> tuple[date | None, list[DayGap]]:
    """(the chain's first recorded day, the days of the period up to ``as_of`` that are
    not ``ok`` in ops_chain_day). Days before the chain's first recorded day are not
    gaps: a chain onboarded mid-period is not missing the days before its first file."""
    first = conn.execute(
        sa.text("select min(business_date) from ops_chain_day where chain_code = :c"),
        {"c": chain},
    ).scalar()
    if first is None:
        return None, []
    begin, last = max(start, first), min(end, as_of)
    states = {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            sa.text(
                "select business_date, status, reason from ops_chain_day"
                " where chain_code = :c and business_date >= :a and business_date <= :b"
            ),
            {"c": chain, "a": begin, "b": last},
        )
    }
    gaps = []
    for i in range((last - begin).days + 1):
        day = begin + timedelta(days=i)
        status, reason = states.get(day, ("not_run", None))
        if status != "ok":
            gaps.append(DayGap(day, status, reason))
    return first, gaps


def stores_by_yoy(
    conn: sa.Connection, chain: str, period: Period, names: dict[str, str]
) -> tuple[list[StoreYoy], list[StoreYoy]]:
    """The 3 best and 3 weakest stores of the month by YoY (months only: no store x week
    mart); a store is not listed twice, stores without LY are left out."""
    if period.kind != "month":
        return [], []
    base = (
        "select store_code, sellout_amount, sellout_amount_ly, yoy_growth from mart_store_month"
        " where chain_code = :c and month = :m and yoy_growth is not null"
    )

    def fetch(order: str) -> list[StoreYoy]:
        rows = conn.execute(
            sa.text(f"{base} order by yoy_growth {order}, store_code limit {STORES_SHOWN}"),
            {"c": chain, "m": period.start},
        )
        return [StoreYoy(r[0], names.get(r[0]), _dec(r[1]), _dec(r[2]), _dec(r[3])) for r in rows]

    top = fetch("desc")
    bottom = [s for s in fetch("asc") if s.store_code not in {t.store_code for t in top}]
    return top, bottom


def chain_card(
    conn: sa.Connection,
    chain: ChainInfo,
    owner_name: str,
    period: Period,
    as_of: date,
    lang: str,
    tables: set[str],
) -> ChainCard:
    names = store_names(conn, chain.code, lang)
    top, bottom = stores_by_yoy(conn, chain.code, period, names)
    first, gaps = day_gaps(conn, chain.code, period.start, period.end, as_of)
    return ChainCard(
        chain=chain,
        owner_name=owner_name,
        kpi=kpi(conn, chain.code, period),
        trend=trend(conn, chain.code, period),
        rebate=rebate(conn, chain.code, period.end),
        deductions=deductions(conn, chain.code, as_of),
        review=review_lines(conn, chain.code, as_of),
        overdue=overdue(conn, chain.code, as_of),
        feed_problems=feed_problems(conn, chain.code, period.start, period.end),
        day_gaps=gaps,
        history_start=first,
        top_stores=top,
        bottom_stores=bottom,
        analytics=analytics.read(conn, chain.code, period, names, tables),
    )


def _lang(locale: str) -> str:
    return "zh" if locale.lower().startswith("zh") else "en"


def build_scorecards(
    engine: sa.Engine,
    kind: str,
    period_start: date,
    as_of: date,
    owner_codes: list[str] | None = None,
) -> list[Scorecard]:
    """One scorecard of the period per owner who owns at least one chain (or of the
    given owners), ordered by owner code; each covers only that owner's chains."""
    period = checked(kind, period_start)
    cards: list[Scorecard] = []
    with engine.connect() as conn:
        tables = analytics.present_tables(conn)
        for owner in owners(conn):
            if owner_codes is not None and owner.code not in owner_codes:
                continue
            lang = _lang(owner.locale)
            chain_cards = [
                chain_card(conn, c, owner.name, period, as_of, lang, tables)
                for c in chains_of(conn, owner.code)
            ]
            cards.append(Scorecard(owner, period, as_of, chain_cards))
    return cards


def team_code(manager_email: str) -> str:
    """The outbox owner code of a manager's roll-up."""
    return "team-" + manager_email.lower()


def build_rollups(
    engine: sa.Engine,
    kind: str,
    period_start: date,
    as_of: date,
    team_codes: list[str] | None = None,
) -> list[Scorecard]:
    """One roll-up per manager (``ref_owner.manager_email``) over every chain of the
    owners reporting to them. Its language: the manager's own when the manager is also
    an owner (same email), else the language most of the team uses (ties: zh-CN)."""
    period = checked(kind, period_start)
    cards: list[Scorecard] = []
    with engine.connect() as conn:
        tables = analytics.present_tables(conn)
        everyone = owners(conn)
        all_owners = conn.execute(sa.text("select email, locale, name from ref_owner")).all()
        managers = sorted({o.manager_email for o in everyone if o.manager_email})
        for email in managers:
            code = team_code(email)
            if team_codes is not None and code not in team_codes:
                continue
            team = [o for o in everyone if o.manager_email == email]
            own = [r for r in all_owners if r[0].lower() == email.lower()]
            if own:
                locale, name = own[0][1], own[0][2]
            else:
                zh = sum(1 for o in team if _lang(o.locale) == "zh")
                locale, name = ("zh-CN" if zh * 2 >= len(team) else "en"), email
            lang = _lang(locale)
            team_chains = sorted(
                ((c, o) for o in team for c in chains_of(conn, o.code)), key=lambda p: p[0].code
            )
            chain_cards = [
                chain_card(conn, c, o.name, period, as_of, lang, tables) for c, o in team_chains
            ]
            manager = OwnerInfo(code, name, email, locale, None)
            cards.append(Scorecard(manager, period, as_of, chain_cards, rollup=True))
    return cards
