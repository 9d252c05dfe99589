"""Scorecard benchmark: the queries, then render + MIME, for 1,000 owners.

A synthetic DuckDB warehouse holds N owners (default 1,000), each with one chain and
the rows a month's scorecard reads: 13 months of mart_chain_month, a rebate row, 12
deductions to dispute, 3 lines to review, 6 overdue invoices, 31 ops_chain_day rows,
below-floor and out-of-stock rows, a phantom run, a promotion and an account row. Half
the owners are zh-CN, half en; every tenth owner has a manager.

Times, per owner:

1. the queries: ``build_scorecards`` over all owners (the SQL that feeds the mails);
2. render + MIME: ``render(card)`` (HTML, text, PNG trend, XLSX) and
   ``build_message(...)`` (the .eml bytes) — the goal is < 20 ms per owner.

Usage: .venv/bin/python benchmarks/bench_scorecard.py [--owners 1000]
The machine is shared: compare the two figures of one run, not runs with each other.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from ka_pipeline.delivery import build_message
from ka_pipeline.gtin import make_gtin13
from ka_pipeline.load import bulk_insert
from ka_pipeline.scorecard import build_scorecards, render
from ka_pipeline.scorecard.periods import month_add
from ka_pipeline.settings import Settings
from ka_pipeline.warehouse import create_engine, migrate

OCT = date(2026, 10, 1)
AS_OF = date(2026, 11, 3)
GTIN = make_gtin13("690123456789")


def _frames(n: int) -> dict[str, pd.DataFrame]:
    owners, chains, months, rebates, deds, review, invoices, days = [], [], [], [], [], [], [], []
    below, oos, phantom, promos, accounts, stores = [], [], [], [], [], []
    for i in range(n):
        o, c = f"O{i:04d}", f"C{i:04d}"
        owners.append(
            dict(
                owner_code=o,
                name=f"Owner {i}",
                email=f"o{i}@example.com",
                locale="zh-CN" if i % 2 else "en",
                manager_email=f"boss{i // 10}@example.com" if i % 10 == 0 else None,
            )
        )
        chains.append(
            dict(
                chain_code=c,
                name=f"Chain {i}",
                name_local=f"系统{i}",
                format="hypermarket",
                region="East",
                settlement_mode="购销",
                payment_terms_days=60,
                dispute_window_days=90,
                owner_code=o,
            )
        )
        for s in range(5):
            stores.append(
                dict(
                    chain_code=c,
                    store_code=f"S{s}",
                    name=f"门店{s}",
                    name_en=f"Store {s}" if s % 2 else None,
                    city="上海",
                    region="East",
                    area_m2=6000,
                    store_class="A",
                    opened_on="2020-01-01",
                    closed_on=None,
                )
            )
        for m in range(13):
            months.append(
                dict(
                    chain_code=c,
                    month=month_add(OCT, -m),
                    sellout_amount=1_000_000 + m * 1000 + i,
                    sellout_units=45678,
                    sellout_amount_ly=900_000,
                    yoy_growth=0.11,
                    target_amount=1_100_000,
                    target_achievement=0.93,
                    sell_in_net=800_000,
                    active_stores=42,
                    distribution_pairs=400,
                    distribution_pairs_sold=349,
                    promo_amount=10_000,
                    promo_share=0.01,
                    trade_spend=50_000,
                    trade_spend_rate=0.06,
                    sales_days=31,
                )
            )
        rebates.append(
            dict(
                chain_code=c,
                contract_year=2026,
                as_of_date=date(2026, 10, 31),
                eligible_base_ytd=8_500_000,
                tier_no_reached=1,
                rate_reached=0.02,
                rebate_earned=170_000,
                rebate_taken=180_000,
                rebate_balance=-10_000,
                next_tier_no=2,
                next_tier_threshold=9_000_000,
                gap_to_next_tier=500_000,
                projection_method="run_rate",
                projected_base=8_900_000,
                projected_tier_no=1,
                projected_rate=0.02,
                projected_rebate=178_000,
            )
        )
        for k in range(12):
            deds.append(
                dict(
                    chain_code=c,
                    statement_no="S1",
                    deduction_no=f"D{k}",
                    business_date=date(2026, 10, 8),
                    deduction_date=date(2026, 10, 8),
                    deduction_type="dm_fee",
                    deduction_text=f"DM海报费{k}",
                    reference=None,
                    store_code="S1",
                    barcode=GTIN,
                    period_start=None,
                    period_end=None,
                    amount=1000 + k,
                    status="no_contract_basis",
                    expected_amount=0,
                    disputable_amount=1000 + k,
                    evidence="contract 2026 has no dm_fee item; charged 1000.00",
                    dispute_deadline=date(2026, 12, 1),
                )
            )
        for k in range(3):
            review.append(
                dict(
                    chain_code=c,
                    statement_no="S1",
                    deduction_no=f"R{k}",
                    statement_date=date(2026, 10, 8),
                    deduction_date=date(2026, 10, 8),
                    deduction_text="Admin fee",
                    amount=300,
                    store_code=None,
                    reference=None,
                    as_of_date=date(2026, 10, 31),
                    age_days=23,
                    dispute_deadline=date(2027, 1, 6),
                )
            )
        for k in range(6):
            invoices.append(
                dict(
                    chain_code=c,
                    invoice_no=f"I{k}",
                    invoice_date=date(2026, 7, 1),
                    due_date=date(2026, 8, 30),
                    gross_amount=11300,
                    paid_amount=0,
                    open_balance=11300,
                    last_payment_date=None,
                    last_business_date=date(2026, 10, 31),
                )
            )
        for d in range(31):
            days.append(
                dict(
                    chain_code=c,
                    business_date=OCT + timedelta(days=d),
                    status="ok" if d != 4 else "incomplete",
                    reason=None,
                    updated_at="2026-11-01 00:00:00",
                )
            )
        for d in range(3):
            below.append(
                dict(
                    chain_code=c,
                    store_code="S1",
                    barcode=GTIN,
                    business_date=OCT + timedelta(days=d),
                    region="East",
                    units=10,
                    sales_amount=80,
                    unit_price=8,
                    required_price=9.5,
                    floor_price=9.5,
                    promo_id=None,
                    gap_amount=15,
                )
            )
            oos.append(
                dict(
                    chain_code=c,
                    store_code="S2",
                    barcode=GTIN,
                    business_date=OCT + timedelta(days=d),
                    lost_units=4,
                    lost_sales_amount=40,
                    in_stock_days_28d=25,
                    units_28d=100,
                    sales_amount_28d=1000,
                )
            )
        phantom.append(
            dict(
                chain_code=c,
                store_code="S3",
                barcode=GTIN,
                run_start=date(2026, 9, 25),
                run_end=date(2026, 10, 20),
                zero_days=26,
                on_hand_units=12,
                trailing_daily_units=0.8,
                extends_on=date(2026, 10, 21),
            )
        )
        promos.append(
            dict(
                chain_code=c,
                promo_id="P1",
                start_date=OCT,
                end_date=date(2026, 10, 14),
                baseline_method="pre_28d",
                lift_units=500,
                incremental_gp=1500,
                cost_amount=1000,
                roi=0.5,
                execution_rate=0.8,
                participating_stores=12,
                executing_stores=10,
                items=1,
            )
        )
        accounts.append(
            dict(
                chain_code=c,
                month=OCT,
                attractiveness_score=72,
                support_score=55,
                attractiveness_grade="B",
                support_grade="C",
                quadrant="high/low",
                parts="{}",
            )
        )
    frames = {
        "ref_owner": owners,
        "ref_chain": chains,
        "ref_store": stores,
        "mart_chain_month": months,
        "mart_rebate_progress": rebates,
        "mart_deduction_check": deds,
        "mart_deduction_review": review,
        "int_invoice_balance": invoices,  # mart_invoice_balance is a view over it
        "int_chain_as_of": [
            dict(chain_code=f"C{i:04d}", last_data_date=date(2026, 10, 31)) for i in range(n)
        ],
        "ops_chain_day": days,
        "mart_price_below_floor": below,
        "mart_oos_day": oos,
        "mart_phantom_inventory": phantom,
        "mart_promo_eval": promos,
        "mart_account_eval": accounts,
    }
    return {t: pd.DataFrame(rows).astype(str).replace({"None": None}) for t, rows in frames.items()}
    # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-scorecard-"))
    engine = create_engine(f"duckdb:///{folder / 'warehouse.duckdb'}")
    migrate(engine)
    began = time.perf_counter()
    with engine.begin() as conn:
        for table, frame in _frames(args.owners).items():
            bulk_insert(conn, table, frame)
    print(f"warehouse: {args.owners} owners seeded in {time.perf_counter() - began:.1f} s")

    began = time.perf_counter()
    cards = build_scorecards(engine, "month", OCT, AS_OF)
    queries = time.perf_counter() - began
    assert len(cards) == args.owners

    settings = Settings(home=folder, config_dir=folder, feeds_dir=folder, outbox_dir=folder,
                        warehouse_url="unused", smtp_url=None,
                        mail_from="KA <ka@supplier.example.com>")  # fmt: skip
    render(cards[0])  # warm the template cache
    parts = {"render": 0.0, "mime": 0.0}
    size = 0
    for card in cards:
        t0 = time.perf_counter()
        mail = render(card)
        t1 = time.perf_counter()
        data = build_message(settings, mail)
        t2 = time.perf_counter()
        parts["render"] += t1 - t0
        parts["mime"] += t2 - t1
        size += len(data)
        assert mail.attachments and mail.inline_images
    n = len(cards)
    total = parts["render"] + parts["mime"]
    print(
        f"queries (build_scorecards, DuckDB): {queries:.2f} s = {queries / n * 1000:.1f} ms/owner"
    )
    print(f"render (HTML, text, PNG, XLSX):     {parts['render']:.2f} s = "
          f"{parts['render'] / n * 1000:.1f} ms/owner")  # fmt: skip
    print(f"MIME message as bytes:              {parts['mime']:.2f} s = "
          f"{parts['mime'] / n * 1000:.1f} ms/owner")  # fmt: skip
    print(f"render + MIME:                      {total:.2f} s = {total / n * 1000:.1f} ms/owner"
          f" (goal < 20 ms); {size / n / 1024:.0f} KiB per mail")  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
