"""Two runs at once leave the warehouse exactly as one run does, and mail nothing twice.

Real processes (the ``ka-pipeline`` CLI), the real warehouses and a real, slow SMTP
server: the second run must wait for the chain's lock (PostgreSQL) or the file (DuckDB),
and the outbox claim must keep the two runs from sending one mail twice.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.conftest import _free_port
from tests.helpers import copy_fixture

RAW = ("raw_sales", "raw_invoices", "raw_deductions", "raw_payments")
MARTS = ("mart_chain_month", "mart_chain_week", "mart_store_month", "mart_deduction_check")


class SlowCollector:
    """Accepts every mail after a pause, so two senders would overlap."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(1.0)
        self.envelopes.append(envelope)
        return "250 OK"


def _cli(home: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ka_pipeline.cli", "--home", str(home), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _snapshot(url: str) -> dict[str, list[tuple]]:
    """The published data, without load ids and timestamps that differ between runs."""
    engine = sa.create_engine(url)
    snap = {}
    with engine.connect() as conn:
        for table in RAW + MARTS:
            columns = list(conn.execute(sa.text(f"select * from {table} limit 0")).keys())
            keep = ", ".join(c for c in columns if c != "load_id")
            rows = conn.execute(sa.text(f"select {keep} from {table}")).fetchall()
            snap[table] = sorted((tuple(r) for r in rows), key=repr)
        snap["loaded"] = sorted(
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "select chain_code, feed, business_date, count(*) from ops_load_log"
                    " where status = 'loaded' group by chain_code, feed, business_date"
                )
            )
        )
        snap["outbox"] = sorted(
            tuple(r) for r in conn.execute(sa.text("select message_key, status from ops_outbox"))
        )
    engine.dispose()
    return snap


@pytest.fixture
def smtp():
    collector = SlowCollector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, collector
    controller.stop()


def _env(url: str, smtp_port: int) -> dict[str, str]:
    env = {**os.environ, "KA_WAREHOUSE_URL": url, "KA_LOCK_TIMEOUT_S": "180"}
    env["KA_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    return env


def test_two_forced_runs_at_once_equal_one_run(
    tmp_path: Path, warehouse_url: str, smtp, request: pytest.FixtureRequest
) -> None:
    port, collector = smtp
    args = ("run", "--date", "2026-10-31", "--force", "--scorecards", "always")

    # the reference: one run alone, in its own warehouse
    if warehouse_url.startswith("duckdb"):
        single_url = f"duckdb:///{tmp_path / 'single.duckdb'}"
    else:
        from tests.conftest import _drop_pg_database, _new_pg_database

        server = request.getfixturevalue("postgres_server_url")
        name, single_url = _new_pg_database(server)
        request.addfinalizer(lambda: _drop_pg_database(server, name))
    single_home = copy_fixture("mini", tmp_path / "single")
    alone = _cli(single_home, _env(single_url, port), *args)
    out, err = alone.communicate(timeout=300)
    assert alone.returncode == 0, out + err
    assert len(collector.envelopes) == 3  # ann, wang, and the roll-up to ann's manager
    collector.envelopes.clear()

    home = copy_fixture("mini", tmp_path / "home")
    env = _env(warehouse_url, port)
    first, second = _cli(home, env, *args), _cli(home, env, *args)
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), results

    together, one = _snapshot(warehouse_url), _snapshot(single_url)
    for table in RAW + MARTS:
        assert together[table] == one[table], table
    assert len(together["raw_sales"]) == 3 and len(together["mart_chain_month"]) == 2
    # every partition holds one loaded file: the second run superseded the first's
    assert together["loaded"] == one["loaded"]
    assert all(n == 1 for *_, n in together["loaded"])
    assert (
        together["outbox"]
        == one["outbox"]
        == [
            ("ann|month|2026-10-01", "sent"),
            ("team-boss@example.com|month|2026-10-01", "sent"),
            ("wang|month|2026-10-01", "sent"),
        ]
    )
    # each owner got one mail, although both runs wanted to send it
    recipients = sorted(r for e in collector.envelopes for r in e.rcpt_tos)
    assert recipients == ["ann@example.com", "boss@example.com", "wang.fang@example.com"]
    waited = "".join(out for out, _ in results)
    if warehouse_url.startswith("duckdb"):
        assert "warehouse: waiting for process" in waited
    else:
        assert "waiting for another run to finish" in waited


@pytest.mark.postgres
def test_first_migrations_at_once_are_safe(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """PostgreSQL only: on DuckDB one process owns the file (the bounded wait covers it)."""
    from tests.conftest import _drop_pg_database, _new_pg_database

    server = request.getfixturevalue("postgres_server_url")
    name, warehouse_url = _new_pg_database(server)
    request.addfinalizer(lambda: _drop_pg_database(server, name))
    env = {**os.environ, "KA_WAREHOUSE_URL": warehouse_url}
    procs = [_cli(tmp_path, env, "migrate") for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    applied = [out for out, _ in outputs if "applied: 0001" in out]
    assert len(applied) == 1  # one process migrated; the others found the schema current
    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("select version from ops_schema_migrations")).fetchall()
    engine.dispose()
    assert len(versions) == len({v for (v,) in versions}) >= 5
