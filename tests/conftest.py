"""Shared fixtures: real warehouses (DuckDB file, PostgreSQL database) per test.

PostgreSQL tests read ``KA_TEST_POSTGRES_URL`` (a server URL such as
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); each test gets a new
database on that server, dropped afterwards. Without the variable those tests skip with
a message saying how to enable them; with ``CI`` set, a missing variable or server fails.

A test that asks for ``engine`` gets its own warehouse already migrated: a copy of a
template migrated once per test process (``create database ... template`` on PostgreSQL,
a file copy on DuckDB), which holds exactly what ``migrate`` builds in an empty one; the
``migrate`` call of the fixture then finds every migration applied. A test that asks only
for ``warehouse_url`` still gets an empty warehouse, so the pipeline migrates it itself.

Parallel runs (``pytest -n 2``, what ``make test`` does): every test already works in its
own tmp_path, databases, ports and queues; the tests of a module whose module-scoped
fixture is costly or stateful (an Airflow stack, a migrated Airflow home, a generated
demo) run in one worker (``xdist_group``), and those modules are scheduled first so
that the long ones do not end up alone at the tail of the run.
"""

from __future__ import annotations

import os
import shutil
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


def _new_pg_database(server_url: str, template: str | None = None) -> tuple[str, str]:
    name = f"ka_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        copy = f' template "{template}"' if template else ""
        conn.execute(sa.text(f'create database "{name}"{copy}'))
    admin.dispose()
    return name, sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(server_url: str, name: str) -> None:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_duckdb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file migrated once per test process, closed: copied for each test."""
    path = tmp_path_factory.mktemp("template") / "warehouse.duckdb"
    eng = create_engine(f"duckdb:///{path}")
    migrate(eng)
    eng.dispose()  # the last connection closes the file: checkpointed, no WAL left
    assert not path.with_name(path.name + ".wal").exists()
    return path


@pytest.fixture(scope="session")
def migrated_pg_template(postgres_server_url: str) -> Iterator[str]:
    """A PostgreSQL database migrated once per test process, used as a template."""
    name, url = _new_pg_database(postgres_server_url)
    eng = create_engine(url)
    migrate(eng)
    eng.dispose()  # a template must have no connection while it is copied
    try:
        yield name
    finally:
        _drop_pg_database(postgres_server_url, name)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A warehouse URL, once per engine: empty, or migrated when the test asks for
    ``engine`` (a copy of the session's migrated template, see the module doc)."""
    migrated = "engine" in request.fixturenames
    if request.param == "duckdb":
        path = tmp_path / "warehouse.duckdb"
        if migrated:
            shutil.copyfile(request.getfixturevalue("migrated_duckdb_file"), path)
        yield f"duckdb:///{path}"
        return
    server = request.getfixturevalue("postgres_server_url")
    template = request.getfixturevalue("migrated_pg_template") if migrated else None
    name, url = _new_pg_database(server, template)
    try:
        yield url
    finally:
        from ka_pipeline import warehouse

        warehouse._engine_for.cache_clear()
        _drop_pg_database(server, name)


@pytest.fixture
def engine(warehouse_url: str) -> Iterator[sa.Engine]:
    """A migrated engine on each warehouse (copied from the template: nothing to apply)."""
    eng = create_engine(warehouse_url)
    assert migrate(eng) == []
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


# The modules that take longest, scheduled first in this order (the Celery stack alone
# is about two minutes); the other tests follow in collection order.
LONG_FIRST = (
    "test_scheduler_celery.py",
    "test_dag.py",
    "test_concurrency.py",
    "test_packaging.py",
    "test_demo_plants.py",
    "test_demo_end_to_end.py",
    "test_demo_data.py",
    "test_scorecard_browser.py",
)


def _module_fixture_group(item: pytest.Item) -> str | None:
    """The module, and the parameters of its module-scoped fixtures, if the test uses
    a module-scoped fixture of its own module; else None."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    module = item.nodeid.split("::")[0]
    names = [
        name
        for name, defs in info.name2fixturedefs.items()
        if any(d.scope == "module" and d.baseid == module for d in defs)
    ]
    if not names:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    return module + "".join(f"[{params[n]}]" for n in sorted(names) if n in params)


def pytest_itemcollected(item: pytest.Item) -> None:
    group = _module_fixture_group(item)
    if group is not None:
        # one worker runs these tests, so the module fixture is built once
        item.add_marker(pytest.mark.xdist_group(group))
        if getattr(item.config.option, "loadgroup", False):  # in a --dist loadgroup worker
            _group_node_id(item, group)


def _group_node_id(item: pytest.Item, group: str) -> None:
    """Give a grouped test the ``@group`` node-id suffix the loadgroup scheduler reads.
    xdist 3.8 sets it on ``item._nodeid``, which pytest 9.2 no longer reads (the node id
    is ``item._id``), so without this every test would be scheduled alone."""
    from _pytest.nodeid import coerce_node_id

    if "@" not in item.nodeid:
        item._id = coerce_node_id(f"{item.nodeid}@{group}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> tuple[int, str]:
        name = item.nodeid.split("::")[0].rsplit("/", 1)[-1]
        if name not in LONG_FIRST:
            return len(LONG_FIRST), ""
        # a module fixture's parameters kept together: interleaved, the fixture was
        # torn down and built again at each switch (the demo twice per engine)
        return LONG_FIRST.index(name), _module_fixture_group(item) or ""

    items.sort(key=rank)  # stable: the collection order within each rank
