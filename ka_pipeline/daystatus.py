"""The state of each chain x business date: is the day's data complete in the warehouse?

Every run of a chain ends by writing ``ops_chain_day`` for each business date it covered
(under the chain's lock, replacing what an earlier run wrote):

* ``ok``: every daily feed (sales) of the day is loaded, no file of the day is rejected
  (its latest load), and the chain's models were rebuilt;
* ``incomplete``: a daily feed of the day is missing;
* ``failed``: a file of the day is rejected, or the run of the chain failed.

Scorecards read it (:func:`period_gaps`) to decide whether a period is complete. A
chain's history starts at its first recorded day: days before it are not gaps, so a
chain onboarded mid-month is complete from its first day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from ka_pipeline.load import bulk_insert


@dataclass(frozen=True)
class DayState:
    business_date: date
    status: str  # ok | incomplete | failed
    reason: str | None = None


def _days(start: date, end: date) -> list[date]:
    """start <= day < end."""
    return [start + timedelta(days=i) for i in range((end - start).days)]


def rejected_files(
    conn: sa.Connection, chain_code: str, start: date, end: date
) -> dict[date, list[str]]:
    """Files whose latest load of their slice is a rejection, by business date."""
    rows = conn.execute(
        sa.text(
            "select l.business_date, l.feed, l.file_name, l.message from ops_load_log l"
            " where l.chain_code = :c and l.business_date >= :s and l.business_date < :e"
            " and l.status = 'rejected' and not exists (select 1 from ops_load_log g"
            "   where g.chain_code = l.chain_code and g.feed = l.feed"
            "   and g.business_date = l.business_date and g.status in ('loaded', 'superseded')"
            "   and g.load_id > l.load_id)"
            " order by l.business_date, l.feed, l.load_id"
        ),
        {"c": chain_code, "s": start, "e": end},
    )
    found: dict[date, list[str]] = {}
    for r in rows:
        found.setdefault(r.business_date, []).append(f"{r.feed} file {r.file_name} rejected")
    return found


def record_days(
    engine: sa.Engine,
    chain_code: str,
    start: date,
    end: date,
    *,
    missing: dict[date, list[str]],
    loaded: set[date] = frozenset(),
    error: str | None = None,
) -> list[DayState]:
    """Write the state of ``start <= day < end`` for the chain; return it, oldest first.

    ``missing``: the daily feeds not found, by date; ``loaded``: dates that got new
    data in this run; ``error``: the run failed. A day's row (and its ``updated_at``)
    is rewritten only when it got new data or its state changed, so re-running a loaded
    date leaves the table as it was.
    """
    with engine.begin() as conn:
        rejected = rejected_files(conn, chain_code, start, end)
        states = []
        for day in _days(start, end):
            if error:
                states.append(DayState(day, "failed", error[:500]))
            elif day in rejected:
                states.append(DayState(day, "failed", "; ".join(rejected[day])))
            elif missing.get(day):
                states.append(DayState(day, "incomplete", "missing: " + ", ".join(missing[day])))
            else:
                states.append(DayState(day, "ok"))
        before = {
            r.business_date: (r.status, r.reason)
            for r in conn.execute(
                sa.text(
                    "select business_date, status, reason from ops_chain_day"
                    " where chain_code = :c and business_date >= :s and business_date < :e"
                ),
                {"c": chain_code, "s": start, "e": end},
            )
        }
        changed = [
            s
            for s in states
            if s.business_date in loaded or before.get(s.business_date) != (s.status, s.reason)
        ]
        if changed:
            conn.execute(
                sa.text(
                    "delete from ops_chain_day where chain_code = :c and business_date in :days"
                ).bindparams(sa.bindparam("days", expanding=True)),
                {"c": chain_code, "days": [s.business_date for s in changed]},
            )
            frame = pd.DataFrame(
                {
                    "chain_code": chain_code,
                    "business_date": [s.business_date.isoformat() for s in changed],
                    "status": [s.status for s in changed],
                    "reason": [s.reason for s in changed],
                    "updated_at": datetime.now().isoformat(sep=" "),
                }
            )
            bulk_insert(conn, "ops_chain_day", frame)
    return states


def period_gaps(
    conn: sa.Connection, chain_codes: list[str], start: date, end: date
) -> dict[str, list[tuple[date, str]]]:
    """The days keeping ``start <= day <= end`` from complete, per chain: (day, state).

    A day is a gap when it is not ``ok``: ``failed``, ``incomplete`` or ``not_run``.
    Days before the chain's first recorded day are not gaps; a chain with no recorded
    day at all has every day of the period as ``not_run``.
    """
    gaps: dict[str, list[tuple[date, str]]] = {}
    firsts = _first_days(conn, chain_codes)
    for code in chain_codes:
        first = firsts.get(code)
        states = {
            r.business_date: r.status
            for r in conn.execute(
                sa.text(
                    "select business_date, status from ops_chain_day"
                    " where chain_code = :c and business_date >= :s and business_date <= :e"
                ),
                {"c": code, "s": start, "e": end},
            )
        }
        begin = start if first is None else max(start, first)
        found = [
            (day, states.get(day, "not_run"))
            for day in _days(begin, end + timedelta(days=1))
            if states.get(day) != "ok"
        ]
        if found:
            gaps[code] = found
    return gaps


def _first_days(conn: sa.Connection, chain_codes: list[str]) -> dict[str, date]:
    """The first business date recorded per chain (chains with none are absent)."""
    if not chain_codes:
        return {}
    rows = conn.execute(
        sa.text(
            "select chain_code, min(business_date) as first from ops_chain_day"
            " where chain_code in :codes group by chain_code"
        ).bindparams(sa.bindparam("codes", expanding=True)),
        {"codes": chain_codes},
    )
    return {r.chain_code: r.first for r in rows}


def history_start(conn: sa.Connection, chain_codes: list[str]) -> date | None:
    """The first business date recorded for any of the chains (None: none yet)."""
    return min(_first_days(conn, chain_codes).values(), default=None)


def changed_since(
    conn: sa.Connection, chain_codes: list[str], start: date, end: date, since: datetime
) -> bool:
    """Has any day of the period been re-run (new data, restatement) after ``since``?"""
    if not chain_codes:
        return False
    row = conn.execute(
        sa.text(
            "select 1 from ops_chain_day where chain_code in :codes"
            " and business_date >= :s and business_date <= :e and updated_at > :t limit 1"
        ).bindparams(sa.bindparam("codes", expanding=True)),
        {"codes": chain_codes, "s": start, "e": end, "t": since},
    ).first()
    return row is not None
