"""Model benchmark: one nightly day's model run after 1, 12 and 36 months of history.

Builds one synthetic chain per engine and history length (default 20,000 sales rows a
day: 200 stores x 100 items; 200 invoice lines and 40 payments a day; a monthly statement
of 60 deduction lines), models it whole (the first night's full rebuild, printed), loads
one more day and times the nightly run the pipeline makes,
``run_models(engine, [chain], since=<that day>)`` (incremental), whole and each model's
share of it. Prints one table per engine and the ratios 12/1 and 36/1. Usage:

    .venv/bin/python benchmarks/bench_models.py [--months 1,12,36] [--rows-per-day 20000]
        [--engines duckdb,postgres] [--postgres URL] [--repeat 3] [--keep /tmp/bench/ka_keep]

PostgreSQL defaults to KA_TEST_POSTGRES_URL; a fresh database is created and dropped for
each history length, unless ``--keep`` names where histories are kept (DuckDB files in
that folder, PostgreSQL databases named after its last part): a kept history is loaded
and modelled once; a later run times the same nightly day again (``--rebuild`` models
it whole first, printing the full rebuild). Statistics are
refreshed (ANALYZE) after the history is loaded. The nightly run is repeated
(``--repeat``, the same slices each time) and the fastest is reported: the machine may
be shared with other work, which only ever slows a run down.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ka_pipeline import models as models_module
from ka_pipeline.gtin import make_gtin13
from ka_pipeline.load import bulk_insert
from ka_pipeline.models import Model, Plan, discover_models, ensure_views, run_models
from ka_pipeline.warehouse import create_engine, migrate

CHAIN = "BEN"
LAST_DAY = date(2026, 10, 31)
STORES = [f"S{i:04d}" for i in range(200)]
ITEMS = [make_gtin13(f"690{i:09d}") for i in range(100)]


def master_data(conn: sa.Connection, first: date) -> None:
    frames = {
        "ref_chain": pd.DataFrame(
            [
                {
                    "chain_code": CHAIN,
                    "name": "Bench",
                    "format": "hypermarket",
                    "region": "East",
                    "settlement_mode": "outright",
                    "payment_terms_days": "60",
                    "dispute_window_days": "90",
                    "owner_code": "o",
                    "dispute_from": "statement_date",
                }
            ]
        ),
        "ref_store": pd.DataFrame(
            {
                "chain_code": CHAIN,
                "store_code": STORES,
                "name": STORES,
                "city": "Shanghai",
                "region": "East",
                "area_m2": [str(1000 + 40 * i) for i in range(len(STORES))],
                "store_class": [
                    "A" if i % 3 == 0 else "B" if i % 3 == 1 else "C" for i in range(len(STORES))
                ],
                "opened_on": "2015-01-01",
            }
        ),
        "ref_product": pd.DataFrame(
            {
                "barcode": ITEMS,
                "name": ITEMS,
                "brand": "B",
                "category": "C",
                "unit_cost": "5.00",
                "supply_price": "8.00",
                "std_retail_price": "12.00",
                "floor_price": "10.00",
            }
        ),
        "ref_listing": pd.DataFrame(
            {"chain_code": CHAIN, "barcode": ITEMS, "listed_from": "2015-01-01"}
        ),
    }
    contracts, tiers, fees, promos = [], [], [], []
    for year in range(first.year, LAST_DAY.year + 1):
        contracts.append(
            {
                "chain_code": CHAIN,
                "contract_year": str(year),
                "start_date": f"{year}-01-01",
                "end_date": f"{year}-12-31",
                "rebate_base": "sell_in",
                "rebate_method": "retroactive",
                "rebate_promo_excluded": "true",
                "margin_guarantee_pct": "0.2000",
                "fee_amounts": "excl_vat",
                "vat_rate": "0.06",
                "sales_vat_rate": "0.13",
            }
        )
        for n, (threshold, rate) in enumerate([("1000000.00", "0.01"), ("5000000.00", "0.02")], 1):
            tiers.append(
                {
                    "chain_code": CHAIN,
                    "contract_year": str(year),
                    "tier_no": str(n),
                    "threshold": threshold,
                    "rate": rate,
                }
            )
        for kind, basis in [("dm_fee", "per_month"), ("display_fee", "per_store_month")]:
            fees.append(
                {
                    "chain_code": CHAIN,
                    "contract_year": str(year),
                    "fee_type": kind,
                    "basis": basis,
                    "amount": "1000.00",
                }
            )
    month = date(first.year, first.month, 1)
    while month <= LAST_DAY:
        for k in range(2):
            promos.append(
                {
                    "promo_id": f"P{month:%Y%m}{k}",
                    "chain_code": CHAIN,
                    "barcode": ITEMS[k],
                    "store_classes": "A",
                    "start_date": (month + timedelta(days=5)).isoformat(),
                    "end_date": (month + timedelta(days=14)).isoformat(),
                    "promo_price": "9.90",
                    "subsidy_per_unit": "1.00",
                }
            )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    frames |= {
        "ref_contract": pd.DataFrame(contracts),
        "ref_rebate_tier": pd.DataFrame(tiers),
        "ref_contract_fee": pd.DataFrame(fees),
        "ref_promotion": pd.DataFrame(promos),
    }
    for table, frame in frames.items():
        bulk_insert(conn, table, frame)


def day_frames(
    days: list[date], rows_per_day: int, rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    """Sales, invoices and payments for ``days`` (values as text, as bulk_insert takes)."""
    per_store = max(rows_per_day // len(STORES), 1)
    n = len(STORES) * per_store
    store = np.repeat(np.array(STORES), per_store)
    item = np.tile(np.array(ITEMS[:per_store] if per_store <= len(ITEMS) else ITEMS), len(STORES))[
        :n
    ]
    sales, invoices, payments = [], [], []
    for day in days:
        units = rng.integers(0, 6, size=n)
        on_hand = rng.integers(0, 30, size=n)
        sales.append(
            pd.DataFrame(
                {
                    "chain_code": CHAIN,
                    "business_date": day.isoformat(),
                    "store_code": store,
                    "barcode": item,
                    "units": units.astype(str),
                    "sales_amount": [f"{u * 11.3:.2f}" for u in units],
                    "on_hand_units": on_hand.astype(str),
                    "load_id": "1",
                }
            )
        )
        lines = 200
        numbers = [f"I{day:%Y%m%d}{i:03d}" for i in range(lines)]
        invoices.append(
            pd.DataFrame(
                {
                    "chain_code": CHAIN,
                    "business_date": day.isoformat(),
                    "invoice_no": numbers,
                    "line_no": "1",
                    "invoice_date": day.isoformat(),
                    "ship_to_code": "DC1",
                    "barcode": [ITEMS[i % len(ITEMS)] for i in range(lines)],
                    "units": "100",
                    "unit_price": "8.00",
                    "net_amount": "800.00",
                    "vat_amount": "104.00",
                    "load_id": "1",
                }
            )
        )
        paid_day = day - timedelta(days=60)
        payments.append(
            pd.DataFrame(
                {
                    "chain_code": CHAIN,
                    "business_date": day.isoformat(),
                    "payment_no": f"PAY{day:%Y%m%d}",
                    "payment_date": day.isoformat(),
                    "invoice_no": [f"I{paid_day:%Y%m%d}{i:03d}" for i in range(40)],
                    "amount": "904.00",
                    "load_id": "1",
                }
            )
        )
    return {
        "raw_sales": pd.concat(sales),
        "raw_invoices": pd.concat(invoices),
        "raw_payments": pd.concat(payments),
    }


def statement(month: date) -> pd.DataFrame:
    day = date(month.year + month.month // 12, month.month % 12 + 1, 5)
    end = day - timedelta(days=5)
    rows = []
    for i in range(60):
        kind, store, ref = (
            ("display_fee", STORES[i], None) if i < 50 else ("dm_fee", None, f"DM{i}")
        )
        if i >= 58:
            kind, ref = "promo_subsidy", f"P{month:%Y%m}{i - 58}"
        rows.append(
            {
                "chain_code": CHAIN,
                "business_date": day.isoformat(),
                "statement_no": f"ST{month:%Y%m}",
                "deduction_no": str(i),
                "deduction_date": day.isoformat(),
                "deduction_text": kind,
                "deduction_type": kind,
                "amount": "1060.00",
                "store_code": store,
                "reference": ref,
                "period_start": month.isoformat(),
                "period_end": end.isoformat(),
                "load_id": "1",
            }
        )
    return pd.DataFrame(rows)


def _sales_rows(engine: sa.Engine, day: date) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select count(*) from raw_sales where chain_code = :c and business_date = :d"),
            {"c": CHAIN, "d": day},
        ).scalar_one()


def build(engine: sa.Engine, months: int, rows_per_day: int, rebuild: bool = False) -> None:
    first = LAST_DAY - timedelta(days=round(months * 30.44) - 1)
    rng = np.random.default_rng(months)
    # a complete kept history has the day before the nightly one
    kept = _sales_rows(engine, LAST_DAY - timedelta(days=1))
    if kept and not rebuild and _sales_rows(engine, LAST_DAY):
        # a kept history already modelled whole with its nightly day loaded (the end of
        # model_history): time the nightly again, the same slices as the first time
        print("  kept history reused as modelled (--rebuild to model it whole again)")
        return
    if kept:
        # a kept history (--keep): drop the nightly day and the model state, model again
        with engine.begin() as conn:
            for table in ("raw_sales", "raw_invoices", "raw_payments", "raw_deductions"):
                conn.execute(
                    sa.text(f"delete from {table} where chain_code = :c and business_date >= :d"),
                    {"c": CHAIN, "d": LAST_DAY},
                )
            conn.execute(sa.text("delete from ops_model_state where chain_code = :c"), {"c": CHAIN})
        model_history(engine, rows_per_day, rng)
        return
    with engine.begin() as conn:
        master_data(conn, first)
    day = first
    while day < LAST_DAY:  # the history, a month at a time; the last day is the nightly one
        chunk = [day + timedelta(days=i) for i in range(31) if day + timedelta(days=i) < LAST_DAY]
        with engine.begin() as conn:
            for table, frame in day_frames(chunk, rows_per_day, rng).items():
                bulk_insert(conn, table, frame)
            for d in chunk:
                if d.day == 5 and d > first + timedelta(days=31):
                    prev = d - timedelta(days=6)
                    bulk_insert(conn, "raw_deductions", statement(date(prev.year, prev.month, 1)))
        day = chunk[-1] + timedelta(days=1)
    model_history(engine, rows_per_day, rng)


def model_history(engine: sa.Engine, rows_per_day: int, rng: np.random.Generator) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("analyze"))
    # the history modeled (a full rebuild, as on the first night), then the nightly files
    start = time.perf_counter()
    run_models(engine, [CHAIN])
    print(f"  full rebuild of the history: {time.perf_counter() - start:.2f} s", flush=True)
    with engine.begin() as conn:
        for table, frame in day_frames([LAST_DAY], rows_per_day, rng).items():
            bulk_insert(conn, table, frame)
    if engine.dialect.name == "duckdb":
        # the load's own cost: DuckDB writes its log into the file at a checkpoint,
        # which would otherwise fall inside the timed model run
        with engine.connect() as conn:
            conn.exec_driver_sql("checkpoint")


def time_run(engine: sa.Engine) -> dict[str, float]:
    """One nightly model run for the last day, as the pipeline makes it
    (``run_models(engine, [chain], since=<the day loaded>)``): ``total`` seconds, and the
    seconds each model took inside that run (its query, delete and insert), ``(commit)``
    (the engine writing the run's changes: on DuckDB its checkpoint) and
    ``(plan, views, statistics)``: the runner's own rest (plan, view checks, ANALYZE of
    changed feeds, state record)."""
    timings: dict[str, float] = {}
    original = models_module._run_model
    commits: list[float] = []

    def timed(conn: sa.Connection, model: Model, chain_code: str, plan: Plan, *rest) -> int:
        start = time.perf_counter()
        try:
            return original(conn, model, chain_code, plan, *rest)
        finally:
            timings[model.table] = time.perf_counter() - start

    do_commit = engine.dialect.do_commit

    def timed_commit(dbapi_connection) -> None:
        start = time.perf_counter()
        try:
            do_commit(dbapi_connection)
        finally:
            commits.append(time.perf_counter() - start)

    ensure_views(engine, discover_models())
    models_module._run_model = timed
    engine.dialect.do_commit = timed_commit
    try:
        start = time.perf_counter()
        run_models(engine, [CHAIN], since=LAST_DAY)
        total = time.perf_counter() - start
    finally:
        models_module._run_model = original
        engine.dialect.do_commit = do_commit
    timings["(commit)"] = sum(commits)
    timings["(plan, views, statistics)"] = total - sum(timings.values())
    timings["total"] = total
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", default="1,12,36")
    parser.add_argument("--rows-per-day", type=int, default=20_000)
    parser.add_argument("--engines", default="duckdb,postgres")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "KA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="nightly runs per history (the same slices each time); the fastest is reported,"
        " as the machine may be shared",
    )
    parser.add_argument(
        "--keep",
        default="",
        help="folder (DuckDB files) / database-name prefix (PostgreSQL) to keep each history"
        " in and reuse on the next run (the history is built and modelled once; the nightly"
        " day is timed again on each run)",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="with --keep: model the kept history whole again (its full rebuild is printed)",
    )
    args = parser.parse_args()
    months = [int(m) for m in args.months.split(",")]
    for engine_name in args.engines.split(","):
        results: dict[int, dict[str, float]] = {}
        for m in months:
            with tempfile.TemporaryDirectory() as tmp:
                if engine_name == "duckdb":
                    folder = Path(args.keep) if args.keep else Path(tmp)
                    folder.mkdir(parents=True, exist_ok=True)
                    url, drop = f"duckdb:///{folder / f'bench_{m}.duckdb'}", None
                else:
                    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
                    if args.keep:
                        name = f"{Path(args.keep).name}_{m}".lower()
                        with admin.connect() as conn:
                            exists = conn.execute(
                                sa.text("select count(*) from pg_database where datname = :n"),
                                {"n": name},
                            ).scalar_one()
                            if not exists:
                                conn.execute(sa.text(f'create database "{name}"'))
                        drop = None
                    else:
                        name = f"ka_benchmodels_{uuid.uuid4().hex[:8]}"
                        with admin.connect() as conn:
                            conn.execute(sa.text(f'create database "{name}"'))
                        drop = (admin, name)
                    url = sa.make_url(args.postgres).set(database=name).render_as_string(False)
                engine = create_engine(url)
                migrate(engine)
                start = time.perf_counter()
                build(engine, m, args.rows_per_day, args.rebuild)
                print(
                    f"{engine_name} {m:>2} months: history loaded"
                    f" in {time.perf_counter() - start:.0f} s",
                    flush=True,
                )
                runs = [time_run(engine) for _ in range(max(args.repeat, 1))]
                results[m] = min(runs, key=lambda r: r["total"])
                totals = ", ".join(f"{r['total']:.2f}" for r in runs)
                print(
                    f"{engine_name} {m:>2} months: nightly model run {results[m]['total']:.2f} s"
                    f" (runs: {totals})",
                    flush=True,
                )
                slowest = sorted(
                    ((v, t) for t, v in results[m].items() if t != "total"), reverse=True
                )[:5]
                print("  slowest: " + ", ".join(f"{t} {v:.2f}" for v, t in slowest), flush=True)
                engine.dispose()
                if drop:
                    admin, name = drop
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'drop database "{name}" with (force)'))
                    admin.dispose()
        tables = list(next(iter(results.values())))
        print(
            f"\n{engine_name}: one nightly (incremental) model run, seconds"
            f" ({args.rows_per_day:,} sales rows a day; each model's share of the run, and the run)"
        )
        print(f"{'model':<30}" + "".join(f"{m:>9} mo" for m in months))
        for t in tables:
            print(f"{t:<30}" + "".join(f"{results[m][t]:>12.2f}" for m in months))
        base = results[months[0]]["total"]
        for m in months[1:]:
            print(f"ratio {m}/{months[0]}: {results[m]['total'] / base:.2f}")
        print(flush=True)


if __name__ == "__main__":
    main()
