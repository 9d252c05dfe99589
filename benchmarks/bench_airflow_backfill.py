"""A 5-day ``airflow backfill create`` on the embedded DuckDB warehouse, by a real scheduler.

Starts the native CeleryExecutor stack of the tests (tests/airflow_stack.py: PostgreSQL
metadata, local Redis, two workers) with the warehouse on a DuckDB file and the
``ka_warehouse`` pool at 1 slot, as docs/deployment.md says for DuckDB. Backfills five
business dates of both mini chains with all runs allowed at once (``--max-active-runs
5``: the case where runs used to fight over the file and succeed only by retries), and
prints the wall time, the runs' states, the retries and what was loaded.

    .venv/bin/python benchmarks/bench_airflow_backfill.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.airflow_stack import airflow_stack  # noqa: E402
from tests.helpers import copy_fixture  # noqa: E402

DAYS = [date(2026, 10, 26) + timedelta(days=i) for i in range(5)]  # business dates


def main() -> None:
    pg = os.environ.get(
        "KA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        home = copy_fixture("mini", tmp / "ka-home")
        aaa, bbb = home / "feeds" / "AAA" / "sales", home / "feeds" / "BBB" / "sales"
        aaa_src = (aaa / "AAA_sales_20261030.csv").read_text(encoding="utf-8")
        bbb_src = (bbb / "销售_20261031.csv").read_bytes()
        for day in DAYS:
            (aaa / f"AAA_sales_{day:%Y%m%d}.csv").write_text(
                aaa_src.replace("2026-10-30", day.isoformat()), encoding="utf-8"
            )
            (bbb / f"销售_{day:%Y%m%d}.csv").write_bytes(
                bbb_src.replace(b"2026/10/31", f"{day:%Y/%m/%d}".encode())
            )
        warehouse = tmp / "warehouse.duckdb"
        began = time.monotonic()
        with airflow_stack(tmp, home, pg, pool_slots=1, duckdb_warehouse=warehouse) as stack:
            print(f"stack up in {time.monotonic() - began:.0f} s")
            start = time.monotonic()
            stack.backfill(
                "ka_nightly",
                DAYS[0].isoformat(),
                (DAYS[-1] + timedelta(days=1)).isoformat(),
                None,
                "--max-active-runs",
                "5",
            )
            runs = stack.wait_for_runs("ka_nightly", count=len(DAYS), timeout=1800)
            wall = time.monotonic() - start
            tis = stack.task_instances("ka_nightly")
        engine = sa.create_engine(f"duckdb:///{warehouse}")
        with engine.connect() as conn:
            loaded = conn.execute(
                sa.text(
                    "select chain_code, business_date, count(*) from ops_load_log"
                    " where status = 'loaded' and feed = 'sales'"
                    " group by chain_code, business_date order by 1, 2"
                )
            ).fetchall()
        engine.dispose()
    retried = [t for t in tis if (t["try_number"] or 0) > 1]
    print(f"5-day backfill, DuckDB, pool 1 slot, 2 workers: {wall:.0f} s wall")
    print(f"runs: {sorted(r['state'] for r in runs)}")
    print(f"task instances: {len(tis)}, retried: {len(retried)}")
    print(
        "sales loaded (chain, business date, loads): "
        + ", ".join(f"{c} {d} x{n}" for c, d, n in loaded)
    )


if __name__ == "__main__":
    main()
