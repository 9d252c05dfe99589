"""Reporting periods of a scorecard: a calendar month or an ISO week (Monday-Sunday).

A period is identified by its kind and first day; both kinds have the same shape so
release rules, queries and the outbox key (``owner|kind|start``) treat them alike.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

KINDS = ("month", "week")
# The CLI says weekly|monthly; the outbox and the warehouse say week|month.
CLI_KINDS = {"weekly": "week", "monthly": "month", "week": "week", "month": "month"}


@dataclass(frozen=True, order=True)
class Period:
    kind: str  # month | week
    start: date  # first day (the 1st, or the Monday)
    end: date  # last day, inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self, n: int = 1) -> Period:
        return shift(self, -n)


def month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_of(kind: str, day: date) -> Period:
    """The period of ``kind`` holding ``day``."""
    if kind == "month":
        start = day.replace(day=1)
        return Period("month", start, day.replace(day=monthrange(day.year, day.month)[1]))
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period("week", start, start + timedelta(days=6))
    raise ValueError(f"unknown period kind {kind!r}: use one of {', '.join(KINDS)}")


def shift(period: Period, n: int) -> Period:
    if period.kind == "month":
        return period_of("month", month_add(period.start, n))
    return period_of("week", period.start + timedelta(days=7 * n))


def checked(kind: str, start: date) -> Period:
    """The period starting on ``start``; an error when ``start`` is not its first day."""
    period = period_of(kind, start)
    if period.start != start:
        first = "the 1st of a month" if kind == "month" else "a Monday"
        raise ValueError(f"a {kind} scorecard starts on {first}, got {start}")
    return period


def last_ended(kind: str, as_of: date) -> Period:
    """The latest period of ``kind`` that ended on or before ``as_of``: for a weekly run
    on Monday (business date Sunday) the ISO week that ended that Sunday."""
    period = period_of(kind, as_of)
    return period if period.end <= as_of else shift(period, -1)
