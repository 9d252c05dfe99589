"""One declaration per feed (ka_pipeline/feeds.py): parse, validate and load agree with it."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from ka_pipeline.config import FEED_COLUMNS, load_config
from ka_pipeline.feeds import FEEDS
from ka_pipeline.parse import parse_file
from ka_pipeline.validate import chain_key_reason, key_rule
from tests.helpers import FIXTURES

ROOT = Path(__file__).resolve().parents[1]


def test_each_suite_checks_its_feeds_declared_keys() -> None:
    for name, declared in FEEDS.items():
        doc = json.loads((ROOT / "expectations" / declared.suite).read_text(encoding="utf-8"))
        unique = [
            e["kwargs"]["column_list"]
            for e in doc["expectations"]
            if e["type"] == "expect_compound_columns_to_be_unique"
        ]
        assert unique == [[*declared.file_key, "_file"]], name  # per file
        key_new = [e for e in doc["expectations"] if e["kwargs"].get("column") == "_key_new"]
        assert bool(key_new) == bool(declared.chain_key), name
        assert key_rule(name)[0] == declared.file_key
        if declared.chain_key:
            assert chain_key_reason(name) == key_new[0]["meta"]["reason"]
        # every column a suite names is declared (or a computed flag starting with _)
        named = {e["kwargs"].get("column") for e in doc["expectations"]} - {None}
        assert {c for c in named if not c.startswith("_")} <= set(declared.columns), name
        # types: each declared column is typed at most once
        typed = [*declared.dates, *declared.money, *declared.integers]
        assert len(typed) == len(set(typed)) and set(typed) <= set(declared.columns)
    assert FEED_COLUMNS["payments"] == (FEEDS["payments"].required, ())  # the re-export


def test_raw_tables_have_exactly_the_declared_columns(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        for declared in FEEDS.values():
            found = conn.execute(sa.text(f"select * from {declared.raw_table} limit 0"))
            assert set(found.keys()) == set(declared.raw_columns())


def test_normalising_a_deductions_file_types_each_line_by_the_chains_wording(
    tmp_path: Path,
) -> None:
    chain = load_config(FIXTURES / "mini" / "config").chain("AAA")
    path = tmp_path / "d.csv"
    path.write_text(
        "statement_no,deduction_no,deduction_date,deduction_text,amount\n"
        "S1,1,2026-10-02,DM海报费,100.00\n"
        "S1,2,2026-10-02,其他,5.00\n",
        encoding="utf-8",
    )
    layout = chain.feeds.get("deductions") or next(iter(chain.feeds.values()))
    layout = type(layout)(feed="deductions", file="d_{date:%Y%m%d}.csv")
    rows = parse_file(path, layout, chain).rows
    assert rows["deduction_type"].tolist() == ["dm_fee", "unclassified"]
    assert parse_file(path, layout).rows["deduction_type"].tolist() == [
        "unclassified",
        "unclassified",
    ]  # no chain: no wording rules
