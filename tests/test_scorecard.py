"""Scorecards built from hand-inserted mart and ops rows, rendered in zh-CN and en.

The warehouse content (``seed``) is small and every expected figure below is computed
by hand from it; ``seed`` and ``make_config`` are reused by test_delivery.py.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from ka_pipeline.config import Chain, Config, Owner
from ka_pipeline.scorecard import (
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


def _chain(code: str, name: str, local: str, owner: str) -> Chain:
    return Chain(code, name, local, "hypermarket", "East", "购销", 60, 90, owner, {}, ())


def make_config(folder: Path = Path(".")) -> Config:
    """Owner LN (zh-CN) owns CRF and RTM, JS (en) owns WMT, XX owns nothing."""
    owners = {
        "LN": Owner("LN", "李娜", "li.na@example.com", "zh-CN", "wang.qiang@example.com"),
        "JS": Owner("JS", "John Smith", "john.smith@example.com", "en", None),
        "XX": Owner("XX", "No Chains", "nobody@example.com", "en", None),
    }
    chains = {
        "CRF": _chain("CRF", "Carrefour", "家乐福", "LN"),
        "RTM": _chain("RTM", "RT-Mart", "大润发", "LN"),
        "WMT": _chain("WMT", "Walmart", "沃尔玛", "JS"),
    }
    contracts = [
        {"chain": "CRF", "year": 2026, "start": "2026-01-01", "end": "2026-12-31"},
        {"chain": "WMT", "year": 2026, "start": date(2026, 4, 1), "end": date(2027, 3, 31)},
    ]
    stores = pd.DataFrame(
        [
            ("CRF", "C01", "上海古北店"),
            ("CRF", "C02", "上海曲阳店"),
            ("CRF", "C03", "北京中关村店"),
            ("CRF", "C04", "杭州庆春店"),
            ("CRF", "C05", "南京新街口店"),
        ],
        columns=["chain_code", "store_code", "name"],
    )
    empty = pd.DataFrame()
    return Config(folder, chains, owners, contracts, stores, empty, empty, empty, empty)


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
        evidence=f"evidence {stmt}/{no}",
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
    with engine.begin() as conn:
        _insert(conn, "mart_chain_month", months)
        _insert(conn, "mart_store_month", stores)
        _insert(conn, "mart_rebate_progress", rebates)
        _insert(conn, "mart_deduction_check", deductions)
        _insert(conn, "ops_load_log", loads)


@pytest.fixture
def cards(engine):
    seed(engine)
    return {c.owner.code: c for c in build_scorecards(engine, make_config(), OCT, OCT_END, AS_OF)}


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
    assert crf.missing_sales_dates == [date(2026, 10, d) for d in (5, 6, 7, 15)]
    problems = [
        (p.business_date.day, p.feed, p.status, p.rows_quarantined) for p in crf.feed_problems
    ]
    assert problems == [(15, "sales", "rejected", 0), (20, "sales", "loaded", 3)]
    assert rtm.missing_sales_dates == [] and rtm.feed_problems == []
    assert cards["JS"].chains[0].missing_sales_dates == [date(2026, 10, 31)]


def test_render_zh(cards):
    mail = render(cards["LN"])
    assert mail.subject == "【KA月度记分卡】2026年10月 · 家乐福、大润发"
    for body in (mail.html, mail.text):
        assert "¥1,234,567.89" in body
        assert "+12.5%" in body
        assert "95.0%" in body and "125.0%" in body and "87.4%" in body
        assert "销售额" in body and "待申诉扣款" in body
        assert "剩 17 天" in body and "今天截止" in body and "剩 28 天" in body
        assert "10月5日–10月7日、10月15日" in body
        assert "-¥10,000.00" in body and "¥500,000.00" in body  # rebate balance, gap
        assert "无合同依据" in body and "超出合同金额" in body
        assert "Sell-out" not in body and "days left" not in body
        assert "沃尔玛" not in body and "WMT" not in body  # not this owner's chain
        assert "—" in body  # RTM has no LY
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
    assert "-9.1% ▼" in mail.text and "111.1% ▲" in mail.text
    assert "销售额" not in mail.text


def test_csv_attachment(cards):
    mail = render(cards["LN"])
    [(name, data)] = mail.attachments.items()
    assert name == "deductions-to-dispute_LN_2026-10.csv"
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["系统代码", "系统名称", "对账单号", "扣款单号"]
    assert [(r[0], r[3], r[12], r[17]) for r in rows[1:]] == [
        ("CRF", "D1", "5000.00", "17"),
        ("CRF", "D2", "3500.50", "0"),
        ("RTM", "D1", "1234.56", "28"),
    ]
    assert rows[1][1] == "家乐福" and rows[1][5] == "DM海报费"


def test_missing_data_renders(engine):
    """An empty warehouse: every figure is a dash, nothing crashes."""
    cards = {c.owner.code: c for c in build_scorecards(engine, make_config(), OCT, OCT_END, AS_OF)}
    ln, js = cards["LN"], cards["JS"]
    for card in (ln, js):
        mail = render(card)
        assert "—" in mail.text
        assert mail.attachments == {}
        assert all(png.startswith(b"\x89PNG") for png in mail.inline_images.values())
    assert "暂无数据" in render(ln).text
    assert "No figures for October 2026 yet" in render(js).text
    assert "Missing daily sales files (31)" in render(js).text  # no sales file at all


def test_rejects_a_non_month(engine):
    with pytest.raises(ValueError):
        build_scorecards(engine, make_config(), OCT, date(2026, 10, 30), AS_OF)
