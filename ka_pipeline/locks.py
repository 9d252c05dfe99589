"""Locks held by the warehouse itself, so that concurrent runs are serialised, not lucky.

Guarantees, whatever starts the runs (CLI, Airflow tasks, backfills, several machines):

* **PostgreSQL**: one writer per chain. :func:`chain_lock` takes a session-level
  advisory lock ``(KA namespace, hash("chain:<code>"))`` on a dedicated connection for
  the whole load + models + day-status of that chain, and waits for it at most
  ``KA_LOCK_TIMEOUT_S`` seconds (default 900), saying who holds it. Work that is one
  transaction (master data, migrations) takes :func:`xact_lock` instead, released at
  commit.
* **DuckDB**: the database file admits one writing process. :func:`wait_for_duckdb`
  opens it with a bounded wait; from then on the process owns the file until it ends,
  so every chain of the process is serialised against every other process, and the
  named locks have nothing left to do.

A wait that times out raises :class:`WarehouseBusy` (exit code 1) naming the holder.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from ka_pipeline.errors import KaError

NAMESPACE = 0x4B41  # "KA": the first key of every advisory lock of this project
POLL_S = 0.2
DEFAULT_TIMEOUT_S = 900.0


class WarehouseBusy(KaError):
    """Another run holds the lock (or the DuckDB file) for longer than the timeout."""


def lock_timeout_s() -> float:
    """``KA_LOCK_TIMEOUT_S``: how long a run waits for another one before giving up."""
    value = os.environ.get("KA_LOCK_TIMEOUT_S")
    try:
        return float(value) if value else DEFAULT_TIMEOUT_S
    except ValueError:
        raise KaError(f"KA_LOCK_TIMEOUT_S={value!r} is not a number of seconds") from None


def lock_key(name: str) -> int:
    """A stable signed 32-bit key for ``name`` (the second key of the advisory lock)."""
    digest = hashlib.sha256(f"ka-pipeline:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _holder(conn: sa.Connection, key: int) -> str:
    row = conn.execute(
        sa.text(
            "select l.pid, a.application_name, a.client_addr, a.backend_start"
            " from pg_locks l left join pg_stat_activity a on a.pid = l.pid"
            " where l.locktype = 'advisory' and l.granted"
            " and l.classid = :ns and l.objid = :key"
        ),
        # pg_locks shows the two int4 keys as oid (unsigned)
        {"ns": NAMESPACE, "key": key & 0xFFFFFFFF},
    ).first()
    if row is None:
        return "another session"
    where = f" from {row.client_addr}" if row.client_addr else ""
    return f"server process {row.pid}{where} (connected {row.backend_start:%Y-%m-%d %H:%M:%S})"


@contextmanager
def chain_lock(
    engine: sa.Engine,
    name: str,
    *,
    timeout_s: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the named writer lock (PostgreSQL advisory lock) for the block."""
    if engine.dialect.name != "postgresql":
        yield  # DuckDB: the process already owns the file (see the module docstring)
        return
    timeout = lock_timeout_s() if timeout_s is None else timeout_s
    key = lock_key(name)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        began, told = time.monotonic(), False
        while not conn.execute(
            sa.text("select pg_try_advisory_lock(:ns, :key)"), {"ns": NAMESPACE, "key": key}
        ).scalar_one():
            waited = time.monotonic() - began
            if waited >= timeout:
                raise WarehouseBusy(
                    f"{name}: another run holds this lock ({_holder(conn, key)}); gave up"
                    f" after {waited:.0f} s (KA_LOCK_TIMEOUT_S). It is still running or"
                    " was stopped uncleanly; see docs/operations.md"
                )
            if not told and progress is not None:
                progress(f"{name}: waiting for another run to finish ({_holder(conn, key)})")
                told = True
            time.sleep(POLL_S)
        try:
            yield
        finally:
            conn.execute(
                sa.text("select pg_advisory_unlock(:ns, :key)"), {"ns": NAMESPACE, "key": key}
            )


def xact_lock(conn: sa.Connection, name: str, timeout_s: float | None = None) -> None:
    """Take the named lock until the end of ``conn``'s transaction (PostgreSQL only)."""
    if conn.dialect.name != "postgresql":
        return
    timeout = lock_timeout_s() if timeout_s is None else timeout_s
    conn.execute(sa.text(f"set local lock_timeout = '{int(timeout * 1000)}ms'"))
    try:
        conn.execute(
            sa.text("select pg_advisory_xact_lock(:ns, :key)"),
            {"ns": NAMESPACE, "key": lock_key(name)},
        )
    except sa.exc.OperationalError as exc:
        raise WarehouseBusy(f"{name}: another run held this lock for over {timeout:.0f} s") from exc
    conn.execute(sa.text("set local lock_timeout = 0"))


_DUCKDB_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def wait_for_duckdb(
    engine: sa.Engine,
    *,
    timeout_s: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Open the DuckDB file, waiting up to the timeout while another process holds it.

    The opened connection goes back to the engine's pool and stays open, so this
    process keeps the file until it disposes of the engine or ends.
    """
    timeout = lock_timeout_s() if timeout_s is None else timeout_s
    began, told = time.monotonic(), False
    while True:
        try:
            with engine.connect():
                return
        except sa.exc.OperationalError as exc:
            message = str(exc.orig) if exc.orig is not None else str(exc)
            match = _DUCKDB_HOLDER.search(message)
            if match is None:  # not a lock conflict: a real error
                raise
            waited = time.monotonic() - began
            holder = f"process {match['pid']} ({match['program']})"
            if waited >= timeout:
                raise WarehouseBusy(
                    f"the DuckDB warehouse {engine.url.database} is in use by {holder};"
                    f" gave up after {waited:.0f} s (KA_LOCK_TIMEOUT_S). DuckDB admits one"
                    " writing process: run one at a time (Airflow: the ka_warehouse pool"
                    " with 1 slot), or use PostgreSQL"
                ) from None
            if not told and progress is not None:
                progress(f"warehouse: waiting for {holder} to release {engine.url.database}")
                told = True
            time.sleep(POLL_S * 5)
