"""Which scorecards go out tonight: complete periods, late ones with their gap, revisions.

:func:`release_scorecards` runs at the end of every nightly run (never in a backfill
unless asked). It chains the three steps of a mail: build (:mod:`ka_pipeline.scorecard`
queries) -> render -> deliver (:mod:`ka_pipeline.delivery`, which takes the rendered
mail). For each addressee (an owner, or a manager's team roll-up) and each period kind
(ISO week and calendar month) it guarantees:

* **Only from complete data.** A period's first mail goes out once every day of it is
  ``ok`` for every chain the addressee covers (:mod:`ka_pipeline.daystatus`): a week
  when its seven days are ok (the Monday run, business date Sunday), a month when all
  its days are. A period still incomplete ``KA_SCORECARD_GRACE_DAYS`` days (default 3)
  after its end goes out anyway, with the gap stated at the top of the mail. Until then
  it is *held*, and the result says why.
* **Corrected when the data changes.** When a day of a mailed period is re-loaded
  (restatement, backfill, late file), the next run rebuilds that scorecard and, if any
  of its figures differ, sends one revision marked as such, listing what changed.
  Unchanged figures send nothing.
* **Once per version**, through the outbox key ``<owner>|<week|month>|<period start>``
  and the claims of :mod:`ka_pipeline.delivery`: re-running a night sends nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import sqlalchemy as sa

from ka_pipeline.config import Config
from ka_pipeline.daystatus import changed_since, history_start, period_gaps
from ka_pipeline.delivery import (
    DeliveryResult,
    content_hash,
    deliver,
    latest_version,
    parse_smtp_url,
)
from ka_pipeline.errors import KaError

# the light parts of the scorecard package; building and rendering (jinja2, Pillow) are
# imported only when some scorecard is due
from ka_pipeline.scorecard.model import Scorecard, figure_changes, figures
from ka_pipeline.scorecard.periods import Period, period_of, shift
from ka_pipeline.scorecard.queries import team_code
from ka_pipeline.settings import Settings

log = logging.getLogger(__name__)
DEFAULT_GRACE_DAYS = 3
# How far back a period's first mail is still considered; revisions have no limit.
FIRST_MAIL_LOOKBACK_DAYS = 45
FIRST_WEEK_LOOKBACK_DAYS = 14  # a weekly first mail older than two weeks is not news


@dataclass(frozen=True)
class Held:
    """A scorecard not sent tonight, and why."""

    owner_code: str
    period_start: date
    reason: str
    period_kind: str = "month"
    outcome: str = "held"

    def __str__(self) -> str:
        when = (
            f"{self.period_start:%Y-%m}"
            if self.period_kind == "month"
            else (f"week {self.period_start}")
        )
        return f"{self.owner_code} {when}: held ({self.reason})"


def grace_days() -> int:
    value = os.environ.get("KA_SCORECARD_GRACE_DAYS")
    try:
        return int(value) if value else DEFAULT_GRACE_DAYS
    except ValueError:
        raise KaError(f"KA_SCORECARD_GRACE_DAYS={value!r} is not a number of days") from None


def period_kinds() -> tuple[str, ...]:
    """``KA_SCORECARD_PERIODS``: which scorecards the nightly run releases (default both)."""
    value = os.environ.get("KA_SCORECARD_PERIODS", "week,month")
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    bad = [k for k in kinds if k not in ("week", "month")]
    if bad:
        raise KaError(f"KA_SCORECARD_PERIODS={value!r}: use week, month or week,month")
    return kinds


def month_of(day: date) -> tuple[date, date]:
    p = period_of("month", day)
    return p.start, p.end


def _ended(kind: str, as_of: date, lookback_days: int) -> list[Period]:
    """Periods that ended on or before ``as_of`` and not before ``as_of - lookback``."""
    out, p = [], period_of(kind, as_of)
    while p.end >= as_of - timedelta(days=lookback_days):
        if p.end <= as_of:
            out.append(p)
        p = shift(p, -1)
    return sorted(out)


def _mailed(conn: sa.Connection, kind: str) -> list[Period]:
    rows = conn.execute(
        sa.text("select distinct period_start from ops_outbox where period_kind = :k"), {"k": kind}
    )
    return sorted(period_of(kind, r[0]) for r in rows)


@dataclass(frozen=True)
class Addressee:
    """Who a scorecard goes to and which chains it covers."""

    code: str  # the outbox owner code (an owner, or team-<manager email>)
    chains: list[str]
    rollup: bool


def addressees(conn: sa.Connection) -> list[Addressee]:
    """Owners with a chain, then one roll-up per manager (ref_owner, ref_chain)."""
    rows = conn.execute(
        sa.text(
            "select o.owner_code, o.manager_email, c.chain_code from ref_owner o"
            " join ref_chain c on c.owner_code = o.owner_code order by o.owner_code, c.chain_code"
        )
    ).all()
    owners: dict[str, list[str]] = {}
    teams: dict[str, list[str]] = {}
    for owner, manager, chain in rows:
        owners.setdefault(owner, []).append(chain)
        if manager:
            teams.setdefault(manager, []).append(chain)
    return [Addressee(o, c, False) for o, c in owners.items()] + [
        Addressee(team_code(m), sorted(c), True) for m, c in sorted(teams.items())
    ]


def release_scorecards(
    engine: sa.Engine,
    settings: Settings,
    config: Config | None,
    as_of: date,
    *,
    force_month: bool = False,
    kinds: Sequence[str] | None = None,
    progress: Callable[[str], None] = print,
) -> list[DeliveryResult | Held]:
    """Send what is due as of business date ``as_of`` (see the module docstring).

    ``config`` is not read: owners, managers and chains come from the warehouse's
    ``ref_`` tables (published by the run). ``kinds``: week and/or month (default
    ``KA_SCORECARD_PERIODS``). ``force_month``: the month holding ``as_of`` goes out now,
    complete or not (with its gap stated): the ``--scorecards always`` of the CLI.
    """
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # a bad URL stops before anything is written
    grace = grace_days()
    results: list[DeliveryResult | Held] = []
    for kind in kinds or period_kinds():
        lookback = FIRST_MAIL_LOOKBACK_DAYS if kind == "month" else FIRST_WEEK_LOOKBACK_DAYS
        with engine.connect() as conn:
            who = addressees(conn)
            periods = set(_ended(kind, as_of, lookback)) | set(_mailed(conn, kind))
        forced_period = period_of("month", as_of) if force_month and kind == "month" else None
        if forced_period:
            periods.add(forced_period)
        for period in sorted(periods):
            if period.start > as_of:
                continue
            results += _release_period(
                engine, settings, who, period, as_of, grace, lookback, period == forced_period,
                progress,
            )  # fmt: skip
    return results


def _release_period(
    engine, settings, who, period: Period, as_of, grace, lookback, forced, progress
) -> list[DeliveryResult | Held]:
    start, end = period.start, period.end
    results: list[DeliveryResult | Held] = []
    due = []  # addressees whose scorecard of this period must be (re)built
    with engine.connect() as conn:
        for a in who:
            latest = latest_version(conn, a.code, period.kind, start)
            gaps = period_gaps(conn, a.chains, start, end)
            if latest is not None:
                if forced or changed_since(conn, a.chains, start, end, latest.created_at):
                    due.append((a, gaps, latest))
                elif settings.smtp_url and latest.status in ("written", "failed", "sending"):
                    due.append((a, gaps, latest))  # not delivered yet: retry
                continue
            if end > as_of and not forced:
                continue
            first = history_start(conn, a.chains)
            if first is None or first > end:
                continue  # before the chains had any data: nothing to say
            if gaps and not forced and as_of < end + timedelta(days=grace):
                held = Held(
                    a.code, start, _describe(gaps, end + timedelta(days=grace)), period.kind
                )
                progress(f"scorecard {held}")
                results.append(held)
                continue
            if end < as_of - timedelta(days=lookback) and not forced:
                continue
            due.append((a, gaps, None))
    if not due:
        return results
    # (through the package: its submodule render is named like the function)
    from ka_pipeline.scorecard import build_rollups, build_scorecards, render

    owners = [a.code for a, _, _ in due if not a.rollup]
    teams = [a.code for a, _, _ in due if a.rollup]
    cards: dict[str, Scorecard] = {}
    if owners:
        cards |= {
            c.owner.code: c for c in build_scorecards(engine, period.kind, start, as_of, owners)
        }
    if teams:
        cards |= {c.owner.code: c for c in build_rollups(engine, period.kind, start, as_of, teams)}
    for a, gaps, latest in due:
        card = replace(cards[a.code], gaps=gaps)
        if latest is not None:
            values = figures(card)
            if latest.content_hash is None:  # written before versions existed: baseline
                _set_baseline(engine, latest.message_key, values)
                card = replace(card, version=latest.version)
            elif latest.content_hash == content_hash(values):
                card = replace(card, version=latest.version)
            else:
                before = json.loads(latest.figures) if latest.figures else {}
                card = replace(
                    card, version=latest.version + 1, changes=figure_changes(before, values)
                )
        result = deliver(engine, settings, render(card))
        if result.outcome != "skipped":
            progress(f"scorecard {period.kind} {start} v{card.version} {result}")
        results.append(result)
    return results


def send_scorecards(
    engine: sa.Engine,
    settings: Settings,
    kind: str,
    period_start: date,
    as_of: date,
    *,
    owners: list[str] | None = None,
    rollups: bool = True,
) -> list[DeliveryResult]:
    """Build, render and deliver every owner's (and manager's) scorecard of one period
    now, complete or not; one result each. The step under :func:`release_scorecards`
    (which adds the completeness rule and revisions) and behind ``ka-pipeline
    scorecards``. Safe to call again: delivered versions are skipped, failed ones retried.
    """
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # a bad URL stops the run before anything is written
    # (through the package: its submodule render is named like the function)
    from ka_pipeline.scorecard import build_rollups, build_scorecards, render

    cards = build_scorecards(engine, kind, period_start, as_of, owners)
    if rollups and owners is None:
        cards += build_rollups(engine, kind, period_start, as_of)
    return [deliver(engine, settings, render(card)) for card in cards]


def _describe(gaps: dict[str, list[tuple[date, str]]], release_on: date) -> str:
    parts = []
    for code, days in sorted(gaps.items()):
        states = sorted({state for _, state in days})
        parts.append(f"{code}: {len(days)} day(s) {'/'.join(states)} from {days[0][0]}")
    return "; ".join(parts) + f"; goes out with the gap stated from {release_on}"


def _set_baseline(engine: sa.Engine, key: str, values: dict[str, str | None]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("update ops_outbox set content_hash = :h, figures = :f where message_key = :k"),
            {"h": content_hash(values), "f": json.dumps(values, sort_keys=True), "k": key},
        )
