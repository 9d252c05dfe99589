"""What a scorecard holds: plain, frozen dataclasses built by :mod:`.queries`.

Every figure is a Decimal (or int/date) until :mod:`.catalogue` formats it. A section
that could not be computed holds ``None`` (no data to compute from); a section with
nothing to show holds an empty list. The templates say which, in plain words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ka_pipeline.scorecard.periods import Period

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OwnerInfo:
    """An addressee, from ref_owner (or a manager's team for a roll-up)."""

    code: str
    name: str
    email: str
    locale: str  # zh-CN | en
    manager_email: str | None = None


@dataclass(frozen=True)
class ChainInfo:
    """A chain, from ref_chain."""

    code: str
    name: str
    name_local: str | None
    owner_code: str


@dataclass(frozen=True)
class Kpi:
    """One mart_chain_month / mart_chain_week row (domain.md section 4)."""

    sellout_amount: Decimal
    sellout_units: int
    sellout_amount_ly: Decimal | None
    yoy_growth: Decimal | None
    target_amount: Decimal | None  # weeks have no target
    target_achievement: Decimal | None
    sell_in_net: Decimal
    active_stores: int
    distribution_rate: Decimal | None
    promo_share: Decimal | None
    trade_spend: Decimal | None  # weeks: not computed
    trade_spend_rate: Decimal | None
    sales_days: int
    sell_through_rate: Decimal | None = None
    lfl_growth: Decimal | None = None
    price_compliance: Decimal | None = None
    oos_rate: Decimal | None = None
    lost_sales_amount: Decimal | None = None
    # why a KPI is null, from the mart's null_reasons ("oos_rate: no on-hand sent; ...")
    null_reasons: dict[str, str] = field(default_factory=dict)


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
    projection_method: str | None = None  # ly_ratio | run_rate
    projected_base: Decimal | None = None
    projected_tier_no: int | None = None
    projected_rate: Decimal | None = None
    projected_rebate: Decimal | None = None

    @property
    def projected_gap(self) -> Decimal | None:
        """Base still missing at year end to the next tier (projection), None if reached."""
        if self.projected_base is None or self.next_tier_threshold is None:
            return None
        return max(self.next_tier_threshold - self.projected_base, ZERO)


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
class ReviewLine:
    """An unclassified deduction line (mart_deduction_review) to map or dispute."""

    chain_code: str
    statement_no: str
    deduction_no: str
    statement_date: date
    deduction_text: str
    amount: Decimal
    store_code: str | None
    age_days: int  # as_of - statement date
    dispute_deadline: date
    days_left: int


@dataclass(frozen=True)
class OverdueInvoice:
    """An invoice with an open balance past its due date (mart_invoice_balance)."""

    chain_code: str
    invoice_no: str
    invoice_date: date
    due_date: date
    gross_amount: Decimal
    open_balance: Decimal
    days_overdue: int  # as_of - due date

    @property
    def bucket(self) -> str:
        d = self.days_overdue
        return "0-30" if d <= 30 else "31-60" if d <= 60 else "61-90" if d <= 90 else "90+"


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
class DayGap:
    """A day of the period that is not ``ok`` in ops_chain_day (or not run yet)."""

    business_date: date
    status: str  # incomplete | failed | not_run
    reason: str | None


@dataclass(frozen=True)
class StoreYoy:
    store_code: str
    store_name: str | None
    sellout_amount: Decimal
    sellout_amount_ly: Decimal | None
    yoy_growth: Decimal


@dataclass(frozen=True)
class BelowFloor:
    """Below-floor sales of one store x item in the period (mart_price_below_floor)."""

    chain_code: str
    store_code: str
    store_name: str | None
    barcode: str
    days: int
    first_date: date
    last_date: date
    units: Decimal
    min_unit_price: Decimal
    required_price: Decimal
    gap_amount: Decimal
    in_promo: bool


@dataclass(frozen=True)
class DiversionRisk:
    """An item x region at risk of diversion in a week of the period (mart_diversion_risk)."""

    chain_code: str
    barcode: str
    iso_week: date
    region: str
    avg_unit_price: Decimal | None
    floor_price: Decimal | None
    price_gap: Decimal | None
    sellout_units_4w: Decimal | None
    shipped_units_4w: Decimal | None
    risk_reason: str | None


@dataclass(frozen=True)
class OutOfStock:
    """Out-of-stock days of one store x must-carry item in the period (mart_oos_day)."""

    chain_code: str
    store_code: str
    store_name: str | None
    barcode: str
    days: int
    first_date: date
    last_date: date
    lost_units: Decimal
    lost_sales_amount: Decimal


@dataclass(frozen=True)
class Phantom:
    """A run of days with stock on hand and no sales (mart_phantom_inventory)."""

    chain_code: str
    store_code: str
    store_name: str | None
    barcode: str
    run_start: date
    run_end: date
    zero_days: int
    on_hand_units: Decimal | None
    trailing_daily_units: Decimal | None


@dataclass(frozen=True)
class PromoResult:
    """A promotion that ended in the period (mart_promo_eval)."""

    chain_code: str
    promo_id: str
    start_date: date
    end_date: date
    baseline_method: str | None
    lift_units: Decimal | None
    incremental_gp: Decimal | None
    cost_amount: Decimal | None
    roi: Decimal | None
    execution_rate: Decimal | None
    participating_stores: int | None


@dataclass(frozen=True)
class AccountEval:
    """The chain's account evaluation as of the period's month (mart_account_eval)."""

    month: date
    attractiveness_score: Decimal | None
    support_score: Decimal | None
    attractiveness_grade: str | None
    support_grade: str | None
    quadrant: str | None


@dataclass(frozen=True)
class Analytics:
    """The sell-out analytics of a chain for the period. ``None`` in a field: the table
    is not in this warehouse yet (no data to compute from); ``[]``: nothing to show."""

    below_floor: list[BelowFloor] | None = None
    diversion: list[DiversionRisk] | None = None
    out_of_stock: list[OutOfStock] | None = None
    phantom: list[Phantom] | None = None
    promos: list[PromoResult] | None = None
    account: AccountEval | None = None
    account_known: bool = False  # mart_account_eval exists (account None: no row yet)


@dataclass(frozen=True)
class ChainCard:
    chain: ChainInfo
    owner_name: str
    kpi: Kpi | None
    trend: list[tuple[date, Decimal | None]]  # 13 periods, oldest first, ends at the period
    rebate: RebateProgress | None
    deductions: list[Deduction]  # disputable amount desc
    review: list[ReviewLine]  # amount desc
    overdue: list[OverdueInvoice]  # open balance desc
    feed_problems: list[FeedProblem]
    day_gaps: list[DayGap]  # days of the period not ok (inside the chain's history)
    history_start: date | None  # the chain's first recorded day (ops_chain_day)
    top_stores: list[StoreYoy]
    bottom_stores: list[StoreYoy]
    analytics: Analytics = field(default_factory=Analytics)

    @property
    def code(self) -> str:
        return self.chain.code

    @property
    def missing_sales_dates(self) -> list[date]:
        return [g.business_date for g in self.day_gaps if g.status == "incomplete"]

    @property
    def disputable_total(self) -> Decimal:
        return sum((d.disputable_amount for d in self.deductions), ZERO)

    @property
    def review_total(self) -> Decimal:
        return sum((r.amount for r in self.review), ZERO)

    @property
    def overdue_total(self) -> Decimal:
        return sum((o.open_balance for o in self.overdue), ZERO)

    @property
    def feed_issue_count(self) -> int:
        return len(self.feed_problems) + len(self.day_gaps)


@dataclass(frozen=True)
class FigureChange:
    """One figure of a period that changed since the last mail (a revision)."""

    chain_code: str
    label: str  # a catalogue key
    kind: str  # money | pct | int | text
    before: str | None
    after: str | None


# The figures of a period that a revision compares: (catalogue key, kind, getter).
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


def _headline(chains: list[ChainCard]) -> Headline:
    """Totals: achievement over chains with a target, YoY over chains with LY."""
    kpis = [c.kpi for c in chains if c.kpi is not None]
    sellout = sum((k.sellout_amount for k in kpis), ZERO) if kpis else None
    with_target = [k for k in kpis if k.target_amount]
    target = sum((k.target_amount for k in with_target), ZERO)
    with_ly = [k for k in kpis if k.sellout_amount_ly]
    ly = sum((k.sellout_amount_ly for k in with_ly), ZERO)
    achieved = sum((k.sellout_amount for k in with_target), ZERO)
    grown = sum((k.sellout_amount for k in with_ly), ZERO)
    deductions = [d for c in chains for d in c.deductions]
    return Headline(
        sellout=sellout,
        target=target if with_target else None,
        achievement=achieved / target if with_target else None,
        sellout_ly=ly if with_ly else None,
        yoy=grown / ly - 1 if with_ly else None,
        disputable=sum((d.disputable_amount for d in deductions), ZERO),
        disputable_count=len(deductions),
        feed_problems=sum(len(c.feed_problems) for c in chains),
        missing_sales_days=sum(len(c.day_gaps) for c in chains),
    )


@dataclass(frozen=True)
class Scorecard:
    owner: OwnerInfo
    period: Period
    as_of: date
    chains: list[ChainCard]
    rollup: bool = False  # a manager's team roll-up: one line per chain, worst items
    version: int = 1  # > 1: a revision of a mail already sent (ops_outbox)
    changes: tuple[FigureChange, ...] = ()  # what changed since the last version
    # chain -> the days keeping the period from complete: (day, failed|incomplete|not_run)
    gaps: dict[str, list[tuple[date, str]]] = field(default_factory=dict)

    @property
    def period_kind(self) -> str:
        return self.period.kind

    @property
    def period_start(self) -> date:
        return self.period.start

    @property
    def period_end(self) -> date:
        return self.period.end

    @property
    def message_key(self) -> str:
        key = f"{self.owner.code}|{self.period.kind}|{self.period.start.isoformat()}"
        return key if self.version == 1 else f"{key}|r{self.version}"

    @property
    def headline(self) -> Headline:
        return _headline(self.chains)

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

    def all_of(self, attr: str) -> list:
        """Every chain's rows of a list section, e.g. ``all_of('overdue')``."""
        out: list = []
        for c in self.chains:
            rows = getattr(c, attr, None)
            if rows is None:
                rows = getattr(c.analytics, attr, None) or []
            out.extend(rows)
        return out


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
