"""Scorecards: one email per account owner and month, covering only that owner's chains.

:func:`build_scorecards` reads everything from the warehouse with SQL (marts filled by
the models in ``sql/``, bookkeeping in ``ops_*``) and returns plain dataclasses;
:func:`render` turns one into a :class:`RenderedMail` (subject, HTML, plain text, inline
PNG trend charts, CSV attachment) with the jinja2 templates in ``templates/``, in the
owner's language (zh-CN or en). Delivery is :mod:`ka_pipeline.delivery`.

Guarantees: missing data (no mart row, no rebate row, no target, no LY) renders as
"—" / "n/a", never an error; every figure is a Decimal until it is formatted; the
output is deterministic for a given warehouse state and ``as_of``. The rules chosen
where domain.md is silent are in docs/scorecard.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import sqlalchemy as sa
import yaml
from PIL import Image, ImageDraw

from ka_pipeline.config import Chain, Config, Owner

TEMPLATES = Path(__file__).resolve().parent / "templates"
DASH = "—"
TREND_MONTHS = 13
STORES_SHOWN = 3
DEDUCTIONS_SHOWN = 10  # in the mail body; the CSV attachment has them all

# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class MonthKpi:
    """One mart_chain_month row (domain.md section 4)."""

    sellout_amount: Decimal
    sellout_units: int
    sellout_amount_ly: Decimal | None
    yoy_growth: Decimal | None
    target_amount: Decimal | None
    target_achievement: Decimal | None
    sell_in_net: Decimal
    active_stores: int
    distribution_rate: Decimal | None
    promo_share: Decimal | None
    trade_spend: Decimal
    trade_spend_rate: Decimal | None
    sales_days: int


@dataclass(frozen=True)
class RebateProgress:
    """The latest mart_rebate_progress row of the contract year (domain.md section 5)."""

    contract_year: int
    as_of_date: date
    eligible_base_ytd: Decimal
    tier_no_reached: int | None
    rate_reached: Decimal | None
    rebate_earned: Decimal
    rebate_taken: Decimal
    rebate_balance: Decimal
    next_tier_no: int | None
    next_tier_threshold: Decimal | None
    gap_to_next_tier: Decimal | None


@dataclass(frozen=True)
class Deduction:
    """A deduction line worth disputing (mart_deduction_check, disputable > 0)."""

    chain_code: str
    statement_no: str
    deduction_no: str
    deduction_date: date
    deduction_type: str
    deduction_text: str
    reference: str | None
    store_code: str | None
    barcode: str | None
    amount: Decimal
    status: str
    expected_amount: Decimal
    disputable_amount: Decimal
    evidence: str
    dispute_deadline: date
    days_left: int


@dataclass(frozen=True)
class FeedProblem:
    """A rejected file, or a loaded file with quarantined rows (ops_load_log)."""

    feed: str
    business_date: date
    file_name: str
    status: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    message: str | None


@dataclass(frozen=True)
class StoreYoy:
    store_code: str
    store_name: str | None
    sellout_amount: Decimal
    sellout_amount_ly: Decimal | None
    yoy_growth: Decimal


@dataclass(frozen=True)
class ChainCard:
    chain: Chain
    kpi: MonthKpi | None
    trend: list[tuple[date, Decimal | None]]  # 13 months, oldest first, ends at the period
    rebate: RebateProgress | None
    deductions: list[Deduction]  # disputable amount desc
    feed_problems: list[FeedProblem]
    missing_sales_dates: list[date]
    top_stores: list[StoreYoy]
    bottom_stores: list[StoreYoy]

    @property
    def code(self) -> str:
        return self.chain.code

    @property
    def disputable_total(self) -> Decimal:
        return sum((d.disputable_amount for d in self.deductions), Decimal("0.00"))


@dataclass(frozen=True)
class FigureChange:
    """One figure of a period that changed since the last mail (a revision)."""

    chain_code: str
    label: str  # a strings.yaml key
    kind: str  # money | pct | int | text
    before: str | None
    after: str | None


# The figures of a period that a revision compares: (strings.yaml key, kind, getter).
# They come from the period's data only, never from the run date, so a mail is revised
# when its data changes and not because a day passed.
FIGURES: tuple[tuple[str, str, Callable[[ChainCard], Any]], ...] = (
    ("sellout", "money", lambda c: c.kpi and c.kpi.sellout_amount),
    ("units", "int", lambda c: c.kpi and c.kpi.sellout_units),
    ("sellout_ly", "money", lambda c: c.kpi and c.kpi.sellout_amount_ly),
    ("yoy", "pct", lambda c: c.kpi and c.kpi.yoy_growth),
    ("target", "money", lambda c: c.kpi and c.kpi.target_amount),
    ("achievement", "pct", lambda c: c.kpi and c.kpi.target_achievement),
    ("sell_in", "money", lambda c: c.kpi and c.kpi.sell_in_net),
    ("active_stores", "int", lambda c: c.kpi and c.kpi.active_stores),
    ("distribution", "pct", lambda c: c.kpi and c.kpi.distribution_rate),
    ("promo_share", "pct", lambda c: c.kpi and c.kpi.promo_share),
    ("trade_spend", "money", lambda c: c.kpi and c.kpi.trade_spend),
    ("trade_spend_rate", "pct", lambda c: c.kpi and c.kpi.trade_spend_rate),
    ("sales_days", "int", lambda c: c.kpi and c.kpi.sales_days),
    ("eligible_base", "money", lambda c: c.rebate and c.rebate.eligible_base_ytd),
    ("earned", "money", lambda c: c.rebate and c.rebate.rebate_earned),
    ("taken", "money", lambda c: c.rebate and c.rebate.rebate_taken),
    ("gap", "money", lambda c: c.rebate and c.rebate.gap_to_next_tier),
    ("feed_issues", "int", lambda c: len(c.feed_problems)),
)


def figures(card: Scorecard) -> dict[str, str | None]:
    """The period's figures, ``"<chain>.<label>" -> value as text``, plus its gaps."""
    values: dict[str, str | None] = {}
    for chain in card.chains:
        for label, _, get in FIGURES:
            value = get(chain)
            values[f"{chain.code}.{label}"] = None if value is None else str(value)
        gaps = card.gaps.get(chain.code, [])
        values[f"{chain.code}.gaps_title"] = "; ".join(f"{d} {state}" for d, state in gaps) or None
    return values


def figure_changes(
    before: dict[str, str | None], after: dict[str, str | None]
) -> tuple[FigureChange, ...]:
    """The figures that differ, in the order of :data:`FIGURES`, gaps last."""
    kinds = {label: kind for label, kind, _ in FIGURES} | {"gaps_title": "gaps"}
    changes = []
    for key in after.keys() | before.keys():
        if before.get(key) != after.get(key):
            chain, _, label = key.partition(".")
            changes.append(
                FigureChange(
                    chain, label, kinds.get(label, "text"), before.get(key), after.get(key)
                )
            )
    order = {label: i for i, label in enumerate(kinds)}
    return tuple(sorted(changes, key=lambda c: (c.chain_code, order.get(c.label, 99))))


@dataclass(frozen=True)
class Headline:
    sellout: Decimal | None
    target: Decimal | None
    achievement: Decimal | None
    sellout_ly: Decimal | None
    yoy: Decimal | None
    disputable: Decimal
    disputable_count: int
    feed_problems: int
    missing_sales_days: int


@dataclass(frozen=True)
class Scorecard:
    owner: Owner
    period_kind: str  # "month"
    period_start: date
    period_end: date  # inclusive
    as_of: date
    chains: list[ChainCard]
    version: int = 1  # > 1: a revision of a mail already sent (ops_outbox)
    changes: tuple[FigureChange, ...] = ()  # what changed since the last version
    # chain -> the days keeping the period from complete: (day, failed|incomplete|not_run)
    gaps: dict[str, list[tuple[date, str]]] = field(default_factory=dict)

    @property
    def message_key(self) -> str:
        key = f"{self.owner.code}|{self.period_kind}|{self.period_start.isoformat()}"
        return key if self.version == 1 else f"{key}|r{self.version}"

    @property
    def headline(self) -> Headline:
        """Owner totals: achievement over chains with a target, YoY over chains with LY."""
        kpis = [c.kpi for c in self.chains if c.kpi is not None]
        sellout = sum((k.sellout_amount for k in kpis), Decimal("0.00")) if kpis else None
        with_target = [k for k in kpis if k.target_amount]
        target = sum((k.target_amount for k in with_target), Decimal("0.00"))
        with_ly = [k for k in kpis if k.sellout_amount_ly]
        ly = sum((k.sellout_amount_ly for k in with_ly), Decimal("0.00"))
        achieved = sum((k.sellout_amount for k in with_target), Decimal("0.00"))
        grown = sum((k.sellout_amount for k in with_ly), Decimal("0.00"))
        deductions = self.deductions
        return Headline(
            sellout=sellout,
            target=target if with_target else None,
            achievement=achieved / target if with_target else None,
            sellout_ly=ly if with_ly else None,
            yoy=grown / ly - 1 if with_ly else None,
            disputable=sum((d.disputable_amount for d in deductions), Decimal("0.00")),
            disputable_count=len(deductions),
            feed_problems=sum(len(c.feed_problems) for c in self.chains),
            missing_sales_days=sum(len(c.missing_sales_dates) for c in self.chains),
        )

    @property
    def deductions(self) -> list[Deduction]:
        rows = [d for c in self.chains for d in c.deductions]
        return sorted(
            rows,
            key=lambda d: (
                -d.disputable_amount,
                d.dispute_deadline,
                d.chain_code,
                d.statement_no,
                d.deduction_no,
            ),
        )


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    html: str
    text: str
    inline_images: dict[str, bytes] = field(default_factory=dict)  # Content-ID (no <>) -> PNG
    attachments: dict[str, bytes] = field(default_factory=dict)  # filename -> bytes


# --------------------------------------------------------------------------- reading


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _contract_year(conn: sa.Connection, config: Config, chain: str, day: date) -> int | None:
    """The contract year covering ``day``: from the config, else from ref_contract."""
    for contract in config.contracts:
        if str(contract.get("chain")) != chain:
            continue
        start, end = contract.get("start"), contract.get("end")
        start = start if isinstance(start, date) else date.fromisoformat(str(start))
        end = end if isinstance(end, date) else date.fromisoformat(str(end))
        if start <= day <= end:
            return int(contract["year"])
    row = conn.execute(
        sa.text(
            "select contract_year from ref_contract where chain_code = :c"
            " and start_date <= :d and end_date >= :d order by contract_year desc limit 1"
        ),
        {"c": chain, "d": day},
    ).first()
    return int(row[0]) if row else None


def _kpi(conn: sa.Connection, chain: str, month: date) -> MonthKpi | None:
    row = (
        conn.execute(
            sa.text(
                "select sellout_amount, sellout_units, sellout_amount_ly, yoy_growth,"
                " target_amount, target_achievement, sell_in_net, active_stores,"
                " distribution_rate, promo_share, trade_spend, trade_spend_rate, sales_days"
                " from mart_chain_month where chain_code = :c and month = :m"
            ),
            {"c": chain, "m": month},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return MonthKpi(
        sellout_amount=_dec(row["sellout_amount"]),
        sellout_units=int(row["sellout_units"]),
        sellout_amount_ly=_dec(row["sellout_amount_ly"]),
        yoy_growth=_dec(row["yoy_growth"]),
        target_amount=_dec(row["target_amount"]),
        target_achievement=_dec(row["target_achievement"]),
        sell_in_net=_dec(row["sell_in_net"]),
        active_stores=int(row["active_stores"]),
        distribution_rate=_dec(row["distribution_rate"]),
        promo_share=_dec(row["promo_share"]),
        trade_spend=_dec(row["trade_spend"]),
        trade_spend_rate=_dec(row["trade_spend_rate"]),
        sales_days=int(row["sales_days"]),
    )


def _trend(conn: sa.Connection, chain: str, month: date) -> list[tuple[date, Decimal | None]]:
    first = _month_add(month, -(TREND_MONTHS - 1))
    found = {
        r[0]: _dec(r[1])
        for r in conn.execute(
            sa.text(
                "select month, sellout_amount from mart_chain_month"
                " where chain_code = :c and month >= :a and month <= :b"
            ),
            {"c": chain, "a": first, "b": month},
        )
    }
    months = [_month_add(first, i) for i in range(TREND_MONTHS)]
    return [(m, found.get(m)) for m in months]


def _rebate(
    conn: sa.Connection, config: Config, chain: str, period_end: date
) -> RebateProgress | None:
    year = _contract_year(conn, config, chain, period_end)
    # Without a known contract year, the latest row on or before the period end is used.
    row = (
        conn.execute(
            sa.text(
                "select contract_year, as_of_date, eligible_base_ytd, tier_no_reached,"
                " rate_reached, rebate_earned, rebate_taken, rebate_balance, next_tier_no,"
                " next_tier_threshold, gap_to_next_tier from mart_rebate_progress"
                " where chain_code = :c and as_of_date <= :d"
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
    )


def _deductions(conn: sa.Connection, chain: str, as_of: date) -> list[Deduction]:
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
    ).mappings()
    return [
        Deduction(
            chain_code=r["chain_code"],
            statement_no=r["statement_no"],
            deduction_no=r["deduction_no"],
            deduction_date=r["deduction_date"],
            deduction_type=r["deduction_type"],
            deduction_text=r["deduction_text"],
            reference=r["reference"],
            store_code=r["store_code"],
            barcode=r["barcode"],
            amount=_dec(r["amount"]),
            status=r["status"],
            expected_amount=_dec(r["expected_amount"]),
            disputable_amount=_dec(r["disputable_amount"]),
            evidence=r["evidence"],
            dispute_deadline=r["dispute_deadline"],
            days_left=(r["dispute_deadline"] - as_of).days,
        )
        for r in rows
    ]


def _feed_problems(conn: sa.Connection, chain: str, start: date, end: date) -> list[FeedProblem]:
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
    ).mappings()
    return [
        FeedProblem(
            feed=r["feed"],
            business_date=r["business_date"],
            file_name=r["file_name"],
            status=r["status"],
            rows_read=int(r["rows_read"]),
            rows_loaded=int(r["rows_loaded"]),
            rows_quarantined=int(r["rows_quarantined"]),
            message=r["message"],
        )
        for r in rows
    ]


def _missing_sales(
    conn: sa.Connection, chain: str, start: date, end: date, as_of: date
) -> list[date]:
    # A day's sales file arrives the next night: dates up to as_of - 1 are due.
    last = min(end, as_of - timedelta(days=1))
    if last < start:
        return []
    loaded = {
        r[0]
        for r in conn.execute(
            sa.text(
                "select distinct business_date from ops_load_log where chain_code = :c"
                " and feed = 'sales' and status in ('loaded', 'superseded')"
                " and business_date >= :a and business_date <= :b"
            ),
            {"c": chain, "a": start, "b": last},
        )
    }
    days = (last - start).days + 1
    return [d for d in (start + timedelta(days=i) for i in range(days)) if d not in loaded]


def _stores(
    conn: sa.Connection, config: Config, chain: str, month: date
) -> tuple[list[StoreYoy], list[StoreYoy]]:
    names: dict[str, str] = {}
    if config.stores is not None and len(config.stores):
        part = config.stores[config.stores["chain_code"] == chain]
        names = dict(zip(part["store_code"], part["name"], strict=True))
    base = (
        "select s.store_code, r.name, s.sellout_amount, s.sellout_amount_ly, s.yoy_growth"
        " from mart_store_month s left join ref_store r"
        " on r.chain_code = s.chain_code and r.store_code = s.store_code"
        " where s.chain_code = :c and s.month = :m and s.yoy_growth is not null"
    )

    def fetch(order: str) -> list[StoreYoy]:
        rows = conn.execute(
            sa.text(f"{base} order by s.yoy_growth {order}, s.store_code limit {STORES_SHOWN}"),
            {"c": chain, "m": month},
        )
        return [
            StoreYoy(r[0], r[1] or names.get(r[0]), _dec(r[2]), _dec(r[3]), _dec(r[4]))
            for r in rows
        ]

    top = fetch("desc")
    bottom = [s for s in fetch("asc") if s.store_code not in {t.store_code for t in top}]
    return top, bottom


def build_scorecards(
    engine: sa.Engine, config: Config, period_start: date, period_end: date, as_of: date
) -> list[Scorecard]:
    """One monthly scorecard per owner who owns at least one chain, ordered by owner code.

    ``period_start`` is the first day of a calendar month and ``period_end`` its last day
    (inclusive); ``as_of`` is the run date (days left to dispute count from it).
    """
    if period_start.day != 1 or period_end != _month_add(period_start, 1) - timedelta(days=1):
        raise ValueError(
            f"a monthly scorecard needs a calendar month, got {period_start}..{period_end}"
        )
    cards: list[Scorecard] = []
    with engine.connect() as conn:
        for owner in sorted(config.owners.values(), key=lambda o: o.code):
            chains = sorted(
                (c for c in config.chains.values() if c.owner == owner.code),
                key=lambda c: c.code,
            )
            if not chains:
                continue
            chain_cards = []
            for chain in chains:
                top, bottom = _stores(conn, config, chain.code, period_start)
                chain_cards.append(
                    ChainCard(
                        chain=chain,
                        kpi=_kpi(conn, chain.code, period_start),
                        trend=_trend(conn, chain.code, period_start),
                        rebate=_rebate(conn, config, chain.code, period_end),
                        deductions=_deductions(conn, chain.code, as_of),
                        feed_problems=_feed_problems(conn, chain.code, period_start, period_end),
                        missing_sales_dates=_missing_sales(
                            conn, chain.code, period_start, period_end, as_of
                        ),
                        top_stores=top,
                        bottom_stores=bottom,
                    )
                )
            cards.append(Scorecard(owner, "month", period_start, period_end, as_of, chain_cards))
    return cards


# --------------------------------------------------------------------------- formatting

_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")
UP, DOWN = "▲", "▼"
GREEN, RED, GREY = "#15803d", "#b91c1c", "#6b7280"


def fmt_money(value: Decimal | None, symbol: str = "¥") -> str:
    """¥1,234,567.89; negative -¥1,234.00; None is a dash."""
    if value is None:
        return DASH
    q = Decimal(value).quantize(_CENT, ROUND_HALF_UP)
    return f"{'-' if q < 0 else ''}{symbol}{abs(q):,.2f}"


def fmt_amount(value: Decimal | None) -> str:
    """1,234,567.89 without a currency symbol."""
    return fmt_money(value, symbol="")


def fmt_int(value: int | None) -> str:
    return DASH if value is None else f"{int(value):,}"


def fmt_pct(ratio: Decimal | None, signed: bool = False) -> str:
    """A ratio as a percentage with 1 decimal: 0.125 -> 12.5%, signed -> +12.5%."""
    if ratio is None:
        return DASH
    q = (Decimal(ratio) * 100).quantize(_TENTH, ROUND_HALF_UP)
    if q == 0:
        q = abs(q)
    sign = "+" if signed and q > 0 else ""
    return f"{sign}{q:,.1f}%"


def direction(value: Decimal | None, baseline: Decimal | int = 0) -> int:
    """1 above the baseline, -1 below, 0 equal or unknown."""
    if value is None:
        return 0
    return (value > baseline) - (value < baseline)


def mark(value: Decimal | None, baseline: Decimal | int = 0) -> str:
    return {1: UP, -1: DOWN, 0: ""}[direction(value, baseline)]


def compress_dates(days: list[date], lang: str) -> str:
    """[1, 2, 3, 5] October -> '10-01–10-03, 10-05' (or with 月/日 in Chinese)."""
    if not days:
        return ""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])

    def one(d: date) -> str:
        return f"{d.month}月{d.day}日" if lang == "zh" else d.strftime("%m-%d")

    parts = [one(r[0]) if len(r) == 1 else f"{one(r[0])}–{one(r[-1])}" for r in runs]
    return ("、" if lang == "zh" else ", ").join(parts)


# --------------------------------------------------------------------------- chart


def trend_png(values: list[Decimal | None], width: int = 560, height: int = 96) -> bytes:
    """A 13-bar sell-out chart, last bar highlighted, drawn at 2x for sharp screens.

    No text inside the image (labels are in the HTML), so no CJK font is needed.
    Missing months are a short grey stub at the baseline.
    """
    scale = 2
    w, h = width * scale, height * scale
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    known = [float(v) for v in values if v is not None]
    top = max([v for v in known if v > 0], default=0.0)
    n = max(len(values), 1)
    gap = 6 * scale
    bar_w = (w - gap * (n + 1)) / n
    base = h - 4 * scale
    usable = base - 6 * scale
    draw.line([(0, base), (w, base)], fill="#d1d5db", width=scale)
    for i, value in enumerate(values):
        x0 = gap + i * (bar_w + gap)
        x1 = x0 + bar_w
        last = i == n - 1
        if value is None:
            draw.rectangle([x0, base - 2 * scale, x1, base], fill="#e5e7eb")
            continue
        v = max(float(value), 0.0)
        bar_h = usable * v / top if top else 0
        colour = "#1d4ed8" if last else "#93c5fd"
        draw.rectangle([x0, base - max(bar_h, scale), x1, base], fill=colour)
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def text_sparkline(values: list[Decimal | None]) -> str:
    """The same trend for the plain-text part: ▁▂▃▄▅▆▇█, '·' where a month is missing."""
    blocks = "▁▂▃▄▅▆▇█"
    known = [float(v) for v in values if v is not None]
    top = max(known, default=0.0)
    low = min(known, default=0.0)
    span = top - low
    out = []
    for v in values:
        if v is None:
            out.append("·")
        else:
            idx = int((float(v) - low) / span * (len(blocks) - 1)) if span else len(blocks) // 2
            out.append(blocks[idx])
    return "".join(out)


# --------------------------------------------------------------------------- rendering


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    """UI strings per locale, from templates/strings.yaml."""
    return yaml.safe_load((TEMPLATES / "strings.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        money=fmt_money,
        amount=fmt_amount,
        int=fmt_int,
        pct=fmt_pct,
        spct=lambda v: fmt_pct(v, signed=True),
        mark=mark,
        direction=direction,
    )
    return env


class _T:
    """Looks up a UI string for one locale; ``t('key', n=3)`` formats placeholders."""

    def __init__(self, locale: str):
        catalog = strings()
        self.locale = locale if locale in catalog else "en"
        self.lang = "zh" if self.locale.startswith("zh") else "en"
        self._s = catalog[self.locale]
        self._fallback = catalog["en"]

    def __call__(self, key: str, **kw: Any) -> str:
        text = self._s.get(key, self._fallback.get(key, key))
        return text.format(**kw) if kw else text

    def month(self, day: date) -> str:
        if self.lang == "zh":
            return f"{day.year}年{day.month}月"
        return f"{self._s['month_names'].split()[day.month - 1]} {day.year}"

    def short_month(self, day: date) -> str:
        if self.lang == "zh":
            return f"{day.month}月"
        return self._s["month_names"].split()[day.month - 1][:3]

    def day(self, day: date | None) -> str:
        if day is None:
            return DASH
        return f"{day.year}年{day.month}月{day.day}日" if self.lang == "zh" else day.isoformat()

    def chain_name(self, chain: Chain) -> str:
        return (chain.name_local or chain.name) if self.lang == "zh" else chain.name

    def days_left(self, n: int) -> str:
        if n == 0:
            return self("due_today")
        return self("days_left_one" if n == 1 else "days_left", n=n)

    def count_deductions(self, n: int) -> str:
        return self("n_deductions_one" if n == 1 else "n_deductions", n=n)

    def status(self, status: str) -> str:
        return self._s.get(f"status_{status}", status)

    def dates(self, days: list[date]) -> str:
        return compress_dates(days, self.lang)


def _cid(chain_code: str, period_start: date) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", chain_code)
    return f"trend-{safe}-{period_start:%Y%m}@ka-pipeline"


def attachment_name(card: Scorecard) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", card.owner.code)
    return f"deductions-to-dispute_{safe}_{card.period_start:%Y-%m}.csv"


def deductions_csv(card: Scorecard, t: _T | None = None) -> bytes:
    """The detail rows: every deduction to dispute for the owner's chains, UTF-8 with BOM.

    Amounts are plain decimals (1234.50) and dates ISO so Excel reads them as numbers
    and dates; headers and statuses are in the owner's language.
    """
    t = t or _T(card.owner.locale)
    chains = {c.code: c.chain for c in card.chains}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            t(f"csv_{k}")
            for k in (
                "chain",
                "chain_name",
                "statement_no",
                "deduction_no",
                "deduction_date",
                "deduction_text",
                "deduction_type",
                "reference",
                "store_code",
                "barcode",
                "amount",
                "expected_amount",
                "disputable_amount",
                "status",
                "status_label",
                "evidence",
                "dispute_deadline",
                "days_left",
            )
        ]
    )
    for d in card.deductions:
        writer.writerow(
            [
                d.chain_code,
                t.chain_name(chains[d.chain_code]),
                d.statement_no,
                d.deduction_no,
                d.deduction_date.isoformat(),
                d.deduction_text,
                d.deduction_type,
                d.reference or "",
                d.store_code or "",
                d.barcode or "",
                f"{d.amount:.2f}",
                f"{d.expected_amount:.2f}",
                f"{d.disputable_amount:.2f}",
                d.status,
                t.status(d.status),
                d.evidence,
                d.dispute_deadline.isoformat(),
                d.days_left,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def subject(card: Scorecard, t: _T | None = None) -> str:
    t = t or _T(card.owner.locale)
    names = t("name_separator").join(t.chain_name(c.chain) for c in card.chains)
    text = t("subject", period=t.month(card.period_start), chains=names)
    return t("revised_prefix") + text if card.version > 1 else text


def _gap_lines(gaps: list[tuple[date, str]], t: _T) -> list[str]:
    """``2026-10-29 – 10-30 (files missing)``: the gap days grouped by their state."""
    by_state: dict[str, list[date]] = {}
    for day, state in gaps:
        by_state.setdefault(state, []).append(day)
    return [f"{t.dates(days)}{t('gap_' + state)}" for state, days in by_state.items()]


def change_value(kind: str, value: str | None) -> str:
    """A figure of a revision's change list, formatted like the rest of the mail."""
    if value is None:
        return DASH
    if kind == "money":
        return fmt_money(Decimal(value))
    if kind == "pct":
        return fmt_pct(Decimal(value))
    if kind == "int":
        return fmt_int(int(value))
    if kind == "gaps":  # "2026-10-30 incomplete; ...": the days are what the reader needs
        return ", ".join(part.split(" ")[0] for part in value.split("; "))
    return value


def render(card: Scorecard) -> RenderedMail:
    """The scorecard as an email: subject, HTML, plain text, inline charts, CSV."""
    t = _T(card.owner.locale)
    images: dict[str, bytes] = {}
    cids: dict[str, str] = {}
    for chain in card.chains:
        cid = _cid(chain.code, card.period_start)
        images[cid] = trend_png([v for _, v in chain.trend])
        cids[chain.code] = cid
    csv_name = attachment_name(card)
    context = {
        "card": card,
        "t": t,
        "lang": t.lang,
        "subject": subject(card, t),
        "chain_names": t("name_separator").join(t.chain_name(c.chain) for c in card.chains),
        "cids": cids,
        "csv_name": csv_name,
        "sparkline": lambda trend: text_sparkline([v for _, v in trend]),
        "dash": DASH,
        "green": GREEN,
        "red": RED,
        "grey": GREY,
        "shown": DEDUCTIONS_SHOWN,
        "change_value": change_value,
        "gap_lines": lambda gaps: _gap_lines(gaps, t),
    }
    env = _env()
    html = env.get_template("scorecard.html.j2").render(context)
    text = env.get_template("scorecard.txt.j2").render(context)
    return RenderedMail(
        subject=context["subject"],
        html=html,
        text=text,
        inline_images=images,
        # The detail rows ride along only when there is something to dispute.
        attachments={csv_name: deductions_csv(card, t)} if card.deductions else {},
    )
