"""The sales (sell-out) feed: a day x store x item plan, then one file per day.

:func:`build_plan` draws the clean sell-out of one chain as dense arrays (units, unit
price, promotion, on-hand, whether a row is sent). Guarantees of the clean plan, so that
the analytics flag nothing the plants did not put there:

- every open store sells every item it must carry on the first day of each month it is
  open and listed, and never goes 10 days in a row without a sale of it (no distribution
  gap, no phantom-inventory run);
- on-hand, where the chain sends it, is at least 2 units (no out-of-stock day); a chain
  that sends on-hand sends a row for every open store x listed item x day (0 units on
  days without a sale), as a stock snapshot;
- the unit price is the standard retail price, or the promotion's price inside an
  approved promotion for the store's class (never below floor);
- returns (negative units) never fall inside a promotion.

Plants (:mod:`ka_demo.plants`) then overwrite cells with explicit values, and
:func:`write_sales` writes the files in the chain's layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ka_pipeline.config import FeedLayout

from .master import CHAIN_MODEL, CLASS_MU, CLASS_P, SALES_OPTIONAL, Master
from .util import CNY, MID_AUTUMN, Span, money
from .writer import Unmapped, write_feed

MONTH_FACTOR = {
    1: 1.1, 2: 1.0, 3: 0.9, 4: 0.92, 5: 1.0, 6: 1.05,
    7: 1.12, 8: 1.12, 9: 1.0, 10: 1.05, 11: 0.98, 12: 1.05,
}  # fmt: skip
MAX_ZERO_DAYS = 9  # a must-carry item sells at least once in any 10 days


@dataclass
class SalesPlan:
    """One chain's sell-out, indexed [day, store, item]; money in cents."""

    units: np.ndarray  # int64
    price: np.ndarray  # int64, unit price
    promo: np.ndarray  # int16, index into master.promotions[chain], -1 outside
    on_hand: np.ndarray  # int64
    sent: np.ndarray  # bool: a row is in the file
    carried: np.ndarray  # bool: open and listed for the store's class
    planted: np.ndarray  # bool: a plant wrote this cell (bad rows avoid it)


def day_factors(span: Span) -> np.ndarray:
    """Seasonality: month, weekday, Chinese New Year, golden week, mid-autumn."""
    out = np.empty(span.n_days)
    for k, d in enumerate(span.days):
        f = MONTH_FACTOR[d.month] * (1.3 if d.weekday() >= 5 else 1.1 if d.weekday() == 4 else 1.0)
        new_year = CNY.get(d.year)
        to_cny = (d - new_year).days if new_year else 999
        if -21 <= to_cny < 0:
            f *= 1.3 + 0.04 * (21 + to_cny)  # the build-up to Chinese New Year
        elif 0 <= to_cny < 7:
            f *= 1.2
        if d.month == 10 and d.day <= 7:
            f *= 1.3  # National Day golden week
        moon = MID_AUTUMN.get(d.year)
        if moon and -7 <= (d - moon).days <= 0:
            f *= 1.15
        out[k] = f
    return out


def carried_mask(span: Span, master: Master, code: str) -> np.ndarray:
    """[day, store, item]: the store is open and must carry the listed item that day."""
    stores = master.stores[code]
    day_ord = np.array([d.toordinal() for d in span.days])
    open_ds = np.zeros((span.n_days, len(stores)), bool)
    for s, st in enumerate(stores):
        lo = st["opened_on"].toordinal()
        hi = st["closed_on"].toordinal() if st["closed_on"] else 10**7
        open_ds[:, s] = (day_ord >= lo) & (day_ord < hi)
    out = np.zeros((span.n_days, len(stores), len(master.products)), bool)
    for x in master.listings[code]:
        lo = x["listed_from"].toordinal()
        hi = x["listed_to"].toordinal() if x["listed_to"] else 10**7
        days = (day_ord >= lo) & (day_ord <= hi)
        classes = set(x["classes"].split(",")) if x["classes"] else None
        smask = np.array([classes is None or st["class"] in classes for st in stores])
        out[:, :, x["barcode_idx"]] |= days[:, None] & (open_ds & smask[None, :])
    return out


def build_plan(span: Span, master: Master, code: str, rng: np.random.Generator) -> SalesPlan:
    model = CHAIN_MODEL[code]
    stores = master.stores[code]
    products = master.products
    n_s, n_i, n_d = len(stores), len(products), span.n_days
    day_ord = np.array([d.toordinal() for d in span.days])
    carried = carried_mask(span, master, code)

    std = np.array([p["std_retail_price"] for p in products], np.int64)
    price = np.broadcast_to(std, (n_d, n_s, n_i)).copy()
    promo = np.full((n_d, n_s, n_i), -1, np.int16)
    cls = [st["class"] for st in stores]
    for k, p in enumerate(master.promotions[code]):
        dmask = (day_ord >= p["start"].toordinal()) & (day_ord <= p["end"].toordinal())
        allowed = set(p["store_classes"].split(",")) if p["store_classes"] else None
        smask = np.array([allowed is None or c in allowed for c in cls])
        for i in p["items"]:
            sel = np.ix_(dmask, smask, [i])
            price[sel] = p["price"][i]
            promo[sel] = k
    in_promo = promo >= 0

    base = np.array([p["base"] for p in products])
    p_item = np.clip(0.38 + 0.07 * base, 0.38, 0.93)
    class_p = np.array([CLASS_P[c] for c in cls])
    class_mu = np.array([CLASS_MU[c] for c in cls])
    p_si = np.clip(
        class_p[:, None] * p_item[None, :] * rng.uniform(0.75, 1.1, (n_s, n_i)), 0.05, 0.95
    )
    expo = (day_factors(span) * model["mult"])[:, None, None] * np.where(in_promo, 2.6, 1.0)
    sold = rng.random((n_d, n_s, n_i)) < 1 - (1 - p_si[None, :, :]) ** expo
    trend = (1 + model["growth"]) ** ((day_ord - date(2025, 9, 1).toordinal()) / 365.25)
    mu = base[None, None, :] * class_mu[None, :, None] * expo * trend[:, None, None]
    units = 1 + rng.poisson(np.maximum(mu - 1, 0.05))
    returns = (rng.random((n_d, n_s, n_i)) < 0.003) & ~in_promo
    units = np.where(returns, -rng.integers(1, 3, (n_d, n_s, n_i)), units)
    on_hand = rng.poisson(np.maximum(mu * 6, 3.0)) + 2

    # the clean guarantees: a sale on the first carried day of each month, and no more
    # than MAX_ZERO_DAYS days in a row without one
    sold &= carried
    returns &= carried & ~sold
    month_first = np.array([d.day == 1 for d in span.days])
    run = np.zeros((n_s, n_i), np.int32)
    for d in range(n_d):
        starts = carried[d] & (month_first[d] | (~carried[d - 1] if d else True))
        force = carried[d] & ~sold[d] & (starts | (run >= MAX_ZERO_DAYS))
        sold[d] |= force
        returns[d] &= ~force
        run = np.where(sold[d] | ~carried[d], 0, run + 1)
    units = np.where(sold | returns, units, 0)
    if "on_hand_units" in SALES_OPTIONAL[code]:
        sent = carried.copy()
    else:
        sent = sold | returns
    return SalesPlan(
        units.astype(np.int64),
        price,
        promo,
        on_hand.astype(np.int64),
        sent,
        carried,
        np.zeros((n_d, n_s, n_i), bool),
    )


def plan_frame(plan: SalesPlan) -> pd.DataFrame:
    """The rows that are sent, in file order (day, store, item)."""
    d_idx, s_idx, i_idx = np.nonzero(plan.sent)
    sel = plan.sent
    frame = pd.DataFrame(
        {
            "day": d_idx.astype(np.int32),
            "store": s_idx.astype(np.int32),
            "item": i_idx.astype(np.int32),
            "units": plan.units[sel],
            "price": plan.price[sel],
            "promo": plan.promo[sel].astype(np.int32),
            "on_hand": plan.on_hand[sel],
        }
    )
    frame["amount"] = frame["units"] * frame["price"]
    frame["promo_units"] = np.where(frame["promo"] >= 0, frame["units"], 0)
    frame["promo_amount"] = np.where(frame["promo"] >= 0, frame["amount"], 0)
    return frame


def promo_units(plan: SalesPlan, n_promos: int) -> dict[tuple[int, int], int]:
    """Units sold per (promotion index, item) as written in the files."""
    out: dict[tuple[int, int], int] = {}
    for k in range(n_promos):
        mask = plan.sent & (plan.promo == k)
        for i in np.unique(np.nonzero(mask)[2]):
            out[(k, int(i))] = int(plan.units[:, :, i][mask[:, :, i]].sum())
    return out


def write_sales(
    home: Path,
    span: Span,
    master: Master,
    code: str,
    layout: FeedLayout,
    frame: pd.DataFrame,
    bad: dict[int, tuple[str, str]],
    missing: int | None,
    summary: Any,
) -> None:
    """One file per day (none on the ``missing`` day). ``bad`` maps a frame position to
    (canonical column, value) written instead of the plan's value."""
    store_codes = np.array([s["store_code"] for s in master.stores[code]], object)
    barcodes = np.array([p["barcode"] for p in master.products], object)
    names = np.array([p["name"] for p in master.products], object)
    thousands = layout.thousands == ","
    optional = SALES_OPTIONAL[code]
    columns: list[str | Unmapped] = ["business_date", "store_code", "barcode"]
    if code == "RTM":
        columns.append(Unmapped("商品名称"))  # RT-Mart sends the item name, unmapped
    columns += ["units", "sales_amount", *optional]
    values: dict[Any, list[str]] = {
        "store_code": store_codes[frame["store"].to_numpy()].tolist(),
        "barcode": barcodes[frame["item"].to_numpy()].tolist(),
        "units": frame["units"].astype(str).tolist(),
        "sales_amount": [money(c, thousands) for c in frame["amount"].tolist()],
    }
    if code == "RTM":
        values[columns[3]] = names[frame["item"].to_numpy()].tolist()
    if "promo_units" in optional:
        values["promo_units"] = frame["promo_units"].astype(str).tolist()
        values["promo_amount"] = [money(c) for c in frame["promo_amount"].tolist()]
        values["on_hand_units"] = frame["on_hand"].astype(str).tolist()
    for pos, (column, value) in bad.items():
        values.setdefault(column, [])
        if column != "business_date":
            values[column][pos] = value
    bounds = np.searchsorted(frame["day"].to_numpy(), np.arange(span.n_days + 1))
    files = rows = 0
    for day, d in enumerate(span.days):
        if day == missing:
            continue
        lo, hi = bounds[day], bounds[day + 1]
        dates = [d.strftime(layout.date_format)] * (hi - lo)
        for pos, (column, value) in bad.items():
            if column == "business_date" and lo <= pos < hi:
                dates[pos - lo] = value
        body = zip(dates, *(values[c][lo:hi] for c in columns if c != "business_date"), strict=True)
        write_feed(home / "feeds" / code / layout.path_for(d), layout, columns, body)
        files += 1
        rows += int(hi - lo)
    summary.count(code, "sales", files, rows)
