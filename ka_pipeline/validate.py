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
from ka_pipeline.config import FeedLayout
from ka_pipeline.feeds import FEEDS
from ka_pipeline.gtin import is_valid_gtin13
from ka_pipeline.parse import NUMBER_MISREAD
from ka_pipeline.shown import shown

logging.getLogger("great_expectations").setLevel(logging.WARNING)

# Computed flag -> the column whose value the quarantine message should show
# (plus one ``_<column>_ok`` flag per date column, see add_flags).
FLAG_SOURCE = {
    "_barcode_ok": "barcode",
    "_product_known": "barcode",
    "_store_known": "store_code",
    "_date_matches_file": "business_date",
    **{f"_{c}_ok": c for declared in FEEDS.values() for c in declared.dates},
    **{f"_{c}_plausible": c for declared in FEEDS.values() for c in declared.dates},
    **{f"_{c}_in_range": c for declared in FEEDS.values() for c in declared.money},
    "_key_new": "_key_seen",
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
        out[f"_{column}_ok"] = out[column].isna() | out[column].isin(set(real))
        if feed != "sales":  # a sales row's date must be the file's date (checked below)
            out[f"_{column}_plausible"] = _plausible(out[column], real, file_dates, layout)
    limit = float(layout.max_line_amount)
    for column in declared.money:
        amount = pd.to_numeric(out[column], errors="coerce")
        out[f"_{column}_in_range"] = amount.isna() | (amount.abs() <= limit)
    if NUMBER_MISREAD not in out:
        out[NUMBER_MISREAD] = None
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
    if declared.chain_key:
        keys = list(zip(*(out[c] for c in declared.chain_key), strict=True))
        seen = loaded_keys or {}
        out["_key_seen"] = [seen.get(k) for k in keys]
        out["_key_new"] = out["_key_seen"].isna()
    return out


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
    bad_keys = sorted(reasons)
    bad = frame.iloc[bad_keys].copy()
    bad["column_name"] = [", ".join(dict.fromkeys(c for c, _ in reasons[k])) for k in bad_keys]
    bad["reason"] = ["; ".join(r for _, r in reasons[k]) for k in bad_keys]
    good = frame.drop(index=bad_keys)
    return Validated(good, bad)
