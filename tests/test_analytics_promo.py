"""Promotion evaluation (domain.md section 9), diversion risk (section 10), account
evaluation (section 7) and the trade-spend rate by type year over year, on DuckDB and
PostgreSQL. Hand-made fixtures, hand-computed answers beside each value. Rules:
docs/models.md, "Sell-out analytics".
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import sqlalchemy as sa

from ka_pipeline.models import discover_models, run_models
from tests.test_analytics_sellout import day, listing, product, shop
from tests.test_models import (
    CHAIN,
    I1,
    I2,
    by,
    chain,
    contract,
    deduction,
    insert,
    invoice,
    rows,
    run,
)


def promo(pid: str, barcode: str, classes: str | None, start: date, end: date) -> dict:
    return {
        "promo_id": pid,
        "chain_code": CHAIN,
        "barcode": barcode,
        "store_classes": classes,
        "start_date": start,
        "end_date": end,
        "promo_price": D("9.00"),
        "subsidy_per_unit": D("1.00"),
    }


def test_promotion_pre_28d_across_month_end(engine):
    insert(engine, "ref_chain", [chain()])
    insert(
        engine,
        "ref_store",
        [
            shop("S1", "A", date(2020, 1, 1), "East"),
            shop("S2", "B", date(2020, 1, 1), "East"),
            shop("S3", "C", date(2020, 1, 1), "West"),
        ],
    )
    # I1: supply 8.00 - cost 5.00 = 3.00 a unit
    insert(engine, "ref_product", [product(I1, "10.00"), product(I2, "5.00")])
    insert(engine, "ref_listing", [listing(I1), listing(I2)])
    insert(
        engine,
        "ref_promotion",
        [
            # P1: class A and B stores, 30 Jan .. 2 Feb 2024 (4 days, across the month end)
            promo("P1", I1, "A,B", date(2024, 1, 30), date(2024, 2, 2)),
            # P0: class A only, 20..21 Jan: two days of S1's baseline window are promo days
            promo("P0", I1, "A", date(2024, 1, 20), date(2024, 1, 21)),
        ],
    )
    insert(
        engine,
        "raw_sales",
        [
            day(date(2024, 1, 2), "S3", I2, 1, "5.00", None),  # the chain's first sales day
            # window 2 .. 29 Jan (28 days). S1: 28 - 2 promo days = 26 free days, 26 units
            # -> 1.0 a day; its 100 units on 20 Jan (P0) are left out
            day(date(2024, 1, 10), "S1", I1, 26, "260.00", None),
            day(date(2024, 1, 20), "S1", I1, 100, "900.00", None),
            # S2 (class B, not in P0): 28 free days, 14 units -> 0.5 a day
            day(date(2024, 1, 15), "S2", I1, 14, "140.00", None),
            # in P1: S1 sells 5 + 5 (promo sales by the promotion rule); S2 nothing
            day(date(2024, 1, 30), "S1", I1, 5, "45.00", None),
            day(date(2024, 2, 1), "S1", I1, 5, "45.00", None),
            day(date(2024, 2, 10), "S3", I2, 1, "5.00", None),  # data reaches past 2 Feb
        ],
    )
    insert(
        engine,
        "raw_deductions",
        [
            deduction("D1", date(2024, 3, 5), "promo_subsidy", "20.00", reference="P1"),
            deduction("D2", date(2024, 3, 5), "dm_fee", "10.00", reference="P1"),
            deduction("D3", date(2024, 3, 5), "dm_fee", "99.00", reference="OTHER"),
        ],
    )
    run(engine, "mart_promo_eval")
    stores = by(
        "store_code",
        rows(engine, "select * from mart_promo_eval_store where promo_id = 'P1'"),
    )
    assert sorted(stores) == ["S1", "S2"]  # S3 is class C
    s1, s2 = stores["S1"], stores["S2"]
    assert (s1["baseline_method"], s1["baseline_days"]) == ("pre_28d", 26)
    assert s1["baseline_daily_units"] == D("1.0000")  # 26 / 26
    # lift 10 - 1.0 x 4 days = 6; gross profit 6 x 3.00 = 18.00
    assert (s1["promo_units"], s1["lift_units"], s1["incremental_gp"]) == (10, D("6"), D("18.00"))
    assert s1["executed"] is True
    assert (s2["baseline_days"], s2["baseline_daily_units"]) == (28, D("0.5000"))  # 14 / 28
    # lift 0 - 0.5 x 4 = -2; -2 x 3.00 = -6.00; no promo units: not executed
    assert (s2["lift_units"], s2["incremental_gp"], s2["executed"]) == (D("-2"), D("-6.00"), False)

    p1 = rows(engine, "select * from mart_promo_eval where promo_id = 'P1'")[0]
    # lift 6 - 2 = 4, profit 18 - 6 = 12.00; cost 20 + 10 (reference P1) = 30.00;
    # ROI (12 - 30) / 30 = -0.6; execution 1 of 2 stores
    assert p1["baseline_method"] == "pre_28d"
    assert (p1["lift_units"], p1["incremental_gp"]) == (D("4"), D("12.00"))
    assert p1["cost_amount"] == D("30.00") and p1["roi"] == D("-0.600000")
    assert p1["execution_rate"] == D("0.500000")
    assert (p1["participating_stores"], p1["executing_stores"], p1["items"]) == (2, 1, 1)
    assert p1["null_reasons"] is None


def test_promotion_ly_fallback_on_leap_day(engine):
    insert(engine, "ref_chain", [chain()])
    insert(engine, "ref_store", [shop("S1", "A", date(2020, 1, 1), "East")])
    insert(engine, "ref_product", [product(I1, "10.00")])
    insert(engine, "ref_listing", [listing(I1)])
    insert(
        engine,
        "ref_promotion",
        [
            # P3: 28..29 Feb 2024 (leap day); its 28 days before (31 Jan .. 27 Feb) all lie
            # in P2, so there is no promotion-free day: the LY fallback applies
            promo("P3", I1, "A", date(2024, 2, 28), date(2024, 2, 29)),
            promo("P2", I1, "A", date(2024, 1, 1), date(2024, 2, 27)),
        ],
    )
    insert(
        engine,
        "raw_sales",
        [
            # LY: 28 Feb 2023 .. 28 Feb 2023 (29 Feb 2024 - 1 year = 28 Feb 2023): 6 units
            day(date(2023, 2, 28), "S1", I1, 6, "60.00", None),
            day(date(2024, 2, 10), "S1", I1, 3, "30.00", None),
            day(date(2024, 2, 28), "S1", I1, 4, "40.00", None),
            day(date(2024, 2, 29), "S1", I1, 5, "45.00", None),
        ],
    )
    run(engine, "mart_promo_eval")
    got = rows(engine, "select * from mart_promo_eval_store where promo_id = 'P3'")[0]
    # chain YoY of February 2024: (30 + 40 + 45) / 60 - 1 = 0.916667 (as stored);
    # baseline 6 LY units / 2 days x 1.916667 = 5.750001 -> 5.7500 a day
    assert got["baseline_method"] == "ly_yoy" and got["baseline_days"] is None
    assert got["baseline_daily_units"] == D("5.7500")
    # lift 9 - 5.75 x 2 = -2.5; profit -2.5 x 3.00 = -7.50
    assert (got["lift_units"], got["incremental_gp"]) == (D("-2.5"), D("-7.50"))
    p3 = rows(engine, "select * from mart_promo_eval where promo_id = 'P3'")[0]
    # no deduction names P3: ROI null with its reason
    assert p3["roi"] is None and p3["cost_amount"] == D("0.00")
    assert p3["null_reasons"] == "roi: no deduction references the promotion"


def test_diversion_risk_and_a_region_without_sales(engine):
    insert(engine, "ref_chain", [chain()])
    insert(
        engine,
        "ref_store",
        [
            shop("S1", "A", date(2020, 1, 1), "East"),
            shop("S3", "C", date(2020, 1, 1), "West"),
            shop("S5", "C", date(2020, 1, 1), "North"),
        ],
    )
    insert(engine, "ref_product", [product(I1, "10.00")])
    insert(engine, "ref_listing", [listing(I1)])
    # a promotion for class A on 5 Mar: S1's row that day is promo, left out of its price
    insert(engine, "ref_promotion", [promo("P9", I1, "A", date(2024, 3, 5), date(2024, 3, 5))])
    insert(
        engine,
        "raw_sales",
        [
            day(date(2024, 2, 27), "S5", I1, 2, "20.00", None),  # North: week of 26 Feb only
            day(date(2024, 3, 4), "S1", I1, 10, "100.00", None),  # East 10.00
            day(date(2024, 3, 5), "S1", I1, 10, "50.00", None),  # East, promo: no price
            day(date(2024, 3, 6), "S3", I1, 10, "85.00", None),  # West 8.50
            day(date(2024, 3, 27), "S3", I1, 10, "100.00", None),  # West 10.00
        ],
    )
    insert(
        engine,
        "raw_invoices",
        [
            {**invoice(date(2024, 2, 20), "200.00"), "ship_to_code": "S1", "units": 20},
            # a DC (not a store: no region) in the week of 18 Mar
            {**invoice(date(2024, 3, 20), "100.00"), "ship_to_code": "DC1", "units": 10},
        ],
    )
    run(engine, "mart_diversion_risk")
    got = {
        (r["iso_week"], r["region"]): r
        for r in rows(engine, "select * from mart_diversion_risk where barcode = :b", b=I1)
    }
    # North sold only in the week of 26 Feb: no row for it in the week of 4 Mar
    assert sorted(got) == [
        (date(2024, 2, 26), "North"),
        (date(2024, 3, 4), "East"),
        (date(2024, 3, 4), "West"),
        (date(2024, 3, 25), "West"),
    ]
    north = got[(date(2024, 2, 26), "North")]
    # one priced region: no gap; 2 units sold, nothing shipped to North: 2 > 1.3 x 0
    assert (north["region_count"], north["price_gap"]) == (1, None)
    assert (north["at_risk"], north["risk_reason"]) == (True, "volume")
    east, west = got[(date(2024, 3, 4), "East")], got[(date(2024, 3, 4), "West")]
    # gap (10.00 - 8.50) / 10.00 = 0.15 > 0.10, the same on both rows
    assert east["price_gap"] == west["price_gap"] == D("0.150000")
    assert (east["avg_unit_price"], west["avg_unit_price"]) == (D("10.0000"), D("8.5000"))
    # East: sold 20 over the 4 weeks (26 Feb week had none there); shipped 20 to S1 on
    # 20 Feb; 20 <= 1.3 x 20 = 26; price at floor
    assert (east["sellout_units_4w"], east["shipped_units_4w"]) == (20, 20)
    assert (east["at_risk"], east["risk_reason"]) == (False, None)
    # West: 8.50 < floor 10.00 with a 15 % gap, and 10 sold against 0 shipped
    assert (west["sellout_units_4w"], west["shipped_units_4w"]) == (10, 0)
    assert (west["at_risk"], west["risk_reason"]) == (True, "price,volume")
    # West, week of 25 Mar: its window (4..31 Mar) holds DC1's 10 units of 20 Mar, which may
    # have gone to any region: no volume test (shipped null) although 20 sold > 1.3 x 0;
    # one priced region (10.00, at floor): no gap, no price risk
    late = got[(date(2024, 3, 25), "West")]
    assert (late["sellout_units_4w"], late["shipped_units_4w"]) == (20, None)
    assert (late["at_risk"], late["risk_reason"]) == (False, None)


def chain_month_row(month: date, sellout: str, pairs=0, carried=0, rows_=0, ok=0) -> dict:
    return {
        "chain_code": CHAIN,
        "month": month,
        "sellout_amount": D(sellout),
        "sellout_units": 0,
        "sell_in_net": D("0"),
        "active_stores": 0,
        "distribution_pairs": pairs,
        "distribution_pairs_sold": 0,
        "distribution_pairs_carried": carried,
        "promo_amount": D("0"),
        "trade_spend": D("0"),
        "sales_days": 0,
        "price_rows": rows_,
        "price_rows_compliant": ok,
    }


def receivables_row(month: date, paid: str, late: str) -> dict:
    zero = D("0")
    return {
        "chain_code": CHAIN,
        "month": month,
        "as_of_date": month,
        "open_receivables": zero,
        "overdue_amount": zero,
        "overdue_0_30": zero,
        "overdue_31_60": zero,
        "overdue_61_90": zero,
        "overdue_90_plus": zero,
        "sell_in_gross_90d": zero,
        "paid_amount": D(paid),
        "days_late": D(late),
        "unmatched_payment_amount": zero,
    }


def run_only(engine: sa.Engine, table: str) -> None:
    run_models(engine, [CHAIN], [m for m in discover_models() if m.table == table])


def test_account_evaluation_default_bands(engine):
    months_2023 = [date(2023, m, 1) for m in range(1, 13)]
    months_2024 = [date(2024, m, 1) for m in range(1, 13)]
    insert(
        engine,
        "mart_chain_month",
        [chain_month_row(m, "1800000.00") for m in months_2023]
        # 2024: 100 must-carry pairs a month, 75 carried; 1000 price rows, 920 compliant
        + [chain_month_row(m, "2000000.00", 100, 75, 1000, 920) for m in months_2024],
    )
    insert(
        engine,
        "mart_receivables_month",
        [
            receivables_row(date(2024, 6, 1), "1000.00", "10.00"),
            receivables_row(date(2024, 7, 1), "3000.00", "2.00"),
        ],
    )
    run_only(engine, "mart_account_eval")
    dec = rows(engine, "select * from mart_account_eval where month = :m", m=date(2024, 12, 1))[0]
    parts = {p["criterion"]: p for p in json.loads(dec["parts"])}
    # annual sell-out 12 x 2,000,000 = 24,000,000 >= 20,000,000: band 2, 40 x 80 % = 32
    assert (D(str(parts["annual_sellout"]["value"])), parts["annual_sellout"]["band"]) == (
        D("24000000"),
        2,
    )
    assert D(str(parts["annual_sellout"]["points"])) == D("32")
    # growth 24,000,000 / 21,600,000 - 1 = 0.111111 >= 0.08: band 2, 32 points
    assert D(str(parts["sellout_growth"]["value"])) == D("0.111111")
    assert parts["sellout_growth"]["band"] == 2
    # days late (10 x 1000 + 2 x 3000) / 4000 = 4.0 <= 7 (lower is better): band 2, 20 x
    # 80 % = 16
    assert D(str(parts["days_late"]["value"])) == D("4")
    assert (parts["days_late"]["band"], D(str(parts["days_late"]["points"]))) == (2, D("16"))
    # attractiveness 32 + 32 + 16 = 80 of 100 -> A
    assert dec["attractiveness_score"] == D("80.00") and dec["attractiveness_grade"] == "A"
    # support: distribution 900 / 1200 = 0.75 >= 0.70: band 4, 40 x 40 % = 16; price
    # compliance 11040 / 12000 = 0.92 >= 0.90: band 3, 20 x 60 % = 12; no promotion ended:
    # execution left out -> (16 + 12) / (40 + 20) x 100 = 46.67 -> C
    assert parts["distribution_rate"]["band"] == 4
    assert parts["price_compliance"]["band"] == 3
    assert parts["promo_execution_rate"]["value"] is None
    assert dec["support_score"] == D("46.67") and dec["support_grade"] == "C"
    assert dec["quadrant"] == "high/low"
    assert dec["null_reasons"] == "promo_execution_rate: no value in the 12 months"
    assert [p["weight"] for p in json.loads(dec["parts"])] == [40, 20, 40, 40, 20, 40]


def test_trade_spend_rate_by_type_year_over_year(engine):
    insert(engine, "ref_chain", [chain()])
    insert(engine, "ref_contract", [contract(2023), contract(2024)])
    insert(
        engine,
        "raw_invoices",
        [invoice(date(2023, 5, 1), "10000.00"), invoice(date(2024, 5, 1), "20000.00")],
    )
    insert(
        engine,
        "raw_deductions",
        [
            deduction("D1", date(2023, 6, 1), "dm_fee", "500.00"),
            deduction("D2", date(2024, 6, 1), "dm_fee", "800.00"),
            deduction("D3", date(2024, 6, 2), "listing_fee", "200.00"),
            deduction("D4", date(2024, 6, 3), "rebate", "300.00"),  # not trade spend
        ],
    )
    run(engine, "mart_trade_spend_type_yoy")
    got = {
        (r["contract_year"], r["deduction_type"]): r
        for r in rows(engine, "select * from mart_trade_spend_type_yoy")
    }
    assert sorted(got) == [(2023, "dm_fee"), (2024, "dm_fee"), (2024, "listing_fee")]
    dm = got[(2024, "dm_fee")]
    # 800 / 20000 = 0.04 against 500 / 10000 = 0.05: 1 point lower
    assert (dm["trade_spend_rate"], dm["trade_spend_rate_ly"]) == (D("0.040000"), D("0.050000"))
    assert dm["rate_change"] == D("-0.010000")
    # a type new in 2024: no LY
    listing_fee = got[(2024, "listing_fee")]
    assert listing_fee["trade_spend_rate"] == D("0.010000")  # 200 / 20000
    assert listing_fee["amount_ly"] is None and listing_fee["rate_change"] is None
