"""Small shared helpers of the demo generator: money in integer cents, calendar steps,
the holiday calendar that shapes seasonality, and the range a generation covers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

VAT_PCT = 13
# Chinese New Year and mid-autumn day by year (a year not listed has no such peak).
CNY = {
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
}
MID_AUTUMN = {
    2023: date(2023, 9, 29),
    2024: date(2024, 9, 17),
    2025: date(2025, 10, 6),
    2026: date(2026, 9, 25),
    2027: date(2027, 9, 15),
    2028: date(2028, 10, 3),
    2029: date(2029, 9, 22),
}


def money(cents: int, thousands: bool = False) -> str:
    """Integer cents as a 2-decimal amount, optionally with thousands separators."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{frac:02d}" if thousands else f"{sign}{whole}.{frac:02d}"


def vat(net_cents: np.ndarray) -> np.ndarray:
    """13 % VAT, half up to the cent, in integers (net is never negative on invoices)."""
    return (net_cents * VAT_PCT + 50) // 100


def month_start(d: date) -> date:
    return d.replace(day=1)


def next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_end(d: date) -> date:
    return next_month(d) - timedelta(days=1)


def monday_on_or_after(d: date) -> date:
    return d + timedelta(days=(7 - d.weekday()) % 7)


@dataclass
class Span:
    """The generated range: its days and positions inside it."""

    start: date
    end: date
    days: list[date] = field(init=False)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        self.days = [self.start + timedelta(days=i) for i in range(self.n_days)]

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    def rel(self, frac: float) -> date:
        """The date at a fraction of the range."""
        k = min(self.n_days - 1, max(0, round(frac * (self.n_days - 1))))
        return self.start + timedelta(days=k)

    def index(self, d: date) -> int:
        return (d - self.start).days
