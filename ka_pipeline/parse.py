"""Parse one feed file with its chain's layout into the canonical columns.

Guarantees: the rows have exactly the feed's canonical columns (domain.md section 3),
as strings normalised to one convention: dates ``YYYY-MM-DD``, amounts ``-1234.50``
(no thousands separator, '.' decimal), whole numbers ``-12``, empty cells as missing.
A value that cannot be normalised is kept as read, so validation quarantines its row
with the value in the message. Each row keeps its 1-based data row number (``_row``);
the values as read stay available for the quarantine (:meth:`Parsed.raw_records`).
A file that cannot be read at all (undecodable, not a spreadsheet, required headers
missing) raises :class:`FileRejected`. Reading is per file and cheap; normalising runs
once per batch of files (:func:`normalise`), so its fixed cost is not paid per file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ka_pipeline.config import FEED_COLUMNS, FeedLayout
from ka_pipeline.errors import FileRejected

DATE_COLUMNS = {
    "sales": ("business_date",),
    "invoices": ("invoice_date",),
    "deductions": ("deduction_date", "period_start", "period_end", "statement_date"),
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


def _read_csv(path: Path, layout: FeedLayout) -> tuple[pd.DataFrame, list[Malformed]]:
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
    except pd.errors.ParserError:
        return _read_csv_line_by_line(path, text, layout)
    frame.index = range(1, len(frame) + 1)
    return frame, []


def _read_csv_line_by_line(
    path: Path, text: str, layout: FeedLayout
) -> tuple[pd.DataFrame, list[Malformed]]:
    """The slow path for a file with lines longer than its header: those lines are set
    aside (to be quarantined), the others read as usual. Short lines are padded with
    empty cells, as the fast path does, and checked like any row."""
    records = [r for r in csv.reader(io.StringIO(text), delimiter=layout.delimiter) if r]
    if not records:
        raise FileRejected(str(path), "the file is empty (no header row)")
    header, body = records[0], records[1:]
    good, numbers, malformed = [], [], []
    for number, record in enumerate(body, 1):
        if len(record) > len(header):
            reason = f"the line has {len(record)} fields, the header has {len(header)}"
            malformed.append(Malformed(number, reason, json.dumps(record, ensure_ascii=False)))
        else:
            good.append(record + [""] * (len(header) - len(record)))
            numbers.append(number)
    frame = pd.DataFrame(good, columns=header, index=numbers, dtype=str)
    return frame, malformed


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
    from python_calamine import CalamineWorkbook  # only XLSX chains pay for the import

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for a bad file
        raise FileRejected(str(path), f"not a readable XLSX workbook ({exc})") from None
    try:
        if isinstance(layout.sheet, int):
            sheet = book.get_sheet_by_index(layout.sheet)
        else:
            sheet = book.get_sheet_by_name(str(layout.sheet))
    except Exception:
        raise FileRejected(
            str(path), f"has no sheet {layout.sheet!r}; its sheets are {book.sheet_names}"
        ) from None
    rows = [[_cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    rows = [row for row in rows if any(cell != "" for cell in row)]
    if not rows:
        raise FileRejected(str(path), "the sheet is empty (no header row)")
    header = [h.strip() for h in rows[0]]
    body = [row + [""] * (len(header) - len(row)) for row in rows[1:]]
    frame = pd.DataFrame([row[: len(header)] for row in body], columns=header, dtype=str)
    frame.index = range(1, len(frame) + 1)
    return frame


def _normalise_dates(values: pd.Series, fmt: str) -> pd.Series:
    """ISO dates; a value that parses neither with ``fmt`` nor as ISO is kept as read.

    Dates repeat (a daily file has one), so only the distinct values are parsed.
    """
    distinct = pd.Series(values.dropna().unique(), dtype=object)
    parsed = pd.to_datetime(distinct, format=fmt, errors="coerce")
    iso = pd.to_datetime(distinct, format="%Y-%m-%d", errors="coerce")  # XLSX date cells
    best = parsed.fillna(iso)
    text = best.dt.strftime("%Y-%m-%d").where(best.notna(), distinct)
    return values.map(dict(zip(distinct, text, strict=True)))


def _normalise_numbers(values: pd.Series, layout: FeedLayout, integer: bool) -> pd.Series:
    text = values.str.replace("\u00a0", "", regex=False)
    if layout.thousands:
        text = text.str.replace(layout.thousands, "", regex=False)
    if layout.decimal != ".":
        text = text.str.replace(layout.decimal, ".", regex=False)
    if integer:  # XLSX and some exports write whole numbers as "12.0"
        text = text.str.replace(_TRAILING_ZERO_DECIMALS, r"\1", regex=True)
    return text


@dataclass(frozen=True)
class Malformed:
    """A data line that cannot become a row (more fields than the header)."""

    row_number: int
    reason: str
    raw: str


@dataclass
class Parsed:
    """A parsed file: canonical ``rows`` (with ``_row``), the ``source`` as read (indexed
    by data row number) and the lines too malformed to become rows."""

    rows: pd.DataFrame
    source: pd.DataFrame
    malformed: list[Malformed] = field(default_factory=list)

    def raw_records(self, row_numbers: pd.Series) -> list[str]:
        """The given 1-based rows exactly as read, as JSON (for the quarantine)."""
        records = self.source.loc[row_numbers.astype(int).to_numpy()].to_dict("records")
        return [json.dumps(r, ensure_ascii=False) for r in records]


def read_file(path: Path, layout: FeedLayout) -> Parsed:
    """Read ``path`` and pick the canonical columns, values as read (stripped).

    Cheap per file; :func:`normalise` then runs once over a whole batch of files.
    """
    if layout.format == "xlsx":
        source, malformed = _read_xlsx(path, layout), []
    else:
        source, malformed = _read_csv(path, layout)
    source.columns = [str(c).strip() for c in source.columns]
    required, optional = FEED_COLUMNS[layout.feed]
    missing = [layout.source_header(c) for c in required if layout.source_header(c) not in source]
    if missing:
        raise FileRejected(
            str(path),
            f"missing required column(s) {missing}; the header has {list(source.columns)}",
        )
    headers = {c: layout.source_header(c) for c in required + optional}
    present = {c: h for c, h in headers.items() if h in source}
    rows = source[list(present.values())].set_axis(list(present), axis=1)
    rows = rows.reindex(columns=list(headers)).astype("str")
    rows["_row"] = source.index
    return Parsed(rows.reset_index(drop=True), source, malformed)


def normalise(rows: pd.DataFrame, layout: FeedLayout) -> pd.DataFrame:
    """Normalise canonical columns of one or many files sharing ``layout``."""
    out = rows.copy()
    required, optional = FEED_COLUMNS[layout.feed]
    for column in required + optional:
        text = out[column].str.strip()
        out[column] = text.mask(text == "")
    for column in DATE_COLUMNS[layout.feed]:
        out[column] = _normalise_dates(out[column], layout.date_format)
    for column in MONEY_COLUMNS[layout.feed]:
        out[column] = _normalise_numbers(out[column], layout, integer=False)
    for column in INT_COLUMNS[layout.feed]:
        out[column] = _normalise_numbers(out[column], layout, integer=True)
    return out


def parse_file(path: Path, layout: FeedLayout) -> Parsed:
    """Read and normalise one file (the pipeline normalises whole batches instead)."""
    parsed = read_file(path, layout)
    return Parsed(normalise(parsed.rows, layout), parsed.source, parsed.malformed)
