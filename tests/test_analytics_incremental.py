"""The sell-out analytics stay equal to a full rebuild when run night by night (issue 8
point 7), on DuckDB and PostgreSQL.

The generated chain of tests/test_incremental.py, with what the analytics' trailing
windows need: a must-carry item per store class, two regions, a store x item whose shelf
stays stocked without sales from 5 Feb (a phantom-inventory run crossing every night),
below-floor prices in one region, promotions ending during the nights (evaluation), a
year of history before (LY, 28-day baseline, 12-week rate, 4-week diversion window).
Nightly runs (with a restated partition), a deleted range and a backfill give exactly the
tables of a full rebuild.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa

from ka_pipeline.models import run_models
from tests.test_incremental import (
    CHAIN,
    ITEMS,
    LAST,
    NIGHT1,
    RESTATE_ON,
    RESTATED,
    assert_same,
    days,
    delete_from,
    load,
    master_data,
    partition,
    snapshot,
)

ANALYTICS = (
    "int_store_item_day",
    "int_store_item_month",
    "int_store_item_week",
    "mart_price_below_floor",
    "mart_oos_day",
    "mart_phantom_inventory",
    "mart_phantom_inventory_idle",
    "mart_distribution_gap",
    "mart_sku_rank",
    "mart_promo_eval_store",
    "mart_promo_eval",
    "mart_diversion_risk",
    "mart_account_eval",
    "mart_trade_spend_type_yoy",
    "mart_chain_month",
    "mart_chain_week",
    "mart_store_month",
)


def shaped(part: dict, restated: bool = False) -> dict:
    """The generated partition with the analytics' cases planted: S1 and S2 x ITEMS[1]
    stocked without sales from 5 Feb, except S2's sale on the restated day's new version
    (its run, carried night by night, then ends the day before)."""
    for row in part["raw_sales"]:
        day = row["business_date"]
        idle_pair = row["store_code"] in ("S1", "S2") and row["barcode"] == ITEMS[1]
        if idle_pair and day >= date(2026, 2, 5):
            row["units"], row["sales_amount"], row["on_hand_units"] = 0, "0.00", 3
            if restated and row["store_code"] == "S2":
                row["units"], row["sales_amount"] = 1, "9.00"
    sales = part["raw_sales"]
    day = sales[0]["business_date"]
    if day >= date(2026, 2, 5) and not any(
        r["store_code"] == "S2" and r["barcode"] == ITEMS[1] for r in sales
    ):  # the generator skips a store x item on days it drew 0 units (but for S1)
        units = 1 if restated else 0
        sales.append(
            sales[0]
            | {
                "store_code": "S2",
                "barcode": ITEMS[1],
                "units": units,
                "sales_amount": f"{units * 9:.2f}",
                "on_hand_units": 3,
            }
        )
        if row["store_code"] == "S4" and row["barcode"] == ITEMS[2]:
            row["sales_amount"] = f"{row['units'] * 7:.2f}"  # 7.00 < floor 8.00
    return part


def plant_master_data(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        master_data(conn)
        conn.execute(
            sa.text("update ref_listing set store_classes = 'A' where barcode = :b"),
            {"b": ITEMS[2]},
        )
        conn.execute(
            sa.text("update ref_store set region = 'West' where store_code in ('S3', 'S4')")
        )


def test_analytics_nightly_backfill_and_full_rebuild_agree(engine):
    rng = np.random.default_rng(11)
    history = [*days(date(2025, 1, 1), date(2025, 3, 31)), *days(date(2025, 11, 1), NIGHT1)]
    history = history[:-1]
    nights = days(NIGHT1, LAST)
    parts = {d: shaped(partition(d, rng)) for d in [*history, *nights]}
    first_version = shaped(partition(RESTATED, rng, restated=False))
    parts[RESTATED] = shaped(partition(RESTATED, rng, restated=True), restated=True)
    plant_master_data(engine)
    load(engine, [parts[d] for d in history])
    run_models(engine, [CHAIN])
    base = snapshot(engine)
    # the planted cases are there, so the comparison below is not of empty tables
    assert base["mart_phantom_inventory"] and base["mart_price_below_floor"]
    assert base["mart_oos_day"] and base["mart_distribution_gap"] is not None
    assert base["mart_promo_eval_store"] and base["mart_diversion_risk"]
    assert base["mart_account_eval"]

    for day in nights:
        load(engine, [first_version if day == RESTATED else parts[day]])
        since = day
        if day == RESTATE_ON:
            delete_from(engine, RESTATED, RESTATED)
            load(engine, [parts[RESTATED]])
            since = RESTATED
        run_models(engine, [CHAIN], since=since)
    nightly = snapshot(engine)
    run_models(engine, [CHAIN])
    full = snapshot(engine)
    # the phantom run grew night by night: one row, ending on the last night, started
    # before the first night (the nights continued the streak of mart_phantom_inventory_idle)
    assert [r[3:5] for r in full["mart_phantom_inventory"] if r[1] == "S1"] == [
        ("2026-02-05", str(LAST))
    ]
    # S2's run, extended by the nights, ends the day before the restated day's sale
    assert [r[3:5] for r in nightly["mart_phantom_inventory"] if r[1] == "S2"] == [
        ("2026-02-05", str(RESTATED - timedelta(days=1)))
    ]
    assert_same(nightly, {t: full[t] for t in ANALYTICS}, "nightly")

    delete_from(engine, NIGHT1)
    run_models(engine, [CHAIN], since=NIGHT1)
    assert_same(snapshot(engine), {t: base[t] for t in ANALYTICS}, "range deleted")
    load(engine, [parts[d] for d in nights])
    run_models(engine, [CHAIN], since=NIGHT1)
    assert_same(snapshot(engine), {t: full[t] for t in ANALYTICS}, "backfill")
