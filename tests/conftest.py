"""Shared fixtures: real warehouses (DuckDB file, PostgreSQL database) per test.

PostgreSQL tests read ``KA_TEST_POSTGRES_URL`` (a server URL such as
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); each test gets a new
database on that server, dropped afterwards. Without the variable those tests skip with
a message saying how to enable them; with ``CI`` set, a missing variable or server fails.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from ka_pipeline.warehouse import create_engine, migrate

# A test that leaves a DuckDB file open while a subprocess needs it fails in a minute
# instead of waiting the default 15 minutes.
os.environ.setdefault("KA_LOCK_TIMEOUT_S", "60")

ENABLE_PG = (
    "set KA_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres "
    "to run the PostgreSQL tests"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = os.environ.get("KA_TEST_POSTGRES_URL")
    if not url:
        if _in_ci():
            pytest.fail("CI: KA_TEST_POSTGRES_URL is not set; " + ENABLE_PG)
        pytest.skip(ENABLE_PG)
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except sa.exc.OperationalError as exc:
        if _in_ci():
            pytest.fail(f"CI: PostgreSQL at {url} is not reachable: {exc}")
        pytest.skip(f"PostgreSQL at {url} is not reachable ({exc.orig}); " + ENABLE_PG)
    return url


def _new_pg_database(server_url: str) -> tuple[str, str]:
    name = f"ka_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    return name, sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(server_url: str, name: str) -> None:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty warehouse URL, once per engine."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    name, url = _new_pg_database(server)
    try:
        yield url
    finally:
        from ka_pipeline import warehouse

        warehouse._engine_for.cache_clear()
        _drop_pg_database(server, name)


@pytest.fixture
def engine(warehouse_url: str) -> Iterator[sa.Engine]:
    """A migrated engine on each warehouse."""
    eng = create_engine(warehouse_url)
    migrate(eng)
    yield eng
    eng.dispose()


class Collector:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """Start/stop an SMTP server on a fixed free port; yields (start, stop, collector)."""
    collector = Collector()
    port = _free_port()
    state: dict[str, Controller | None] = {"controller": None}

    def start():
        controller = Controller(collector, hostname="127.0.0.1", port=port)
        controller.start()
        state["controller"] = controller

    def stop():
        if state["controller"] is not None:
            state["controller"].stop()
            state["controller"] = None

    yield port, start, stop, collector
    stop()
