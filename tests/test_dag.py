"""The Airflow DAG: it imports cleanly and cheaply, and runs green with dag.test().

Airflow runs in a subprocess with its own AIRFLOW_HOME (a migrated SQLite metadata DB)
so its configuration and logging never leak into the other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ka_pipeline.warehouse import connect
from tests.helpers import copy_fixture, rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    airflow_home = tmp_path_factory.mktemp("airflow_home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return env


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


def test_dags_import_without_errors_and_stay_cheap(airflow_env: dict[str, str]) -> None:
    done = _python(
        """
        import json, sys
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder="dags")
        dag = bag.get_dag("ka_nightly")
        print(json.dumps({
            "errors": {k: str(v) for k, v in bag.import_errors.items()},
            "tasks": sorted(dag.task_ids),
            "mapped": type(dag.get_task("load_chain")).__name__,
            "scorecards_rule": getattr(dag.get_task("scorecards").trigger_rule, "value", ""),
            "upstream": sorted(dag.get_task("scorecards").upstream_task_ids),
            "retries": dag.get_task("load_chain").retries,
            "heavy": sorted(m for m in sys.modules
                            if m.split(".")[0] in ("ka_pipeline", "great_expectations",
                                                   "pandas", "duckdb", "psycopg")),
        }))
        """,
        airflow_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["tasks"] == ["load_chain", "prepare", "scorecards", "watcher"]
    # one mapped task instance per chain, so a failing chain does not stop the others,
    # and the scorecards run once every chain has finished, whatever its state
    assert report["mapped"].endswith("MappedOperator")
    assert report["scorecards_rule"] == "all_done"
    assert report["upstream"] == ["load_chain"]
    assert report["retries"] == 2
    # parsing the DAG must not import the pipeline, Great Expectations or a DB driver
    assert [m for m in report["heavy"] if not m.startswith("pandas")] == []


def _dag_test(env: dict[str, str], logical_date: str) -> subprocess.CompletedProcess[str]:
    return _python(
        f"""
        import sys
        from datetime import datetime
        sys.path.insert(0, "dags")
        from ka_nightly import ka_nightly
        run = ka_nightly().test(logical_date=datetime.fromisoformat({logical_date!r}))
        print("STATE", run.state)
        """,
        env,
    )


def test_dag_test_runs_the_night_on_the_embedded_defaults(
    airflow_env: dict[str, str], tmp_path: Path
) -> None:
    home = copy_fixture("mini", tmp_path / "home")
    env = {**airflow_env, "KA_HOME": str(home)}
    for name in ("KA_WAREHOUSE_URL", "KA_SMTP_URL", "AIRFLOW_CONN_KA_WAREHOUSE"):
        env.pop(name, None)
    # the logical date a real scheduler gives the 04:00 Asia/Shanghai run of 1 November
    done = _dag_test(env, "2026-10-31T20:00:00+00:00")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "STATE success" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    # ... loads business date 31 October for both chains
    engine = connect(f"duckdb:///{home / 'warehouse.duckdb'}")
    loaded = rows(
        engine,
        "select chain_code, feed, business_date from ops_load_log where status = 'loaded'"
        " order by chain_code, feed",
    )
    assert [(r.chain_code, r.feed, str(r.business_date)) for r in loaded] == [
        ("AAA", "deductions", "2026-10-31"),
        ("AAA", "payments", "2026-10-31"),
        ("AAA", "sales", "2026-10-31"),
        ("BBB", "sales", "2026-10-31"),
    ]
    assert rows(engine, "select count(*) as n from mart_chain_month")[0].n == 2
    # 31 October is a month end and both chains' Octobers are complete (each from its
    # first day): one scorecard per owner in the outbox
    assert sorted(p.name for p in (home / "outbox").glob("2026-10/*.eml")) == [
        "ann.eml",
        "wang.eml",
    ]
    # and ann's manager (boss@example.com) one roll-up of the team
    assert [p.name[:10] for p in (home / "outbox").glob("2026-10/teams/*.eml")] == ["team-boss_"]
    # progress is ordinary output: INFO, never an error, with the business date
    log = done.stdout + done.stderr
    assert "AAA: business date 2026-10-31" in log
    assert "ERROR" not in log.replace("_ERROR", "")
    engine.dispose()


def test_the_monday_run_sends_the_weekly_scorecards_of_the_week_before_once(
    airflow_env: dict[str, str], tmp_path: Path
) -> None:
    """The 04:00 run of Monday 2 November loads Sunday 1 November, the last day of ISO
    week 44 (26 October - 1 November): with every day ok from the chains' first file,
    the week goes out to each owner and, as a roll-up, to the manager, under the outbox
    keys owner|week|2026-10-26 (that a second run sends nothing twice is
    tests/test_release.py::test_weekly_scorecards_go_out_for_the_week_before_once)."""
    home = copy_fixture("mini", tmp_path / "home")
    aaa = home / "feeds" / "AAA" / "sales"
    text = (aaa / "AAA_sales_20261031.csv").read_text(encoding="utf-8")
    (aaa / "AAA_sales_20261101.csv").write_text(text.replace("2026-10-31", "2026-11-01"))
    bbb = home / "feeds" / "BBB" / "sales"
    text = (bbb / "销售_20261031.csv").read_text(encoding="gbk")
    (bbb / "销售_20261101.csv").write_text(text.replace("2026/10/31", "2026/11/01"), "gbk")
    env = {**airflow_env, "KA_HOME": str(home)}
    for name in ("KA_WAREHOUSE_URL", "KA_SMTP_URL", "AIRFLOW_CONN_KA_WAREHOUSE"):
        env.pop(name, None)
    done = _dag_test(env, "2026-11-01T20:00:00+00:00")
    assert "STATE success" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    week = home / "outbox" / "week-2026-10-26"
    assert sorted(p.name for p in week.glob("*.eml")) == ["ann.eml", "wang.eml"]
    assert len(list(week.glob("teams/*.eml"))) == 1
    engine = connect(f"duckdb:///{home / 'warehouse.duckdb'}")
    keys = rows(engine, "select message_key, version from ops_outbox order by message_key")
    assert [(k.message_key, k.version) for k in keys] == [
        ("ann|week|2026-10-26", 1),
        ("team-boss@example.com|week|2026-10-26", 1),
        ("wang|week|2026-10-26", 1),
    ]
    engine.dispose()


def test_a_rejected_file_fails_its_chain_and_mails_the_data_team(
    airflow_env: dict[str, str], tmp_path: Path, smtp_server
) -> None:
    port, start, stop, collector = smtp_server
    start()
    home = copy_fixture("mini", tmp_path / "home")
    bad = home / "feeds" / "BBB" / "sales" / "销售_20261031.csv"
    bad.write_bytes(b"\x00\x01 not a sales file at all")
    env = {
        **airflow_env,
        "KA_HOME": str(home),
        "KA_TASK_RETRIES": "0",
        "KA_ALERT_TO": "data-team@example.com",
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": port,
                "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "ka@example.com"},
            }
        ),
        "AIRFLOW_CONN_KA_WAREHOUSE": json.dumps(
            {"conn_type": "duckdb", "host": str(tmp_path / "from-connection.duckdb")}
        ),
    }
    for name in ("KA_WAREHOUSE_URL", "KA_SMTP_URL"):
        env.pop(name, None)
    done = _dag_test(env, "2026-10-31T20:00:00+00:00")
    assert "STATE failed" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    # the warehouse is the one of the ka_warehouse connection, not the default file
    assert not (home / "warehouse.duckdb").exists()
    engine = connect(f"duckdb:///{tmp_path / 'from-connection.duckdb'}")
    days = rows(engine, "select chain_code, status from ops_chain_day order by chain_code")
    assert [(d.chain_code, d.status) for d in days] == [("AAA", "ok"), ("BBB", "failed")]
    engine.dispose()
    # the data team is told: chain, business date, reason, log link
    alerts = [e for e in collector.envelopes if "data-team@example.com" in e.rcpt_tos]
    assert len(alerts) == 1, [e.rcpt_tos for e in collector.envelopes]
    body = alerts[0].content.decode("utf-8", "replace")
    assert "FAILED load_chain BBB for 2026-10-31" in body
    assert "rejected" in body and "log" in body
    # ann's AAA is complete and went out through smtp_default; wang's BBB is held
    scorecards = sorted(r for e in collector.envelopes for r in e.rcpt_tos if "data-team" not in r)
    assert scorecards == ["ann@example.com", "boss@example.com"]
