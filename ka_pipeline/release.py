"""Which scorecards go out tonight: complete periods, late ones with their gap, revisions.

:func:`release_scorecards` runs at the end of every nightly run (never in a backfill
unless asked). For each owner and each monthly period it guarantees:

* **Only from complete data.** A period's first mail goes out once every day of it is
  ``ok`` for every chain the owner has (:mod:`ka_pipeline.daystatus`). A period still
  incomplete ``KA_SCORECARD_GRACE_DAYS`` days (default 3) after its end goes out anyway,
  with the gap stated at the top of the mail. Until then it is *held*, and the result
  says why.
* **Corrected when the data changes.** When a day of a mailed period is re-loaded
  (restatement, backfill, late file), the next run rebuilds that owner's scorecard and,
  if any of its figures differ, sends one revision marked as such, listing what changed.
  Unchanged figures send nothing.
* **Once per version**, through the outbox claims of :mod:`ka_pipeline.delivery`.
"""

from __future__ import annotations

import json
import logging
import os
from calendar import monthrange
from collections.abc import Callable
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
from ka_pipeline.scorecard import build_scorecards, figure_changes, figures, render
from ka_pipeline.settings import Settings

log = logging.getLogger(__name__)
DEFAULT_GRACE_DAYS = 3
# How far back a period's first mail is still considered; revisions have no limit.
FIRST_MAIL_LOOKBACK_DAYS = 45


@dataclass(frozen=True)
class Held:
    """A scorecard not sent tonight, and why."""

    owner_code: str
    period_start: date
    reason: str
    outcome: str = "held"

    def __str__(self) -> str:
        return f"{self.owner_code} {self.period_start:%Y-%m}: held ({self.reason})"


def grace_days() -> int:
    value = os.environ.get("KA_SCORECARD_GRACE_DAYS")
    try:
        return int(value) if value else DEFAULT_GRACE_DAYS
    except ValueError:
        raise KaError(f"KA_SCORECARD_GRACE_DAYS={value!r} is not a number of days") from None


def month_of(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=monthrange(day.year, day.month)[1])


def _ended_months(as_of: date, lookback_days: int) -> list[tuple[date, date]]:
    """Months that ended on or before ``as_of`` and not before ``as_of - lookback``."""
    months, day = [], as_of
    while True:
        start, end = month_of(day)
        if end <= as_of:
            if end < as_of - timedelta(days=lookback_days):
                break
            months.append((start, end))
        day = start - timedelta(days=1)
    return sorted(months)


def _mailed_months(conn: sa.Connection) -> list[tuple[date, date]]:
    rows = conn.execute(
        sa.text("select distinct period_start from ops_outbox where period_kind = 'month'")
    )
    return sorted(month_of(r[0]) for r in rows)


def release_scorecards(
    engine: sa.Engine,
    settings: Settings,
    config: Config,
    as_of: date,
    *,
    force_month: bool = False,
    progress: Callable[[str], None] = print,
) -> list[DeliveryResult | Held]:
    """Send what is due as of business date ``as_of`` (see the module docstring).

    ``force_month``: the month holding ``as_of`` goes out now, complete or not (with
    its gap stated): the ``--scorecards always`` of the CLI.
    """
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # a bad URL stops before anything is written
    grace = grace_days()
    owners = sorted(
        (
            o
            for o in config.owners.values()
            if any(c.owner == o.code for c in config.chains.values())
        ),
        key=lambda o: o.code,
    )
    with engine.connect() as conn:
        periods = set(_ended_months(as_of, FIRST_MAIL_LOOKBACK_DAYS)) | set(_mailed_months(conn))
    if force_month:
        periods.add(month_of(as_of))
    results: list[DeliveryResult | Held] = []
    for start, end in sorted(periods):
        if start > as_of:
            continue
        due = []  # owners whose scorecard of this period must be (re)built
        with engine.connect() as conn:
            for owner in owners:
                chains = sorted(c.code for c in config.chains.values() if c.owner == owner.code)
                latest = latest_version(conn, owner.code, "month", start)
                gaps = period_gaps(conn, chains, start, end)
                forced = force_month and (start, end) == month_of(as_of)
                if latest is not None:
                    if forced or changed_since(conn, chains, start, end, latest.created_at):
                        due.append((owner, gaps, latest))
                    elif settings.smtp_url and latest.status in ("written", "failed", "sending"):
                        due.append((owner, gaps, latest))  # not delivered yet: retry
                    continue
                if end > as_of and not forced:
                    continue
                first = history_start(conn, chains)
                if first is None or first > end:
                    continue  # before the owner's chains had any data: nothing to say
                if gaps and not forced and as_of < end + timedelta(days=grace):
                    held = Held(owner.code, start, _describe(gaps, end + timedelta(days=grace)))
                    progress(f"scorecard {held}")
                    results.append(held)
                    continue
                if end < as_of - timedelta(days=FIRST_MAIL_LOOKBACK_DAYS) and not forced:
                    continue
                due.append((owner, gaps, None))
        if not due:
            continue
        cards = {c.owner.code: c for c in build_scorecards(engine, config, start, end, as_of)}
        for owner, gaps, latest in due:
            card = replace(cards[owner.code], gaps=gaps)
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
                        card,
                        version=latest.version + 1,
                        changes=figure_changes(before, values),
                    )
            result = deliver(engine, settings, card, render(card))
            if result.outcome != "skipped":
                progress(f"scorecard {start:%Y-%m} v{card.version} {result}")
            results.append(result)
    return results


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
