"""Runs one generation: master data, plants, the four feeds, the config, the manifest."""

from __future__ import annotations

import random
import shutil
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ka_pipeline.config import load_config

from . import deductions, invoices, payments, plants, sales
from .master import (
    CHAIN_MODEL,
    CHAINS,
    FEES,
    OWNERS,
    REBATE,
    TEXTS,
    UNCLASSIFIED_TEXT,
    Master,
    build_master,
    write_chains,
    write_master,
)
from .summary import DemoSummary
from .util import Span, money, month_end, month_start, next_month
from .writer import read_layouts

# Rebate tier thresholds as shares of the eligible sell-in the data reach in that
# contract year: tier 1 from the first yuan, tier 2 reached by the end, tier 3 not.
TIER_SHARES = (Decimal("0"), Decimal("0.85"), Decimal("1.25"))


def _nice(value: Decimal) -> Decimal:
    """Round a threshold to 2 significant digits (1,234,567 -> 1,200,000); 0 stays 0."""
    if value == 0:
        return Decimal(0)
    whole = max(int(value), 100)
    step = 10 ** max(len(str(whole)) - 2, 0)
    return Decimal(int((Decimal(whole) / step).quantize(Decimal("1"), ROUND_HALF_UP)) * step)


def targets_for(span: Span, code: str, frame: pd.DataFrame, rnd: random.Random) -> list:
    """About last year's level + 5..10 %: this year's sell-out / (1 + growth) x that."""
    growth = CHAIN_MODEL[code]["growth"]
    months = np.array([month_start(d).toordinal() for d in span.days])
    amounts = frame.groupby(months[frame["day"].to_numpy()])["amount"].sum()
    out = []
    month = month_start(span.start)
    while month <= span.end:
        actual = int(amounts.get(month.toordinal(), 0))
        days_in = (min(month_end(month), span.end) - max(month, span.start)).days + 1
        full = actual * ((month_end(month) - month).days + 1) / max(days_in, 1)
        lift = 1.05 + 0.05 * rnd.random()
        target = round(full / (1 + growth) * lift / 100_000) * 100_000  # whole thousands
        out.append(((code, month), max(target, 100_000)))
        month = next_month(month)
    return out


def tiers_for(span: Span, code: str, lines: pd.DataFrame) -> dict[int, list[Decimal]]:
    _, promo_excluded, _ = REBATE[code]
    eligible = lines[lines["promo_id"] == ""] if promo_excluded else lines
    years = np.array([d.year for d in span.days])[eligible["day"].to_numpy()]
    out = {}
    for year in range(span.start.year, span.end.year + 1):
        base = Decimal(int(eligible["net"][years == year].sum())) / 100
        if base <= 0:  # a contract year without data still gets sensible tiers
            base = Decimal(1_000_000)
        out[year] = [_nice(base * share) for share in TIER_SHARES]
    return out


def contracts_doc(span: Span, tiers: dict[str, dict[int, list[Decimal]]]) -> list[dict]:
    docs = []
    for chain in CHAINS:
        code = chain["code"]
        method, promo_excluded, rates = REBATE[code]
        for year in range(span.start.year, span.end.year + 1):
            docs.append(
                {
                    "chain": code,
                    "year": year,
                    "contract_no": f"{code}-{year}",
                    "start": date(year, 1, 1),
                    "end": date(year, 12, 31),
                    "margin_guarantee_pct": None,
                    # the demo's fee amounts are the charged (VAT-inclusive) prices
                    "fee_amounts": "incl_vat",
                    "fees": [
                        {"type": kind, "basis": basis, "amount": money(cents)}
                        for kind, (basis, cents) in FEES[code].items()
                    ],
                    "rebate": {
                        "base": "sell_in",
                        "method": method,
                        "promo_excluded": promo_excluded,
                        "tiers": [
                            {"tier": n + 1, "threshold": money(int(t) * 100), "rate": r}
                            for n, (t, r) in enumerate(zip(tiers[code][year], rates, strict=True))
                        ],
                    },
                }
            )
    return docs


def check_texts(config_dir: Path) -> None:
    """Every wording maps to its intended type under the config just written (this
    also loads and checks the whole config)."""
    config = load_config(config_dir)
    for code, texts in TEXTS.items():
        chain = config.chain(code)
        for kind, text in texts.items():
            got = chain.deduction_type(text)
            if got != kind:
                raise AssertionError(f"{code} text {text!r} maps to {got}, not {kind}")
        if chain.deduction_type(UNCLASSIFIED_TEXT) != "unclassified":
            raise AssertionError(f"{UNCLASSIFIED_TEXT!r} is classified for {code}")


def generate(
    home: Path,
    *,
    seed: int = 20261122,
    start: date = date(2025, 9, 1),
    end: date = date(2026, 10, 31),
) -> DemoSummary:
    """Write the demo config and feeds into ``home`` (replacing its config/ and feeds/)
    and ``home/demo_manifest.json``; return the manifest."""
    home = Path(home)
    span = Span(start, end)
    rnd = random.Random(seed)
    summary = DemoSummary(seed=seed, start=start, end=end)
    for folder in ("config", "feeds"):
        shutil.rmtree(home / folder, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    config_dir = home / "config"

    master: Master = build_master(span, rnd, plants.RESERVED)
    dm_reference = plants.plant_master(span, master)
    write_chains(config_dir)
    layouts = read_layouts(config_dir)

    targets: list = []
    tiers: dict[str, dict[int, list[Decimal]]] = {}
    for ci, chain in enumerate(CHAINS):
        code = chain["code"]
        feeds = layouts[code]

        def rng(k: int, _ci: int = ci) -> np.random.Generator:
            return np.random.default_rng([seed, _ci, k])

        plan = sales.build_plan(span, master, code, rng(1))
        placed = plants.plant_sales(span, master, code, plan, summary)
        frame = sales.plan_frame(plan)
        targets += targets_for(span, code, frame, rnd)
        lines = invoices.build_invoices(span, master, code, frame, rng(3))
        lines = plants.reroute(lines, span, placed["reroute"])
        if placed["reroute"] is not None:
            promo_ids = [p["promo_id"] for p in master.promotions[code]]
            lines = invoices.finish_lines(
                span, master, code, lines[["ship_to", "item", "promo", "day", "units"]], promo_ids
            )
        tiers[code] = tiers_for(span, code, lines)

        bad = plants.plant_bad_rows(span, master, code, plan, frame, rng(2))
        missing = None
        if code == "RTM":
            bad_days = {int(frame["day"].iat[pos]) for pos in bad}
            missing = plants.missing_day(span, master, code, placed["avoid"], bad_days)
            rel = feeds["sales"].path_for(span.days[missing])
            summary.plant(
                kind="missing_feed",
                chain=code,
                feed="sales",
                file=rel,
                business_date=span.days[missing].isoformat(),
                expected="missing feed reported",
            )
        _record_bad_rows(span, master, code, feeds["sales"], frame, bad, summary)
        sales.write_sales(
            home, span, master, code, feeds["sales"], frame,
            {pos: (column, value) for pos, (_, column, value) in bad.items()}, missing, summary,
        )  # fmt: skip
        invoices.write_invoices(home, span, master, code, feeds["invoices"], lines, summary)

        claimed = sales.promo_units(plan, len(master.promotions[code]))
        stmts = deductions.statements(span, master, code, claimed, lines, dm_reference)
        planted = plants.plant_deductions(code, stmts, master, summary)
        deductions.number(code, feeds["deductions"], stmts)
        plants.record_deductions(code, planted, summary)
        deductions.write_deductions(home, code, feeds["deductions"], stmts, summary)
        payments.write_payments(home, span, code, feeds["payments"], lines, rng(4), summary)

    plants.record_promos(span, master, summary)
    write_master(config_dir, master, contracts_doc(span, tiers), targets)
    check_texts(config_dir)
    summary.chains = len(CHAINS)
    summary.owners = len(OWNERS)
    summary.stores = sum(len(v) for v in master.stores.values())
    summary.products = len(master.products)
    summary.promotions = sum(len(v) for v in master.promotions.values())
    (home / "demo_manifest.json").write_text(summary.to_json(), encoding="utf-8")
    return summary


def _record_bad_rows(
    span: Span, master: Master, code: str, layout: Any, frame: pd.DataFrame,
    bad: dict[int, tuple[str, str, str]], summary: DemoSummary,
) -> None:  # fmt: skip
    bounds = np.searchsorted(frame["day"].to_numpy(), np.arange(span.n_days + 1))
    for pos in sorted(bad):
        reason, column, value = bad[pos]
        day = int(frame["day"].iat[pos])
        d = span.days[day]
        store = master.stores[code][int(frame["store"].iat[pos])]["store_code"]
        summary.plant(
            kind="bad_row",
            reason=reason,
            column=column,
            value=value,
            chain=code,
            feed="sales",
            file=layout.path_for(d),
            row=int(pos - bounds[day] + 1),
            business_date=d.isoformat(),
            store_code=store,
            barcode=master.products[int(frame["item"].iat[pos])]["barcode"],
            expected="row quarantined",
        )
