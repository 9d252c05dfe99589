"""Planted cases: explicit values written into known places, and the manifest entries
that say where the pipeline must find them.

A plant never re-computes a pipeline rule: it states the values ("store 2218 sells item X
at 5.20 on these 14 days while its floor is 6.10", "no invoice ships item Y to R0115 for
5 weeks while R0115 sells 3 a day") and writes them over the clean plan. Each sell-out
plant has its own item (``RESERVED``), kept out of random promotions, so nothing else
touches those cells. A plant that does not fit the range (too short) is left out, and so
is its manifest entry.

Every manifest entry of a sell-out plant carries ``expect``: a list of
``{"table", "key", "check"}`` rows that must be in the warehouse (``check`` maps a column
to an exact value or to ``">0"`` / ``"<0"``), and ``allow``: keys of the same table that
may be flagged too (the edges of a window whose exact extent depends on a rule's detail).
``tests/demo_plants_check.py`` checks both ways: every expected row is there, and every
flagged row of those tables is expected or allowed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from .deductions import Statement
from .master import FEES, PRODUCTS, UNCLASSIFIED_TEXT, Master
from .sales import SalesPlan
from .util import Span, monday_on_or_after, money, month_end, month_start, next_month

# item indexes (master.PRODUCTS) of the sell-out plants; each only ever used by its plant
PHANTOM_ITEM = 0  # 清泉天然矿泉水 550ml
PROMO_UP_ITEM = 1  # 清泉天然矿泉水 1.5L
OOS_ITEM = 3  # 清泉柠檬红茶 500ml
FLOOR_ITEM = 10  # 脆乐原味薯片 75g
VOLUME_ITEM = 11  # 脆乐番茄味薯片 75g
CLASS_ITEM = 13  # 脆乐海苔夹心脆 40g
PROMO_DOWN_ITEM = 21  # 柔肤护发素 750ml
RESERVED = {PHANTOM_ITEM, PROMO_UP_ITEM, OOS_ITEM, FLOOR_ITEM, VOLUME_ITEM, CLASS_ITEM}
RESERVED |= {PROMO_DOWN_ITEM}

OOS = {"chain": "CRF", "store": "CRF003", "at": 0.55, "days": 5}
PHANTOM = {"chain": "CRF", "store": "CRF005", "days": 16, "on_hand": 37, "gap_to_end": 8}
PHANTOM_NEIGHBOUR_UNITS = 18  # sold the day before and the day after the run
FLOOR = {"chain": "WMT", "region": "西南", "at": 0.45, "days": 14, "price": 520, "units": 6}
VOLUME = {"chain": "RTM", "store": "R0115", "region": "华中", "at": 0.25, "weeks": 5}
VOLUME |= {"units": 3, "shipped_instead_to": "R0101"}
CLASS_GAP = {"chain": "RTM", "classes": "A,B", "store": "R0110", "at": 0.5}
PROMOS = {
    "up": {"item": PROMO_UP_ITEM, "classes": "", "price": 390, "subsidy": 30, "no": 91},
    "down": {"item": PROMO_DOWN_ITEM, "classes": "A", "price": 4490, "subsidy": 400, "no": 92},
}
PROMO_CHAIN, PROMO_DAYS = "CRF", 14

BAD_ROWS = {
    "CRF": [(0.4, "barcode", "check_digit"), (0.62, "sales_amount", "non_numeric")],
    "RTM": [(0.45, "store_code", "unknown_store"), (0.6, "business_date", "bad_date")],
    "WMT": [(0.5, "store_code", "missing_store"), (0.55, "sales_amount", "non_numeric")],
}


def _barcode(master: Master, item: int) -> str:
    return master.products[item]["barcode"]


def _statement_date(day: date) -> date:
    return next_month(month_start(day)) + timedelta(days=4)


# ----------------------------------------------------------------- master-data plants


def promo_window(span: Span) -> tuple[date, date] | None:
    """The planted promotions' dates: 14 days from a Monday with 35 days of data before
    (a clean 28-day baseline) and their subsidy statement inside the range."""
    first = monday_on_or_after(max(span.start + timedelta(days=35), span.rel(0.35)))
    last = first + timedelta(days=PROMO_DAYS - 1)
    return (first, last) if _statement_date(last) <= span.end else None


def plant_master(span: Span, master: Master) -> dict[date, str]:
    """Add the planted promotions and the class-restricted listing. Returns the DM-fee
    references: the month whose DM fee advertised the negative-ROI promotion."""
    dm_reference: dict[date, str] = {}
    for x in master.listings[CLASS_GAP["chain"]]:
        if x["barcode_idx"] == CLASS_ITEM:
            x["classes"] = CLASS_GAP["classes"]
    window = promo_window(span)
    if window:
        first, last = window
        for name, spec in PROMOS.items():
            promo_id = f"{PROMO_CHAIN}-PR-{first:%y%m}-{spec['no']}"
            master.promotions[PROMO_CHAIN].append(
                {
                    "promo_id": promo_id,
                    "items": [spec["item"]],
                    "store_classes": spec["classes"],
                    "start": first,
                    "end": last,
                    "price": {spec["item"]: spec["price"]},
                    "subsidy": {spec["item"]: spec["subsidy"]},
                    "planted": name,
                }
            )
            if name == "down":
                dm_reference[month_start(first)] = promo_id
    return dm_reference


def record_promos(span: Span, master: Master, summary: Any) -> None:
    for p in master.promotions[PROMO_CHAIN]:
        if "planted" not in p:
            continue
        (item,) = p["items"]
        positive = p["planted"] == "up"
        summary.plant(
            kind="promo_roi_positive" if positive else "promo_roi_negative",
            chain=PROMO_CHAIN,
            promo_id=p["promo_id"],
            barcode=_barcode(master, item),
            store_classes=p["store_classes"] or "all",
            start=p["start"].isoformat(),
            end=p["end"].isoformat(),
            promo_price=money(p["price"][item]),
            subsidy_per_unit=money(p["subsidy"][item]),
            cost_note=(
                "promo subsidy only"
                if positive
                else f"promo subsidy + the {p['start']:%Y-%m} DM fee "
                f"{money(FEES[PROMO_CHAIN]['dm_fee'][1])} referencing the promotion"
            ),
            expect=[
                {
                    "table": "mart_promo_eval",
                    "key": {"chain_code": PROMO_CHAIN, "promo_id": p["promo_id"]},
                    "check": {"lift_units": ">0", "roi": ">0" if positive else "<0"},
                }
            ],
            allow=[],
        )


# ----------------------------------------------------------------- sales plants


def plant_sales(
    span: Span, master: Master, code: str, plan: SalesPlan, summary: Any
) -> dict[str, Any]:
    """Write the sell-out plants of one chain into its plan; returns spans that the
    missing day must avoid and the rerouted shipments for the invoices."""
    out: dict[str, Any] = {"avoid": set(), "reroute": None}
    stores = master.stores[code]

    def cells(days: list[int], s: int, item: int, **values: int) -> None:
        for name, value in values.items():
            getattr(plan, name)[days, s, item] = value
        plan.sent[days, s, item] = True
        plan.planted[days, s, item] = True
        out["avoid"].update(days)

    def key(store: str, item: int, day: date) -> dict[str, str]:
        return {
            "chain_code": code,
            "store_code": store,
            "barcode": _barcode(master, item),
            "business_date": day.isoformat(),
        }

    if code == OOS["chain"]:
        first = span.rel(OOS["at"])
        days = [span.index(first) + k for k in range(OOS["days"])]
        if first >= span.start + timedelta(days=28) and days[-1] < span.n_days:
            s = master.store_index(code, OOS["store"])
            cells(days, s, OOS_ITEM, units=0, on_hand=0)
            dates = [span.days[d] for d in days]
            summary.plant(
                kind="out_of_stock_run",
                chain=code,
                store_code=OOS["store"],
                barcode=_barcode(master, OOS_ITEM),
                dates=[d.isoformat() for d in dates],
                values="on_hand_units = 0 and units = 0 on each day",
                expect=[
                    {
                        "table": "mart_oos_day",
                        "key": key(OOS["store"], OOS_ITEM, d),
                        "check": {"lost_units": ">0"},
                    }
                    for d in dates
                ],
                allow=[],
            )
    if code == PHANTOM["chain"]:
        last = span.end - timedelta(days=PHANTOM["gap_to_end"])
        first = last - timedelta(days=PHANTOM["days"] - 1)
        if first >= span.start + timedelta(days=28):
            s = master.store_index(code, PHANTOM["store"])
            days = list(range(span.index(first), span.index(last) + 1))
            cells(days, s, PHANTOM_ITEM, units=0, on_hand=PHANTOM["on_hand"])
            n = PHANTOM_NEIGHBOUR_UNITS
            cells([days[0] - 1, days[-1] + 1], s, PHANTOM_ITEM, units=n)
            summary.plant(
                kind="phantom_inventory",
                chain=code,
                store_code=PHANTOM["store"],
                barcode=_barcode(master, PHANTOM_ITEM),
                run_start=first.isoformat(),
                run_end=last.isoformat(),
                values=f"units = 0 and on_hand_units = {PHANTOM['on_hand']} on each day; "
                f"{n} units sold the day before and the day after; the item sells about "
                "20 a day in that store before the run",
                expect=[
                    {
                        "table": "mart_phantom_inventory",
                        "key": {
                            "chain_code": code,
                            "store_code": PHANTOM["store"],
                            "barcode": _barcode(master, PHANTOM_ITEM),
                            "run_start": first.isoformat(),
                        },
                        "check": {
                            "run_end": last.isoformat(),
                            "zero_days": PHANTOM["days"],
                            "on_hand_units": PHANTOM["on_hand"],
                        },
                    }
                ],
                allow=[],
            )
    if code == FLOOR["chain"]:
        first = monday_on_or_after(span.rel(FLOOR["at"]))
        last = first + timedelta(days=FLOOR["days"] - 1)
        region = [k for k, st in enumerate(stores) if st["region"] == FLOOR["region"]]
        if last <= span.end:
            days = list(range(span.index(first), span.index(last) + 1))
            region = [s for s in region if plan.carried[days, s, FLOOR_ITEM].all()]
            for s in region:
                cells(days, s, FLOOR_ITEM, units=FLOOR["units"], price=FLOOR["price"])
            floor = master.products[FLOOR_ITEM]["floor_price"]
            std = master.products[FLOOR_ITEM]["std_retail_price"]
            codes = [stores[s]["store_code"] for s in region]
            gap = (floor - FLOOR["price"]) * FLOOR["units"]
            weeks = [first, first + timedelta(days=7)]
            summary.plant(
                kind="below_floor_price",
                chain=code,
                region=FLOOR["region"],
                store_codes=codes,
                barcode=_barcode(master, FLOOR_ITEM),
                dates=[first.isoformat(), last.isoformat()],
                unit_price=money(FLOOR["price"]),
                units_per_day=FLOOR["units"],
                floor_price=money(floor),
                std_retail_price=money(std),
                gap_amount_per_row=money(gap),
                values="every store of the region sells the item every day of two ISO weeks "
                "at this price; every other region sells it at the standard retail price",
                expect=[
                    {
                        "table": "mart_price_below_floor",
                        "key": key(c, FLOOR_ITEM, span.days[d]),
                        "check": {
                            "unit_price": money(FLOOR["price"]),
                            "floor_price": money(floor),
                            "required_price": money(floor),
                            "gap_amount": money(gap),
                        },
                    }
                    for c in codes
                    for d in days
                ],
                allow=[],
            )
            summary.plant(
                kind="diversion_price",
                chain=code,
                region=FLOOR["region"],
                barcode=_barcode(master, FLOOR_ITEM),
                iso_weeks=[w.isoformat() for w in weeks],
                values=f"region average {money(FLOOR['price'])} below floor {money(floor)}; "
                f"other regions {money(std)}: gap {(std - FLOOR['price']) / std:.4f} > 0.10",
                expect=[
                    {
                        "table": "mart_diversion_risk",
                        "key": {
                            "chain_code": code,
                            "barcode": _barcode(master, FLOOR_ITEM),
                            "iso_week": w.isoformat(),
                            "region": FLOOR["region"],
                        },
                        "check": {"at_risk": True, "risk_reason": "~price"},
                    }
                    for w in weeks
                ],
                allow=[],
            )
    if code == VOLUME["chain"]:
        first = monday_on_or_after(span.rel(VOLUME["at"]))
        last = first + timedelta(weeks=VOLUME["weeks"]) - timedelta(days=1)
        s = master.store_index(code, VOLUME["store"])
        days = list(range(span.index(first), span.index(last) + 1))
        if last <= span.end and plan.carried[days, s, VOLUME_ITEM].all():
            cells(days, s, VOLUME_ITEM, units=VOLUME["units"])
            out["reroute"] = (
                VOLUME["store"],
                VOLUME["shipped_instead_to"],
                VOLUME_ITEM,
                days[0],
                days[-1],
            )
            bc = _barcode(master, VOLUME_ITEM)
            must = first + timedelta(weeks=VOLUME["weeks"] - 1)
            may = [first + timedelta(weeks=k) for k in range(VOLUME["weeks"] + 4)]

            def week_key(w: date) -> dict[str, str]:
                return {
                    "chain_code": code,
                    "barcode": bc,
                    "iso_week": w.isoformat(),
                    "region": VOLUME["region"],
                }

            summary.plant(
                kind="diversion_volume",
                chain=code,
                region=VOLUME["region"],
                store_code=VOLUME["store"],
                barcode=bc,
                dates=[first.isoformat(), last.isoformat()],
                values=f"{VOLUME['store']} (the region's only store) sells {VOLUME['units']} "
                f"units every day ({VOLUME['units'] * len(days)} in all) while no invoice "
                f"ships the item to it; those shipments go to {VOLUME['shipped_instead_to']}",
                expect=[
                    {
                        "table": "mart_diversion_risk",
                        "key": week_key(must),
                        "check": {"at_risk": True, "risk_reason": "~volume"},
                    }
                ],
                allow=[week_key(w) for w in may],
            )
    if code == CLASS_GAP["chain"]:
        month = month_start(span.rel(CLASS_GAP["at"]))
        if month < span.start:
            month = next_month(month)
        if month_end(month) <= span.end:
            s = master.store_index(code, CLASS_GAP["store"])
            days = list(range(span.index(month), span.index(month_end(month)) + 1))
            plan.units[days, s, CLASS_ITEM] = 0
            plan.sent[days, s, CLASS_ITEM] = False
            plan.planted[days, s, CLASS_ITEM] = True
            out["avoid"].update(days)
            cls = stores[s]["class"]
            summary.plant(
                kind="distribution_gap",
                chain=code,
                store_code=CLASS_GAP["store"],
                store_class=cls,
                barcode=_barcode(master, CLASS_ITEM),
                month=month.isoformat(),
                listing_store_classes=CLASS_GAP["classes"],
                values="the listing names classes A,B: the C stores never sell the item and "
                "are no gap; this B store sells none of it in the month",
                expect=[
                    {
                        "table": "mart_distribution_gap",
                        "key": {
                            "chain_code": code,
                            "month": month.isoformat(),
                            "store_code": CLASS_GAP["store"],
                            "barcode": _barcode(master, CLASS_ITEM),
                        },
                        "check": {"store_class": cls},
                    }
                ],
                allow=[],
            )
    return out


def reroute(lines: pd.DataFrame, span: Span, spec: tuple | None) -> pd.DataFrame:
    """Move the invoice lines of one store x item in a day range to another ship-to."""
    if spec is None:
        return lines
    source, target, item, lo, hi = spec
    moved = (
        (lines["ship_to"] == source)
        & (lines["item"] == item)
        & (lines["day"] >= lo)
        & (lines["day"] <= hi)
    )
    lines = lines.copy()
    lines.loc[moved, "ship_to"] = target
    return lines


# ----------------------------------------------------------------- bad rows, missing day


def plant_bad_rows(
    span: Span, master: Master, code: str, plan: SalesPlan, frame: pd.DataFrame,
    rng: np.random.Generator,
) -> dict[int, tuple[str, str, str]]:  # fmt: skip
    """Frame position -> (reason, canonical column, value). A bad row sits on a clean,
    non-promotion sale of a fast item in an A store that also sold the day before and
    after, so quarantining it leaves no gap, no zero run and no promotion short."""
    base = np.array([p[4] for p in PRODUCTS])
    fast = (base >= 4) & ~np.isin(np.arange(len(base)), list(RESERVED))
    class_a = np.array([s["class"] == "A" for s in master.stores[code]])
    sold = plan.units > 0
    around = np.zeros_like(sold)
    around[1:-1] = sold[:-2] & sold[2:]
    not_first = np.array([d.day != 1 for d in span.days])
    ok = (
        sold & around & plan.sent & (plan.promo < 0) & ~plan.planted
        & fast[None, None, :] & class_a[None, :, None] & not_first[:, None, None]
    )  # fmt: skip
    ok_rows = ok[frame["day"].to_numpy(), frame["store"].to_numpy(), frame["item"].to_numpy()]
    day_arr = frame["day"].to_numpy()
    out: dict[int, tuple[str, str, str]] = {}
    for frac, column, reason in BAD_ROWS[code]:
        start_day = span.index(span.rel(frac))
        for day in list(range(start_day, span.n_days)) + list(range(start_day)):
            rows = np.nonzero(ok_rows & (day_arr == day))[0]
            rows = [r for r in rows if r not in out]
            if rows:
                pos = int(rows[rng.integers(len(rows))])
                break
        else:
            raise RuntimeError(f"{code}: no row to plant {reason}")
        d = span.days[day]
        barcode = master.products[int(frame["item"].iat[pos])]["barcode"]
        value = {
            "check_digit": barcode[:12] + str((int(barcode[12]) + 3) % 10),
            "unknown_store": "R9999",
            "missing_store": "",
            "non_numeric": "N/A",
            "bad_date": f"{d:%Y/%m}/32",
        }[reason]
        out[pos] = (reason, column, value)
    return out


def missing_day(span: Span, master: Master, code: str, avoid: set[int], bad_days: set[int]) -> int:
    """RT-Mart's missing sales day: the day nearest 70 % of the range that is not in a
    promotion (a missing promo day would make the subsidy claims overclaims), not a
    plant's day, not a bad row's day, not the 1st of a month, never the first or last
    (a very short range relaxes these, plant days first)."""
    promo_days = set()
    for p in master.promotions[code]:
        promo_days.update(k for k, d in enumerate(span.days) if p["start"] <= d <= p["end"])
    start_day = span.index(span.rel(0.7))
    order = sorted(range(1, span.n_days - 1), key=lambda k: (abs(k - start_day), k))
    for blocked in (promo_days | avoid | bad_days, promo_days | bad_days, bad_days):
        for k in order:
            if k not in blocked and span.days[k].day != 1:
                return k
    return start_day  # a range of a few days: anywhere


# ----------------------------------------------------------------- deduction plants


def plant_deductions(
    code: str, stmts: list[Statement], master: Master, summary: Any
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The deduction-check cases on the latest statements (still disputable in the last
    scorecard), each with explicit amounts. Returns (line, manifest info) pairs; the
    caller numbers the lines and records them."""
    fees = FEES[code]
    stores = master.stores[code]
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    n = len(stmts)
    if n == 0:
        return out
    last = stmts[-1]
    if code == "CRF" and n >= 2:
        # an earlier month's DM fee (8,000.00) charged again, same reference and period:
        # the latest one that is not the planted promotion's (its cost stays one DM fee)
        original = next(
            r
            for st in reversed(stmts[:-1])
            for r in st.lines
            if r["type"] == "dm_fee" and r["reference"].endswith("/dm_fee")
        )
        row = last.add(
            "dm_fee",
            original["amount"],
            chain=code,
            ref=original["reference"],
            start=original["period_start"],
            end=original["period_end"],
        )
        out.append(
            (row, {"kind": "duplicate", "expected_status": "duplicate", "_original": original,
                   "disputable": money(original["amount"])})
        )  # fmt: skip
    if code == "CRF":
        row = last.add(
            "unclassified",
            123400,
            chain=code,
            text=UNCLASSIFIED_TEXT,
            ref=f"{last.statement_no}-ADJ",
            start=last.month,
            end=month_end(last.month),
        )
        out.append(
            (row, {"kind": "unclassified", "expected_status": "unclassified",
                   "disputable": "0.00"})
        )  # fmt: skip
        ghost = f"{code}-PR-{last.month:%y%m}-99"
        assert ghost not in {p["promo_id"] for p in master.promotions[code]}
        row = last.add(
            "promo_subsidy",
            240 * 100,  # 240 units x 1.00
            chain=code,
            ref=ghost,
            barcode=master.products[2]["barcode"],
            units="240",
            start=last.month,
            end=month_end(last.month),
        )
        out.append(
            (row, {"kind": "promo_not_found", "expected_status": "promo_not_found",
                   "disputable": money(24000)})
        )  # fmt: skip
    if code == "RTM":
        display = [r for r in last.lines if r["type"] == "display_fee"]
        row = display[len(display) // 2]
        allowed = fees["display_fee"][1]
        row["amount"] = allowed + 60000  # 2,600.00 where the contract allows 2,000.00
        out.append(
            (row, {"kind": "over_contract", "expected_status": "over_contract",
                   "contract_amount": money(allowed), "disputable": money(60000)})
        )  # fmt: skip
        st = stores[3]
        row = last.add(
            "anniversary_fee",
            500000,
            chain=code,
            store=st["store_code"],
            ref=f"{st['store_code']}-店庆-{last.month.year}",
            start=last.month,
            end=month_end(last.month),
        )
        out.append(
            (row, {"kind": "no_contract_basis", "expected_status": "no_contract_basis",
                   "disputable": money(500000)})
        )  # fmt: skip
    if code == "WMT":
        for st in stmts[max(0, n - 4) :]:
            claims = [r for r in st.lines if r["type"] == "promo_subsidy" and "_promo" in r]
            if claims:
                row = claims[0]
                promo, i = row["_promo"]
                pos_units = int(row["units"])
                claimed = pos_units + max(5, pos_units // 4)
                row["units"] = str(claimed)
                row["amount"] = claimed * promo["subsidy"][i]
                out.append(
                    (row, {"kind": "promo_overclaim", "expected_status": "promo_overclaim",
                           "pos_promo_units": pos_units, "claimed_units": claimed,
                           "disputable": money((claimed - pos_units) * promo["subsidy"][i])})
                )  # fmt: skip
                break
    return out


def record_deductions(code: str, planted: list[tuple[dict[str, Any], dict[str, Any]]],
                      summary: Any) -> None:  # fmt: skip
    for row, info in planted:
        info = dict(info)
        original = info.pop("_original", None)
        if original is not None:
            info["duplicate_of"] = {
                "statement_no": original["statement_no"],
                "deduction_no": original["deduction_no"],
            }
        summary.plant(
            kind=info.pop("kind"),
            chain=code,
            feed="deductions",
            file=row["file"],
            statement_no=row["statement_no"],
            deduction_no=row["deduction_no"],
            deduction_text=row["text"],
            reference=row["reference"],
            amount=money(row["amount"]),
            **info,
        )
