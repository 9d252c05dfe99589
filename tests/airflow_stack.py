"""A real Airflow deployment, started natively for tests: what docker-compose.yml runs.

:func:`airflow_stack` builds, on a temporary ``AIRFLOW_HOME``:

- a fresh PostgreSQL metadata database (``airflow db migrate``) and a fresh PostgreSQL
  warehouse database, passed to the tasks both as the Airflow connection ``ka_warehouse``
  (``AIRFLOW_CONN_KA_WAREHOUSE``) and as ``KA_WAREHOUSE_URL`` (the CLI's setting);
- the CeleryExecutor with the local Redis as broker (a dedicated db number and a queue
  name unique to this stack, so two stacks on one machine never take each other's tasks)
  and the metadata database as result backend;
- the pool ``ka_warehouse`` (``airflow pools set``, as compose's init does);
- Airflow's own services as subprocesses: api-server (on a free port), scheduler,
  dag-processor, triggerer and two Celery workers with distinct hostnames;
- the repository's ``dags/`` as DAGS_FOLDER and ``KA_HOME`` on the folder the caller gives.

Guarantee: every process it started is stopped (by process group: SIGTERM, then SIGKILL
after a grace period) and both databases are dropped when the ``with`` block ends, also on
a failure or KeyboardInterrupt. Service logs are kept under ``<home>/service-logs`` and
their tails are attached to timeout errors.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("KA_TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_DB = 11  # dedicated to these tests; queues are unique per stack within it
TERMINAL = {"success", "failed"}
WORKERS = ("worker1", "worker2")


def worker_hostname() -> str:
    """Airflow's ``hostname_callable`` in the workers: the worker's name, not the machine's.

    Both workers run on one machine; the name recorded on each task instance tells them
    apart as two machines' names would.
    """
    return os.environ.get("KA_STACK_WORKER") or socket.getfqdn()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin(server_url: str) -> sa.Engine:
    return sa.create_engine(server_url, isolation_level="AUTOCOMMIT")


def _create_database(server_url: str, name: str) -> str:
    engine = _admin(server_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    engine.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(server_url: str, name: str) -> None:
    engine = _admin(server_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    engine.dispose()


def _with_driver(url: str, driver: str) -> str:
    return sa.make_url(url).set(drivername=driver).render_as_string(hide_password=False)


@dataclass
class AirflowStack:
    """A running stack: the environment its processes share, and helpers to drive it."""

    home: Path
    env: dict[str, str]
    api_url: str
    metadata_url: str  # SQLAlchemy URL (psycopg) of the metadata DB, for read-only checks
    warehouse_url: str  # KA_WAREHOUSE_URL
    queue: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    oneshots: list[subprocess.Popen] = field(default_factory=list)  # init commands

    # -- processes -------------------------------------------------------------------
    def log_path(self, name: str) -> Path:
        return self.home / "service-logs" / f"{name}.log"

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        """Start ``airflow <args>`` as a service in its own process group."""
        log = self.log_path(name).open("ab")
        self.procs[name] = subprocess.Popen(
            [str(BIN / "airflow"), *args],
            env={**self.env, **(env or {})},
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"Airflow services exited: {dead}\n{self.log_tails(list(dead))}")

    def stop(self, grace: float = 5.0) -> None:
        """Stop every service: SIGTERM to each process group, SIGKILL what is left."""
        for proc in self.oneshots:  # still running only if the start-up failed
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():  # the group may hold children (prefork, task runners)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    def log_tails(self, names: list[str] | None = None, lines: int = 40) -> str:
        out = []
        for name in names or list(self.procs):
            path = self.log_path(name)
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
            out.append(f"--- {name} ({path}) ---\n" + "\n".join(text))
        return "\n".join(out)

    # -- the airflow CLI -------------------------------------------------------------
    def airflow(self, *args: str, timeout: float = 180) -> str:
        """Run ``airflow <args>`` with the stack's environment; return stdout, raise on error."""
        done = subprocess.run(
            [str(BIN / "airflow"), *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def airflow_json(self, *args: str) -> Any:
        """``airflow <args> --output json``, parsed (log lines before the JSON are skipped)."""
        out = self.airflow(*args, "--output", "json")
        for line in reversed(out.splitlines()):  # warnings such as "[warning  ] ..." come first
            with contextlib.suppress(ValueError):
                return json.loads(line)
        raise ValueError(f"airflow {' '.join(args)} printed no JSON:\n{out}")

    def trigger(self, dag_id: str, logical_date: str, conf: dict | None = None) -> str:
        """Trigger a run with a logical date (ISO, with offset); return its run id."""
        args = ["dags", "trigger", dag_id, "--logical-date", logical_date]
        if conf is not None:
            args += ["--conf", json.dumps(conf)]
        (run,) = self.airflow_json(*args)
        return run["dag_run_id"]

    def backfill(
        self, dag_id: str, from_date: str, to_date: str, conf: dict | None = None, *extra: str
    ) -> str:
        """``airflow backfill create``; returns its output (the CLI prints the backfill)."""
        args = ["backfill", "create", "--dag-id", dag_id]
        args += ["--from-date", from_date, "--to-date", to_date]
        if conf is not None:
            args += ["--dag-run-conf", json.dumps(conf)]
        return self.airflow(*args, *extra)

    def list_runs(self, dag_id: str) -> list[dict]:
        """``airflow dags list-runs <dag_id> --output json``."""
        return self.airflow_json("dags", "list-runs", dag_id)

    # -- the metadata DB, read-only ----------------------------------------------------
    def _query(self, sql: str, **params: Any) -> list[dict]:
        engine = sa.create_engine(self.metadata_url)
        try:
            with engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def runs(self, dag_id: str) -> list[dict]:
        """Every run of ``dag_id``: run_id, run_type, state, logical_date, conf, backfill_id."""
        return self._query(
            "select run_id, run_type, state, logical_date, conf, backfill_id from dag_run"
            " where dag_id = :dag_id order by logical_date",
            dag_id=dag_id,
        )

    def task_instances(self, dag_id: str) -> list[dict]:
        """Every task instance of ``dag_id`` with the worker (Celery hostname) that ran it."""
        return self._query(
            "select run_id, task_id, map_index, state, hostname, try_number, queue"
            " from task_instance where dag_id = :dag_id order by run_id, start_date",
            dag_id=dag_id,
        )

    def wait_for(self, what: str, ready, timeout: float, interval: float = 1.0) -> Any:
        """Poll ``ready()`` until it returns something truthy; raise with log tails after."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            value = ready()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what}\n{self.log_tails()}")
            time.sleep(interval)

    def wait_for_runs(
        self,
        dag_id: str,
        run_ids: list[str] | None = None,
        count: int | None = None,
        backfill: bool = False,
        timeout: float = 240,
    ) -> list[dict]:
        """Wait until the runs named (or ``count`` backfill runs) are finished; return them."""

        def finished() -> list[dict] | None:
            runs = self.runs(dag_id)
            if backfill:
                runs = [r for r in runs if r["backfill_id"] is not None]
            else:
                runs = [r for r in runs if run_ids is None or r["run_id"] in run_ids]
            wanted = count if count is not None else len(run_ids or [])
            if len(runs) >= wanted and all(r["state"] in TERMINAL for r in runs):
                return runs
            return None

        return self.wait_for(f"{dag_id} runs {run_ids or count}", finished, timeout)


def _env(home: Path, ka_home: Path, metadata_db: str, warehouse_db: str, port: int, queue: str):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "KA_"))}
    pg_psycopg2 = _with_driver(metadata_db, "postgresql+psycopg2")
    if warehouse_db.startswith("duckdb:///"):
        path = warehouse_db.removeprefix("duckdb:///")
        warehouse_conn = json.dumps({"conn_type": "duckdb", "host": path})
    else:
        warehouse_conn = _with_driver(warehouse_db, "postgresql")
    return {
        **base,
        "PATH": f"{BIN}:{base.get('PATH', '/usr/bin:/bin')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # New DAGs start unpaused (saves an `airflow dags unpause`, ~5 s of CLI start-up).
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_psycopg2,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__API__SECRET_KEY": uuid.uuid4().hex,
        "AIRFLOW__CELERY__BROKER_URL": f"{REDIS_URL}/{REDIS_DB}",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + pg_psycopg2,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        # Runs are made by the test (trigger, backfill), not by the cron schedule.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "1",
        "AIRFLOW_CONN_KA_WAREHOUSE": warehouse_conn,
        "KA_WAREHOUSE_URL": warehouse_db,
        "KA_HOME": str(ka_home),
        "GX_ANALYTICS_ENABLED": "false",
    }


@contextlib.contextmanager
def airflow_stack(
    tmp: Path,
    ka_home: Path,
    pg_server_url: str,
    dag_id: str = "ka_nightly",
    pool_slots: int = 4,
    duckdb_warehouse: Path | None = None,
) -> Iterator[AirflowStack]:
    """Start the stack (see the module doc); yield it once ``dag_id`` is parsed.

    ``duckdb_warehouse``: use this DuckDB file as the warehouse instead of a new
    PostgreSQL database (give it ``pool_slots=1``, as a DuckDB deployment would).
    """
    home = tmp / "airflow-home"
    (home / "service-logs").mkdir(parents=True)
    tag = uuid.uuid4().hex[:10]
    meta_name, wh_name = f"ka_af_meta_{tag}", f"ka_af_wh_{tag}"
    created: list[str] = []
    stack: AirflowStack | None = None
    queue = f"ka_test_{tag}"
    try:
        metadata_url = _create_database(pg_server_url, meta_name)
        created.append(meta_name)
        if duckdb_warehouse is not None:
            warehouse_url = f"duckdb:///{duckdb_warehouse}"
        else:
            warehouse_url = _create_database(pg_server_url, wh_name)
            created.append(wh_name)
            warehouse_url = _with_driver(warehouse_url, "postgresql+psycopg")
        port = free_port()
        env = _env(home, ka_home, metadata_url, warehouse_url, port, queue)
        stack = AirflowStack(
            home=home,
            env=env,
            api_url=f"http://127.0.0.1:{port}",
            metadata_url=_with_driver(metadata_url, "postgresql+psycopg"),
            warehouse_url=warehouse_url,
            queue=queue,
        )
        stack.airflow("db", "migrate", timeout=300)
        stack.start("api-server", "api-server", "--port", str(port), "--workers", "1")
        stack.start("scheduler", "scheduler")
        stack.start("dag-processor", "dag-processor")
        stack.start("triggerer", "triggerer")
        worker = ["celery", "worker", "--queues", queue, "--concurrency", "1"]
        worker += ["--skip-serve-logs", "--without-gossip", "--without-mingle"]
        for name in WORKERS:
            stack.start(
                name,
                *worker,
                "--celery-hostname",
                f"{name}@%h",
                env={
                    "KA_STACK_WORKER": name,
                    "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.airflow_stack.worker_hostname",
                    "PYTHONPATH": str(REPO),
                },
            )
        # The init one-shots (as compose's airflow-init), while the services start up.
        init = {
            "pool": [
                str(BIN / "airflow"),
                "pools",
                "set",
                "ka_warehouse",
                str(pool_slots),
                "ka-pipeline warehouse writers",
            ],
            "ka-migrate": [str(BIN / "ka-pipeline"), "migrate"],
        }
        oneshots = {
            name: subprocess.Popen(
                cmd,
                env=env,
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            for name, cmd in init.items()
        }
        stack.oneshots.extend(oneshots.values())
        for name, proc in oneshots.items():
            out, _ = proc.communicate(timeout=180)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(init[name])} exited {proc.returncode}:\n{out}")

        def api_healthy() -> bool:
            try:
                with urllib.request.urlopen(f"{stack.api_url}/api/v2/monitor/health", timeout=2):
                    return True
            except OSError:
                return False

        stack.wait_for("the api-server", api_healthy, timeout=120)
        stack.wait_for(
            f"{dag_id} to be parsed",
            lambda: stack._query("select 1 from dag where dag_id = :d", d=dag_id),
            timeout=120,
        )
        stack.wait_for(
            "both Celery workers",
            lambda: all(
                " ready." in stack.log_path(n).read_text(errors="replace") for n in WORKERS
            ),
            timeout=120,
        )
        yield stack
    finally:
        if stack is not None:
            stack.stop()
            with contextlib.suppress(Exception):
                import redis

                client = redis.Redis.from_url(f"{REDIS_URL}/{REDIS_DB}")
                client.delete(queue, *client.keys(f"_kombu.binding*.{queue}"))
        for name in created:
            _drop_database(pg_server_url, name)
