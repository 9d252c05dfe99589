"""Writes feed files in a chain's layout, and the CSV/YAML config files.

Headers come from the layouts declared in the generated ``config/chains.yaml``
(:func:`read_layouts`): a canonical column is written under the chain's source header
(``FeedLayout.source_header``), an :class:`Unmapped` column (one the layout does not map,
like RT-Mart's item name) under its literal header. XLSX workbooks hold every cell as an
inline string with fixed timestamps, so equal data gives equal bytes.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from ka_pipeline.config import FeedLayout

FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_XML_TIME = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class Unmapped:
    """A column the chain sends that its layout does not map (written as ``header``)."""

    header: str


Column = str | Unmapped
# The sheet a workbook's first sheet is called when the layout names none.
SHEET_NAMES = {
    "sales": "POS",
    "invoices": "Invoices",
    "deductions": "Deductions",
    "payments": "Remittance",
}


def read_layouts(config_dir: Path) -> dict[str, dict[str, FeedLayout]]:
    """The feed layouts per chain as declared in ``config_dir/chains.yaml``."""
    doc = yaml.safe_load((config_dir / "chains.yaml").read_text(encoding="utf-8"))
    return {
        chain["code"]: {
            feed: FeedLayout(feed=feed, **spec) for feed, spec in chain.get("feeds", {}).items()
        }
        for chain in doc["chains"]
    }


def headers(layout: FeedLayout, columns: Sequence[Column]) -> list[str]:
    return [c.header if isinstance(c, Unmapped) else layout.source_header(c) for c in columns]


def write_feed(
    path: Path, layout: FeedLayout, columns: Sequence[Column], rows: Iterable[Sequence[Any]]
) -> None:
    """One feed file at ``path`` in ``layout`` (CSV in its encoding, or XLSX)."""
    header = headers(layout, columns)
    if layout.format == "xlsx":
        sheet = layout.sheet if isinstance(layout.sheet, str) else SHEET_NAMES[layout.feed]
        write_xlsx(path, sheet, header, rows)
    else:
        write_csv(path, header, rows, encoding=layout.encoding)


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(path: Path, head: str, doc: Any) -> None:
    text = yaml.dump(doc, Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(head + text, encoding="utf-8")


def write_csv(path: Path, header: list[str], rows, encoding: str = "utf-8") -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))


_CORE_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
_EMPTY_SHEET_DATA = b"<sheetData></sheetData>"


@functools.lru_cache(maxsize=8)
def _xlsx_template(sheet: str) -> tuple[tuple[str, bytes], ...]:
    """openpyxl's parts for a workbook with one empty sheet, timestamps fixed."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    workbook.create_sheet(sheet)
    raw = io.BytesIO()
    workbook.save(raw)
    parts = []
    with zipfile.ZipFile(raw) as src:
        for name in src.namelist():
            data = src.read(name)
            if name == "docProps/core.xml":
                data = _CORE_TIME.sub(rb"\g<1>" + FIXED_XML_TIME.encode() + rb"\g<2>", data)
            parts.append((name, data))
    assert any(_EMPTY_SHEET_DATA in data for _, data in parts)
    return tuple(parts)


def _column_letters(n: int) -> list[str]:
    letters = []
    for k in range(1, n + 1):
        name = ""
        while k:
            k, rem = divmod(k - 1, 26)
            name = chr(65 + rem) + name
        letters.append(name)
    return letters


def write_xlsx(path: Path, sheet: str, header: list[str], rows) -> None:
    """An XLSX whose cells are all text (inline strings); an empty value leaves the cell
    out. Built from openpyxl's parts with the sheet XML written directly, which is ~20x
    faster than openpyxl per cell; timestamps are fixed so equal data gives equal bytes."""
    letters = _column_letters(len(header))
    out = ["<sheetData>"]
    for r, row in enumerate([header, *rows], 1):
        out.append(f'<row r="{r}">')
        for letter, value in zip(letters, row, strict=True):
            if value == "" or value is None:
                continue
            text = escape(str(value))
            out.append(f'<c r="{letter}{r}" t="inlineStr"><is><t>{text}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData>")
    sheet_data = "".join(out).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in _xlsx_template(sheet):
            if name.startswith("xl/worksheets/"):
                data = data.replace(_EMPTY_SHEET_DATA, sheet_data)
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
