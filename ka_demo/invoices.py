"""The invoices (sell-in) feed, from our ERP: the canonical CSV for every chain.

Shipments replenish sell-out: each ship-to (a store for RT-Mart, a DC for the others) is
delivered on fixed weekdays, and each delivery carries what its stores sell from that day
until the day before the next delivery, plus 0..6 % (whole units). Every delivery period
lies inside one ISO week (the range's first day is a delivery day too), so over any run
of whole ISO weeks a ship-to receives at least what its stores sold: the clean data show
no volume diversion. One invoice per ship-to and day, lines numbered from 1; lines
shipped for a promotion carry its ``promo_id``. VAT is 13 % of net, half up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ka_pipeline.config import FEED_COLUMNS, FeedLayout

from .master import Master
from .util import Span, money, vat
from .writer import write_feed

DELIVERY_WEEKDAYS = {"CRF": {0, 2, 4}, "RTM": {0}, "WMT": {0, 3}}


def ship_to(master: Master, code: str) -> list[str]:
    """The ship-to of each store, in store order."""
    stores = master.stores[code]
    if code == "CRF":
        return ["CRF-DC1" if s["region"] in ("华东", "华中") else "CRF-DC2" for s in stores]
    if code == "RTM":
        return [s["store_code"] for s in stores]
    return ["WMT-DC1" if s["region"] == "华南" else "WMT-DC2" for s in stores]


def build_invoices(
    span: Span, master: Master, code: str, frame: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Invoice lines (day, ship_to, item, promo, units, prices) for the sales ``frame``."""
    weekdays = np.array([d.weekday() for d in span.days])
    delivery = np.isin(weekdays, list(DELIVERY_WEEKDAYS[code]))
    delivery[0] = True
    days = np.nonzero(delivery)[0]
    covering = days[np.searchsorted(days, np.arange(span.n_days), side="right") - 1]
    targets = np.array(ship_to(master, code), object)
    promo_ids = [p["promo_id"] for p in master.promotions[code]]
    lines = pd.DataFrame(
        {
            "ship_to": targets[frame["store"].to_numpy()],
            "day": covering[frame["day"].to_numpy()],
            "item": frame["item"].to_numpy(),
            "promo": frame["promo"].to_numpy(),
            "units": frame["units"].to_numpy(),
        }
    )
    lines = lines.groupby(["ship_to", "item", "promo", "day"], as_index=False, sort=True)[
        "units"
    ].sum()
    lines = lines[lines["units"] > 0].reset_index(drop=True)
    extra = rng.uniform(1.0, 1.06, len(lines))
    lines["units"] = np.ceil(lines["units"].to_numpy() * extra - 1e-9).astype(np.int64)
    return finish_lines(span, master, code, lines, promo_ids)


def finish_lines(
    span: Span, master: Master, code: str, lines: pd.DataFrame, promo_ids: list[str]
) -> pd.DataFrame:
    """Prices, VAT, invoice and line numbers for lines (day, ship_to, item, promo, units)."""
    lines = lines.sort_values(["day", "ship_to", "item", "promo"]).reset_index(drop=True)
    supply = np.array([p["supply_price"] for p in master.products], np.int64)
    lines["unit_price"] = supply[lines["item"].to_numpy()]
    lines["net"] = lines["units"] * lines["unit_price"]
    lines["vat"] = vat(lines["net"].to_numpy())
    lines["promo_id"] = [promo_ids[k] if k >= 0 else "" for k in lines["promo"]]
    key = lines["day"].astype(str) + "|" + lines["ship_to"]
    seq = lines.groupby("day")["ship_to"].transform(lambda s: pd.factorize(s)[0] + 1)
    lines["invoice_no"] = [
        f"SI{span.days[d]:%y%m%d}{code}{n:02d}" for d, n in zip(lines["day"], seq, strict=True)
    ]
    lines["line_no"] = lines.groupby(key).cumcount() + 1
    return lines


def write_invoices(
    home: Path, span: Span, master: Master, code: str, layout: FeedLayout, lines: pd.DataFrame,
    summary: Any,
) -> None:  # fmt: skip
    barcodes = [p["barcode"] for p in master.products]
    columns = [*FEED_COLUMNS["invoices"][0], *FEED_COLUMNS["invoices"][1]]
    bounds = np.searchsorted(lines["day"].to_numpy(), np.arange(span.n_days + 1))
    records = list(
        zip(
            lines["invoice_no"],
            lines["line_no"].astype(str),
            lines["ship_to"],
            [barcodes[i] for i in lines["item"]],
            lines["units"].astype(str),
            [money(c) for c in lines["unit_price"]],
            [money(c) for c in lines["net"]],
            [money(c) for c in lines["vat"]],
            lines["promo_id"],
            strict=True,
        )
    )
    for day, d in enumerate(span.days):
        iso = d.isoformat()
        body = [(r[0], r[1], iso, *r[2:]) for r in records[bounds[day] : bounds[day + 1]]]
        write_feed(home / "feeds" / code / layout.path_for(d), layout, columns, body)
    summary.count(code, "invoices", span.n_days, len(records))
