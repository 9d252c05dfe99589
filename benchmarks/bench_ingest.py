"""Ingest benchmark: the project's ingest against the bulk paths, on both warehouses.

One run measures, for a generated sales file of ``--rows`` rows (default 1,000,000):

* the project's whole ingest of the file (``run_chain``: discover, parse, validate with
  the Great Expectations suite, storing each suite run's result and Data Docs page,
  publish; the one-time GE import/context is printed apart), on PostgreSQL and on DuckDB;
* a bare ``COPY`` of the same file into an empty table of the same types;
* the floor under the ingest: the file read in chunks by the project's reader and
  written by its bulk path, with no normalisation and no validation between;
* DuckDB ``read_csv`` into a new table;
* pandas ``read_csv`` + ``to_sql`` (chunksize 10,000);

in ``--repeat`` rounds (default 3; a fresh warehouse each round, ``to_sql`` in the first
only), and prints each method's median with its ratio to the median bare ``COPY`` of that
warehouse, and each round's own ingest / ``COPY`` ratio. Then, unless
``--skip-memory``, the peak memory (max RSS of a child process, Python and Great
Expectations included) of ingesting a ``--memory-rows`` file (default 5,000,000) and of
a backfill of ``--backfill-days`` days of 1,000,000 rows, on both warehouses.

    .venv/bin/python benchmarks/bench_ingest.py [--rows N] [--skip-memory]

PostgreSQL: KA_TEST_POSTGRES_URL (a server URL); a fresh database is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from ka_pipeline.gtin import make_gtin13

DAY = date(2026, 10, 31)
CHAIN = "BENCH"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BARE = "create table bare (d date, s varchar, b varchar, u integer, a decimal(14,2))"


def _items() -> list[str]:
    return [make_gtin13(f"690{i:09d}") for i in range(2000)]


def _stores(rows: int) -> list[str]:
    return [f"S{i:04d}" for i in range(max(rows // 2000, 1))]


def make_file(path: Path, rows: int, day: date = DAY) -> None:
    """``rows`` sales rows of one day: stores x 2000 items, written in blocks."""
    rng = np.random.default_rng(7)
    stores, items = np.array(_stores(rows)), np.array(_items())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("business_date,store_code,barcode,units,sales_amount\n")
        for start in range(0, rows, 500_000):
            n = min(500_000, rows - start)
            index = np.arange(start, start + n)
            cents = rng.integers(100, 100000, size=n)
            frame = pd.DataFrame(
                {
                    "business_date": day.isoformat(),
                    "store_code": stores[index // len(items)],
                    "barcode": items[index % len(items)],
                    "units": rng.integers(-2, 50, size=n),
                    "sales_amount": [f"{c / 100:.2f}" for c in cents],
                }
            )
            frame.to_csv(handle, index=False, header=False)


def make_home(home: Path, rows: int) -> None:
    """A config folder with the BENCH chain, its stores and the 2000 products."""
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "chains.yaml").write_text(
        "chains:\n  - {code: BENCH, name: Bench, format: hypermarket, region: East,"
        " settlement_mode: outright, payment_terms_days: 30, owner: o,"
        ' feeds: {sales: {file: "sales/BENCH_sales_{date:%Y%m%d}.csv"}}}\n',
        encoding="utf-8",
    )
    (config / "owners.yaml").write_text(
        "owners:\n  - {code: o, name: O, email: o@example.com}\n", encoding="utf-8"
    )
    (config / "contracts.yaml").write_text("contracts: []\n", encoding="utf-8")
    stores = pd.DataFrame({"chain_code": CHAIN, "store_code": _stores(rows)})
    stores = stores.assign(name="s", city="c", region="r", area_m2="3000")
    stores.assign(opened_on="2020-01-01", closed_on="").to_csv(config / "stores.csv", index=False)
    products = pd.DataFrame({"barcode": _items()}).assign(
        name="p", brand="b", category="c", unit_cost="1.00", supply_price="2.00"
    )
    products.assign(std_retail_price="3.00", floor_price="2.50").to_csv(
        config / "products.csv", index=False
    )
    (config / "listings.csv").write_text("chain_code,barcode,listed_from,listed_to\n")
    (config / "promotions.csv").write_text(
        "promo_id,chain_code,barcode,store_classes,start_date,end_date,promo_price,"
        "subsidy_per_unit\n"
    )
    (config / "targets.csv").write_text("chain_code,month,target_amount\n")


def feed_path(home: Path, day: date) -> Path:
    return home / "feeds" / CHAIN / "sales" / f"BENCH_sales_{day:%Y%m%d}.csv"


def new_pg_database(server: str) -> tuple[str, str]:
    name = f"ka_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    return name, sa.make_url(server).set(database=name).render_as_string(False)


def drop_pg_database(server: str, name: str) -> None:
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def ingest(home: Path, url: str, start: date, end: date) -> float:
    """The project's ingest of BENCH for start <= date < end; returns seconds."""
    from ka_pipeline.config import load_config
    from ka_pipeline.masterdata import publish_master_data
    from ka_pipeline.pipeline import run_chain
    from ka_pipeline.settings import load_settings
    from ka_pipeline.warehouse import create_engine, migrate

    os.environ["KA_WAREHOUSE_URL"] = url
    settings = load_settings(home)
    config = load_config(settings.config_dir)
    engine = create_engine(url)
    migrate(engine)
    publish_master_data(engine, config)
    began = time.perf_counter()
    result = run_chain(engine, settings, config, CHAIN, start, end, progress=lambda m: None)
    seconds = time.perf_counter() - began
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items())
    print(f"  ingest {engine.dialect.name}: {seconds:.2f} s ({stages}; validate includes the")
    print("  stored result and its Data Docs page)")
    counts = result.feeds["sales"]
    assert counts.rows_read == counts.rows_loaded + counts.rows_quarantined, counts
    assert not result.rejected, result.rejected
    engine.dispose()
    return seconds


def timed(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def bare_copy(url: str, path: Path) -> float:
    from ka_pipeline.warehouse import create_engine

    engine = create_engine(url)

    def pg() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text("drop table if exists bare"))
            conn.execute(sa.text(BARE))
            with conn.connection.driver_connection.cursor() as cur:
                with cur.copy("copy bare from stdin (format csv, header true)") as copy:
                    with path.open("rb") as handle:
                        while block := handle.read(1 << 20):
                            copy.write(block)

    def duck() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text("drop table if exists bare"))
            conn.execute(sa.text(BARE))
            conn.execute(sa.text(f"copy bare from '{path}' (header true)"))

    seconds = timed(pg if engine.dialect.name == "postgresql" else duck)
    engine.dispose()
    return seconds


def duckdb_read_csv(url: str, path: Path) -> float:
    from ka_pipeline.warehouse import create_engine

    engine = create_engine(url)

    def run() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text("drop table if exists bare_read"))
            conn.execute(sa.text(f"create table bare_read as select * from read_csv('{path}')"))

    seconds = timed(run)
    engine.dispose()
    return seconds


def read_and_write(home: Path, url: str, path: Path) -> float:
    """The floor under the ingest: the file read by the project's reader (Arrow, in
    chunks of ``CHUNK_ROWS``, the next read while this one is written) and each chunk
    written by the project's bulk path into a copy of the raw table, in one transaction,
    with nothing between: no normalisation, no flags, no suite, no quarantine. What the
    ingest takes beyond this is the validation's."""
    from ka_pipeline.ahead import one_ahead
    from ka_pipeline.config import load_config
    from ka_pipeline.load import FileLoad, _raw_rows, bulk_insert, raw_columns
    from ka_pipeline.parse import read_chunks
    from ka_pipeline.pipeline import CHUNK_ROWS
    from ka_pipeline.settings import load_settings
    from ka_pipeline.warehouse import create_engine

    layout = load_config(load_settings(home).config_dir).chains[CHAIN].feeds["sales"]
    engine = create_engine(url)
    columns = raw_columns("sales")

    def piece(parsed) -> pa.Table:
        load = FileLoad(CHAIN, "sales", DAY, path.name, str(path), "", datetime.now())
        load.good, load.load_id = parsed.rows, 0
        return _raw_rows(load, columns)

    def run() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text("drop table if exists bare_floor"))
            conn.execute(sa.text("create table bare_floor as select * from raw_sales limit 0"))
            for table in one_ahead(piece(p) for p in read_chunks(path, layout, CHUNK_ROWS)):
                bulk_insert(conn, "bare_floor", table)

    seconds = timed(run)
    engine.dispose()
    return seconds


def pandas_to_sql(url: str, path: Path) -> float:
    from ka_pipeline.warehouse import create_engine

    engine = create_engine(url)

    def run() -> None:
        frame = pd.read_csv(path, dtype={"store_code": str, "barcode": str})
        frame.to_sql("bare_pandas", engine, if_exists="replace", index=False, chunksize=10_000)

    seconds = timed(run)
    engine.dispose()
    return seconds


def report_speed(results: dict[str, dict[str, list[float]]], rows: int) -> None:
    """Each method's median over the rounds, with its ratio to the median bare COPY of the
    same warehouse, and each round's own ingest / COPY ratio (the machine's load moves
    single runs by a third or more)."""
    print(
        f"\n{'warehouse':<11} {'method':<28} {'median s':>8} {'rows/s':>11} {'x COPY':>7}  rounds"
    )
    for label, figures in results.items():
        copy = statistics.median(figures["bare COPY"])
        for method, runs in figures.items():
            seconds = statistics.median(runs)
            each = " ".join(f"{r:.2f}" for r in runs)
            print(
                f"{label:<11} {method:<28} {seconds:8.2f} {rows / seconds:>11,.0f}"
                f" {seconds / copy:>7.1f}  {each}"
            )
        ingest_s = statistics.median(figures["ka-pipeline ingest"])
        rounds = [
            i / c for i, c in zip(figures["ka-pipeline ingest"], figures["bare COPY"], strict=True)
        ]
        floor = statistics.median(figures["read + write, no validation"])
        print(
            f"{label:<11} ingest is {ingest_s / copy:.1f}x COPY (rounds: "
            f"{', '.join(f'{r:.1f}x' for r in rounds)}), "
            f"{statistics.median(figures['pandas read_csv + to_sql']) / ingest_s:.1f}x faster"
            f" than to_sql; the floor (read + write) is {floor / copy:.1f}x COPY"
        )


def child(args: argparse.Namespace) -> None:
    """Run one ingest in this process (for its peak memory) and print the seconds."""
    from ka_pipeline.validate import prepare

    prepare("sales")
    start = date.fromisoformat(args.start)
    seconds = ingest(Path(args.home), args.url, start, start + timedelta(days=args.days))
    print(f"{seconds:.2f} {_peak_kb()}")


def _peak_kb() -> int:
    """This process's peak resident memory in KB: VmHWM, the high-water mark of its own
    address space. Not ``ru_maxrss``: Linux carries that across fork and exec, so a child
    started by a parent holding 900 MB (after ``to_sql`` of 1M rows) reports 900 MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_memory(home: Path, url: str, start: date, days: int) -> tuple[float, float]:
    """(max RSS in MB, seconds) of a child process ingesting ``days`` days from start."""
    command = [
        sys.executable,
        __file__,
        "--child",
        "--home",
        str(home),
        "--url",
        url,
        "--start",
        start.isoformat(),
        "--days",
        str(days),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    seconds, peak_kb = out.strip().splitlines()[-1].split()
    return int(peak_kb) / 1024, float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", type=int, default=5_000_000)
    parser.add_argument("--backfill-days", type=int, default=10)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the speed figures")
    parser.add_argument("--postgres", default=os.environ.get("KA_TEST_POSTGRES_URL", PG_DEFAULT))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    parser.add_argument("--days", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    work = Path(tempfile.mkdtemp(prefix="ka_bench_"))
    try:
        home = work / "home"
        make_home(home, args.rows)
        path = feed_path(home, DAY)
        make_file(path, args.rows)
        print(f"file: {path.name} ({path.stat().st_size / 1e6:.1f} MB, {args.rows:,} rows)")

        began = time.perf_counter()
        from ka_pipeline.validate import prepare

        prepare("sales")
        print(
            f"Great Expectations import + context + suite (once per process): "
            f"{time.perf_counter() - began:.2f} s"
        )
        results: dict[str, dict[str, list[float]]] = {"PostgreSQL": {}, "DuckDB": {}}
        for round_ in range(args.repeat):
            for label in results:
                # a fresh warehouse each round: the ingest would find the file loaded
                pg_name, url = (
                    new_pg_database(args.postgres)
                    if label == "PostgreSQL"
                    else ("", f"duckdb:///{work / f'bench_{round_}.duckdb'}")
                )
                try:
                    figures = {
                        "bare COPY": bare_copy(url, path),
                        "ka-pipeline ingest": ingest(home, url, DAY, DAY + timedelta(days=1)),
                        "read + write, no validation": read_and_write(home, url, path),
                    }
                    if label == "DuckDB":
                        figures["DuckDB read_csv"] = duckdb_read_csv(url, path)
                    if round_ == 0:  # 20-60 s: once
                        figures["pandas read_csv + to_sql"] = pandas_to_sql(url, path)
                finally:
                    if pg_name:
                        drop_pg_database(args.postgres, pg_name)
                for method, seconds in figures.items():
                    results[label].setdefault(method, []).append(seconds)
        report_speed(results, args.rows)
        if args.skip_memory:
            return
        print("\npeak memory (max RSS of the ingesting process, Python and GE included):")
        path.unlink()
        big_home = work / "big"
        make_home(big_home, args.memory_rows)
        make_file(feed_path(big_home, DAY), args.memory_rows)
        back_home = work / "backfill"
        make_home(back_home, 1_000_000)
        first = DAY - timedelta(days=args.backfill_days - 1)
        for i in range(args.backfill_days):
            make_file(
                feed_path(back_home, first + timedelta(days=i)),
                1_000_000,
                first + timedelta(days=i),
            )
        for label in ("PostgreSQL", "DuckDB"):
            for what, where, start, days in (
                (f"{args.memory_rows:,}-row file", big_home, DAY, 1),
                (f"backfill {args.backfill_days} x 1M rows", back_home, first, args.backfill_days),
            ):
                if label == "PostgreSQL":
                    name, url = new_pg_database(args.postgres)
                else:
                    name, url = "", f"duckdb:///{work / f'mem_{uuid.uuid4().hex[:6]}.duckdb'}"
                try:
                    mb, seconds = peak_memory(where, url, start, days)
                finally:
                    if name:
                        drop_pg_database(args.postgres, name)
                print(f"  {label:<11} {what:<26} {mb:8.0f} MB  {seconds:7.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
