"""ka_nightly driven by a real scheduler: CeleryExecutor, two workers, PostgreSQL (issue 5.7).

The stack (tests/airflow_stack.py) is what docker-compose.yml runs, started natively:
api-server, scheduler, dag-processor, triggerer and two Celery workers on a PostgreSQL
metadata DB and the local Redis, with the warehouse on PostgreSQL. Two things drive it:

- a scheduled-style run: the logical date a real scheduler gives the 04:00
  Asia/Shanghai run of 1 November, 2026-10-31T20:00Z; it must load 31 October;
- ``airflow backfill create`` over 3 days with ``{"chains": ["AAA"]}`` as run conf.

The mini fixture has files for 30 and 31 October; the backfill days (27-29 October) get
sales files for both chains, made here from the 30/31 October files with the date
changed, so "the other chains untouched" is a real check (BBB has files it must not load).

Slow (about 2-3 minutes on 2 cores); ``pytest -m "not slow"`` skips it, CI runs it.
Run ``pytest -s tests/test_scheduler_celery.py`` to see the timings and which worker ran
which task.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.airflow_stack import REDIS_DB, REDIS_URL, WORKERS, AirflowStack, airflow_stack
from tests.helpers import copy_fixture

pytestmark = pytest.mark.slow

DAG = "ka_nightly"
SCHEDULED_LOGICAL_DATE = "2026-10-31T20:00:00+00:00"  # 2026-11-01 04:00 Asia/Shanghai
BACKFILL_DAYS = [date(2026, 10, 27), date(2026, 10, 28), date(2026, 10, 29)]
# The backfill's runs: the 04:00 Asia/Shanghai ticks of 28-30 October (20:00Z the evening
# before), which load the business dates 27-29 October.
BACKFILL_FROM, BACKFILL_TO = "2026-10-27T20:00:00+00:00", "2026-10-29T20:00:00+00:00"

TIMINGS: dict[str, float] = {}


def _home_with_backfill_files(home: Path) -> Path:
    copy_fixture("mini", home)
    aaa = home / "feeds" / "AAA" / "sales"
    bbb = home / "feeds" / "BBB" / "sales"
    aaa_src = (aaa / "AAA_sales_20261030.csv").read_text(encoding="utf-8")
    bbb_src = (bbb / "销售_20261031.csv").read_bytes()  # GBK; the dates are ASCII
    for day in BACKFILL_DAYS:
        aaa_text = aaa_src.replace("2026-10-30", day.isoformat())
        (aaa / f"AAA_sales_{day:%Y%m%d}.csv").write_text(aaa_text, encoding="utf-8")
        bbb_bytes = bbb_src.replace(b"2026/10/31", f"{day:%Y/%m/%d}".encode())
        (bbb / f"销售_{day:%Y%m%d}.csv").write_bytes(bbb_bytes)
    return home


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str):
    _require_redis()
    tmp = tmp_path_factory.mktemp("airflow")
    home = _home_with_backfill_files(tmp / "ka_home")
    started = time.monotonic()
    with airflow_stack(tmp, home, postgres_server_url) as running:
        TIMINGS["stack start (db migrate, 6 services, DAG parsed)"] = time.monotonic() - started
        # The stack creates DAGs unpaused (AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False).
        assert running._query("select is_paused from dag where dag_id = :d", d=DAG) == [
            {"is_paused": False}
        ]
        yield running
    TIMINGS["whole test incl. stop"] = time.monotonic() - started
    _report()


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(f"{REDIS_URL}/{REDIS_DB}", socket_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} is not reachable ({exc}); set KA_TEST_REDIS_URL"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI: " + message)
        pytest.skip(message)


def _report() -> None:
    print("\nwall times (s): " + ", ".join(f"{k} {v:.1f}" for k, v in TIMINGS.items()))


@pytest.fixture(scope="module")
def scheduled_run(stack: AirflowStack) -> dict:
    started = time.monotonic()
    run_id = stack.trigger(DAG, SCHEDULED_LOGICAL_DATE)
    (run,) = stack.wait_for_runs(DAG, [run_id], timeout=240)
    TIMINGS["scheduled-style run"] = time.monotonic() - started
    return run


@pytest.fixture(scope="module")
def backfill_runs(stack: AirflowStack, scheduled_run: dict) -> list[dict]:
    started = time.monotonic()
    stack.backfill(DAG, BACKFILL_FROM, BACKFILL_TO, {"chains": ["AAA"]})
    runs = stack.wait_for_runs(DAG, count=len(BACKFILL_DAYS), backfill=True, timeout=300)
    TIMINGS["3-day backfill"] = time.monotonic() - started
    return runs


def loaded_dates(stack: AirflowStack) -> dict[str, set[date]]:
    """chain -> the business dates the warehouse's ops_load_log holds loads for."""
    engine = sa.create_engine(stack.warehouse_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("select distinct chain_code, business_date from ops_load_log")
            ).fetchall()
    finally:
        engine.dispose()
    out: dict[str, set[date]] = defaultdict(set)
    for chain, day in rows:
        out[chain].add(day)
    return dict(out)


def assert_backfill_business_dates(stack: AirflowStack) -> None:
    """The backfill loaded AAA's 27-29 October and left BBB's files of those days alone.

    Needs the DAG to read ``chains`` from the run conf and the business date from the
    data interval in Asia/Shanghai (issue 5 points 1 and 4).
    """
    loaded = loaded_dates(stack)
    assert set(BACKFILL_DAYS) <= loaded.get("AAA", set()), loaded
    assert not set(BACKFILL_DAYS) & loaded.get("BBB", set()), loaded


def test_scheduled_run_succeeds_on_the_celery_workers(
    stack: AirflowStack, scheduled_run: dict
) -> None:
    assert scheduled_run["state"] == "success", stack.task_instances(DAG)
    tis = [t for t in stack.task_instances(DAG) if t["run_id"] == scheduled_run["run_id"]]
    # prepare, load_chain[AAA], load_chain[BBB], scorecards ran; the watcher (which
    # fails the run when a task failed) was skipped because nothing failed
    assert sorted((t["task_id"], t["map_index"], t["state"]) for t in tis) == [
        ("load_chain", 0, "success"),
        ("load_chain", 1, "success"),
        ("prepare", -1, "success"),
        ("scorecards", -1, "success"),
        ("watcher", -1, "skipped"),
    ]
    ran = [t for t in tis if t["state"] == "success"]
    assert all(t["queue"] == stack.queue for t in ran)
    assert {t["hostname"] for t in ran} <= set(WORKERS)


# Before issue 5 the DAG took the UTC date of the logical date (2026-10-31 - 1 day =
# 30 October); the business date is the day before the run's date in Asia/Shanghai.
def test_scheduled_run_loads_the_business_date_in_shanghai(
    stack: AirflowStack, scheduled_run: dict
) -> None:
    loaded = loaded_dates(stack)
    # both chains sent files for 31 October (AAA: sales, deductions, payments; BBB: sales)
    assert date(2026, 10, 31) in loaded.get("AAA", set()), loaded
    assert date(2026, 10, 31) in loaded.get("BBB", set()), loaded
    assert date(2026, 10, 30) not in loaded.get("AAA", set()), loaded


def test_backfill_runs_finish_and_both_workers_ran_tasks(
    stack: AirflowStack, scheduled_run: dict, backfill_runs: list[dict]
) -> None:
    assert len(backfill_runs) == len(BACKFILL_DAYS)
    assert {r["state"] for r in backfill_runs} <= {"success", "failed"}
    assert all(r["conf"] == {"chains": ["AAA"]} for r in backfill_runs)
    by_worker: dict[str, list[str]] = defaultdict(list)
    for ti in stack.task_instances(DAG):
        if ti["state"] == "skipped":
            continue  # the watcher of a run where nothing failed: never on a worker
        index = "" if ti["map_index"] < 0 else f"[{ti['map_index']}]"
        by_worker[ti["hostname"]].append(f"{ti['run_id']}:{ti['task_id']}{index}")
    print("\ntasks per worker:")
    for worker, tasks in sorted(by_worker.items()):
        print(f"  {worker} ({len(tasks)}): " + ", ".join(tasks))
    assert set(by_worker) == set(WORKERS), dict(by_worker)


def test_backfill_loads_only_the_chain_and_dates_asked(
    stack: AirflowStack, backfill_runs: list[dict]
) -> None:
    assert {r["state"] for r in backfill_runs} == {"success"}
    assert_backfill_business_dates(stack)
