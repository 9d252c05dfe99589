"""Parse one feed file with its chain's layout into the canonical columns.

Guarantees: the result has exactly the feed's canonical columns (domain.md section 3),
as strings normalised to one convention: dates ``YYYY-MM-DD``, amounts ``-1234.50``
(no thousands separator, '.' decimal), whole numbers ``-12``, empty cells as missing.
A value that cannot be normalised is kept as read, so validation quarantines its row
with the value in the message. Each row keeps its 1-based data row number (``_row``)
and the values as read (``_raw``). A file that cannot be read at all (undecodable,
not a spreadsheet, required headers missing) raises :class:`FileRejected`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ka_pipeline.config import FEED_COLUMNS, FeedLayout
from ka_pipeline.errors import FileRejected

DATE_COLUMNS = {
    "sales": ("business_date",),
    "invoices": ("invoice_date",),
    "deductions": ("deduction_date", "period_start", "period_end"),
    "payments": ("payment_date",),
}
MONEY_COLUMNS = {
    "sales": ("sales_amount", "promo_amount"),
    "invoices": ("unit_price", "net_amount", "vat_amount"),
    "deductions": ("amount",),
    "payments": ("amount",),
}
INT_COLUMNS = {
    "sales": ("units", "promo_units", "on_hand_units"),
    "invoices": ("line_no", "units"),
    "deductions": ("units",),
    "payments": (),
}
# Codes whose leading zeros matter must never pass through a number type.
_UTF8_BOM = b"\xef\xbb\xbf"
_TRAILING_ZERO_DECIMALS = re.compile(r"^(-?\d+)\.0+$")


def _decode(path: Path, data: bytes, encoding: str) -> str:
    if data.startswith(_UTF8_BOM):
        return data[len(_UTF8_BOM) :].decode("utf-8", errors="strict")
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise FileRejected(
            str(path),
            f"cannot be decoded as {encoding} (byte {exc.start}: "
            f"{data[exc.start : exc.start + 4]!r}); check the layout's encoding",
        ) from None


def _read_csv(path: Path, layout: FeedLayout) -> pd.DataFrame:
    text = _decode(path, path.read_bytes(), layout.encoding)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=layout.delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
            quoting=csv.QUOTE_MINIMAL,
        )
    except pd.errors.EmptyDataError:
        raise FileRejected(str(path), "the file is empty (no header row)") from None
    except pd.errors.ParserError as exc:
        raise FileRejected(str(path), f"not a well-formed CSV: {exc}") from None
    return frame


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


def _read_xlsx(path: Path, layout: FeedLayout) -> pd.DataFrame:
    from openpyxl import load_workbook  # imported here: only XLSX chains pay for it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise FileRejected(str(path), f"not a readable XLSX workbook ({exc})") from None
    try:
        sheet = (
            book.worksheets[layout.sheet] if isinstance(layout.sheet, int) else book[layout.sheet]
        )
    except (IndexError, KeyError):
        book.close()
        raise FileRejected(str(path), f"has no sheet {layout.sheet!r}") from None
    rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    rows = [row for row in rows if any(cell != "" for cell in row)]
    if not rows:
        raise FileRejected(str(path), "the sheet is empty (no header row)")
    header = [h.strip() for h in rows[0]]
    body = [row + [""] * (len(header) - len(row)) for row in rows[1:]]
    return pd.DataFrame([row[: len(header)] for row in body], columns=header, dtype=str)


def _normalise_dates(values: pd.Series, fmt: str) -> pd.Series:
    text = values.str.strip()
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")  # XLSX date cells
    best = parsed.fillna(iso)
    out = best.dt.strftime("%Y-%m-%d")
    return out.where(best.notna(), text)


def _normalise_numbers(values: pd.Series, layout: FeedLayout, integer: bool) -> pd.Series:
    text = values.str.strip().str.replace("\u00a0", "", regex=False)
    if layout.thousands:
        text = text.str.replace(layout.thousands, "", regex=False)
    if layout.decimal != ".":
        text = text.str.replace(layout.decimal, ".", regex=False)
    if integer:
        text = text.str.replace(_TRAILING_ZERO_DECIMALS, r"\1", regex=True)
    return text


def parse_file(path: Path, layout: FeedLayout) -> pd.DataFrame:
    """Read ``path`` with ``layout``; return the canonical frame plus ``_row``/``_raw``."""
    feed = layout.feed
    frame = _read_xlsx(path, layout) if layout.format == "xlsx" else _read_csv(path, layout)
    frame.columns = [str(c).strip() for c in frame.columns]
    required, optional = FEED_COLUMNS[feed]
    missing = [layout.source_header(c) for c in required if layout.source_header(c) not in frame]
    if missing:
        raise FileRejected(
            str(path),
            f"missing required column(s) {missing}; the header has {list(frame.columns)}",
        )
    raw = frame.to_dict(orient="records")
    out = pd.DataFrame(index=frame.index)
    for column in required + optional:
        source = layout.source_header(column)
        out[column] = frame[source] if source in frame else pd.Series("", index=frame.index)
    out = out.astype(str)
    for column in DATE_COLUMNS[feed]:
        out[column] = _normalise_dates(out[column], layout.date_format)
    for column in MONEY_COLUMNS[feed]:
        out[column] = _normalise_numbers(out[column], layout, integer=False)
    for column in INT_COLUMNS[feed]:
        out[column] = _normalise_numbers(out[column], layout, integer=True)
    for column in out.columns:
        out[column] = out[column].str.strip()
    out = out.replace({"": None})
    out["_row"] = range(1, len(out) + 1)
    out["_raw"] = [json.dumps(r, ensure_ascii=False) for r in raw]
    return out.reset_index(drop=True)
