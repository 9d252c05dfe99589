"""Test helpers shared by the integration tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa

FIXTURES = Path(__file__).parent / "fixtures"


def copy_fixture(name: str, home: Path) -> Path:
    """Copy tests/fixtures/<name> (config/ and feeds/) into ``home``."""
    shutil.copytree(FIXTURES / name, home, dirs_exist_ok=True)
    return home


def dump_tables(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, for whole-warehouse comparisons."""
    tables = sorted(sa.inspect(engine).get_table_names())
    dump = {}
    with engine.connect() as conn:
        for table in tables:
            rows = conn.execute(sa.text(f"select * from {table}")).fetchall()
            dump[table] = sorted((tuple(r) for r in rows), key=repr)
    return dump


def rows(engine: sa.Engine, sql: str, **params) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).fetchall()
