"""Ingest benchmark: one large sales file through parse -> validate -> publish.

Prints rows/s per stage and the ratio of the whole ingest against a bare PostgreSQL
``COPY`` of the same file into an empty table, measured in the same run. Usage:

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--postgres URL]

PostgreSQL defaults to KA_TEST_POSTGRES_URL; a fresh database is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ka_pipeline.config import FeedLayout
from ka_pipeline.gtin import make_gtin13
from ka_pipeline.load import FileLoad, publish
from ka_pipeline.parse import parse_file
from ka_pipeline.validate import _gx, add_flags, validate_rows
from ka_pipeline.warehouse import create_engine, migrate

DAY = date(2026, 10, 31)


def make_file(path: Path, rows: int) -> tuple[set[str], list[str]]:
    rng = np.random.default_rng(7)
    stores = [f"S{i:04d}" for i in range(max(rows // 2000, 1))]
    items = [make_gtin13(f"690{i:09d}") for i in range(2000)]
    n_items = min(len(items), max(rows // len(stores), 1))
    store_idx = np.repeat(np.arange(len(stores)), n_items)[:rows]
    item_idx = np.tile(np.arange(n_items), len(stores))[:rows]
    cents = rng.integers(100, 100000, size=len(store_idx))
    frame = pd.DataFrame(
        {
            "business_date": DAY.isoformat(),
            "store_code": np.array(stores)[store_idx],
            "barcode": np.array(items)[item_idx],
            "units": rng.integers(-2, 50, size=len(store_idx)),
            "sales_amount": [f"{c / 100:.2f}" for c in cents],
        }
    )
    frame.to_csv(path, index=False)
    return set(items), stores


def timed(label: str, rows: int, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:8.2f} s  {rows / seconds:>12,.0f} rows/s")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "KA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ka_bench_"))
    path = work / "sales_20261031.csv"
    products, stores = make_file(path, args.rows)
    rows = sum(1 for _ in path.open()) - 1
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {rows:,} rows)")
    _gx()  # Great Expectations' import and context: a once-per-process cost, not per file

    name = f"ka_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    pg_url = sa.make_url(args.postgres).set(database=name).render_as_string(False)
    try:
        pg = create_engine(pg_url)
        migrate(pg)

        def bare_copy() -> None:
            with pg.begin() as conn:
                conn.execute(
                    sa.text(
                        "create table bare (d date, s varchar, b varchar,"
                        " u integer, a decimal(14,2))"
                    )
                )
                with conn.connection.driver_connection.cursor() as cur:
                    with cur.copy("copy bare from stdin (format csv, header true)") as copy:
                        with path.open("rb") as handle:
                            while block := handle.read(1 << 20):
                                copy.write(block)

        _, baseline = timed("PostgreSQL bare COPY (baseline)", rows, bare_copy)
        layout = FeedLayout(feed="sales", file="sales_{date:%Y%m%d}.csv")
        frame, t_parse = timed(
            "parse (layout -> canonical)", rows, lambda: parse_file(path, layout).rows
        )

        def validate():
            dates = pd.Series(DAY.isoformat(), index=frame.index)
            flagged = add_flags(frame, "sales", dates, pd.Series(stores), products)
            return validate_rows(flagged, "sales")

        checked, t_validate = timed("validate (flags + GE suite)", rows, validate)

        def load_into(engine: sa.Engine) -> None:
            load = FileLoad(
                "BENCH", "sales", DAY, path.name, str(path), "x", pd.Timestamp.now().to_pydatetime()
            )
            load.good = checked.good.drop(
                columns=[c for c in checked.good if c.startswith("_") and c not in ("_row", "_raw")]
            )
            publish(engine, [load])

        _, t_pg = timed("publish to PostgreSQL (COPY)", rows, lambda: load_into(pg))
        duck = create_engine(f"duckdb:///{work / 'bench.duckdb'}")
        migrate(duck)
        _, t_duck = timed("publish to DuckDB (DataFrame scan)", rows, lambda: load_into(duck))
        total = t_parse + t_validate + t_pg
        print(f"{'whole ingest to PostgreSQL':<34} {total:8.2f} s  {rows / total:>12,.0f} rows/s")
        print(
            f"ratio ingest / bare COPY: {total / baseline:.1f}x "
            f"(parse {t_parse / baseline:.1f}x, validate {t_validate / baseline:.1f}x, "
            f"publish {t_pg / baseline:.1f}x)"
        )
        pg.dispose()
        duck.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))


if __name__ == "__main__":
    main()
