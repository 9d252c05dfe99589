"""The payments feed: remittance files every Friday.

Each invoice is paid in full (gross) on the first Friday on or after its due date (invoice
date + the chain's payment terms); about 17 % are paid 10..40 days late and about 3 % are
never paid (the first five of those due inside the range are listed as
``unpaid_invoice`` in the manifest).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ka_pipeline.config import FeedLayout

from .master import CHAINS
from .util import Span, money
from .writer import write_feed

COLUMNS = ["payment_no", "payment_date", "invoice_no", "amount"]


def write_payments(
    home: Path, span: Span, code: str, layout: FeedLayout, lines: pd.DataFrame,
    rng: np.random.Generator, summary: Any,
) -> None:  # fmt: skip
    terms = next(c for c in CHAINS if c["code"] == code)["payment_terms_days"]
    invoices = lines.groupby("invoice_no", sort=True).agg(
        day=("day", "first"), net=("net", "sum"), vat=("vat", "sum")
    )
    behaviour = rng.random(len(invoices))
    delay = rng.integers(10, 41, len(invoices))
    fridays = [d for d in span.days if d.weekday() == 4]
    pay_on: dict[date, list[tuple[str, int]]] = {d: [] for d in fridays}
    unpaid = []
    for (invoice_no, inv), b, late in zip(invoices.iterrows(), behaviour, delay, strict=True):
        due = span.days[int(inv["day"])] + timedelta(days=terms)
        gross = int(inv["net"] + inv["vat"])
        if b < 0.03:  # held by the chain: never paid
            if due <= span.end:
                unpaid.append((invoice_no, due, gross))
            continue
        ready = due + timedelta(days=int(late)) if b < 0.2 else due
        friday = ready + timedelta(days=(4 - ready.weekday()) % 7)
        if friday <= span.end:
            pay_on[friday].append((invoice_no, gross))
    for invoice_no, due, gross in unpaid[:5]:
        summary.plant(
            kind="unpaid_invoice",
            chain=code,
            feed="payments",
            invoice_no=invoice_no,
            due_date=due.isoformat(),
            amount=money(gross),
            expected="overdue receivable at the end of the range",
        )
    thousands = layout.thousands == ","
    rows = 0
    for friday in fridays:
        payment_no = f"{code}-PAY-{friday:%Y%m%d}"
        dstr = friday.strftime(layout.date_format)
        body = [[payment_no, dstr, inv, money(g, thousands)] for inv, g in pay_on[friday]]
        write_feed(home / "feeds" / code / layout.path_for(friday), layout, COLUMNS, body)
        rows += len(body)
    summary.count(code, "payments", len(fridays), rows)
