"""Formatting and the one message catalogue (``templates/strings.yaml``).

Every word a reader sees comes from the catalogue, per locale (zh-CN, en; a key
missing in zh-CN falls back to en, and a test checks none is missing). Numbers are
formatted here and nowhere else: money ``¥1,234,567.89`` (half-up), percentages with
one decimal, changes signed.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from ka_pipeline.resources import load_shipped_yaml
from ka_pipeline.scorecard.model import ChainInfo
from ka_pipeline.scorecard.periods import Period

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DASH = "—"
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


def fmt_int(value: int | Decimal | None) -> str:
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


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, Any]]:
    """The message catalogue: UI strings per locale, from templates/strings.yaml."""
    return load_shipped_yaml((TEMPLATES / "strings.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _evidence_rules(locale: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    rules = strings().get(locale, {}).get("evidence_phrases") or []
    return tuple((re.compile(r["pattern"]), r["text"]) for r in rules)


@lru_cache(maxsize=4096)
def _translate_evidence(locale: str, text: str) -> str:
    for pattern, replacement in _evidence_rules(locale):
        text = pattern.sub(replacement, text)
    return text


class T:
    """Looks up a catalogue string for one locale; ``t('key', n=3)`` fills placeholders."""

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

    def period(self, period: Period) -> str:
        """October 2026 / 2026年10月; Week 44 2026 (26 Oct – 1 Nov) / 2026年第44周（...）."""
        if period.kind == "month":
            return self.month(period.start)
        year, week, _ = period.start.isocalendar()
        return self("week_label", year=year, week=week, start=self.short_day(period.start),
                    end=self.short_day(period.end))  # fmt: skip

    def period_tick(self, period_kind: str, start: date) -> str:
        """A trend axis label: the month, or the week's Monday."""
        if period_kind == "month":
            return (
                f"{self.short_month(start)} {start.year}"
                if self.lang == "en"
                else self.month(start)
            )
        return self.short_day(start)

    def short_day(self, day: date) -> str:
        if self.lang == "zh":
            return f"{day.month}月{day.day}日"
        return f"{day.day} {self._s['month_names'].split()[day.month - 1][:3]}"

    def day(self, day: date | None) -> str:
        if day is None:
            return DASH
        return f"{day.year}年{day.month}月{day.day}日" if self.lang == "zh" else day.isoformat()

    def chain_name(self, chain: ChainInfo) -> str:
        return (chain.name_local or chain.name) if self.lang == "zh" else chain.name

    def days_left(self, n: int) -> str:
        if n == 0:
            return self("due_today")
        return self("days_left_one" if n == 1 else "days_left", n=n)

    def count(self, key: str, n: int) -> str:
        return self(f"{key}_one" if n == 1 else key, n=n)

    def count_deductions(self, n: int) -> str:
        return self.count("n_deductions", n)

    def status(self, status: str) -> str:
        return self._s.get(f"status_{status}", self._fallback.get(f"status_{status}", status))

    def evidence(self, text: str) -> str:
        """The evidence text of mart_deduction_check (written in English by the model)
        in the reader's language: the catalogue's ``evidence_phrases`` rewrite each
        known phrase; figures, codes and dates stay as they are."""
        return _translate_evidence(self.locale, text)

    def dates(self, days: list[date]) -> str:
        return compress_dates(days, self.lang)
