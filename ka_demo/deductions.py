"""The deductions feed: one statement per chain and month, dated the 5th of the next
month (deduction_date = statement date), for the months whose statement falls in the range.

Every regular line is valid by construction, from explicit amounts:

- fees are the contract amounts (``master.FEES``): the month's DM fee, a display fee per
  store with an end cap open the whole month, the data fee in January, a barcode fee per
  item listed during the range, festival fees in the months of Chinese New Year and
  National Day, a new-store fee per store opened during the range;
- a promotion's subsidy claim is ``units x subsidy_per_unit`` with the units the sales
  files hold for that promotion and item (``sales.promo_units``: the generator's own
  sum of what it wrote; no bad row and no missing day ever falls on a promotion);
- a quarter's rebate line takes the contract's tier-1 rate on the quarter's eligible
  sell-in, rounded down to the yuan. Tier 1 starts at 0.00, so whatever the method, what
  was earned is at least that much: no rebate is over-taken.

:func:`statements` returns the lines per statement; plants then add or change lines;
:func:`write_deductions` numbers the lines and writes one file per statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ka_pipeline.config import FeedLayout

from .master import FEES, REBATE, TEXTS, Master
from .util import CNY, Span, money, month_end, month_start, next_month
from .writer import write_feed

COLUMNS = [
    "statement_no",
    "deduction_no",
    "deduction_date",
    "deduction_text",
    "amount",
    "store_code",
    "barcode",
    "units",
    "reference",
    "period_start",
    "period_end",
]


@dataclass
class Statement:
    month: date  # the month charged
    date: date  # the statement (and deduction) date
    statement_no: str
    lines: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, kind: str, cents: int, *, ref: str, start: date, end: date, store: str = "",
        barcode: str = "", units: str = "", text: str = "", chain: str = "",
    ) -> dict[str, Any]:  # fmt: skip
        row = {
            "type": kind,
            "text": text or TEXTS[chain][kind],
            "amount": cents,
            "store_code": store,
            "barcode": barcode,
            "units": units,
            "reference": ref,
            "period_start": start,
            "period_end": end,
        }
        self.lines.append(row)
        return row


def statement_months(span: Span, code: str) -> list[Statement]:
    out = []
    month = month_start(span.start)
    while (stmt := next_month(month) + timedelta(days=4)) <= span.end:
        out.append(Statement(month, stmt, f"{code}-ST-{month:%Y%m}"))
        month = next_month(month)
    return out


def statements(
    span: Span,
    master: Master,
    code: str,
    claimed: dict[tuple[int, int], int],
    lines: pd.DataFrame,
    dm_reference: dict[date, str],
) -> list[Statement]:
    """The regular (valid) lines of every statement. ``claimed`` maps (promotion index,
    item) to the promo units claimed; ``dm_reference`` names the promotion a month's DM
    fee advertised (its reference), other months reference the contract."""
    fees = FEES[code]
    stores = master.stores[code]
    barcodes = [p["barcode"] for p in master.products]
    _, promo_excluded, rates = REBATE[code]
    eligible = lines[lines["promo_id"] == ""] if promo_excluded else lines
    elig_ord = np.array([d.toordinal() for d in span.days])[eligible["day"].to_numpy()]
    elig_net = eligible["net"].to_numpy()
    out = statement_months(span, code)
    for st in out:
        month, m_end, year = st.month, month_end(st.month), st.month.year
        contract = f"{code}-{year}"

        def add(kind: str, cents: int, _st: Statement = st, **kw: Any) -> dict[str, Any]:
            return _st.add(kind, cents, chain=code, **kw)

        add(
            "dm_fee",
            fees["dm_fee"][1],
            ref=dm_reference.get(month, f"{contract}/dm_fee"),
            start=month,
            end=m_end,
        )
        for s in stores:
            open_all_month = s["opened_on"] < month and (
                s["closed_on"] is None or s["closed_on"] > m_end
            )
            wants_display = s["class"] == "A" or (
                code == "RTM" and s["class"] == "B" and int(s["store_code"][1:]) % 3 == 0
            )
            if open_all_month and wants_display:
                add(
                    "display_fee",
                    fees["display_fee"][1],
                    store=s["store_code"],
                    ref=f"{contract}/display_fee/{s['store_code']}",
                    start=month,
                    end=m_end,
                )
        if month.month == 1:
            add(
                "data_fee",
                fees["data_fee"][1],
                ref=f"{contract}/data_fee",
                start=date(year, 1, 1),
                end=date(year, 12, 31),
            )
        for x in master.listings[code]:
            if span.start < x["listed_from"] and month_start(x["listed_from"]) == month:
                bc = barcodes[x["barcode_idx"]]
                add(
                    "barcode_fee",
                    fees["barcode_fee"][1],
                    barcode=bc,
                    ref=f"{contract}/barcode_fee/{bc}",
                    start=x["listed_from"],
                    end=m_end,
                )
        if "festival_fee" in fees:
            for name, when in (("CNY", CNY.get(year)), ("NATIONALDAY", date(year, 10, 1))):
                if when and month_start(when) == month:
                    add(
                        "festival_fee",
                        fees["festival_fee"][1],
                        ref=f"{contract}/festival_fee/{name}{year}",
                        start=month,
                        end=m_end,
                    )
        if "new_store_fee" in fees:
            for s in stores:
                if span.start <= s["opened_on"] and month_start(s["opened_on"]) == month:
                    add(
                        "new_store_fee",
                        fees["new_store_fee"][1],
                        store=s["store_code"],
                        ref=f"{contract}/new_store_fee/{s['store_code']}",
                        start=s["opened_on"],
                        end=s["opened_on"],
                    )
        for k, p in enumerate(master.promotions[code]):
            if month_start(p["end"]) != month:
                continue
            for i in p["items"]:
                units = claimed.get((k, i), 0)
                if units > 0:
                    row = add(
                        "promo_subsidy",
                        units * p["subsidy"][i],
                        ref=p["promo_id"],
                        barcode=barcodes[i],
                        units=str(units),
                        start=p["start"],
                        end=p["end"],
                    )
                    row["_promo"] = (p, i)
        if month.month in (3, 6, 9, 12):
            q_start = date(year, month.month - 2, 1)
            inside = (elig_ord >= q_start.toordinal()) & (elig_ord <= m_end.toordinal())
            base = Decimal(int(elig_net[inside].sum())) / 100
            due = (base * Decimal(rates[0])).quantize(Decimal("1"), rounding=ROUND_FLOOR)
            if due > 0:
                add(
                    "rebate",
                    int(due * 100),
                    ref=f"{contract}/rebate/Q{month.month // 3}",
                    start=q_start,
                    end=m_end,
                )
    return out


def number(code: str, layout: FeedLayout, stmts: list[Statement]) -> None:
    """Deduction numbers, dates and the file of every line."""
    for st in stmts:
        rel_path = layout.path_for(st.date)
        for n, row in enumerate(st.lines, 1):
            row["statement_no"] = st.statement_no
            row["deduction_no"] = f"{st.statement_no}-{n:03d}"
            row["deduction_date"] = st.date
            row["file"] = rel_path


def write_deductions(
    home: Path, code: str, layout: FeedLayout, stmts: list[Statement], summary: Any
) -> None:
    thousands = layout.thousands == ","
    fmt = layout.date_format
    files = rows = 0
    for st in stmts:
        if not st.lines:
            continue
        body = [
            [
                r["statement_no"],
                r["deduction_no"],
                r["deduction_date"].strftime(fmt),
                r["text"],
                money(r["amount"], thousands),
                r["store_code"],
                r["barcode"],
                r["units"],
                r["reference"],
                r["period_start"].strftime(fmt),
                r["period_end"].strftime(fmt),
            ]
            for r in st.lines
        ]
        write_feed(home / "feeds" / code / st.lines[0]["file"], layout, COLUMNS, body)
        files += 1
        rows += len(body)
    summary.count(code, "deductions", files, rows)
