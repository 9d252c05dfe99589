"""The warehouse: one SQLAlchemy engine for DuckDB or PostgreSQL, a versioned schema.

Guarantees: :func:`connect` returns an engine whose schema is migrated to the latest
version; migrations are plain SQL files in ``migrations/``, applied once each, in order,
and recorded with their checksum in ``ops_schema_migrations``. Concurrent first-time
migrations are safe: on PostgreSQL they take an advisory lock, on DuckDB the file admits
one process (opened with a bounded wait, :mod:`ka_pipeline.locks`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import registry

from ka_pipeline.errors import ConfigError
from ka_pipeline.locks import chain_lock, wait_for_duckdb

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# A migration's first line may restrict it to one engine: "-- engine: duckdb". Elsewhere
# it is recorded as applied without running, so every warehouse has the same versions.
_ENGINE_LINE = re.compile(r"^--\s*engine:\s*(duckdb|postgresql)\s*$")


def migration_engine(script: str) -> str | None:
    """The engine a migration is restricted to by its first line, or None (every engine)."""
    first = script.lstrip().split("\n", 1)[0].strip()
    match = _ENGINE_LINE.match(first)
    return match.group(1) if match else None


# The DuckDB dialect by name (what duckdb_engine's entry point says): without it,
# create_engine finds it by scanning every installed distribution's entry points, about
# 0.1-0.3 s of each run. Registering imports nothing until a duckdb URL is used.
registry.register("duckdb", "duckdb_engine", "Dialect")


def create_engine(url: str) -> sa.Engine:
    """Build an engine; for DuckDB the file's folder is created and the file opened
    with a bounded wait while another process holds it."""
    if url.startswith("duckdb:///") and not url.startswith("duckdb:///:memory:"):
        Path(url.removeprefix("duckdb:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, future=True)
    if engine.dialect.name == "duckdb":
        wait_for_duckdb(engine, progress=lambda message: print(message, flush=True))
    return engine


def is_duckdb(engine_or_conn: sa.Engine | sa.Connection) -> bool:
    return engine_or_conn.dialect.name == "duckdb"


SUMMARY_LOCK_TIMEOUT = "2s"


def summarize_brin(engine: sa.Engine, tables: list[str]) -> None:
    """PostgreSQL: summarize the page ranges the BRIN indexes of ``tables`` do not cover
    yet (``raw_sales_part``, migration 0091). A range appended since the last summary is
    read by every query on the table until autovacuum summarizes it; this reads only
    the new ranges. Nothing on DuckDB.

    The summary takes the table's SHARE UPDATE EXCLUSIVE lock (as VACUUM and ANALYZE do):
    behind another holder for more than :data:`SUMMARY_LOCK_TIMEOUT` it is left to the
    next call or to autovacuum (an anti-wraparound vacuum does not give way), never
    waited for."""
    if engine.dialect.name != "postgresql" or not tables:
        return
    with engine.connect() as conn:
        indexes = conn.execute(
            sa.text(
                "select i.indexrelid::regclass::text from pg_index i"
                " join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam"
                " where am.amname = 'brin' and i.indrelid::regclass::text = any(:t)"
            ),
            {"t": list(tables)},
        ).scalars()
        indexes = sorted(indexes)
    for index in indexes:
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f"set local lock_timeout = '{SUMMARY_LOCK_TIMEOUT}'"))
                conn.execute(
                    sa.text("select brin_summarize_new_values(cast(:i as regclass))"), {"i": index}
                )
        except sa.exc.OperationalError as exc:
            # SQLSTATE 55P03 lock_not_available, not the message: servers translate it
            if getattr(exc.orig, "sqlstate", None) != "55P03":
                raise
            logging.getLogger(__name__).info("%s not summarized now: its table is busy", index)


def migrations() -> list[tuple[int, str, str]]:
    """The migrations shipped with the package, as (version, name, sql), in order."""
    folder = resources.files("ka_pipeline.warehouse") / "migrations"
    found = []
    for item in folder.iterdir():
        match = _MIGRATION_NAME.match(item.name)
        if match:
            found.append((int(match.group(1)), item.name, item.read_text(encoding="utf-8")))
    return sorted(found)


def split_statements(script: str) -> list[str]:
    """Split a SQL script on ';' at line ends, dropping comment-only chunks."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    chunks = re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def migrate(engine: sa.Engine) -> list[str]:
    """Apply pending migrations; return the names applied. Safe to call every run."""
    with chain_lock(engine, "migrate"):
        return _migrate(engine)


def _migrate(engine: sa.Engine) -> list[str]:
    applied_now: list[str] = []
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "create table if not exists ops_schema_migrations ("
                " version integer primary key, name varchar not null,"
                " checksum varchar not null, applied_at timestamp not null)"
            )
        )
        done = {
            row.version: row.checksum
            for row in conn.execute(sa.text("select version, checksum from ops_schema_migrations"))
        }
    for version, name, script in migrations():
        checksum = hashlib.sha256(script.encode()).hexdigest()
        if version in done:
            if done[version] != checksum:
                raise ConfigError(
                    f"migration {name} changed after it was applied to this warehouse; "
                    "add a new migration instead of editing an applied one"
                )
            continue
        only = migration_engine(script)
        with engine.begin() as conn:
            for statement in (
                split_statements(script) if only in (None, engine.dialect.name) else []
            ):
                conn.execute(sa.text(statement))
            conn.execute(
                sa.text(
                    "insert into ops_schema_migrations (version, name, checksum, applied_at)"
                    " values (:v, :n, :c, :t)"
                ),
                {"v": version, "n": name, "c": checksum, "t": datetime.now()},
            )
        applied_now.append(name)
    return applied_now


@lru_cache(maxsize=8)
def _engine_for(url: str) -> sa.Engine:
    engine = create_engine(url)
    migrate(engine)
    return engine


def connect(url: str) -> sa.Engine:
    """A migrated engine for ``url``, built once per process and URL."""
    return _engine_for(url)
