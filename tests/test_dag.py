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
    assert report["tasks"] == ["load_chain", "prepare", "scorecards"]
    # one mapped task instance per chain, so a failing chain does not stop the others,
    # and the scorecards run once every chain has finished, whatever its state
    assert report["mapped"].endswith("MappedOperator")
    assert report["scorecards_rule"] == "all_done"
    assert report["upstream"] == ["load_chain"]
    assert report["retries"] == 2
    # parsing the DAG must not import the pipeline, Great Expectations or a DB driver
    assert [m for m in report["heavy"] if not m.startswith("pandas")] == []


def test_dag_test_runs_the_night_on_the_embedded_defaults(
    airflow_env: dict[str, str], tmp_path: Path
) -> None:
    home = copy_fixture("mini", tmp_path / "home")
    env = {**airflow_env, "KA_HOME": str(home)}
    env.pop("KA_WAREHOUSE_URL", None)
    env.pop("KA_SMTP_URL", None)
    done = _python(
        """
        import sys
        from datetime import datetime, timezone
        sys.path.insert(0, "dags")
        from ka_nightly import ka_nightly
        run = ka_nightly().test(logical_date=datetime(2026, 11, 1, tzinfo=timezone.utc))
        print("STATE", run.state)
        """,
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "STATE success" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    # the logical date 1 November loads business date 31 October for both chains
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
    # 31 October is a month end: one scorecard per owner in the outbox
    assert sorted(p.name for p in (home / "outbox").rglob("*.eml")) == ["ann.eml", "wang.eml"]
    engine.dispose()
