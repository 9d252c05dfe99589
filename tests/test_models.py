"""Integration tests of the SQL models in sql/, on DuckDB and PostgreSQL.

Each test inserts a tiny hand-made fixture into ref_* / raw_* tables, runs the models
through ``run_models`` and checks values computed by hand (the arithmetic is in the
comments). Rules: docs/models.md; domain: /work/shared/domain.md sections 4-6.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import sqlalchemy as sa

from ka_pipeline.models import discover_models, run_models

CHAIN = "CF"
OTHER = "RT"

I1 = "6901234567892"
I2 = "6901234567908"
I3 = "6901234567915"

RAW_DEFAULTS = {"load_id": 1}


# --- helpers ----------------------------------------------------------------------


def insert(engine: sa.Engine, table: str, rows: list[dict]) -> None:
    """Insert dicts into ``table`` with bind parameters (one statement per column set)."""
    if not rows:
        return
    with engine.begin() as conn:
        for row in rows:
            if table.startswith("raw_"):
                row = {**RAW_DEFAULTS, **row}
            cols = list(row)
            conn.execute(
                sa.text(
                    f"insert into {table} ({', '.join(cols)}) "
                    f"values ({', '.join(':' + c for c in cols)})"
                ),
                row,
            )


def rows(engine: sa.Engine, sql: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def run(engine: sa.Engine, *tables: str, chains: tuple[str, ...] = (CHAIN,)) -> None:
    """Run the named models (every model when none), always with the staging and
    intermediate models (``stg_*``, ``int_*``) the marts read."""
    models = [
        m
        for m in discover_models()
        if not tables or m.table in tables or m.layer in ("staging", "intermediate")
    ]
    run_models(engine, list(chains), models)


def chain(code: str = CHAIN, window: int = 30) -> dict:
    return {
        "chain_code": code,
        "name": code,
        "format": "hypermarket",
        "region": "East",
        "settlement_mode": "outright",
        "payment_terms_days": 60,
        "dispute_window_days": window,
        "owner_code": "o1",
    }


def store(code: str, cls: str, opened: date, closed: date | None = None, ch=CHAIN) -> dict:
    return {
        "chain_code": ch,
        "store_code": code,
        "name": code,
        "city": "Shanghai",
        "region": "East",
        "area_m2": {"A": 8000, "B": 3000, "C": 1000}[cls],
        "store_class": cls,
        "opened_on": opened,
        "closed_on": closed,
    }


def sale(
    day: date,
    store_code: str,
    barcode: str,
    units: int,
    amount: str,
    ch=CHAIN,
    promo_units: int | None = None,
    promo_amount: str | None = None,
) -> dict:
    return {
        "chain_code": ch,
        "business_date": day,
        "store_code": store_code,
        "barcode": barcode,
        "units": units,
        "sales_amount": D(amount),
        "promo_units": promo_units,
        "promo_amount": None if promo_amount is None else D(promo_amount),
    }


_invoice_no = iter(range(1, 10_000))


def invoice(day: date, net: str, ch=CHAIN, promo_id: str | None = None) -> dict:
    return {
        "chain_code": ch,
        "business_date": day,
        "invoice_no": f"INV{next(_invoice_no)}",
        "line_no": 1,
        "invoice_date": day,
        "ship_to_code": "DC1",
        "barcode": I1,
        "units": 1,
        "unit_price": D(net),
        "net_amount": D(net),
        "vat_amount": D("0.00"),
        "promo_id": promo_id,
    }


def deduction(
    no: str,
    day: date,
    dtype: str,
    amount: str,
    ch=CHAIN,
    statement="ST1",
    text: str | None = None,
    **extra,
) -> dict:
    row = {
        "chain_code": ch,
        "business_date": day,
        "statement_no": statement,
        "deduction_no": no,
        "deduction_date": day,
        "deduction_text": text or dtype,
        "deduction_type": dtype,
        "amount": D(amount),
        "store_code": None,
        "barcode": None,
        "units": None,
        "reference": None,
        "period_start": None,
        "period_end": None,
    }
    row.update(extra)
    return row


def contract(
    year: int,
    base="sell_in",
    method="retroactive",
    excluded=True,
    ch=CHAIN,
    fee_amounts="excl_vat",
    vat_rate="0.06",
) -> dict:
    return {
        "chain_code": ch,
        "contract_year": year,
        "start_date": date(year, 1, 1),
        "end_date": date(year, 12, 31),
        "rebate_base": base,
        "rebate_method": method,
        "rebate_promo_excluded": excluded,
        "margin_guarantee_pct": None,
        "fee_amounts": fee_amounts,
        "vat_rate": D(vat_rate),
    }


def tier(year: int, no: int, threshold: str, rate: str, ch=CHAIN) -> dict:
    return {
        "chain_code": ch,
        "contract_year": year,
        "tier_no": no,
        "threshold": D(threshold),
        "rate": D(rate),
    }


def promotion(
    pid: str,
    barcode: str,
    classes: str | None,
    start: date,
    end: date,
    subsidy: str = "2.00",
    ch=CHAIN,
) -> dict:
    return {
        "promo_id": pid,
        "chain_code": ch,
        "barcode": barcode,
        "store_classes": classes,
        "start_date": start,
        "end_date": end,
        "promo_price": D("9.90"),
        "subsidy_per_unit": D(subsidy),
    }


def by(key: str, items: list[dict]) -> dict:
    return {r[key]: r for r in items}


# --- stg_sales -----------------------------------------------------------------------


def test_stg_sales_effective_promo_values(engine):
    insert(engine, "ref_chain", [chain(), chain(OTHER)])
    insert(
        engine,
        "ref_store",
        [
            store("S1", "A", date(2020, 1, 1)),
            store("S2", "B", date(2020, 1, 1)),
            store("R1", "C", date(2020, 1, 1), ch=OTHER),
        ],
    )
    insert(
        engine,
        "ref_promotion",
        [
            promotion("P1", I1, "A, C", date(2024, 3, 1), date(2024, 3, 10)),
            promotion("P2", I1, None, date(2024, 3, 5), date(2024, 3, 6)),  # every store
            promotion("P3", I2, "B", date(2024, 3, 1), date(2024, 3, 31)),
            # another chain's promotions never make CF promo rows
            promotion("P9", I3, None, date(2024, 3, 1), date(2024, 3, 31), ch=OTHER),
            # RT sends promo columns: this promotion is not used for RT's promo sales
            promotion("R9", I1, None, date(2024, 3, 1), date(2024, 3, 31), ch=OTHER),
        ],
    )
    insert(
        engine,
        "raw_sales",
        [
            # CF sends no promo columns: promo values derived from ref_promotion
            sale(date(2024, 2, 29), "S1", I1, 1, "10.00"),  # before P1
            sale(date(2024, 3, 1), "S1", I1, 10, "100.00"),  # P1, class A
            sale(date(2024, 3, 1), "S1", I1, 1, "10.00"),  # same key again: its own row
            sale(date(2024, 3, 2), "S2", I1, 2, "20.00"),  # P1 dates, class B not in 'A, C'
            sale(date(2024, 3, 5), "S1", I1, 4, "40.00"),  # P1 and P2: counted once
            sale(date(2024, 3, 5), "S2", I1, 3, "30.00"),  # P2, store_classes null
            sale(date(2024, 3, 5), "S9", I1, 2, "20.00"),  # store not in ref_store
            sale(date(2024, 3, 10), "S1", I1, -1, "-10.00"),  # P1's last day; a return
            sale(date(2024, 3, 11), "S1", I1, 5, "50.00"),  # day after P1
            sale(date(2024, 3, 3), "S1", I3, 1, "9.00"),  # only RT's P9 covers I3
            {**sale(date(2024, 3, 15), "S2", I2, 6, "66.00"), "on_hand_units": 12},  # P3
            sale(date(2024, 3, 15), "S1", I2, 2, "22.00"),  # P3 is class B only
            # RT sends promo columns: the feed's values, null = 0, promotions ignored
            sale(date(2024, 3, 1), "R1", I1, 10, "100.00", OTHER, 3, "30.00"),
            sale(date(2024, 3, 2), "R1", I1, 5, "50.00", OTHER),  # inside R9, columns empty
            sale(date(2024, 3, 3), "R1", I2, 4, "40.00", OTHER, 4, "36.00"),  # no promotion
            sale(date(2024, 3, 4), "R1", I2, 2, "20.00", OTHER, None, "5.00"),
        ],
    )
    run(engine, "stg_sales", chains=(CHAIN, OTHER))
    got = [
        tuple(r.values())
        for r in rows(
            engine,
            "select chain_code, business_date, month, store_code, store_class, barcode,"
            " units, sales_amount, promo_units, promo_amount, on_hand_units from stg_sales"
            " order by chain_code, business_date, store_code, barcode, units",
        )
    ]
    feb, mar = date(2024, 2, 1), date(2024, 3, 1)
    assert got == [
        # chain, day, month, store, class, item, units, amount, promo units, promo amount, on hand
        (CHAIN, date(2024, 2, 29), feb, "S1", "A", I1, 1, D("10.00"), 0, D("0.00"), None),
        (CHAIN, date(2024, 3, 1), mar, "S1", "A", I1, 1, D("10.00"), 1, D("10.00"), None),
        (CHAIN, date(2024, 3, 1), mar, "S1", "A", I1, 10, D("100.00"), 10, D("100.00"), None),
        (CHAIN, date(2024, 3, 2), mar, "S2", "B", I1, 2, D("20.00"), 0, D("0.00"), None),
        (CHAIN, date(2024, 3, 3), mar, "S1", "A", I3, 1, D("9.00"), 0, D("0.00"), None),
        (CHAIN, date(2024, 3, 5), mar, "S1", "A", I1, 4, D("40.00"), 4, D("40.00"), None),
        (CHAIN, date(2024, 3, 5), mar, "S2", "B", I1, 3, D("30.00"), 3, D("30.00"), None),
        (CHAIN, date(2024, 3, 5), mar, "S9", None, I1, 2, D("20.00"), 0, D("0.00"), None),
        (CHAIN, date(2024, 3, 10), mar, "S1", "A", I1, -1, D("-10.00"), -1, D("-10.00"), None),
        (CHAIN, date(2024, 3, 11), mar, "S1", "A", I1, 5, D("50.00"), 0, D("0.00"), None),
        (CHAIN, date(2024, 3, 15), mar, "S1", "A", I2, 2, D("22.00"), 0, D("0.00"), None),
        (CHAIN, date(2024, 3, 15), mar, "S2", "B", I2, 6, D("66.00"), 6, D("66.00"), 12),
        (OTHER, date(2024, 3, 1), mar, "R1", "C", I1, 10, D("100.00"), 3, D("30.00"), None),
        (OTHER, date(2024, 3, 2), mar, "R1", "C", I1, 5, D("50.00"), 0, D("0.00"), None),
        (OTHER, date(2024, 3, 3), mar, "R1", "C", I2, 4, D("40.00"), 4, D("36.00"), None),
        (OTHER, date(2024, 3, 4), mar, "R1", "C", I2, 2, D("20.00"), 0, D("5.00"), None),
    ]
    # CF promo sales (all in March): 10 + 100 + 40 + 30 - 10 + 66 = 236.00
    (total,) = rows(
        engine, "select sum(promo_amount) as s from stg_sales where chain_code = :c", c=CHAIN
    )
    assert total["s"] == D("236.00")


# --- mart_chain_month / mart_store_month --------------------------------------------


def chain_month_fixture(engine: sa.Engine) -> None:
    insert(engine, "ref_chain", [chain()])
    insert(
        engine,
        "ref_store",
        [
            store("S1", "A", date(2020, 1, 1)),
            store("S2", "B", date(2024, 3, 15)),  # opened mid-March 2024
            store("S3", "C", date(2020, 1, 1), date(2024, 2, 10)),  # closed 10 Feb 2024
        ],
    )
    insert(
        engine,
        "ref_listing",
        [
            {
                "chain_code": CHAIN,
                "barcode": I1,
                "listed_from": date(2020, 1, 1),
                "listed_to": None,
            },
            {
                "chain_code": CHAIN,
                "barcode": I2,
                "listed_from": date(2020, 1, 1),
                "listed_to": None,
            },
            {
                "chain_code": CHAIN,
                "barcode": I3,
                "listed_from": date(2024, 4, 1),
                "listed_to": None,
            },
        ],
    )
    insert(
        engine,
        "ref_promotion",
        [
            promotion("P1", I1, "A", date(2024, 3, 1), date(2024, 3, 10)),
            # S2 is class B, and S1's I2 sale (2 Mar) is outside the dates: no promo sales
            promotion("P2", I2, "A, C", date(2024, 3, 15), date(2024, 3, 31)),
        ],
    )
    insert(
        engine,
        "ref_target",
        [
            {"chain_code": CHAIN, "month": date(2024, 3, 1), "target_amount": D("200.00")},
        ],
    )
    insert(
        engine,
        "raw_sales",
        [
            sale(date(2023, 1, 9), "S1", I1, 1, "0.00"),  # Jan 2023: LY amount 0
            sale(date(2023, 3, 10), "S1", I1, 20, "190.00"),  # Mar 2023 = LY of Mar 2024
            sale(date(2024, 1, 9), "S1", I1, 5, "50.00"),
            sale(date(2024, 2, 5), "S3", I1, 3, "30.00"),
            sale(date(2024, 3, 1), "S1", I1, 10, "100.00"),
            sale(date(2024, 3, 2), "S1", I2, 5, "60.00"),
            sale(date(2024, 3, 5), "S1", I3, 1, "9.00"),  # I3 not listed until April
            sale(date(2024, 3, 20), "S2", I1, 4, "40.00"),
            sale(date(2024, 3, 21), "S2", I2, 2, "20.00"),
            sale(date(2024, 3, 22), "S2", I2, -2, "-20.00"),  # return: S2 x I2 nets 0 units
        ],
    )
    insert(
        engine,
        "raw_invoices",
        [
            invoice(date(2024, 3, 4), "1000.00"),
            invoice(date(2024, 3, 18), "500.00"),
            invoice(date(2024, 4, 2), "800.00"),  # April: invoices, no sales
        ],
    )
    insert(
        engine,
        "raw_deductions",
        [
            deduction("D1", date(2024, 3, 25), "dm_fee", "60.00"),
            deduction("D2", date(2024, 3, 26), "display_fee", "30.00"),
            deduction("D3", date(2024, 3, 27), "rebate", "100.00"),  # not trade spend
            deduction("D4", date(2024, 4, 1), "dm_fee", "5.00"),
        ],
    )


def test_chain_month_kpis(engine):
    chain_month_fixture(engine)
    run(engine, "mart_chain_month")
    got = by("month", rows(engine, "select * from mart_chain_month where chain_code = :c", c=CHAIN))
    assert sorted(got) == [
        date(2023, 1, 1),
        date(2023, 3, 1),
        date(2024, 1, 1),
        date(2024, 2, 1),
        date(2024, 3, 1),
        date(2024, 4, 1),
    ]
    mar = got[date(2024, 3, 1)]
    # sell-out: 100 + 60 + 9 + 40 + 20 - 20 = 209.00; units 10 + 5 + 1 + 4 + 2 - 2 = 20
    assert mar["sellout_amount"] == D("209.00")
    assert mar["sellout_units"] == 20
    # LY = Mar 2023 = 190.00; YoY = 209 / 190 - 1 = 0.1
    assert mar["sellout_amount_ly"] == D("190.00")
    assert mar["yoy_growth"] == D("0.100000")
    # target 200.00: 209 / 200 = 1.045
    assert mar["target_amount"] == D("200.00")
    assert mar["target_achievement"] == D("1.045000")
    # sell-in: 1000 + 500 (April's 800 is April)
    assert mar["sell_in_net"] == D("1500.00")
    # active stores: S1 (16 units), S2 (4 units)
    assert mar["active_stores"] == 2
    # open in March: S1, S2 (opened 15 Mar); S3 closed 10 Feb. Listed: I1, I2 (I3 from
    # April) -> 2 x 2 = 4 pairs; sold: S1xI1, S1xI2, S2xI1 (S2xI2 nets 0) -> 3; 3/4
    assert mar["distribution_pairs"] == 4
    assert mar["distribution_pairs_sold"] == 3
    assert mar["distribution_rate"] == D("0.750000")
    # no promo columns: S1 (class A) x I1 on 1 Mar inside P1 -> 100.00; 100 / 209
    assert mar["promo_amount"] == D("100.00")
    assert mar["promo_share"] == D("0.478469")
    # trade spend: dm 60 + display 30 (rebate excluded) = 90; 90 / 1500 = 0.06
    assert mar["trade_spend"] == D("90.00")
    assert mar["trade_spend_rate"] == D("0.060000")
    # business dates 1, 2, 5, 20, 21, 22 Mar
    assert mar["sales_days"] == 6

    feb = got[date(2024, 2, 1)]
    # Feb 2023 has no sales rows: LY and YoY null; no target
    assert feb["sellout_amount_ly"] is None and feb["yoy_growth"] is None
    assert feb["target_amount"] is None and feb["target_achievement"] is None
    # open in Feb: S1, S3 (closed 10 Feb) -> 2 x 2 items = 4 pairs; sold S3xI1 -> 1/4
    assert (feb["distribution_pairs"], feb["distribution_pairs_sold"]) == (4, 1)
    assert feb["distribution_rate"] == D("0.250000")
    assert feb["active_stores"] == 1
    # no invoices: sell-in 0, trade-spend rate null
    assert feb["sell_in_net"] == D("0.00") and feb["trade_spend_rate"] is None

    jan = got[date(2024, 1, 1)]
    # LY Jan 2023 sold 1 unit for 0.00: LY = 0.00, YoY null (no division by 0)
    assert jan["sellout_amount_ly"] == D("0.00")
    assert jan["yoy_growth"] is None

    apr = got[date(2024, 4, 1)]
    # invoice-only month: no sales, sell-in 800, trade spend 5.00 -> 5 / 800 = 0.00625
    assert apr["sellout_amount"] == D("0.00") and apr["sellout_units"] == 0
    assert apr["sales_days"] == 0 and apr["promo_share"] is None
    assert apr["sell_in_net"] == D("800.00")
    assert apr["trade_spend_rate"] == D("0.006250")
    # April: S1, S2 open x I1, I2, I3 listed = 6 pairs, none sold
    assert (apr["distribution_pairs"], apr["distribution_pairs_sold"]) == (6, 0)
    assert apr["distribution_rate"] == D("0.000000")


def test_chain_month_promo_share_from_promo_columns(engine):
    insert(engine, "ref_chain", [chain()])
    insert(engine, "ref_store", [store("S1", "A", date(2020, 1, 1))])
    # a promotion exists, but the chain sends promo columns: those win
    insert(
        engine, "ref_promotion", [promotion("P1", I1, None, date(2024, 5, 1), date(2024, 5, 31))]
    )
    insert(
        engine,
        "raw_sales",
        [
            sale(date(2024, 5, 1), "S1", I1, 10, "100.00", promo_units=3, promo_amount="30.00"),
            sale(date(2024, 5, 2), "S1", I1, 5, "60.00"),  # promo columns empty on this row
        ],
    )
    run(engine, "mart_chain_month")
    (may,) = rows(engine, "select * from mart_chain_month")
    # promo = 30.00 (feed), not 160.00 (promotion days); share 30 / 160 = 0.1875
    assert may["promo_amount"] == D("30.00")
    assert may["promo_share"] == D("0.187500")
    # no listings -> no pairs, distribution rate null
    assert may["distribution_pairs"] == 0 and may["distribution_rate"] is None


def test_store_month(engine):
    chain_month_fixture(engine)
    run(engine, "mart_store_month")
    got = {(r["store_code"], r["month"]): r for r in rows(engine, "select * from mart_store_month")}
    # S1: Jan + Mar 2023, Jan + Mar 2024; S2: Mar 2024; S3: Feb 2024
    assert len(got) == 6
    s1 = got[("S1", date(2024, 3, 1))]
    # S1 Mar 2024: 100 + 60 + 9 = 169.00, 16 units; LY 190.00 -> 169/190 - 1 = -0.110526
    assert (s1["sellout_amount"], s1["sellout_units"]) == (D("169.00"), 16)
    assert s1["sellout_amount_ly"] == D("190.00")
    assert s1["yoy_growth"] == D("-0.110526")
    s2 = got[("S2", date(2024, 3, 1))]
    # S2 Mar 2024: 40 + 20 - 20 = 40.00, 4 units; no LY
    assert (s2["sellout_amount"], s2["sellout_units"]) == (D("40.00"), 4)
    assert s2["sellout_amount_ly"] is None and s2["yoy_growth"] is None
    s1_jan = got[("S1", date(2024, 1, 1))]
    # LY Jan 2023 = 0.00: YoY null
    assert s1_jan["sellout_amount_ly"] == D("0.00") and s1_jan["yoy_growth"] is None


# --- mart_chain_week -----------------------------------------------------------------


def chain_week_fixture(engine: sa.Engine) -> None:
    insert(engine, "ref_chain", [chain()])
    insert(
        engine,
        "ref_store",
        [store("S1", "A", date(2020, 1, 1)), store("S2", "B", date(2020, 1, 1))],
    )
    insert(engine, "ref_promotion", [promotion("P1", I1, "A", date(2024, 3, 1), date(2024, 3, 10))])
    insert(
        engine,
        "raw_sales",
        [
            # 2023-W08 (20..26 Feb 2023): a calendar "one year earlier" shift of 2024-W09
            # would catch 26 Feb 2023; the ISO rule must not
            sale(date(2023, 2, 26), "S1", I1, 9, "90.00"),
            # 2023-W09 (27 Feb..5 Mar 2023) = LY of 2024-W09
            sale(date(2023, 3, 5), "S1", I1, 12, "120.00"),
            # 2024-W09 = Mon 26 Feb..Sun 3 Mar 2024 (2024 is a leap year): crosses a month end
            sale(date(2024, 2, 27), "S2", I2, 2, "20.00"),
            sale(date(2024, 2, 28), "S1", I1, 10, "100.00"),  # before P1: no promo
            sale(date(2024, 3, 1), "S1", I1, 5, "60.00"),  # P1, class A: promo
            sale(date(2024, 3, 2), "S2", I2, -2, "-20.00"),  # return: S2 nets 0 units
            sale(date(2024, 3, 3), "S1", I2, 3, "30.00"),  # P1 is I1 only: no promo
            # 2025-W01 = Mon 30 Dec 2024..Sun 5 Jan 2025: 31 Dec 2024 is ISO year 2025
            sale(date(2024, 12, 31), "S1", I1, 4, "40.00"),
            sale(date(2025, 1, 5), "S1", I1, 1, "10.00"),
            # 2025-W52 = 22..28 Dec 2025 (2025 has 52 ISO weeks)
            sale(date(2025, 12, 28), "S1", I1, 7, "70.00"),
            # 2026-W01 = Mon 29 Dec 2025..Sun 4 Jan 2026: crosses a year end
            sale(date(2025, 12, 30), "S1", I1, 6, "60.00"),
            sale(date(2026, 1, 2), "S2", I2, 3, "30.00"),
            # 2026-W53 = Mon 28 Dec 2026..Sun 3 Jan 2027 (2026 has 53 ISO weeks)
            sale(date(2027, 1, 2), "S1", I1, 2, "20.00"),
        ],
    )
    insert(
        engine,
        "raw_invoices",
        [
            invoice(date(2024, 2, 26), "1000.00"),  # Monday of 2024-W09
            invoice(date(2024, 3, 3), "500.00"),  # Sunday of 2024-W09
            invoice(date(2024, 3, 4), "800.00"),  # Monday of 2024-W10: invoices, no sales
            invoice(date(2025, 12, 31), "200.00"),  # 2026-W01
            invoice(date(2026, 1, 4), "100.00"),  # 2026-W01 (its Sunday)
        ],
    )


def test_chain_week_kpis(engine):
    chain_week_fixture(engine)
    run(engine, "mart_chain_week")
    got = {
        (r["iso_year"], r["iso_week"]): r
        for r in rows(engine, "select * from mart_chain_week where chain_code = :c", c=CHAIN)
    }
    # every ISO week with sales rows or invoice lines, nothing else
    assert sorted(got) == [
        (2023, 8),
        (2023, 9),
        (2024, 9),
        (2024, 10),
        (2025, 1),
        (2025, 52),
        (2026, 1),
        (2026, 53),
    ]
    # week_start is the Monday, week_end the Sunday
    assert {k: (r["week_start"], r["week_end"]) for k, r in got.items()} == {
        (2023, 8): (date(2023, 2, 20), date(2023, 2, 26)),
        (2023, 9): (date(2023, 2, 27), date(2023, 3, 5)),
        (2024, 9): (date(2024, 2, 26), date(2024, 3, 3)),
        (2024, 10): (date(2024, 3, 4), date(2024, 3, 10)),
        (2025, 1): (date(2024, 12, 30), date(2025, 1, 5)),
        (2025, 52): (date(2025, 12, 22), date(2025, 12, 28)),
        (2026, 1): (date(2025, 12, 29), date(2026, 1, 4)),
        (2026, 53): (date(2026, 12, 28), date(2027, 1, 3)),
    }

    w09 = got[(2024, 9)]  # 26 Feb..3 Mar 2024, across the February/March month end
    # sell-out: 20 + 100 + 60 - 20 + 30 = 190.00; units 2 + 10 + 5 - 2 + 3 = 18
    assert w09["sellout_amount"] == D("190.00")
    assert w09["sellout_units"] == 18
    # LY = 2023-W09 (27 Feb..5 Mar 2023) = 120.00 only (26 Feb 2023 is 2023-W08);
    # YoY = 190 / 120 - 1 = 0.583333...
    assert w09["sellout_amount_ly"] == D("120.00")
    assert w09["yoy_growth"] == D("0.583333")
    # sell-in by invoice_date: 1000 (Mon 26 Feb) + 500 (Sun 3 Mar) = 1500.00
    assert w09["sell_in_net"] == D("1500.00")
    # active: S1 (10 + 5 + 3 = 18 units); S2 sold 2 in Feb and returned 2 in Mar: nets 0
    assert w09["active_stores"] == 1
    # promo: only S1 x I1 on 1 Mar inside P1 = 60.00; share 60 / 190 = 0.315789...
    assert w09["promo_amount"] == D("60.00")
    assert w09["promo_share"] == D("0.315789")
    # business dates 27, 28 Feb and 1, 2, 3 Mar
    assert w09["sales_days"] == 5

    w10 = got[(2024, 10)]
    # invoice-only week: no sales, sell-in 800.00, LY (2023-W10) has no rows -> null
    assert (w10["sellout_amount"], w10["sellout_units"]) == (D("0.00"), 0)
    assert w10["sell_in_net"] == D("800.00")
    assert w10["sellout_amount_ly"] is None and w10["yoy_growth"] is None
    assert (w10["active_stores"], w10["sales_days"]) == (0, 0)
    assert w10["promo_amount"] == D("0.00") and w10["promo_share"] is None

    w2501 = got[(2025, 1)]
    # 31 Dec 2024 (calendar 2024) + 5 Jan 2025 = 40 + 10 = 50.00 in ISO 2025-W01;
    # LY 2024-W01 (1..7 Jan 2024) has no sales rows: LY and YoY null
    assert w2501["sellout_amount"] == D("50.00")
    assert w2501["sellout_amount_ly"] is None and w2501["yoy_growth"] is None
    assert w2501["sell_in_net"] == D("0.00")

    w2601 = got[(2026, 1)]  # 29 Dec 2025..4 Jan 2026, across the year end
    # sell-out 60 + 30 = 90.00, units 6 + 3 = 9; LY = 2025-W01 = 50.00; 90 / 50 - 1 = 0.8
    assert (w2601["sellout_amount"], w2601["sellout_units"]) == (D("90.00"), 9)
    assert w2601["sellout_amount_ly"] == D("50.00")
    assert w2601["yoy_growth"] == D("0.800000")
    # sell-in 200 (31 Dec 2025) + 100 (4 Jan 2026) = 300.00; active S1 (6), S2 (3)
    assert w2601["sell_in_net"] == D("300.00")
    assert w2601["active_stores"] == 2
    assert w2601["sales_days"] == 2
    # no promotion covers these days: promo 0.00, share 0 / 90 = 0
    assert w2601["promo_amount"] == D("0.00") and w2601["promo_share"] == D("0.000000")

    w53 = got[(2026, 53)]
    # 2 Jan 2027 is ISO 2026-W53: 20.00; ISO 2025 has no week 53 (2025-W52's 70.00 is
    # not its LY): LY and YoY null
    assert (w53["sellout_amount"], w53["sellout_units"]) == (D("20.00"), 2)
    assert w53["sellout_amount_ly"] is None and w53["yoy_growth"] is None
    assert w53["active_stores"] == 1 and w53["sales_days"] == 1

    # 2023-W09 itself: 120.00, no 2022 rows -> LY null
    assert got[(2023, 9)]["sellout_amount"] == D("120.00")
    assert got[(2023, 9)]["sellout_amount_ly"] is None


def test_chain_week_totals_match_chain_month(engine):
    # every sales row and invoice line falls in exactly one week and one month
    chain_month_fixture(engine)
    run(engine, "mart_chain_month", "mart_chain_week")
    totals = "select sum(sellout_amount) as a, sum(sellout_units) as u, sum(sell_in_net) as s,"
    totals += " sum(promo_amount) as p, sum(sales_days) as d from "
    (month,) = rows(engine, totals + "mart_chain_month")
    (week,) = rows(engine, totals + "mart_chain_week")
    # sales 0 + 190 + 50 + 30 + 209 = 479.00; invoices 1000 + 500 + 800 = 2300.00
    assert month == week
    assert (week["a"], week["s"], week["p"]) == (D("479.00"), D("2300.00"), D("100.00"))


# --- mart_rebate_progress -----------------------------------------------------------


def test_rebate_retroactive_threshold_exact_and_taken(engine):
    insert(engine, "ref_chain", [chain()])
    insert(engine, "ref_contract", [contract(2024, "sell_in", "retroactive", excluded=True)])
    insert(
        engine,
        "ref_rebate_tier",
        [
            tier(2024, 1, "8000000.00", "0.0200"),
            tier(2024, 2, "9000000.00", "0.0250"),
            tier(2024, 3, "10000000.00", "0.0300"),
        ],
    )
    insert(
        engine,
        "raw_invoices",
        [
            invoice(date(2024, 1, 15), "5000000.00"),
            invoice(date(2024, 2, 10), "3500000.00"),
            invoice(date(2024, 2, 20), "400000.00", promo_id="P9"),  # promo: excluded
            invoice(date(2024, 3, 5), "500000.00"),
        ],
    )
    insert(engine, "raw_sales", [sale(date(2024, 3, 10), "S1", I1, 1, "10.00")])
    insert(
        engine,
        "raw_deductions",
        [
            deduction("R1", date(2024, 2, 25), "rebate", "100000.00"),
            deduction("R2", date(2024, 3, 8), "rebate", "150000.00"),
        ],
    )
    run(engine, "mart_rebate_progress")
    got = by("as_of_date", rows(engine, "select * from mart_rebate_progress"))
    # every day from the contract start up to the last data date (sales file of 10 Mar):
    # 31 + 29 + 10 = 70 days; checked below at 31 Jan, 29 Feb and 10 Mar
    assert sorted(got) == [date(2024, 1, 1) + timedelta(days=n) for n in range(70)]

    jan = got[date(2024, 1, 31)]
    # base 5,000,000 < 8,000,000: no tier, earns 0; next tier 1, gap 3,000,000
    assert jan["eligible_base_ytd"] == D("5000000.00")
    assert jan["tier_no_reached"] is None and jan["rate_reached"] is None
    assert jan["rebate_earned"] == D("0.00")
    assert (jan["next_tier_no"], jan["gap_to_next_tier"]) == (1, D("3000000.00"))
    assert jan["rebate_taken"] == D("0.00") and jan["rebate_balance"] == D("0.00")

    feb = got[date(2024, 2, 29)]
    # domain.md example: base 5,000,000 + 3,500,000 = 8,500,000 (the 400,000 promo line is
    # excluded) reaches tier 1 (2 %): 8,500,000 x 2 % = 170,000 on the whole base
    assert feb["eligible_base_ytd"] == D("8500000.00")
    assert (feb["tier_no_reached"], feb["rate_reached"]) == (1, D("0.0200"))
    assert feb["rebate_earned"] == D("170000.00")
    # next tier 2 at 9,000,000: gap 500,000
    assert feb["next_tier_no"] == 2
    assert feb["next_tier_threshold"] == D("9000000.00")
    assert feb["gap_to_next_tier"] == D("500000.00")
    # taken 100,000 (R1, 25 Feb): balance 170,000 - 100,000 = 70,000
    assert feb["rebate_taken"] == D("100000.00")
    assert feb["rebate_balance"] == D("70000.00")

    mar = got[date(2024, 3, 10)]
    # base 9,000,000 exactly: the threshold reached exactly counts -> tier 2 (2.5 %),
    # 9,000,000 x 2.5 % = 225,000; next tier 3 gap 1,000,000
    assert mar["eligible_base_ytd"] == D("9000000.00")
    assert (mar["tier_no_reached"], mar["rate_reached"]) == (2, D("0.0250"))
    assert mar["rebate_earned"] == D("225000.00")
    assert (mar["next_tier_no"], mar["gap_to_next_tier"]) == (3, D("1000000.00"))
    # taken 100,000 + 150,000 = 250,000 -> balance 225,000 - 250,000 = -25,000
    assert mar["rebate_taken"] == D("250000.00")
    assert mar["rebate_balance"] == D("-25000.00")


def test_rebate_stepped_sell_out_top_tier(engine):
    insert(engine, "ref_chain", [chain()])
    insert(engine, "ref_contract", [contract(2024, "sell_out", "stepped", excluded=True)])
    insert(
        engine,
        "ref_rebate_tier",
        [
            tier(2024, 1, "1000.00", "0.0100"),
            tier(2024, 2, "2000.00", "0.0200"),
            tier(2024, 3, "3000.00", "0.0300"),
        ],
    )
    insert(
        engine,
        "raw_sales",
        [
            sale(
                date(2024, 1, 10), "S1", I1, 300, "3500.00", promo_units=20, promo_amount="200.00"
            ),
            sale(date(2024, 2, 14), "S1", I1, 10, "100.00"),
        ],
    )
    run(engine, "mart_rebate_progress")
    got = by("as_of_date", rows(engine, "select * from mart_rebate_progress"))
    assert (min(got), max(got), len(got)) == (date(2024, 1, 1), date(2024, 2, 14), 31 + 14)
    jan = got[date(2024, 1, 31)]
    # base = 3,500 - 200 promo = 3,300; stepped: (2000-1000) x 1 % + (3000-2000) x 2 %
    # + (3300-3000) x 3 % = 10 + 20 + 9 = 39.00; top tier: no next tier, gap null
    assert jan["eligible_base_ytd"] == D("3300.00")
    assert (jan["tier_no_reached"], jan["rate_reached"]) == (3, D("0.0300"))
    assert jan["rebate_earned"] == D("39.00")
    assert jan["next_tier_no"] is None and jan["next_tier_threshold"] is None
    assert jan["gap_to_next_tier"] is None
    feb = got[date(2024, 2, 14)]
    # base 3,400: 10 + 20 + 400 x 3 % = 42.00 (partial month ends at the last data date)
    assert feb["eligible_base_ytd"] == D("3400.00")
    assert feb["rebate_earned"] == D("42.00")


def test_rebate_stepped_below_first_threshold_and_promo_included(engine):
    insert(engine, "ref_chain", [chain()])
    insert(engine, "ref_contract", [contract(2024, "sell_in", "stepped", excluded=False)])
    insert(
        engine,
        "ref_rebate_tier",
        [
            tier(2024, 1, "1000.00", "0.0100"),
            tier(2024, 2, "2000.00", "0.0200"),
        ],
    )
    insert(
        engine,
        "raw_invoices",
        [
            invoice(date(2024, 1, 10), "600.00"),
            invoice(date(2024, 1, 11), "300.00", promo_id="P1"),  # counts: not excluded
            invoice(date(2024, 2, 11), "1500.00"),
        ],
    )
    run(engine, "mart_rebate_progress")
    got = by("as_of_date", rows(engine, "select * from mart_rebate_progress"))
    # Jan: 900 below the first threshold earns nothing; gap to tier 1 = 100
    assert got[date(2024, 1, 31)]["rebate_earned"] == D("0.00")
    assert got[date(2024, 1, 31)]["gap_to_next_tier"] == D("100.00")
    # Feb (11th): 2,400 -> 1000 x 1 % + 400 x 2 % = 10 + 8 = 18.00
    feb = got[date(2024, 2, 11)]
    assert feb["eligible_base_ytd"] == D("2400.00")
    assert feb["rebate_earned"] == D("18.00")
    assert feb["tier_no_reached"] == 2


# --- mart_deduction_check -----------------------------------------------------------


def deduction_fixture(engine: sa.Engine) -> None:
    insert(engine, "ref_chain", [chain(window=30)])
    insert(
        engine,
        "ref_store",
        [
            store("S1", "A", date(2020, 1, 1)),
            store("S2", "B", date(2020, 1, 1)),
        ],
    )
    # fee amounts quoted with VAT here: the VAT conversion is tested in test_fee_basis.py
    insert(
        engine,
        "ref_contract",
        [contract(2024, "sell_in", "retroactive", excluded=True, fee_amounts="incl_vat")],
    )
    insert(engine, "ref_rebate_tier", [tier(2024, 1, "1000.00", "0.1000")])
    insert(
        engine,
        "ref_contract_fee",
        [
            {
                "chain_code": CHAIN,
                "contract_year": 2024,
                "fee_type": "dm_fee",
                "basis": "per_month",
                "amount": D("5000.00"),
            },
            {
                "chain_code": CHAIN,
                "contract_year": 2024,
                "fee_type": "display_fee",
                "basis": "per_store_month",
                "amount": D("3000.00"),
            },
        ],
    )
    insert(
        engine,
        "ref_promotion",
        [
            promotion("P1", I1, "A", date(2024, 3, 1), date(2024, 3, 10), subsidy="2.00"),
        ],
    )
    insert(
        engine,
        "raw_sales",
        [
            # no promo columns: POS promo units of P1 = units of class-A stores on 1-10 Mar
            sale(date(2024, 3, 1), "S1", I1, 10, "99.00"),
            sale(date(2024, 3, 5), "S1", I1, 15, "148.50"),
            sale(date(2024, 3, 5), "S2", I1, 7, "69.30"),  # class B: not participating
            sale(date(2024, 3, 11), "S1", I1, 9, "89.10"),  # after the promotion
        ],
    )
    # rebate base: 20,000 sell-in in Jan >= 1,000 -> earns 10 % = 2,000 from 31 Jan on
    insert(engine, "raw_invoices", [invoice(date(2024, 1, 10), "20000.00")])
    stmt = date(2024, 4, 10)
    march = {"period_start": date(2024, 3, 1), "period_end": date(2024, 3, 31)}
    p1 = {
        "reference": "P1",
        "barcode": I1,
        "period_start": date(2024, 3, 1),
        "period_end": date(2024, 3, 10),
    }
    insert(
        engine,
        "raw_deductions",
        [
            deduction("D01", stmt, "unclassified", "123.00", text="神秘费用"),
            deduction("D02", stmt, "dm_fee", "5000.00", reference="DM-MAR", **march),
            deduction("D03", stmt, "dm_fee", "5000.00", reference="DM-MAR", **march),
            deduction("D04", stmt, "promo_subsidy", "80.00", reference="PX", barcode=I1, units=40),
            deduction(
                "D05",
                stmt,
                "promo_subsidy",
                "20.00",
                reference="P1",
                barcode=I1,
                units=10,
                period_start=date(2024, 2, 25),
                period_end=date(2024, 3, 5),
            ),
            deduction(
                "D06",
                stmt,
                "dm_fee",
                "4000.00",
                reference="DM-JUN23",
                period_start=date(2023, 6, 1),
                period_end=date(2023, 6, 30),
            ),
            deduction("D07", stmt, "promo_subsidy", "60.00", units=30, **p1),
            deduction(
                "D08",
                date(2024, 2, 5),
                "rebate",
                "1500.00",
                statement="ST0",
                period_start=date(2024, 1, 1),
                period_end=date(2024, 12, 31),
            ),
            deduction(
                "D09",
                date(2024, 2, 6),
                "rebate",
                "800.00",
                statement="ST0",
                reference="R-2",
                period_start=date(2024, 1, 1),
                period_end=date(2024, 12, 31),
            ),
            deduction("D10", stmt, "data_fee", "700.00"),
            deduction("D11", stmt, "display_fee", "3500.00", store_code="S1", **march),
            deduction("D12", stmt, "promo_subsidy", "40.00", units=20, store_code="S1", **p1),
            deduction("D13", stmt, "display_fee", "3000.00", store_code="S2", **march),
        ],
    )


def test_deduction_statuses(engine):
    deduction_fixture(engine)
    run(engine)  # 30_ rebate progress feeds 40_ deduction check
    got = by("deduction_no", rows(engine, "select * from mart_deduction_check"))
    assert len(got) == 13

    def check(no, status, expected, disputable):
        r = got[no]
        assert (r["status"], r["expected_amount"], r["disputable_amount"]) == (
            status,
            D(expected),
            D(disputable),
        ), (no, r)
        return r

    check("D01", "unclassified", "0.00", "0.00")
    assert "needs review" in got["D01"]["evidence"]
    # the first DM-MAR line is within the 5,000 per_month allowance
    r = check("D02", "valid", "5000.00", "0.00")
    assert r["evidence"] == (
        "contract 2024 dm_fee per_month, group month 2024-03: allowance 5000.00"
        " (5000.00 per month); group charged 5000.00 on ST1/D02; this line allowed 5000.00,"
        " charged 5000.00"
    )
    # the second line with the same type, reference and period: all of it
    r = check("D03", "duplicate", "0.00", "5000.00")
    assert "statement ST1 line D02" in r["evidence"]
    check("D04", "promo_not_found", "0.00", "80.00")
    # period 25 Feb - 5 Mar is not inside P1's 1-10 Mar
    check("D05", "outside_period", "0.00", "20.00")
    # June 2023 lies outside every contract year (only 2024 exists)
    r = check("D06", "outside_period", "0.00", "4000.00")
    assert "not covered by any contract year" in r["evidence"]
    # POS promo units of P1 x I1 in class-A stores 1-10 Mar: 10 + 15 = 25 (S2 is class B,
    # 11 Mar is after the promotion); claimed 30 -> excess 5 x 2.00 = 10.00;
    # expected 25 x 2.00 = 50.00
    r = check("D07", "promo_overclaim", "50.00", "10.00")
    assert "claimed 30 units, POS promo units 25" in r["evidence"]
    # rebate earned as of the line's date (5 Feb): 20,000 x 10 % = 2,000;
    # taken to date 1,500 -> valid
    check("D08", "valid", "1500.00", "0.00")
    # cumulative 1,500 + 800 = 2,300 > 2,000: excess 300 (<= the line's 800) disputable
    r = check("D09", "rebate_over_taken", "500.00", "300.00")
    assert "rebate earned 2000.00 as of 2024-02-06" in r["evidence"]
    check("D10", "no_contract_basis", "0.00", "700.00")
    # display fee allows 3,000 per store and month (S1 open in March): 3,500 - 3,000 = 500
    r = check("D11", "over_contract", "3000.00", "500.00")
    assert r["evidence"] == (
        "contract 2024 display_fee per_store_month, group store S1 month 2024-03:"
        " allowance 3000.00 (3000.00 x 1 store(s) open that month); group charged 3500.00"
        " on ST1/D11; this line allowed 3000.00, charged 3500.00"
    )
    # store S1's own claim: 20 units <= 25 POS units, 20 x 2.00 = 40.00 -> valid
    check("D12", "valid", "40.00", "0.00")
    # same type and period as D11 but another store: not a duplicate, within allowance
    check("D13", "valid", "3000.00", "0.00")

    # dispute deadline = deduction date + the chain's 30-day window
    assert got["D02"]["dispute_deadline"] == date(2024, 5, 10)
    assert got["D08"]["dispute_deadline"] == date(2024, 3, 6)
    # the line's own columns are carried through
    assert got["D11"]["store_code"] == "S1" and got["D11"]["amount"] == D("3500.00")
    assert got["D01"]["deduction_text"] == "神秘费用"


def test_promo_overclaim_with_promo_columns(engine):
    insert(engine, "ref_chain", [chain(window=45)])
    insert(engine, "ref_store", [store("S1", "A", date(2020, 1, 1))])
    insert(
        engine,
        "ref_promotion",
        [
            promotion("P1", I1, None, date(2024, 3, 1), date(2024, 3, 10), subsidy="1.50"),
        ],
    )
    insert(
        engine,
        "raw_sales",
        [
            # the chain sends promo columns: POS promo units = promo_units, not units
            sale(date(2024, 3, 2), "S1", I1, 50, "500.00", promo_units=12, promo_amount="100.00"),
            sale(date(2024, 3, 3), "S1", I1, 40, "400.00", promo_units=8, promo_amount="70.00"),
        ],
    )
    insert(
        engine,
        "raw_deductions",
        [
            deduction(
                "D1",
                date(2024, 4, 1),
                "promo_subsidy",
                "45.00",
                reference="P1",
                barcode=I1,
                units=30,
            ),
            # store S1's claim: 10 units <= 20 POS units, but charged above 10 x 1.50
            deduction(
                "D2",
                date(2024, 4, 1),
                "promo_subsidy",
                "20.00",
                reference="P1",
                barcode=I1,
                units=10,
                store_code="S1",
            ),
            # no barcode, no units: judged by amount against the POS value of 2 Mar
            deduction(
                "D3",
                date(2024, 4, 1),
                "promo_subsidy",
                "40.00",
                reference="P1",
                period_start=date(2024, 3, 2),
                period_end=date(2024, 3, 2),
            ),
        ],
    )
    run(engine)
    got = by("deduction_no", rows(engine, "select * from mart_deduction_check"))
    r = got["D1"]
    # POS promo units 12 + 8 = 20; claimed 30: (30 - 20) x 1.50 = 15.00 disputable,
    # expected 20 x 1.50 = 30.00; deadline 1 Apr + 45 days = 16 May
    assert (r["status"], r["expected_amount"], r["disputable_amount"]) == (
        "promo_overclaim",
        D("30.00"),
        D("15.00"),
    )
    assert r["dispute_deadline"] == date(2024, 5, 16)
    # D2: allowed 10 x 1.50 = 15.00, charged 20.00 -> over_contract, 5.00 disputable
    r = got["D2"]
    assert (r["status"], r["expected_amount"], r["disputable_amount"]) == (
        "over_contract",
        D("15.00"),
        D("5.00"),
    )
    # D3: POS promo units on 2 Mar = 12, value 12 x 1.50 = 18.00; charged 40.00 ->
    # promo_overclaim, expected 18.00, disputable 40 - 18 = 22.00
    r = got["D3"]
    assert (r["status"], r["expected_amount"], r["disputable_amount"]) == (
        "promo_overclaim",
        D("18.00"),
        D("22.00"),
    )


# --- whole runs ---------------------------------------------------------------------

MARTS = [
    "mart_chain_month",
    "mart_chain_week",
    "mart_store_month",
    "mart_rebate_progress",
    "mart_deduction_check",
]


def snapshot(engine: sa.Engine, chain_code: str) -> dict[str, list[tuple]]:
    out = {}
    with engine.connect() as conn:
        for table in ["stg_sales", *MARTS]:
            out[table] = sorted(
                tuple(r)
                for r in conn.execute(
                    sa.text(f"select * from {table} where chain_code = :c"), {"c": chain_code}
                )
            )
    return out


def test_rerun_is_identical_and_other_chains_untouched(engine):
    chain_month_fixture(engine)
    deduction_fixture_other = [
        deduction("X1", date(2024, 3, 1), "dm_fee", "10.00", ch=OTHER),
    ]
    insert(engine, "ref_chain", [chain(OTHER, window=10)])
    insert(engine, "ref_contract", [contract(2024, ch=OTHER), contract(2024)])
    insert(engine, "ref_rebate_tier", [tier(2024, 1, "100.00", "0.0100", ch=OTHER)])
    insert(engine, "raw_sales", [sale(date(2024, 3, 3), "S9", I1, 7, "70.00", ch=OTHER)])
    insert(engine, "raw_invoices", [invoice(date(2024, 3, 3), "700.00", ch=OTHER)])
    insert(engine, "raw_deductions", deduction_fixture_other)

    run(engine, chains=(OTHER,))
    other_before = snapshot(engine, OTHER)
    assert all(other_before[t] for t in MARTS)

    run(engine)
    first = snapshot(engine, CHAIN)
    run(engine)
    second = snapshot(engine, CHAIN)
    assert first == second
    assert all(first[t] for t in MARTS)
    # the CF runs neither changed nor added RT rows, and wrote only CF rows
    assert snapshot(engine, OTHER) == other_before
    counts = rows(
        engine,
        "select chain_code, count(*) as n from mart_chain_month "
        "group by chain_code order by chain_code",
    )
    assert [r["chain_code"] for r in counts] == [CHAIN, OTHER]
    assert (
        rows(engine, "select * from mart_deduction_check where chain_code = :c", c=OTHER)[0][
            "status"
        ]
        == "no_contract_basis"
    )
