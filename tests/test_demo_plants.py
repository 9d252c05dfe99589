"""Every sell-out case the demo plants is found where it was planted, and nothing clean
is flagged (issue 8 point 5).

NOT collected by pytest in this branch (no ``test_`` prefix): it reads the issue-8
analytics tables (names and columns fixed in the analytics contract) that another branch
builds. After the merge, rename it to ``tests/test_demo_plants.py`` (or run it by path:
``pytest tests/demo_plants_check.py``).

It is driven by the generator's manifest (``demo_manifest.json`` -> ``planted``): each
sell-out plant lists under ``expect`` the rows that must be in a table (by key, with
checked columns) and under ``allow`` the keys that may be flagged too (the edges of a
4-week window). For each flag table, every row flagged must be expected or allowed, and
every expected row must be there. Runs on DuckDB and on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ka_demo import generate
from ka_pipeline.pipeline import run
from ka_pipeline.settings import load_settings
from ka_pipeline.warehouse import connect
from tests.helpers import rows

# Four months: the phantom run (8..23 Mar) has the full trailing 12 weeks of history
# before it, the planted promotions (12..25 Jan) their clean 28-day baseline.
START, END = date(2025, 12, 1), date(2026, 3, 31)

# table -> (key columns, the condition that makes a row a flag)
FLAG_TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "mart_price_below_floor": (("chain_code", "store_code", "barcode", "business_date"), "true"),
    "mart_oos_day": (("chain_code", "store_code", "barcode", "business_date"), "true"),
    "mart_phantom_inventory": (("chain_code", "store_code", "barcode", "run_start"), "true"),
    "mart_distribution_gap": (("chain_code", "month", "store_code", "barcode"), "true"),
    "mart_diversion_risk": (("chain_code", "barcode", "iso_week", "region"), "at_risk"),
}
SELL_OUT_KINDS = (
    "out_of_stock_run",
    "phantom_inventory",
    "below_floor_price",
    "diversion_price",
    "diversion_volume",
    "distribution_gap",
    "promo_roi_positive",
    "promo_roi_negative",
)


def _text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)


def _matches(value: Any, wanted: Any) -> bool:
    """``wanted``: ">0" / "<0" (a number's sign), "~x" (text contains x), a bool, or an
    exact value: numerically for a number ("5.20" == Decimal("5.2000")), else as text."""
    if wanted == ">0":
        return value is not None and Decimal(str(value)) > 0
    if wanted == "<0":
        return value is not None and Decimal(str(value)) < 0
    if isinstance(wanted, str) and wanted.startswith("~"):
        return value is not None and wanted[1:] in str(value)
    if isinstance(wanted, bool):
        return bool(value) is wanted
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)) == Decimal(str(wanted))
    return _text(value) == _text(wanted)


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def warehouse(request, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp(f"demo_plants_{request.param}")
    mp = pytest.MonkeyPatch()
    mp.delenv("KA_WAREHOUSE_URL", raising=False)
    mp.delenv("KA_SMTP_URL", raising=False)
    database = None
    if request.param == "postgresql":
        from tests.conftest import _new_pg_database

        server = request.getfixturevalue("postgres_server_url")
        database = _new_pg_database(server)
        mp.setenv("KA_WAREHOUSE_URL", database[1])
    demo = generate(home, start=START, end=END)
    settings = load_settings(home)
    settings = dataclasses.replace(settings, outbox_dir=home / "outbox")
    run(settings, START, END, scorecards="never", progress=lambda m: None)
    engine = connect(settings.warehouse_url)
    yield demo, engine
    engine.dispose()
    mp.undo()
    if database is not None:
        from ka_pipeline import warehouse as wh
        from tests.conftest import _drop_pg_database

        wh._engine_for.cache_clear()
        _drop_pg_database(server, database[0])


def test_every_sell_out_case_is_planted_in_the_test_range(warehouse) -> None:
    demo, _ = warehouse
    assert {p["kind"] for p in demo.planted} >= set(SELL_OUT_KINDS)


@pytest.mark.parametrize("table", sorted(FLAG_TABLES))
def test_flagged_rows_are_exactly_the_planted_ones(warehouse, table: str) -> None:
    demo, engine = warehouse
    key, flag = FLAG_TABLES[table]
    expected: set[tuple[str, ...]] = set()
    allowed: set[tuple[str, ...]] = set()
    for plant in demo.planted:
        for e in plant.get("expect", []):
            if e["table"] == table:
                expected.add(tuple(_text(e["key"][c]) for c in key))
        if any(e["table"] == table for e in plant.get("expect", [])):
            allowed |= {tuple(_text(a[c]) for c in key) for a in plant.get("allow", [])}
    assert expected, f"nothing planted for {table}"
    flagged = {
        tuple(_text(getattr(r, c)) for c in key)
        for r in rows(engine, f"select {', '.join(key)} from {table} where {flag}")
    }
    assert expected - flagged == set(), f"{table}: planted but not found"
    assert flagged - expected - allowed == set(), f"{table}: flagged but clean"


@pytest.mark.parametrize("kind", SELL_OUT_KINDS)
def test_each_planted_row_has_the_planted_values(warehouse, kind: str) -> None:
    demo, engine = warehouse
    (plant,) = demo.planted_of(kind)
    for e in plant["expect"]:
        where = " and ".join(f"{c} = :{c}" for c in e["key"])
        params = {
            c: date.fromisoformat(v) if c in ("business_date", "run_start", "month", "iso_week")
            else v
            for c, v in e["key"].items()
        }  # fmt: skip
        found = rows(engine, f"select * from {e['table']} where {where}", **params)
        assert len(found) == 1, (kind, e["key"], found)
        row = found[0]._asdict()
        for column, wanted in e["check"].items():
            assert _matches(row[column], wanted), (kind, e["key"], column, row[column], wanted)
