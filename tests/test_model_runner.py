"""The models runner: order from declarations, refusals, YAML docs that match the tables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa

from ka_pipeline.errors import ConfigError
from ka_pipeline.models import discover_models, ensure_views, reference_markdown, run_models
from ka_pipeline.warehouse import create_engine, migrate

DOCS = Path(__file__).resolve().parent.parent / "docs" / "models_reference.md"


def model(folder: Path, layer: str, name: str, sql: str, reads: list[str]) -> None:
    (folder / layer).mkdir(parents=True, exist_ok=True)
    (folder / layer / f"{name}.sql").write_text(sql, encoding="utf-8")
    (folder / layer / f"{name}.yml").write_text(
        f"name: {name}\ngrain: g\nkey: [chain_code]\ndepends_on: {reads}\n"
        "columns: [{name: chain_code, description: c}]\n",
        encoding="utf-8",
    )


def test_order_follows_declarations_not_names(tmp_path):
    model(tmp_path, "marts", "mart_a", "select * from mart_b", ["mart_b"])
    model(tmp_path, "marts", "mart_b", "select * from int_c", ["int_c"])
    model(tmp_path, "intermediate", "int_c", "select * from raw_sales", ["raw_sales"])
    assert [m.table for m in discover_models(tmp_path)] == ["int_c", "mart_b", "mart_a"]


def test_a_cycle_is_refused(tmp_path):
    model(tmp_path, "marts", "mart_a", "select * from mart_b", ["mart_b"])
    model(tmp_path, "marts", "mart_b", "select * from mart_a", ["mart_a"])
    with pytest.raises(ConfigError, match="cycle: mart_a -> mart_b -> mart_a"):
        discover_models(tmp_path)


def test_an_undeclared_read_is_refused(tmp_path):
    model(
        tmp_path, "marts", "mart_a", "select * from raw_sales join ref_store on 1=1", ["raw_sales"]
    )
    with pytest.raises(ConfigError, match="reads ref_store without declaring it"):
        discover_models(tmp_path)


def test_an_unknown_table_is_refused_before_writing(tmp_path):
    model(
        tmp_path, "marts", "mart_chain_month", "select * from raw_sales", ["raw_sales", "raw_nope"]
    )
    engine = create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    migrate(engine)
    with pytest.raises(ConfigError, match="unknown table\\(s\\) raw_nope"):
        run_models(engine, ["CF"], discover_models(tmp_path))
    engine.dispose()


def test_model_yaml_matches_its_table_and_the_reference_is_current(tmp_path):
    engine = create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    migrate(engine)
    ensure_views(engine, discover_models())
    for m in discover_models():
        with engine.connect() as conn:
            table_columns = list(
                conn.execute(
                    sa.text(
                        "select column_name from information_schema.columns"
                        " where table_name = :t order by ordinal_position"
                    ),
                    {"t": m.table},
                ).scalars()
            )
        documented = [c["name"] for c in m.doc["columns"]]
        assert documented == table_columns, m.table
        assert all(c.get("description") for c in m.doc["columns"]), m.table
        assert set(m.doc["key"]) <= set(table_columns), m.table
    engine.dispose()
    assert DOCS.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/models_reference.md is stale: python -m ka_pipeline.models reference"
        " > docs/models_reference.md"
    )


def test_views_are_created_once_and_replaced_when_their_sql_changes(tmp_path):
    engine = create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    migrate(engine)
    models = [m for m in discover_models() if m.is_view]
    views = [
        "int_store_item_month",
        "int_store_item_week",
        "mart_invoice_balance",
        "stg_deductions",
        "stg_invoices",
        "stg_payments",
    ]
    assert sorted(m.table for m in models) == views
    assert sorted(ensure_views(engine, models)) == views
    assert ensure_views(engine, models) == []  # unchanged SQL: left alone
    changed = dataclasses.replace(models[0], sql=models[0].sql + "\n-- changed\n")
    assert ensure_views(engine, [changed]) == [changed.table]
    engine.dispose()


def test_a_subset_run_reads_existing_views(tmp_path):
    engine = create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    migrate(engine)
    models = discover_models()
    ensure_views(engine, models)
    # int_deduction_line reads the view stg_deductions, which is not in this run
    written = run_models(engine, ["CF"], [m for m in models if m.table == "int_deduction_line"])
    assert written == {"int_deduction_line": 0}
    engine.dispose()


@pytest.mark.parametrize("warehouse_url", ["postgres"], indirect=True)
def test_a_full_rebuild_leaves_every_written_table_analyzed(warehouse_url):
    """PostgreSQL: after a full rebuild every model table holding rows has statistics
    (autovacuum off, so only the runner can have analyzed them): the first night after a
    rebuild or backfill plans its slices on them (stale ones once cost 233 s, not 12 s)."""
    # PostgreSQL only: DuckDB keeps its statistics as it writes
    import pandas as pd

    from ka_pipeline.load import bulk_insert

    engine = create_engine(warehouse_url)
    migrate(engine)
    with engine.begin() as conn:
        for table in conn.execute(
            sa.text("select tablename from pg_tables where schemaname = current_schema()")
        ).scalars():
            conn.execute(sa.text(f"alter table {table} set (autovacuum_enabled = false)"))
        sales = pd.DataFrame(
            {
                "chain_code": "CF",
                "business_date": ["2026-10-01", "2026-10-01", "2026-10-02"],
                "store_code": ["S1", "S2", "S1"],
                "barcode": "6901234567892",
                "units": ["2", "1", "3"],
                "sales_amount": ["20.00", "10.00", "30.00"],
                "on_hand_units": ["5", "0", "4"],
                "load_id": "1",
            }
        )
        bulk_insert(conn, "raw_sales", sales)
    run_models(engine, ["CF"])
    with engine.connect() as conn:
        tables = [m.table for m in discover_models() if not m.is_view]
        with_rows = [
            t for t in tables if conn.execute(sa.text(f"select count(*) from {t}")).scalar_one() > 0
        ]
        never_analyzed = (
            conn.execute(
                sa.text(
                    "select relname from pg_class where relname = any(:t) and reltuples < 0"
                    " order by relname"
                ),
                {"t": with_rows},
            )
            .scalars()
            .all()
        )
    assert "stg_sales" in with_rows and "int_store_item_day" in with_rows
    assert never_analyzed == []
    engine.dispose()
