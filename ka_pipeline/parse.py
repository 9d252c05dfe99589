"""Parse one feed file with its chain's layout into the canonical columns.

Guarantees: the rows have exactly the feed's canonical columns (domain.md section 3),
as strings normalised to one convention: dates ``YYYY-MM-DD``, amounts ``-1234.50``
(no thousands separator, '.' decimal), whole numbers ``-12``, empty cells as missing.
A value that cannot be normalised is kept as read, so validation quarantines its row
with the value in the message. Each row keeps its 1-based data row number (``_row``);
the values as read stay available for the quarantine (:meth:`Parsed.raw_records`).
A file that cannot be read at all (undecodable, not a spreadsheet, required headers
missing or named twice) raises :class:`FileRejected`; its message shows file contents
only escaped and cut short (:func:`ka_pipeline.shown.shown`). A CSV file that does not
end with a line break may have been cut off mid-field: its last line is set aside as
malformed (quarantined), never loaded. A number using the thousands separator other
than in groups of three digits (``"85,50"``, ``"1,2,3.40"``) is kept as read, so it is
quarantined rather than read as another number. Reading is per file and cheap; normalising runs
once per batch of files (:func:`normalise`), so its fixed cost is not paid per file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from ka_pipeline.config import Chain, FeedLayout
from ka_pipeline.errors import FileRejected
from ka_pipeline.feeds import FEEDS
from ka_pipeline.shown import shown

# Codes whose leading zeros matter must never pass through a number type.
_UTF8_BOM = b"\xef\xbb\xbf"
_TRAILING_ZERO_DECIMALS = r"^(-?\d+)\.0+$"  # a string pattern: pandas runs it vectorised
NUMBER_MISREAD = "_number_misread"
_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str" dtype
_CUT_OFF = "the file ends inside this line (no line break after it): it may be cut off"


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
            f"{shown(data[exc.start : exc.start + 4])}); check the layout's encoding",
        ) from None


def _header(text: str, layout: FeedLayout) -> list[str]:
    first = next(csv.reader(io.StringIO(text), delimiter=layout.delimiter), [])
    return [h.strip() for h in first]


def _cut_last_line(
    frame: pd.DataFrame, malformed: list[Malformed], text: str
) -> tuple[pd.DataFrame, list[Malformed]]:
    """Set aside the last row when the text does not end with a line break."""
    if frame.empty or text.endswith(("\n", "\r")):
        return frame, malformed
    number = int(frame.index[-1])
    raw = json.dumps(frame.iloc[-1].to_dict(), ensure_ascii=False)
    return frame.iloc[:-1], [*malformed, Malformed(number, _CUT_OFF, raw)]


def _read_csv(path: Path, layout: FeedLayout) -> tuple[pd.DataFrame, list[Malformed], list[str]]:
    text = _decode(path, path.read_bytes(), layout.encoding)
    header = _header(text, layout)
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
        frame, malformed = _read_csv_line_by_line(path, text, layout)
        frame, malformed = _cut_last_line(frame, malformed, text)
        return frame, malformed, header
    frame.index = range(1, len(frame) + 1)
    frame, malformed = _cut_last_line(frame, [], text)
    return frame, malformed, header


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
    columns = [h.strip() for h in header]
    frame = pd.DataFrame(good, columns=columns, index=numbers, dtype=str)
    frame = frame.loc[:, ~frame.columns.duplicated()]
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


def _read_xlsx(path: Path, layout: FeedLayout) -> tuple[pd.DataFrame, list[str]]:
    from python_calamine import CalamineWorkbook  # only XLSX chains pay for the import

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for a bad file
        raise FileRejected(str(path), f"not a readable XLSX workbook ({shown(exc, 120)})") from None
    try:
        if isinstance(layout.sheet, int):
            sheet = book.get_sheet_by_index(layout.sheet)
        else:
            sheet = book.get_sheet_by_name(str(layout.sheet))
    except Exception:
        sheets = ", ".join(shown(n) for n in book.sheet_names)
        raise FileRejected(
            str(path), f"has no sheet {shown(layout.sheet)}; its sheets are {sheets}"
        ) from None
    rows = [[_cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    rows = [row for row in rows if any(cell != "" for cell in row)]
    if not rows:
        raise FileRejected(str(path), "the sheet is empty (no header row)")
    header = [h.strip() for h in rows[0]]
    body = [row + [""] * (len(header) - len(row)) for row in rows[1:]]
    frame = pd.DataFrame([row[: len(header)] for row in body], columns=header, dtype=str)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame.index = range(1, len(frame) + 1)
    return frame, header


def _blank_as_missing(values: pd.Series) -> pd.Series:
    """``values`` as strings, stripped, an empty one missing."""
    text = values.astype(_STR).str.strip()
    return text.mask(text == "")


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


def _normalise_numbers(
    values: pd.Series, layout: FeedLayout, integer: bool
) -> tuple[pd.Series, pd.Series]:
    """The numbers in one convention, and a mask of those misusing the thousands
    separator (kept as read; validation quarantines their rows)."""
    text = values.str.replace("\u00a0", "", regex=False)
    misused = pd.Series(False, index=values.index)
    if layout.thousands:
        sep, dec = re.escape(layout.thousands), re.escape(layout.decimal)
        grouped = rf"^[+-]?\d{{1,3}}(?:{sep}\d{{3}})+(?:{dec}\d*)?$"
        has_sep = text.str.contains(layout.thousands, regex=False).fillna(False).astype(bool)
        if has_sep.any():
            ok = text[has_sep].str.match(grouped).fillna(False).astype(bool)
            misused.loc[ok.index[~ok.to_numpy()]] = True
            text = text.str.replace(layout.thousands, "", regex=False)
    if layout.decimal != ".":
        text = text.str.replace(layout.decimal, ".", regex=False)
    if integer:  # XLSX and some exports write whole numbers as "12.0"
        text = text.str.replace(_TRAILING_ZERO_DECIMALS, r"\1", regex=True)
    return text.where(~misused, values), misused


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
        (source, header), malformed = _read_xlsx(path, layout), []
    else:
        source, malformed, header = _read_csv(path, layout)
    source.columns = [str(c).strip() for c in source.columns]
    _check_header(path, layout, header)
    rows = _canonical(source, layout)
    return Parsed(rows, source, malformed)


def normalise(rows: pd.DataFrame, layout: FeedLayout, chain: Chain | None = None) -> pd.DataFrame:
    """Normalise canonical columns of one or many files sharing ``layout`` (the
    columns present: a frame of key columns alone is normalised the same way).

    Each column is typed as its feed declares it (:mod:`ka_pipeline.feeds`); the feed's
    derived columns are computed here too (a deduction's type from its wording, by
    ``chain``'s rules; ``unclassified`` without a chain or a matching rule). Every rule
    maps one value to one value, so a column whose values repeat (dates, codes, whole
    numbers) is normalised once per distinct value and spread back to the rows; money
    columns, whose values hardly repeat, go through Arrow's string kernels row by row.
    """
    declared = FEEDS[layout.feed]
    out = rows.copy()
    numbers = {c: False for c in declared.money} | {c: True for c in declared.integers}
    misuses: dict[str, np.ndarray] = {}
    for column in declared.columns:
        if column not in out:
            continue
        if column in declared.money:
            # amounts hardly repeat: Arrow's string kernels over every row cost less
            # than encoding the column's distinct values
            values, misused = _normalise_numbers(_blank_as_missing(out[column]), layout, False)
            out[column] = values
            if misused.any():
                misuses[column] = misused.to_numpy(dtype=bool)
            continue
        # dates, codes and whole numbers repeat: each distinct value is normalised once
        codes, distinct = pd.factorize(out[column])
        values = _blank_as_missing(pd.Series(distinct))
        if column in declared.dates:
            values = _normalise_dates(values, layout.date_format)
        misused = None
        if column in numbers:
            values, misused = _normalise_numbers(values, layout, numbers[column])
        out[column] = pd.Series(values.array.take(codes, allow_fill=True), index=out.index)
        if misused is not None and misused.any():
            misuses[column] = np.append(misused.to_numpy(dtype=bool), False)[codes]  # -1: null
    misread = pd.Series(None, index=out.index, dtype=object)
    for column in numbers:  # money columns first, then whole numbers
        if column in misuses:
            misread = misread.where(~misuses[column] | misread.notna(), column)
    out[NUMBER_MISREAD] = misread  # the first column misusing the separator, else None
    for column, source in declared.derived.items():
        if source in out:
            out[column] = _derive(column, out[source], chain)
    return out


def _derive(column: str, source: pd.Series, chain: Chain | None) -> pd.Series:
    """A derived column (see :attr:`ka_pipeline.feeds.Feed.derived`) from its source."""
    if column != "deduction_type":
        raise ValueError(f"no rule derives {column!r}")
    texts = source.dropna().unique()  # wordings repeat: classify each once
    mapping = {text: chain.deduction_type(text) if chain else "unclassified" for text in texts}
    return source.map(mapping).fillna("unclassified")


def parse_file(path: Path, layout: FeedLayout, chain: Chain | None = None) -> Parsed:
    """Read and normalise one file (the pipeline normalises whole batches instead)."""
    parsed = read_file(path, layout)
    return Parsed(normalise(parsed.rows, layout, chain), parsed.source, parsed.malformed)


# --------------------------------------------------------------------------- streaming
# A large CSV file is read in chunks of bounded rows, so memory does not grow with the
# file: the chunks carry the same canonical rows, row numbers and malformed lines as
# read_file would give for the whole file.


class NeedsLineByLine(Exception):
    """The fast reader met a line longer than the header: re-read the file line by line."""


def _stream_encoding(path: Path, layout: FeedLayout) -> str:
    with path.open("rb") as handle:
        start = handle.read(len(_UTF8_BOM))
    if start == _UTF8_BOM:
        return "utf-8-sig"
    return "utf-8" if layout.encoding == "utf-8-sig" else layout.encoding


def _ends_with_line_break(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            return True
        handle.seek(-1, 2)
        return handle.read(1) in (b"\n", b"\r")


def _stream_header(path: Path, layout: FeedLayout, encoding: str) -> list[str]:
    with path.open(encoding=encoding, newline="") as handle:
        try:
            first = next(csv.reader(handle, delimiter=layout.delimiter), [])
        except UnicodeDecodeError as exc:
            raise _undecodable(path, layout, exc) from None
    if not first:
        raise FileRejected(str(path), "the file is empty (no header row)")
    return [h.strip() for h in first]


def _undecodable(path: Path, layout: FeedLayout, exc: UnicodeDecodeError) -> FileRejected:
    bad = exc.object[exc.start : exc.start + 4]
    return FileRejected(
        str(path),
        f"cannot be decoded as {layout.encoding} ({shown(bad)}); check the layout's encoding",
    )


def _check_header(path: Path, layout: FeedLayout, header: list[str]) -> None:
    """Reject a file whose (stripped) ``header`` names a wanted column twice or lacks a
    required one."""
    declared = FEEDS[layout.feed]
    wanted = [layout.source_header(c) for c in declared.columns]
    twice = [h for h in dict.fromkeys(wanted) if header.count(h) > 1]
    if twice:
        raise FileRejected(
            str(path),
            "the header names " + ", ".join(shown(h) for h in twice) + " more than once;"
            " which column is meant is unclear",
        )
    missing = [
        layout.source_header(c) for c in declared.required if layout.source_header(c) not in header
    ]
    if missing:
        found = ", ".join(shown(h, 40) for h in header[:30]) + (" …" if len(header) > 30 else "")
        raise FileRejected(
            str(path),
            f"missing required column(s) {', '.join(shown(m) for m in missing)};"
            f" the header has {found}",
        )


def _canonical(source: pd.DataFrame, layout: FeedLayout) -> pd.DataFrame:
    """The canonical columns of ``source`` (an absent optional column as missing values),
    as strings, with the data row number in ``_row``."""
    headers = {c: layout.source_header(c) for c in FEEDS[layout.feed].columns}
    n = len(source)
    columns = {}
    for canonical, header in headers.items():
        if header not in source:  # built from Arrow nulls: astype of NaN costs 0.1 s/M
            columns[canonical] = pd.array(pa.nulls(n, pa.large_string()), dtype=_STR)
        elif source[header].dtype == _STR:
            columns[canonical] = source[header].array
        else:
            columns[canonical] = source[header].astype(_STR).array
    rows = pd.DataFrame(columns)
    rows["_row"] = source.index.to_numpy()
    return rows


def read_chunks(
    path: Path, layout: FeedLayout, rows: int, *, line_by_line: bool = False
) -> Iterator[Parsed]:
    """Read a CSV ``path`` in chunks of at most ``rows`` data rows (see :func:`read_file`).

    Raises FileRejected before the first chunk when the header is unusable, and
    NeedsLineByLine (fast reader only) when a line has more fields than the header:
    read the file again with ``line_by_line=True``.
    """
    encoding = _stream_encoding(path, layout)
    header = _stream_header(path, layout, encoding)
    _check_header(path, layout, header)
    complete = _ends_with_line_break(path)
    chunks = (
        _line_chunks(path, layout, encoding, header, rows)
        if line_by_line
        else _fast_chunks(path, layout, encoding, rows)
    )
    pending: Parsed | None = None
    try:
        for source, malformed in chunks:
            if pending is not None:
                yield pending
            source.columns = [str(c).strip() for c in source.columns]
            pending = Parsed(_canonical(source, layout), source, malformed)
    except UnicodeDecodeError as exc:
        raise _undecodable(path, layout, exc) from None
    if pending is None:
        return
    if not complete and not pending.rows.empty:
        last = pending.rows.iloc[-1]
        raw = json.dumps(pending.source.loc[int(last["_row"])].to_dict(), ensure_ascii=False)
        cut = Malformed(int(last["_row"]), _CUT_OFF, raw)
        pending = Parsed(pending.rows.iloc[:-1], pending.source, [*pending.malformed, cut])
    yield pending


def _arrow_reader(
    path: Path, layout: FeedLayout, encoding: str, header: list[str], wanted: list[str] | None
) -> pa_csv.CSVStreamingReader:
    """Arrow's streaming CSV reader over ``path``: every column text, empty cells as empty
    strings (as pandas reads with ``dtype=str, keep_default_na=False``), blank lines
    skipped, quoted line breaks kept in their value. Columns named as the stripped
    header, a name repeated as pandas would (``name.1``); only ``wanted`` if given."""
    names: list[str] = []
    for name in header:
        unique, n = name, 0
        while unique in names:
            n += 1
            unique = f"{name}.{n}"
        names.append(unique)
    include = [n for n in names if wanted is None or n in wanted]
    return pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(
            column_names=names,
            skip_rows=1,
            encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
            block_size=4 << 20,
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=layout.delimiter, newlines_in_values=True, ignore_empty_lines=True
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: pa.large_string() for n in include},
            include_columns=include,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _arrow_chunks(
    path: Path,
    layout: FeedLayout,
    encoding: str,
    rows: int,
    wanted: list[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """The CSV file's data rows as frames of exactly ``rows`` rows (the last fewer),
    indexed by data row number; NeedsLineByLine where a line does not have as many
    fields as the header (pandas would pad a short one, this reader stops: the line by
    line reader pads it) or a quote is not closed."""
    header = _stream_header(path, layout, encoding)
    pending: list[pa.RecordBatch] = []
    held = offset = 0
    try:
        with _arrow_reader(path, layout, encoding, header, wanted) as reader:
            for batch in reader:
                pending.append(batch)
                held += batch.num_rows
                while held >= rows:
                    table = pa.Table.from_batches(pending)
                    yield _arrow_frame(table.slice(0, rows), offset)
                    offset += rows
                    rest = table.slice(rows)
                    pending, held = rest.to_batches(), rest.num_rows
    except pa.ArrowInvalid:  # also undecodable text: the line reader says where
        raise NeedsLineByLine(str(path)) from None
    if held or offset == 0:
        table = pa.Table.from_batches(pending, schema=None if pending else _empty(header, wanted))
        yield _arrow_frame(table, offset)


def _empty(header: list[str], wanted: list[str] | None) -> pa.Schema:
    return pa.schema([(h, pa.large_string()) for h in header if wanted is None or h in wanted])


def _arrow_frame(table: pa.Table, offset: int) -> pd.DataFrame:
    # one array per column: Arrow's kernels (dictionary encoding above all) cost about
    # twice as much over the reader's many small batches
    frame = table.combine_chunks().to_pandas(types_mapper={pa.large_string(): _STR}.get)
    frame.index = range(offset + 1, offset + len(frame) + 1)
    return frame


def _fast_chunks(
    path: Path, layout: FeedLayout, encoding: str, rows: int
) -> Iterator[tuple[pd.DataFrame, list[Malformed]]]:
    for frame in _arrow_chunks(path, layout, encoding, rows):
        yield frame, []


def _line_chunks(
    path: Path, layout: FeedLayout, encoding: str, header: list[str], rows: int
) -> Iterator[tuple[pd.DataFrame, list[Malformed]]]:
    with path.open(encoding=encoding, newline="") as handle:
        records = (r for r in csv.reader(handle, delimiter=layout.delimiter) if r)
        next(records, None)  # the header
        good, numbers, malformed = [], [], []
        for number, record in enumerate(records, 1):
            if len(record) > len(header):
                reason = f"the line has {len(record)} fields, the header has {len(header)}"
                malformed.append(Malformed(number, reason, json.dumps(record, ensure_ascii=False)))
            else:
                good.append(record + [""] * (len(header) - len(record)))
                numbers.append(number)
            if len(good) + len(malformed) >= rows:
                yield _frame(good, numbers, header), malformed
                good, numbers, malformed = [], [], []
        yield _frame(good, numbers, header), malformed


def _frame(good: list[list[str]], numbers: list[int], header: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(good, columns=header, index=numbers, dtype=str)
    return frame.loc[:, ~frame.columns.duplicated()]


def repeated_rows(path: Path, layout: FeedLayout, key: tuple[str, ...], rows: int) -> set[int]:
    """Row numbers of a CSV file whose normalised ``key`` appears on more than one row
    (a pass over the key columns alone, in chunks of ``rows``; malformed lines and a
    cut-off last line take no part, as in :func:`read_chunks`)."""
    try:
        hashes, numbers = _key_hashes(_key_chunks(path, layout, key, rows), layout, key)
        cut_off = not _ends_with_line_break(path)
    except NeedsLineByLine:  # read_chunks sets malformed and cut-off lines aside itself
        chunks = (p.rows for p in read_chunks(path, layout, rows, line_by_line=True))
        hashes, numbers = _key_hashes(chunks, layout, key)
        cut_off = False
    if not hashes:
        return set()
    every, where = np.concatenate(hashes), np.concatenate(numbers)
    if cut_off and len(where):
        every, where = every[:-1], where[:-1]  # the cut-off last line is not a row
    unique, counts = np.unique(every, return_counts=True)
    return set(where[np.isin(every, unique[counts > 1])].tolist())


def _key_chunks(
    path: Path, layout: FeedLayout, key: tuple[str, ...], rows: int
) -> Iterator[pd.DataFrame]:
    """The key columns of a CSV file (canonical names, ``_row``), in chunks."""
    encoding = _stream_encoding(path, layout)
    _check_header(path, layout, _stream_header(path, layout, encoding))
    headers = {layout.source_header(c).strip(): c for c in key}
    for frame in _arrow_chunks(path, layout, encoding, rows, list(headers)):
        frame.columns = [headers[str(c)] for c in frame.columns]
        frame["_row"] = frame.index.to_numpy()
        yield frame


def _key_hashes(
    chunks: Iterator[pd.DataFrame], layout: FeedLayout, key: tuple[str, ...]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    hashes, numbers = [], []
    for frame in chunks:
        hashes.append(key_hashes(normalise(frame[list(key)], layout), key))
        numbers.append(frame["_row"].to_numpy())
    return hashes, numbers


def key_hashes(normalised: pd.DataFrame, key: tuple[str, ...]) -> np.ndarray:
    """One 64-bit hash per row of the normalised ``key`` columns (the key pass's and
    :class:`KeyTally`'s hash: the same rows give the same hashes)."""
    return pd.util.hash_pandas_object(normalised[list(key)], index=False).to_numpy()


class KeyTally:
    """The key hashes of a file's chunks as they are read, to tell at the end whether
    any key appeared on more than one row of the file (see :func:`repeated_rows`)."""

    def __init__(self) -> None:
        self._hashes: list[np.ndarray] = []

    def add(self, normalised: pd.DataFrame, key: tuple[str, ...]) -> None:
        self._hashes.append(key_hashes(normalised, key))

    def any_repeated(self) -> bool:
        if not self._hashes:
            return False
        every = np.concatenate(self._hashes)
        self._hashes = [every]  # the chunks' arrays freed: one copy of 8 bytes a row
        every.sort()  # in place
        return bool((every[1:] == every[:-1]).any())
