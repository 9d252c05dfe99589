"""Master data publishing (ka_pipeline/masterdata.py): an unchanged config is not
written again; a changed config, or ref_ tables that no longer hold what was published,
are replaced whole. DuckDB and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from ka_pipeline.config import load_config
from ka_pipeline.masterdata import REF_TABLES, publish_master_data
from tests.helpers import copy_fixture, rows


def _writes(engine: sa.Engine, action) -> list[str]:
    """The statements ``action()`` sent that write a ref_ table (delete, insert, copy)."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    return [s for s in seen if s.lstrip().lower().startswith(("delete from ref_", "insert"))]


def test_unchanged_config_is_not_written_again(engine, tmp_path: Path):
    home = copy_fixture("mini", tmp_path / "home")
    config = load_config(home / "config")
    first = publish_master_data(engine, config)
    before = {t: rows(engine, f"select * from {t}") for t in REF_TABLES}
    again: dict[str, int] = {}
    writes = _writes(engine, lambda: again.update(publish_master_data(engine, config)))
    assert writes == []
    assert again == first  # rows per table, as when they were written
    assert {t: rows(engine, f"select * from {t}") for t in REF_TABLES} == before
    # a new load of the same folder (another run's process) is the same master data
    assert _writes(engine, lambda: publish_master_data(engine, load_config(home / "config"))) == []


def test_changed_config_is_published(engine, tmp_path: Path):
    home = copy_fixture("mini", tmp_path / "home")
    publish_master_data(engine, load_config(home / "config"))
    stores = home / "config" / "stores.csv"
    stores.write_text(stores.read_text().replace("Alpha Pudong", "Alpha Pudong New"))
    publish_master_data(engine, load_config(home / "config"))
    names = {r.store_code: r.name for r in rows(engine, "select store_code, name from ref_store")}
    assert names["A01"] == "Alpha Pudong New"


def test_tables_changed_outside_are_published_again(engine, tmp_path: Path):
    home = copy_fixture("mini", tmp_path / "home")
    config = load_config(home / "config")
    counts = publish_master_data(engine, config)
    with engine.begin() as conn:  # a table emptied behind the publisher's back
        conn.execute(sa.text("delete from ref_store"))
    assert publish_master_data(engine, config) == counts
    assert len(rows(engine, "select * from ref_store")) == counts["ref_store"] > 0
    with engine.begin() as conn:  # a record of another publish
        conn.execute(sa.text("update ops_master_data set checksum = 'other'"))
    assert _writes(engine, lambda: publish_master_data(engine, config)) != []
    assert rows(engine, "select checksum from ops_master_data")[0].checksum != "other"
