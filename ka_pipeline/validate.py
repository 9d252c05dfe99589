"""Validate parsed feed rows with the Great Expectations suites in ``expectations/``.

One suite per feed, stored as JSON and loaded by code. Rows of many files are checked
in one call (the Great Expectations context, suite and batch definition are built once
per process: their fixed cost would otherwise be paid per file). Rules the suite can
state itself are in it (not-null, regexes, per-file key uniqueness, the GTIN-13 check
digit by the project's expectation in :mod:`ka_pipeline.gx_gtin`); rules that need data
outside the suite are computed first as flag columns it checks (``_product_known``,
``_store_known``, ``_date_matches_file``, date and amount windows, ``_key_new``).

Guarantees: :func:`validate_rows` splits the rows into ``good`` and ``bad``; every bad
row carries the reason(s) of each expectation it failed, so nothing is dropped
silently. :func:`store_result` keeps each suite run's result (JSON) and its Data Docs
page under the home folder; :func:`record_files` lists every file's outcome on the
Data Docs index. File text reaches them only escaped.
"""

from __future__ import annotations

import html
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ka_pipeline import resources
from ka_pipeline.config import FeedLayout
from ka_pipeline.feeds import FEEDS
from ka_pipeline.gtin import is_valid_gtin13
from ka_pipeline.parse import _STR, NUMBER_MISREAD
from ka_pipeline.shown import shown

logging.getLogger("great_expectations").setLevel(logging.WARNING)

# Computed flag -> the column whose value the quarantine message should show
# (plus one ``_<column>_ok`` flag per date column, see add_flags).
FLAG_SOURCE = {
    "_product_known": "barcode",
    "_store_known": "store_code",
    "_date_matches_file": "business_date",
    **{f"_{c}_ok": c for declared in FEEDS.values() for c in declared.dates},
    **{f"_{c}_plausible": c for declared in FEEDS.values() for c in declared.dates},
    **{f"_{c}_in_range": c for declared in FEEDS.values() for c in declared.money},
    "_key_new": "_key_seen",
}


_valid_gtin13 = lru_cache(maxsize=1 << 16)(is_valid_gtin13)  # barcodes recur file after file


def valid_barcodes(values: pd.Series) -> set[str]:
    """The distinct values of ``values`` that are valid GTIN-13 barcodes (a feed has few
    distinct barcodes and many rows; each is checked once per process)."""
    return {value for value in values.dropna().unique() if _valid_gtin13(value)}


def expectations_dir() -> Path:
    """The suites folder (see :mod:`ka_pipeline.resources`); a missing one is a ConfigError."""
    return resources.expectations_dir()


@lru_cache(maxsize=1)
def _gx() -> tuple[Any, Any]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    import ka_pipeline.gx_gtin  # noqa: F401  registers expect_column_values_to_be_valid_gtin13

    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # import resets it
    # GE fingerprints a DataFrame batch (an md5 of hash_pandas_object over every cell, a
    # batch marker nothing reads) only below this many bytes: 40 % of a 1M-row suite run.
    # A batch here is rebuilt per run and never looked up by its fingerprint: skip it.
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("ka_feeds")
    batch_definition = source.add_dataframe_asset("rows").add_batch_definition_whole_dataframe(
        "all_rows"
    )
    return gx, batch_definition


@lru_cache(maxsize=8)
def suite_document(feed: str) -> dict[str, Any]:
    """The feed's suite as stored (``expectations/<feed>.json``), read without
    importing Great Expectations."""
    path = expectations_dir() / FEEDS[feed].suite
    return json.loads(path.read_text(encoding="utf-8"))


def _reason_of(feed: str, kind: str, column: str | None = None) -> str:
    for item in suite_document(feed)["expectations"]:
        if item["type"] == kind and (column is None or item["kwargs"].get("column") == column):
            return item["meta"]["reason"]
    raise ValueError(f"expectations/{FEEDS[feed].suite} has no {kind} on {column}")


@lru_cache(maxsize=8)
def suite_columns(feed: str) -> tuple[str, ...]:
    """The columns the feed's suite names (in the order it first names them)."""
    named: dict[str, None] = {}
    for item in suite_document(feed)["expectations"]:
        kwargs = item["kwargs"]
        for column in [kwargs.get("column"), *kwargs.get("column_list", [])]:
            if column:
                named[column] = None
    return tuple(named)


def key_rule(feed: str) -> tuple[tuple[str, ...], str]:
    """The columns a row is unique by within its file (the feed's declared
    ``file_key``), and the reason the suite gives when it is not."""
    return FEEDS[feed].file_key, _reason_of(feed, "expect_compound_columns_to_be_unique")


def chain_key_reason(feed: str) -> str:
    """The suite's reason for a row whose ``chain_key`` is already loaded."""
    return _reason_of(feed, "expect_column_values_to_be_in_set", "_key_new")


@lru_cache(maxsize=8)
def load_suite(feed: str) -> Any:
    """The feed's ExpectationSuite, from ``expectations/<feed>.json``."""
    gx, _ = _gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    doc = suite_document(feed)
    suite = gx.ExpectationSuite(name=doc["name"], meta=doc.get("meta", {}))
    for item in doc["expectations"]:
        suite.add_expectation_configuration(
            ExpectationConfiguration(
                type=item["type"], kwargs=item["kwargs"], meta=item.get("meta")
            )
        )
    return suite


def prepare(feed: str) -> None:
    """Import Great Expectations, load the feed's suite and build the Data Docs page
    renderer now (each once per process)."""
    load_suite(feed)
    _page_renderer()


@dataclass
class Validated:
    good: pd.DataFrame
    bad: pd.DataFrame  # the same columns plus column_name and reason, one row per bad row
    # The suite's validation result (an ExpectationSuiteValidationResult whose failed
    # results hold counts and the first REPORT_SAMPLE rows only); None for no rows.
    result: Any = None


def add_flags(
    frame: pd.DataFrame,
    feed: str,
    file_dates: pd.Series,
    chain_stores: pd.Series | None,
    products: set[str],
    layout: FeedLayout | None = None,
    loaded_keys: dict[tuple[str, ...], str] | None = None,
) -> pd.DataFrame:
    """Add the computed columns the suites check; ``file_dates`` are ISO strings.

    ``layout`` gives the plausible date window and amount limit (the defaults when
    None); ``loaded_keys`` maps the feed's ``chain_key`` values already taken
    (loaded for another date, or by an earlier file of the batch) to where they were.
    """
    layout = layout or FeedLayout(feed=feed, file="{date:%Y%m%d}")
    declared = FEEDS[feed]
    out = frame.copy()
    if "_file" not in out:
        out["_file"] = 0
    for column in declared.dates:
        # a real calendar date: "2026-02-30" has the shape but would fail in the database
        distinct = pd.Series(out[column].dropna().unique(), dtype=object)
        real = distinct[pd.to_datetime(distinct, format="%Y-%m-%d", errors="coerce").notna()]
        out[f"_{column}_ok"] = _per_value(out[column], lambda v, r=set(real): v in r)
        if feed != "sales":  # a sales row's date must be the file's date (checked below)
            out[f"_{column}_plausible"] = _plausible(out[column], real, file_dates, layout)
    limit = float(layout.max_line_amount)
    for column in declared.money:
        amount = _as_numbers(out[column])
        out[f"_{column}_in_range"] = np.isnan(amount) | (np.abs(amount) <= limit)
    if NUMBER_MISREAD not in out:
        out[NUMBER_MISREAD] = None
    if "barcode" in out:
        # the GTIN check digit is the suite's own expectation (ka_pipeline/gx_gtin.py); an
        # invalid barcode is reported by it alone, not also as an unknown product
        out["_product_known"] = _per_value(
            out["barcode"], lambda v: v in products or not _valid_gtin13(v)
        )
    if feed == "sales":
        dates = out["business_date"]
        # a value that is no date at all is reported once, by the date check
        out["_date_matches_file"] = (
            ~out["_business_date_ok"] | dates.isna() | (dates == file_dates.values)
        )
        known = set(chain_stores) if chain_stores is not None else set()
        out["_store_known"] = _per_value(out["store_code"], lambda v: v in known)
    if declared.chain_key:
        keys = list(zip(*(out[c] for c in declared.chain_key), strict=True))
        seen = loaded_keys or {}
        out["_key_seen"] = [seen.get(k) for k in keys]
        out["_key_new"] = out["_key_seen"].isna()
    return out


def _per_value(values: pd.Series, test: Callable[[Any], bool]) -> np.ndarray:
    """``test`` of each value (True where missing), computed once per distinct value:
    codes, stores, barcodes and dates repeat over many rows."""
    codes, distinct = pd.factorize(values)
    outcome = np.fromiter((bool(test(v)) for v in distinct), dtype=bool, count=len(distinct))
    return np.append(outcome, True)[codes]  # code -1: a missing value


_PLAIN_DECIMAL = r"^-?\d{1,15}(?:\.\d{1,6})?$"


def _as_numbers(values: pd.Series) -> np.ndarray:
    """``pd.to_numeric(values, errors="coerce")`` as floats (NaN: missing or no number):
    a column of numbers only is cast by Arrow at once; otherwise its plain decimals are,
    and the other values are parsed by pandas once per distinct value."""
    text = pa.array(values.astype(_STR).array)
    try:  # most columns hold only numbers: one cast
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        pass
    plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_DECIMAL), False)
    cast = pc.cast(pc.if_else(plain, text, pa.scalar(None, text.type)), pa.float64())
    amount = cast.to_numpy(zero_copy_only=False)
    other = pc.and_(pc.invert(plain), pc.is_valid(text)).to_numpy(zero_copy_only=False)
    if other.any():
        rest = pd.Series(text.filter(pc.invert(plain)).to_pylist(), dtype=object)
        rest = pd.Series(rest.dropna().unique(), dtype=object)
        parsed = dict(zip(rest, pd.to_numeric(rest, errors="coerce"), strict=True))
        amount = amount.copy()
        amount[other] = [parsed[v] for v in np.asarray(values.astype(object))[other]]
    return amount


def _plausible(
    values: pd.Series, real: pd.Series, file_dates: pd.Series, layout: FeedLayout
) -> pd.Series:
    """True where a date lies in [file date - days before, file date + days after]; the
    (date, file date) pairs are few, so only the distinct pairs are computed."""
    pairs = pd.DataFrame({"d": values.to_numpy(), "f": file_dates.to_numpy()})
    pairs = pairs[pairs["d"].isin(set(real))].drop_duplicates()
    offset = (
        pd.to_datetime(pairs["d"], format="%Y-%m-%d")
        - pd.to_datetime(pairs["f"], format="%Y-%m-%d")
    ).dt.days
    inside = (offset >= -layout.plausible_days_before) & (offset <= layout.plausible_days_after)
    outside = set(zip(pairs["d"][~inside], pairs["f"][~inside], strict=True))
    if not outside:
        return pd.Series(True, index=values.index)
    keys = pd.Series(
        list(zip(values.to_numpy(), file_dates.to_numpy(), strict=True)), index=values.index
    )
    return ~keys.isin(outside)


def validate_rows(frame: pd.DataFrame, feed: str) -> Validated:
    """Run the feed's suite over ``frame`` (all rows at once) and split good from bad."""
    if frame.empty:
        return Validated(frame.copy(), frame.assign(column_name=None, reason=None).iloc[0:0])
    frame = frame.reset_index(drop=True)
    # only the columns the suite reads: Great Expectations hashes and copies every column
    checked = frame[[c for c in suite_columns(feed) if c in frame.columns]]
    checked = checked.assign(_key=np.arange(len(frame)))
    result = _run_suite(feed, checked)
    reasons: dict[int, list[tuple[str, str]]] = {}
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        listed = [c for c in config.kwargs.get("column_list", []) if c != "_file"]
        column = config.kwargs.get("column") or ",".join(listed)
        reason = (config.meta or {}).get("reason", config.type)
        indices = (item.result or {}).get("unexpected_index_list")
        if indices is None:
            raise RuntimeError(f"expectation {config.type} on {column} failed: {item.result}")
        source = FLAG_SOURCE.get(column, column)
        for entry in indices:
            key = int(entry["_key"])
            where = source
            if column == NUMBER_MISREAD:  # the flag holds the column at fault
                where = str(frame.at[key, NUMBER_MISREAD])
            value = frame.at[key, where] if where in frame.columns else None
            text = reason if value is None or pd.isna(value) else f"{reason} (got {shown(value)})"
            if source == "_key_seen":
                where = ",".join(FEEDS[feed].chain_key)
                text = f"{reason}: {value}"
            reasons.setdefault(key, []).append((where, text))
        item.result = _trimmed(item.result or {}, frame, column, source)
    bad_keys = sorted(reasons)
    bad = frame.iloc[bad_keys].copy()
    bad["column_name"] = [", ".join(dict.fromkeys(c for c, _ in reasons[k])) for k in bad_keys]
    bad["reason"] = ["; ".join(r for _, r in reasons[k]) for k in bad_keys]
    good = frame.drop(index=bad_keys) if bad_keys else frame  # no copy of a clean batch
    return Validated(good, bad, result)


def _run_suite(feed: str, checked: pd.DataFrame) -> Any:
    """The feed's suite over ``checked``, with the failing rows of each failed expectation.

    Great Expectations' own validator over the batch definition (``Batch.validate``
    would build the batch twice, hashing the whole frame each time). A first run asks
    only whether each expectation holds (``BOOLEAN_ONLY``: a third cheaper than listing
    failing rows, and most batches hold); the expectations that failed are then run
    again as a suite of their own with ``COMPLETE`` results (counts and the failing
    rows' ``_key``), which replace theirs in the result.
    """
    from great_expectations.validator.v1_validator import Validator

    _, batch_definition = _gx()
    suite = load_suite(feed)
    result = Validator(
        batch_definition,
        result_format={"result_format": "BOOLEAN_ONLY"},
        batch_parameters={"dataframe": checked},
    ).validate_expectation_suite(suite)
    failed = [item.expectation_config for item in result.results if not item.success]
    if not failed:
        return result
    detail = Validator(
        batch_definition,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": ["_key"],
            "partial_unexpected_count": 0,
        },
        batch_parameters={"dataframe": checked},
    ).validate_expectation_suite(_failed_suite(feed, tuple(_config_key(c) for c in failed)))
    complete = {_config_key(item.expectation_config): item for item in detail.results}
    result.results = [
        complete[_config_key(item.expectation_config)] if not item.success else item
        for item in result.results
    ]
    return result


def _config_key(config: Any) -> str:
    """An expectation's type and arguments (not the batch a result adds to them)."""
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return json.dumps([config.type, kwargs], sort_keys=True, default=str)


@lru_cache(maxsize=64)
def _failed_suite(feed: str, keys: tuple[str, ...]) -> Any:
    """The expectations of the feed's suite with the given :func:`_config_key`, as a
    suite of their own."""
    gx, _ = _gx()
    suite = load_suite(feed)
    part = gx.ExpectationSuite(name=suite.name, meta=suite.meta)
    for expectation in suite.expectations:
        if _config_key(expectation.configuration) in keys:
            part.add_expectation_configuration(expectation.configuration)
    return part


REPORT_SAMPLE = 20  # failing rows kept per expectation in a stored result


def _trimmed(result: dict[str, Any], frame: pd.DataFrame, column: str, source: str) -> dict:
    """A failed expectation's result without its per-row lists (a million-row batch
    would store them all): counts, and the first failing rows as (file, row, value)."""
    kept = {
        k: v
        for k, v in result.items()
        if not k.startswith(("unexpected_list", "unexpected_index", "partial_unexpected"))
    }
    rows = []
    for entry in (result.get("unexpected_index_list") or [])[:REPORT_SAMPLE]:
        key = int(entry["_key"])
        where = source if source in frame.columns else column
        value = frame.at[key, where] if where in frame.columns else None
        rows.append(
            {
                "file": int(frame.at[key, "_file"]) if "_file" in frame else 0,
                "row": int(frame.at[key, "_row"]) if "_row" in frame else key + 1,
                "value": None if value is None or pd.isna(value) else shown(value),
            }
        )
    kept["partial_unexpected_list"] = [r["value"] for r in rows]
    kept["unexpected_rows"] = rows
    return kept


# --------------------------------------------------------------------------- reports
# Each suite run's result is kept as JSON under <home>/validation/ and rendered as a
# Great Expectations Data Docs page under <home>/data_docs/; data_docs/index.html lists
# every file with its outcome and the page(s) of the run(s) that checked it.

INDEX_ROWS = 5000  # files listed on the Data Docs index (the newest)


def store_result(
    home: Path,
    chain_code: str,
    feed: str,
    files: list[tuple[str, str]],
    result: Any,
    covered: str | None = None,
) -> str:
    """Write a suite run's ``result`` for ``files`` ((file name, business date), in the
    order of the batch's ``_file`` numbers): its JSON under ``<home>/validation/`` and its
    Data Docs page under ``<home>/data_docs/``. Returns the page's path relative to
    ``data_docs/``. File text in the result is escaped (:func:`shown`). ``covered`` says
    which part of a file loaded in chunks the result stands for (in the run's name)."""
    from great_expectations.core.run_identifier import RunIdentifier

    for item in result.results:
        for row in (item.result or {}).get("unexpected_rows", []):
            if isinstance(row.get("file"), int) and row["file"] < len(files):
                row["file"] = shown(files[row["file"]][0])
    result.meta["ka_pipeline"] = {
        "chain": chain_code,
        "feed": feed,
        "files": [{"file": shown(name), "business_date": day} for name, day in files],
    }
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    first = shown(files[0][0]) if files else "no file"
    more = f" and {len(files) - 1} more file(s)" if len(files) > 1 else ""
    if covered:
        result.meta["ka_pipeline"]["covered"] = covered
        more += f", {covered}"
    result.meta["run_id"] = RunIdentifier(
        run_name=f"{chain_code} {feed}: {first}{more}", run_time=now
    )
    name = f"{_safe(chain_code)}/{feed}/{stamp}"
    target = home / "validation" / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result.to_json_dict(), ensure_ascii=False, indent=1), "utf-8")
    # Data Docs writes values into its HTML unescaped: escape the file's text first
    for item in result.results:
        trimmed = item.result or {}
        if "partial_unexpected_list" in trimmed:
            trimmed["partial_unexpected_list"] = [
                None if v is None else html.escape(v) for v in trimmed["partial_unexpected_list"]
            ]
        for row in trimmed.get("unexpected_rows", []):
            row.update({k: html.escape(v) for k, v in row.items() if isinstance(v, str)})
    for entry in result.meta["ka_pipeline"]["files"]:
        entry["file"] = html.escape(entry["file"])
    run_name = html.escape(result.meta["run_id"].run_name)
    result.meta["run_id"] = RunIdentifier(run_name=run_name, run_time=now)
    page = home / "data_docs" / "validations" / f"{name}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    renderer, view = _page_renderer()
    try:
        rendered = view.render(renderer.render(result))
    except Exception as exc:  # a report must never stop a load: say where the JSON is
        logging.getLogger(__name__).warning("Data Docs page for %s not rendered: %s", name, exc)
        rendered = (
            "<!doctype html><meta charset='utf-8'><p>This run's page could not be rendered"
            f" ({html.escape(type(exc).__name__)}); its result is {html.escape(str(target))}</p>"
        )
    page.write_text(rendered, encoding="utf-8")
    return f"validations/{name}.html"


@lru_cache(maxsize=1)
def _page_renderer() -> tuple[Any, Any]:
    """Data Docs' renderer and page view, built once (the view's Jinja environment
    caches its compiled templates: a new one per page cost 0.1 s)."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    return ValidationResultsPageRenderer(), DefaultJinjaPageView()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text) or "_"


def data_docs_index(home: Path) -> Path:
    """The Data Docs index page of ``home`` (it may not exist yet)."""
    return home / "data_docs" / "index.html"


def record_files(home: Path, entries: list[dict[str, Any]]) -> None:
    """Append one line per file (chain, feed, business date, file, status, counts,
    message, report pages) to ``<home>/validation/files.jsonl`` and rebuild the
    Data Docs index from its newest :data:`INDEX_ROWS` lines."""
    if not entries:
        return
    log_path = home / "validation" / "files.jsonl"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
    lines = _tail_lines(log_path, INDEX_ROWS)
    _write_index(data_docs_index(home), [json.loads(line) for line in reversed(lines)])


def _tail_lines(path: Path, count: int, block: int = 4 << 20) -> list[str]:
    """The last ``count`` lines of ``path``, reading at most its last ``block`` bytes
    (the file only grows; the index must not cost more as it does)."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(size - block, 0))
        data = handle.read()
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > block:
        lines = lines[1:]  # the first line may be cut
    return lines[-count:]


def _write_index(path: Path, entries: list[dict[str, Any]]) -> None:
    cells = []
    for e in entries:
        links = " ".join(
            f'<a href="{html.escape(p)}">run {i}</a>' for i, p in enumerate(e["reports"], 1)
        )
        cells.append(
            "<tr class='{cls}'><td>{at}</td><td>{chain}</td><td>{feed}</td><td>{day}</td>"
            "<td>{file}</td><td>{status}</td><td>{read}</td><td>{loaded}</td>"
            "<td>{quarantined}</td><td>{message}</td><td>{links}</td></tr>".format(
                cls="bad" if e["status"] != "loaded" or e["rows_quarantined"] else "ok",
                at=html.escape(str(e["at"])),
                chain=html.escape(e["chain"]),
                feed=html.escape(e["feed"]),
                day=html.escape(str(e["business_date"])),
                file=html.escape(shown(e["file"], 200)),
                status=html.escape(e["status"]),
                read=e["rows_read"],
                loaded=e["rows_loaded"],
                quarantined=e["rows_quarantined"],
                message=html.escape(shown(e.get("message") or "", 500)),
                links=links or "no suite run (not readable)",
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".index.{os.getpid()}.tmp")  # chains may run in parallel
    tmp.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>ka-pipeline validation"
        "</title><style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
        "tr.bad{background:#fde8e8}</style></head><body>"
        "<h1>ka-pipeline: validation results by file</h1>"
        "<p>Newest first. Each file links to the Great Expectations page of the suite"
        " run(s) that checked it: a batch of files; for a large file read in chunks, a"
        " page per chunk where some expectation failed and one for its other chunks.</p>"
        "<table><tr><th>recorded</th><th>chain</th><th>feed</th><th>business date</th>"
        "<th>file</th><th>status</th><th>read</th><th>loaded</th><th>quarantined</th>"
        "<th>message</th><th>report</th></tr>" + "".join(cells) + "</table></body></html>",
        encoding="utf-8",
    )
    tmp.replace(path)
