"""Validate parsed feed rows with the Great Expectations suites in ``expectations/``.

One suite per feed, stored as JSON and loaded by code. Rows of many files are checked
in one call (the Great Expectations context, suite and batch definition are built once
per process: their fixed cost would otherwise be paid per file). The parser's frame is
enriched first with computed flags the suites check (``_barcode_ok``,
``_product_known``, ``_store_known``, ``_date_matches_file``).

Guarantee: :func:`validate_rows` splits the rows into ``good`` and ``bad``; every bad row
carries the reason(s) of each expectation it failed, so nothing is dropped silently.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ka_pipeline import resources
from ka_pipeline.gtin import is_valid_gtin13
from ka_pipeline.parse import DATE_COLUMNS

logging.getLogger("great_expectations").setLevel(logging.WARNING)

# Computed flag -> the column whose value the quarantine message should show
# (plus one ``_<column>_ok`` flag per date column, see add_flags).
FLAG_SOURCE = {
    "_barcode_ok": "barcode",
    "_product_known": "barcode",
    "_store_known": "store_code",
    "_date_matches_file": "business_date",
    **{f"_{column}_ok": column for columns in DATE_COLUMNS.values() for column in columns},
}


def expectations_dir() -> Path:
    """The suites folder (see :mod:`ka_pipeline.resources`); a missing one is a ConfigError."""
    return resources.expectations_dir()


@lru_cache(maxsize=1)
def _gx() -> tuple[Any, Any]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # import resets it
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("ka_feeds")
    batch_definition = source.add_dataframe_asset("rows").add_batch_definition_whole_dataframe(
        "all_rows"
    )
    return gx, batch_definition


@lru_cache(maxsize=8)
def load_suite(feed: str) -> Any:
    """The feed's ExpectationSuite, from ``expectations/<feed>.json``."""
    gx, _ = _gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    doc = json.loads((expectations_dir() / f"{feed}.json").read_text(encoding="utf-8"))
    suite = gx.ExpectationSuite(name=doc["name"], meta=doc.get("meta", {}))
    for item in doc["expectations"]:
        suite.add_expectation_configuration(
            ExpectationConfiguration(
                type=item["type"], kwargs=item["kwargs"], meta=item.get("meta")
            )
        )
    return suite


def prepare(feed: str) -> None:
    """Import Great Expectations and load the feed's suite now (once per process)."""
    load_suite(feed)


@dataclass
class Validated:
    good: pd.DataFrame
    bad: pd.DataFrame  # the same columns plus column_name and reason, one row per bad row


def add_flags(
    frame: pd.DataFrame,
    feed: str,
    file_dates: pd.Series,
    chain_stores: pd.Series | None,
    products: set[str],
) -> pd.DataFrame:
    """Add the computed columns the suites check; ``file_dates`` are ISO strings."""
    out = frame.copy()
    for column in DATE_COLUMNS[feed]:
        # a real calendar date: "2026-02-30" has the shape but would fail in the database
        distinct = pd.Series(out[column].dropna().unique(), dtype=object)
        real = distinct[pd.to_datetime(distinct, format="%Y-%m-%d", errors="coerce").notna()]
        out[f"_{column}_ok"] = out[column].isna() | out[column].isin(set(real))
    if "barcode" in out:
        barcodes = out["barcode"]
        valid = {b for b in barcodes.dropna().unique() if is_valid_gtin13(b)}  # few distinct
        out["_barcode_ok"] = barcodes.isna() | barcodes.isin(valid)
        out["_product_known"] = barcodes.isna() | barcodes.isin(products) | ~out["_barcode_ok"]
    if feed == "sales":
        dates = out["business_date"]
        # a value that is no date at all is reported once, by the date check
        out["_date_matches_file"] = (
            ~out["_business_date_ok"] | dates.isna() | (dates == file_dates.values)
        )
        known = chain_stores if chain_stores is not None else pd.Series([], dtype=str)
        out["_store_known"] = out["store_code"].isna() | out["store_code"].isin(known)
    return out


def validate_rows(frame: pd.DataFrame, feed: str) -> Validated:
    """Run the feed's suite over ``frame`` (all rows at once) and split good from bad."""
    if frame.empty:
        return Validated(frame.copy(), frame.assign(column_name=None, reason=None).iloc[0:0])
    _, batch_definition = _gx()
    suite = load_suite(feed)
    frame = frame.reset_index(drop=True)
    checked = frame.assign(_key=range(len(frame)))
    result = batch_definition.get_batch(batch_parameters={"dataframe": checked}).validate(
        suite,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": ["_key"],
            "partial_unexpected_count": 0,
        },
    )
    reasons: dict[int, list[tuple[str, str]]] = {}
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        column = config.kwargs.get("column") or ",".join(config.kwargs.get("column_list", []))
        reason = (config.meta or {}).get("reason", config.type)
        indices = (item.result or {}).get("unexpected_index_list")
        if indices is None:
            raise RuntimeError(f"expectation {config.type} on {column} failed: {item.result}")
        source = FLAG_SOURCE.get(column, column)
        for entry in indices:
            key = int(entry["_key"])
            value = frame.at[key, source] if source in frame.columns else None
            text = reason if value is None or pd.isna(value) else f"{reason} (got {value!r})"
            reasons.setdefault(key, []).append((source, text))
    bad_keys = sorted(reasons)
    bad = frame.iloc[bad_keys].copy()
    bad["column_name"] = [", ".join(dict.fromkeys(c for c, _ in reasons[k])) for k in bad_keys]
    bad["reason"] = ["; ".join(r for _, r in reasons[k]) for k in bad_keys]
    good = frame.drop(index=bad_keys)
    return Validated(good, bad)
