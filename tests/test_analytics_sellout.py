"""Sell-out analytics (issue 8, domain.md section 4), on DuckDB and PostgreSQL.

Hand-made fixtures with hand-computed answers (the arithmetic beside each value):
distribution by store class with carried = sold or on hand, sell-through, velocity,
sales per store and m2, like-for-like with a store opened mid-period, price compliance
and the below-floor list (a promo price inside its promotion is not below floor; a
promotion across a month end and the leap day 2024-02-29), out-of-stock days and lost
sales, on-hand missing for one chain (nulls with reasons), phantom inventory (also
extended by a nightly run), SKU A/B/C. Rules: docs/models.md, "Sell-out analytics".
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import sqlalchemy as sa

from ka_pipeline.models import run_models
from tests.test_models import (
    CHAIN,
    I1,
    I2,
    I3,
    OTHER,
    by,
    chain,
    insert,
    promotion,
    rows,
    run,
    sale,
    store,
)

I4 = "6901234567922"


def shop(code: str, cls: str, opened: date, region: str, ch: str = CHAIN) -> dict:
    return {**store(code, cls, opened, ch=ch), "region": region}


def product(barcode: str, floor: str, cost: str = "5.00", supply: str = "8.00") -> dict:
    return {
        "barcode": barcode,
        "name": barcode,
        "brand": "B",
        "category": "C",
        "unit_cost": D(cost),
        "supply_price": D(supply),
        "std_retail_price": D("12.00"),
        "floor_price": D(floor),
    }


def listing(barcode: str, classes: str | None = None, ch: str = CHAIN) -> dict:
    return {
        "chain_code": ch,
        "barcode": barcode,
        "listed_from": date(2020, 1, 1),
        "listed_to": None,
        "store_classes": classes,
    }


def day(
    when: date, store_code: str, barcode: str, units: int, amount: str, on_hand, ch=CHAIN
) -> dict:
    return {**sale(when, store_code, barcode, units, amount, ch=ch), "on_hand_units": on_hand}


def month_fixture(engine: sa.Engine) -> None:
    insert(engine, "ref_chain", [chain(), chain(OTHER)])
    insert(
        engine,
        "ref_store",
        [
            shop("S1", "A", date(2020, 1, 1), "East"),  # 8000 m2
            shop("S2", "B", date(2024, 3, 15), "West"),  # 3000 m2, opened mid-March 2024
            shop("S3", "C", date(2020, 1, 1), "East"),  # 1000 m2
            shop("R1", "A", date(2020, 1, 1), "East", ch=OTHER),
        ],
    )
    insert(engine, "ref_product", [product(I1, "10.00"), product(I2, "5.00")])
    # I1 must-carry in every store; I2 only in class A and B stores
    insert(engine, "ref_listing", [listing(I1), listing(I2, "A, B"), listing(I1, ch=OTHER)])
    insert(
        engine,
        "raw_sales",
        [
            # March 2023 (LY): S1 80.00, S3 30.00 -> 110.00
            day(date(2023, 3, 8), "S1", I1, 8, "80.00", None),
            day(date(2023, 3, 8), "S3", I1, 3, "30.00", None),
            # March 2024
            day(date(2024, 3, 1), "S3", I1, 1, "10.00", 4),
            day(date(2024, 3, 2), "S3", I1, 3, "30.00", 2),
            day(date(2024, 3, 4), "S1", I1, 10, "100.00", 5),
            day(date(2024, 3, 4), "S1", I2, 0, "0.00", 7),  # carried: on hand, not sold
            day(date(2024, 3, 10), "S3", I1, 2, "20.00", 0),  # out of stock
            day(date(2024, 3, 10), "S3", I2, 0, "0.00", 3),  # I2 not must-carry in class C
            day(date(2024, 3, 20), "S2", I1, 4, "40.00", 2),
            day(date(2024, 3, 21), "S2", I1, 3, "27.00", 0),  # 9.00 < floor 10; out of stock
            # the other chain sends no on-hand
            day(date(2024, 3, 5), "R1", I1, 2, "20.00", None, ch=OTHER),
        ],
    )


def test_chain_month_analytics(engine):
    month_fixture(engine)
    run(engine, "mart_chain_month", chains=(CHAIN, OTHER))
    got = by(
        "chain_code",
        rows(engine, "select * from mart_chain_month where month = :m", m=date(2024, 3, 1)),
    )
    mar = got[CHAIN]
    # sell-out 10 + 30 + 100 + 20 + 40 + 27 = 227.00; LY 110.00 -> 227 / 110 - 1
    assert mar["sellout_amount"] == D("227.00")
    assert mar["yoy_growth"] == D("1.063636")
    # must-carry pairs: S1 x {I1, I2}, S2 x {I1, I2} (class B, opened 15 Mar), S3 x {I1}
    # (I2 is for A, B) = 5; carried: S1I1, S1I2 (7 on hand), S2I1, S3I1 = 4 -> 4 / 5
    assert (mar["distribution_pairs"], mar["distribution_pairs_carried"]) == (5, 4)
    assert mar["distribution_pairs_sold"] == 3  # S1I1, S2I1, S3I1
    assert mar["distribution_rate"] == D("0.800000")
    # sell-through: listed I1 (sold), I2 (0 units everywhere) -> 1 / 2
    assert (mar["listed_items"], mar["listed_items_sold"]) == (2, 1)
    assert mar["sell_through_rate"] == D("0.500000")
    # velocity: units of the selling pairs S1I1 10 + S2I1 7 + S3I1 6 = 23, 3 pairs, March
    # = 31 / 7 weeks: 23 / 3 / (31 / 7) = 161 / 93 = 1.731183 -> 1.7312
    assert mar["selling_pairs"] == 3
    assert mar["velocity"] == D("1.7312")
    # active stores S1, S2, S3: 227 / 3 = 75.666 -> 75.67; area 8000 + 3000 + 1000 = 12000,
    # 227 / 12000 = 0.0189 -> 0.02
    assert mar["sales_per_store"] == D("75.67")
    assert mar["active_area_m2"] == 12000
    assert mar["sales_per_m2"] == D("0.02")
    # like-for-like: stores open from 1 Mar 2023 to 31 Mar 2024: S1, S3 (S2 opened
    # 15 Mar 2024). This year S1 100 + S3 60 = 160, LY 80 + 30 = 110: 160 / 110 - 1
    assert mar["lfl_stores"] == 2
    assert (mar["lfl_sellout_amount"], mar["lfl_sellout_amount_ly"]) == (D("160.00"), D("110.00"))
    assert mar["lfl_growth"] == D("0.454545")
    # price rows (units > 0): S3 1 Mar, 2 Mar, 10 Mar, S1 4 Mar, S2 20 Mar at 10.00 = floor
    # (compliant); S2 21 Mar at 9.00 fails -> 5 / 6
    assert (mar["price_rows"], mar["price_rows_compliant"]) == (6, 5)
    assert mar["price_compliance"] == D("0.833333")
    # on-hand sent on must-carry days: S3I1 x 3, S1I1, S1I2, S2I1 x 2 = 7 (S3I2 is not
    # must-carry); on hand 0: S3I1 10 Mar, S2I1 21 Mar -> 2 / 7
    assert (mar["on_hand_days"], mar["oos_days"]) == (7, 2)
    assert mar["oos_rate"] == D("0.285714")
    # lost sales: S2I1 21 Mar: in stock 20 Mar (40.00 / 1 day) = 40.00; S3I1 10 Mar: in
    # stock 1 and 2 Mar (10 + 30) / 2 days = 20.00 -> 60.00
    assert mar["lost_sales_amount"] == D("60.00")
    assert mar["null_reasons"] == "target_achievement: no target; trade_spend_rate: no sell-in"

    other = got[OTHER]
    # no on-hand sent: out-of-stock rate and lost sales null with their reason; no LY
    assert other["oos_rate"] is None and other["lost_sales_amount"] is None
    assert other["lfl_growth"] is None and other["distribution_rate"] == D("1.000000")
    assert other["null_reasons"] == (
        "yoy_growth: no last year; target_achievement: no target; lfl_growth: no last year;"
        " oos_rate: no on-hand sent; lost_sales_amount: no on-hand sent;"
        " trade_spend_rate: no sell-in"
    )


def test_detail_tables(engine):
    month_fixture(engine)
    run(engine, "mart_distribution_gap", "mart_price_below_floor", "mart_oos_day")
    # must-carry pairs not carried: March 2023 S1 (class A) x I2 (S3 is class C: I2 is not
    # its must-carry); March 2024 S2 (class B) x I2
    gaps = rows(
        engine,
        "select month, store_code, store_class, barcode from mart_distribution_gap order by month",
    )
    assert gaps == [
        {"month": date(2023, 3, 1), "store_code": "S1", "store_class": "A", "barcode": I2},
        {"month": date(2024, 3, 1), "store_code": "S2", "store_class": "B", "barcode": I2},
    ]
    below = rows(engine, "select * from mart_price_below_floor")
    # S2 21 Mar: 3 units for 27.00 = 9.00 against floor 10.00: gap (10 - 9) x 3 = 3.00
    assert below == [
        {
            "chain_code": CHAIN,
            "store_code": "S2",
            "barcode": I1,
            "business_date": date(2024, 3, 21),
            "region": "West",
            "units": 3,
            "sales_amount": D("27.00"),
            "unit_price": D("9.0000"),
            "required_price": D("10.00"),
            "floor_price": D("10.00"),
            "promo_id": None,
            "gap_amount": D("3.00"),
        }
    ]
    oos = by(
        "store_code",
        rows(
            engine, "select * from mart_oos_day where chain_code = :c order by store_code", c=CHAIN
        ),
    )
    assert sorted(oos) == ["S2", "S3"]
    # S2 21 Mar: the 28 days before hold one in-stock day (20 Mar: 4 units, 40.00):
    # 4 / 1 = 4 units a day x 10.00 average price = 40.00
    assert (oos["S2"]["lost_units"], oos["S2"]["lost_sales_amount"]) == (D("4.0000"), D("40.00"))
    # S3 10 Mar: in stock 1 Mar (1 unit, 10.00) and 2 Mar (3, 30.00): 4 / 2 = 2 units a
    # day x 40 / 4 = 10.00 = 20.00
    assert oos["S3"]["in_stock_days_28d"] == 2
    assert (oos["S3"]["lost_units"], oos["S3"]["lost_sales_amount"]) == (D("2.0000"), D("20.00"))


def test_store_month_analytics(engine):
    month_fixture(engine)
    run(engine, "mart_store_month")
    got = by(
        "store_code",
        rows(engine, "select * from mart_store_month where month = :m", m=date(2024, 3, 1)),
    )
    s2 = got["S2"]
    # must-carry I1, I2; carried I1 -> 1 / 2; its carried items: I1, sold -> 1 / 1
    assert (s2["distribution_pairs"], s2["distribution_pairs_carried"]) == (2, 1)
    assert s2["distribution_rate"] == D("0.500000")
    assert s2["sell_through_rate"] == D("1.000000")
    # 7 units / 1 item / (31 / 7) weeks = 49 / 31 = 1.580645 -> 1.5806
    assert s2["velocity"] == D("1.5806")
    # 67.00 / 3000 m2 = 0.0223 -> 0.02; price 1 of 2 rows; out of stock 1 of 2 days
    assert s2["sales_per_store"] == D("67.00") and s2["sales_per_m2"] == D("0.02")
    assert s2["price_compliance"] == D("0.500000") and s2["oos_rate"] == D("0.500000")
    assert s2["lost_sales_amount"] == D("40.00")
    # opened 15 Mar 2024: no like-for-like, no LY
    assert s2["lfl_growth"] is None
    assert s2["null_reasons"] == (
        "yoy_growth: no last year; lfl_growth: store not open through both periods;"
        " trade_spend_rate: deductions are not per store"
    )
    s3 = got["S3"]
    # S3 carried I1 (sold 6) and I2 (on hand 3, 0 units): sell-through 1 / 2; LFL = YoY
    # = 60 / 30 - 1 = 1
    assert (s3["carried_items"], s3["carried_items_sold"]) == (2, 1)
    assert s3["lfl_growth"] == D("1.000000") == s3["yoy_growth"]
    assert s3["distribution_rate"] == D("1.000000")  # must-carry I1 only (class C)


def test_promo_price_leap_day_and_week(engine):
    insert(engine, "ref_chain", [chain()])
    insert(
        engine,
        "ref_store",
        [shop("S1", "A", date(2020, 1, 1), "East"), shop("S3", "C", date(2020, 1, 1), "East")],
    )
    insert(engine, "ref_product", [product(I1, "10.00")])
    insert(engine, "ref_listing", [listing(I1)])
    # P1: class A stores, 28 Feb .. 2 Mar 2024 (across the month end and the leap day),
    # promo price 9.90 (the helper's), below the 10.00 floor
    insert(
        engine,
        "ref_promotion",
        [promotion("P1", I1, "A", date(2024, 2, 28), date(2024, 3, 2))],
    )
    insert(
        engine,
        "raw_sales",
        [
            day(date(2024, 2, 29), "S1", I1, 5, "49.50", None),  # 9.90 in P1: compliant
            day(date(2024, 3, 1), "S1", I1, 2, "19.00", None),  # 9.50 < 9.90: fails
            day(date(2024, 2, 29), "S3", I1, 1, "9.90", None),  # class C: floor 10, fails
        ],
    )
    run(engine, "mart_price_below_floor", "mart_chain_week", "mart_chain_month")
    below = rows(
        engine,
        "select store_code, business_date, required_price, promo_id, gap_amount"
        " from mart_price_below_floor order by business_date, store_code",
    )
    assert below == [
        # S3 is class C, outside P1: floor 10.00, gap (10.00 - 9.90) x 1 = 0.10
        {
            "store_code": "S3",
            "business_date": date(2024, 2, 29),
            "required_price": D("10.00"),
            "promo_id": None,
            "gap_amount": D("0.10"),
        },
        # S1 inside P1: promo price 9.90, gap 9.90 x 2 - 19.00 = 0.80
        {
            "store_code": "S1",
            "business_date": date(2024, 3, 1),
            "required_price": D("9.90"),
            "promo_id": "P1",
            "gap_amount": D("0.80"),
        },
    ]
    month = by("month", rows(engine, "select month, price_compliance from mart_chain_month"))
    # Feb: S1 29 Feb ok, S3 29 Feb fails -> 1 / 2; Mar: S1 1 Mar fails -> 0 / 1
    assert month[date(2024, 2, 1)]["price_compliance"] == D("0.500000")
    assert month[date(2024, 3, 1)]["price_compliance"] == D("0.000000")
    # one ISO week (Mon 26 Feb .. Sun 3 Mar 2024) holds all three rows: 1 / 3
    week = rows(engine, "select week_start, price_rows, price_compliance from mart_chain_week")
    assert week == [
        {"week_start": date(2024, 2, 26), "price_rows": 3, "price_compliance": D("0.333333")}
    ]


def phantom_fixture(engine: sa.Engine, last: date) -> None:
    insert(engine, "ref_chain", [chain()])
    insert(
        engine,
        "ref_store",
        [shop("S1", "A", date(2020, 1, 1), "East"), shop("S3", "C", date(2020, 1, 1), "East")],
    )
    insert(engine, "ref_product", [product(I1, "1.00"), product(I2, "1.00")])
    insert(engine, "ref_listing", [listing(I1), listing(I2)])
    sales = [
        # 84 days before 20 Feb 2024 = 28 Nov 2023 .. 19 Feb 2024: S1 I1 sells 42 units
        # (42 / 84 = 0.5 a day, exactly the threshold); S3 I1 41 (0.488, below)
        day(date(2024, 1, 5), "S1", I1, 42, "42.00", 50),
        day(date(2024, 1, 5), "S3", I1, 41, "41.00", 50),
        day(date(2024, 1, 5), "S1", I2, 100, "100.00", 50),
    ]
    start = date(2024, 2, 20)
    for i in range((last - start).days + 1):
        when = start + timedelta(days=i)
        sales.append(day(when, "S1", I1, 0, "0.00", 6))
        sales.append(day(when, "S3", I1, 0, "0.00", 6))
        if i < 13:  # S1 I2: only 13 idle days (20 Feb .. 3 Mar 2024), then it sells
            sales.append(day(when, "S1", I2, 0, "0.00", 6))
    sales.append(day(date(2024, 3, 4), "S1", I2, 1, "1.00", 5))
    insert(engine, "raw_sales", [s for s in sales if s["business_date"] <= last])


def test_phantom_inventory_and_nightly_extension(engine):
    # 20 Feb .. 4 Mar 2024: 10 days of February (leap year: 20..29) + 4 of March = 14
    phantom_fixture(engine, date(2024, 3, 4))
    run_models(engine, [CHAIN])  # every model: records the state for the nightly run
    got = rows(engine, "select * from mart_phantom_inventory")
    assert got == [
        {
            "chain_code": CHAIN,
            "store_code": "S1",
            "barcode": I1,
            "run_start": date(2024, 2, 20),
            "run_end": date(2024, 3, 4),
            "zero_days": 14,
            "on_hand_units": 6,
            "trailing_daily_units": D("0.5000"),
            "extends_on": date(2024, 3, 5),
        }
    ]
    # the next night's file: one more idle day extends the same run (not a second row)
    insert(
        engine,
        "raw_sales",
        [
            day(date(2024, 3, 5), "S1", I1, 0, "0.00", 4),
            day(date(2024, 3, 5), "S3", I1, 0, "0.00", 6),
        ],
    )
    run_models(engine, [CHAIN], since=date(2024, 3, 5))
    got = rows(
        engine, "select run_start, run_end, zero_days, on_hand_units from mart_phantom_inventory"
    )
    assert got == [
        {
            "run_start": date(2024, 2, 20),
            "run_end": date(2024, 3, 5),
            "zero_days": 15,
            "on_hand_units": 4,
        }
    ]


def test_sku_abc(engine):
    insert(engine, "ref_chain", [chain()])
    insert(engine, "ref_store", [shop("S1", "A", date(2020, 1, 1), "East")])
    insert(engine, "ref_product", [product(b, "1.00") for b in (I1, I2, I3, I4)])
    insert(
        engine,
        "raw_sales",
        [
            day(date(2024, 5, 2), "S1", I3, 15, "15.00", None),
            day(date(2024, 5, 2), "S1", I1, 50, "50.00", None),
            day(date(2024, 5, 3), "S1", I4, 10, "10.00", None),
            day(date(2024, 5, 3), "S1", I2, 25, "25.00", None),
        ],
    )
    run(engine, "mart_sku_rank")
    got = rows(
        engine,
        "select barcode, sku_rank, share, cumulative_share, abc_class from mart_sku_rank"
        " order by sku_rank",
    )
    # total 100: I1 50 % (before it 0 -> A), I2 25 % (before 50 % < 70 -> A), I3 15 %
    # (before 75 %, < 90 -> B), I4 10 % (before 90 %, not < 90 -> C)
    assert [(r["barcode"], r["sku_rank"], r["abc_class"]) for r in got] == [
        (I1, 1, "A"),
        (I2, 2, "A"),
        (I3, 3, "B"),
        (I4, 4, "C"),
    ]
    assert [r["share"] for r in got] == [D("0.5"), D("0.25"), D("0.15"), D("0.1")]
    assert [r["cumulative_share"] for r in got] == [D("0.5"), D("0.75"), D("0.9"), D("1")]
