"""The whole pipeline on the hand-made mini feeds, on DuckDB and PostgreSQL.

tests/fixtures/mini holds two chains: AAA (canonical CSV, all four feeds) and BBB
(GBK CSV, Chinese headers, thousands separators). Expected values are computed by hand
in the comments.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ka_pipeline.pipeline import run
from ka_pipeline.settings import load_settings
from ka_pipeline.warehouse import connect
from tests.helpers import copy_fixture, dump_tables, rows

D30, D31 = date(2026, 10, 30), date(2026, 10, 31)


@pytest.fixture
def home(tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KA_WAREHOUSE_URL", warehouse_url)
    monkeypatch.delenv("KA_SMTP_URL", raising=False)
    return copy_fixture("mini", tmp_path / "home")


def test_loads_every_feed_and_quarantines_bad_rows(home: Path) -> None:
    settings = load_settings(home)
    summary = run(settings, D30, D31, scorecards="never", progress=lambda m: None)
    assert not summary.failed
    engine = connect(settings.warehouse_url)

    aaa = next(c for c in summary.chains if c.chain_code == "AAA")
    # sales: 2 rows on the 30th; 4 on the 31st of which rows 3 and 4 are bad
    assert (aaa.feeds["sales"].rows_read, aaa.feeds["sales"].rows_loaded) == (6, 4)
    assert aaa.feeds["sales"].rows_quarantined == 2
    assert aaa.feeds["invoices"].rows_loaded == 3
    assert aaa.feeds["deductions"].rows_loaded == 3
    assert aaa.feeds["payments"].rows_loaded == 1
    bbb = next(c for c in summary.chains if c.chain_code == "BBB")
    assert bbb.missing == ["sales 2026-10-30"]  # BBB sent no file for the 30th
    assert (bbb.feeds["sales"].rows_loaded, bbb.feeds["sales"].rows_quarantined) == (1, 1)

    quarantined = rows(
        engine,
        "select chain_code, file_name, row_number, column_name, reason, raw_record"
        " from ops_quarantine order by chain_code, row_number",
    )
    assert [(q.chain_code, q.file_name, q.row_number, q.column_name) for q in quarantined] == [
        ("AAA", "sales/AAA_sales_20261031.csv", 3, "barcode"),
        ("AAA", "sales/AAA_sales_20261031.csv", 4, "store_code"),
        ("BBB", "sales/销售_20261031.csv", 2, "barcode"),
    ]
    assert (
        "not a valid GTIN-13" in quarantined[0].reason and "0012345678906" in quarantined[0].reason
    )
    assert "not a store of this chain" in quarantined[1].reason and "'A09'" in quarantined[1].reason
    # the raw record keeps the row exactly as the chain sent it, Chinese headers included
    assert json.loads(quarantined[2].raw_record)["商品条码"] == "6901234567899"

    # every file: rows read = loaded + quarantined, and it matches the warehouse
    for load in rows(engine, "select * from ops_load_log"):
        assert load.status == "loaded"
        assert load.rows_read == load.rows_loaded + load.rows_quarantined
    loaded = rows(
        engine,
        "select chain_code, sum(rows_loaded) as n from ops_load_log where feed = 'sales'"
        " group by chain_code order by chain_code",
    )
    in_table = rows(
        engine, "select chain_code, count(*) as n from raw_sales group by chain_code order by 1"
    )
    assert [tuple(r) for r in loaded] == [tuple(r) for r in in_table] == [("AAA", 4), ("BBB", 1)]

    # GBK, thousands separators and Y/m/d dates normalised; money exact, never a float
    bbb_row = rows(
        engine, "select business_date, units, sales_amount from raw_sales where chain_code = 'BBB'"
    )
    assert tuple(bbb_row[0]) == (D31, 1200, Decimal("4200.00"))
    # deduction texts mapped to canonical types by the default rules
    types = rows(engine, "select deduction_no, deduction_type from raw_deductions order by 1")
    assert [tuple(t) for t in types] == [("1", "dm_fee"), ("2", "dm_fee"), ("3", "anniversary_fee")]


def test_models_compute_from_loaded_data(home: Path) -> None:
    settings = load_settings(home)
    run(settings, D30, D31, scorecards="never", progress=lambda m: None)
    engine = connect(settings.warehouse_url)
    aaa = rows(engine, "select * from mart_chain_month where chain_code = 'AAA'")[0]
    # 29.90 + 10.00 + 11.96 - 3.50 = 48.36; units 10 + 2 + 4 - 1 = 15
    assert (aaa.sellout_amount, aaa.sellout_units) == (Decimal("48.36"), 15)
    assert aaa.target_achievement == Decimal("0.483600")  # 48.36 / 100
    assert aaa.sell_in_net == Decimal("430.00")  # 200 + 150 + 80
    # pairs: A01 and A02 (opened the 31st) x 2 listed items = 4; sold: A01 x 2; A02 sold -1
    assert (aaa.distribution_pairs, aaa.distribution_pairs_sold) == (4, 2)
    # carried (units <> 0 or on hand > 0, issue 8): A01 x 2 and A02's return (20 on hand)
    assert aaa.distribution_rate == Decimal("0.750000")  # 3 / 4
    assert aaa.active_stores == 1
    assert aaa.yoy_growth is None  # no October 2025 data
    rebate = rows(
        engine,
        "select * from mart_rebate_progress where chain_code = 'AAA' order by as_of_date desc",
    )[0]
    # base excludes the promo line INV-2 (80.00): 350.00 >= 100 -> tier 1 at 1 % = 3.50
    assert rebate.eligible_base_ytd == Decimal("350.00")
    assert (rebate.tier_no_reached, rebate.rebate_earned) == (1, Decimal("3.50"))
    assert rebate.gap_to_next_tier == Decimal("650.00")  # 1000 - 350
    checks = rows(
        engine,
        "select deduction_no, status, disputable_amount, dispute_deadline"
        " from mart_deduction_check where chain_code = 'AAA' order by deduction_no",
    )
    # line 1 matches the contract's dm_fee (500 allowed); line 2 repeats it; the
    # anniversary fee has no basis in the contract. Deadline: 31 Oct + 60 days.
    assert [tuple(c) for c in checks] == [
        ("1", "valid", Decimal("0.00"), date(2026, 12, 30)),
        ("2", "duplicate", Decimal("500.00"), date(2026, 12, 30)),
        ("3", "no_contract_basis", Decimal("800.00"), date(2026, 12, 30)),
    ]


def test_running_a_date_twice_changes_nothing(home: Path) -> None:
    settings = load_settings(home)
    first = run(settings, D31, D31, scorecards="auto", progress=lambda m: None)
    engine = connect(settings.warehouse_url)
    before = dump_tables(engine)
    outbox_before = sorted(p.relative_to(home) for p in settings.outbox_dir.rglob("*"))
    mtimes = {p: p.stat().st_mtime_ns for p in settings.outbox_dir.rglob("*.eml")}
    assert len(mtimes) == 3  # one scorecard per owner (ann, wang), ann's manager's roll-up
    assert first.mails

    second = run(settings, D31, D31, scorecards="auto", progress=lambda m: None)
    assert all(f.skipped == f.files for c in second.chains for f in c.feeds.values())
    assert dump_tables(engine) == before
    assert sorted(p.relative_to(home) for p in settings.outbox_dir.rglob("*")) == outbox_before
    assert {p: p.stat().st_mtime_ns for p in settings.outbox_dir.rglob("*.eml")} == mtimes


def test_restated_file_replaces_its_partition(home: Path) -> None:
    settings = load_settings(home)
    run(settings, D30, D30, chains=["AAA"], progress=lambda m: None)
    restated = home / "feeds/AAA/sales/AAA_sales_20261030.csv"
    restated.write_text(
        "business_date,store_code,barcode,units,sales_amount\n"
        "2026-10-30,A01,6901234567892,12,35.88\n",
        encoding="utf-8",
    )
    run(settings, D30, D30, chains=["AAA"], progress=lambda m: None)
    engine = connect(settings.warehouse_url)
    sales = rows(engine, "select units, sales_amount, load_id from raw_sales")
    assert [(r.units, r.sales_amount) for r in sales] == [(12, Decimal("35.88"))]
    history = rows(
        engine,
        "select load_id, status, rows_loaded from ops_load_log"
        " where feed = 'sales' order by load_id",
    )
    assert [(h.status, h.rows_loaded) for h in history] == [("superseded", 2), ("loaded", 1)]
    assert sales[0].load_id == history[1].load_id  # rows trace back to the load that wrote them


def test_unreadable_file_is_rejected_and_others_load(home: Path) -> None:
    settings = load_settings(home)
    bad = home / "feeds/BBB/sales/销售_20261030.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage \x81")  # not GBK
    summary = run(settings, D30, D30, scorecards="never", progress=lambda m: None)
    bbb = next(c for c in summary.chains if c.chain_code == "BBB")
    assert bbb.feeds["sales"].rejected == 1
    assert "cannot be decoded as gbk" in bbb.rejected[0] and str(bad) in bbb.rejected[0]
    engine = connect(settings.warehouse_url)
    log = rows(
        engine, "select chain_code, feed, status, message from ops_load_log order by load_id"
    )
    assert ("BBB", "sales", "rejected") in [(r.chain_code, r.feed, r.status) for r in log]
    assert rows(engine, "select count(*) as n from raw_sales where chain_code = 'AAA'")[0].n == 2
    # the same bad file again is recorded once, not twice
    run(settings, D30, D30, scorecards="never", progress=lambda m: None)
    assert len(rows(engine, "select * from ops_load_log where status = 'rejected'")) == 1


def test_month_end_mails_each_owner_once_over_smtp(
    home: Path, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, start, _, collector = smtp_server
    start()
    monkeypatch.setenv("KA_SMTP_URL", f"smtp://127.0.0.1:{port}")
    settings = load_settings(home)
    run(settings, D31, D31, progress=lambda m: None)
    # ann (en), wang (zh-CN), and ann's manager the team roll-up: one message each
    assert sorted(tuple(e.rcpt_tos) for e in collector.envelopes) == [
        ("ann@example.com",),
        ("boss@example.com",),
        ("wang.fang@example.com",),
    ]
    run(settings, D31, D31, progress=lambda m: None)
    assert len(collector.envelopes) == 3  # the second run sends nothing
    engine = connect(settings.warehouse_url)
    assert {r.status for r in rows(engine, "select status from ops_outbox")} == {"sent"}


def test_impossible_dates_are_quarantined_not_loaded(home: Path) -> None:
    statement = home / "feeds/AAA/deductions/AAA_statement_20261031.csv"
    statement.write_text(
        statement.read_text(encoding="utf-8").replace(
            "ST-10,3,2026-10-31,Anniversary sponsorship,800.00,A01,,,,2026-10-01,2026-10-31",
            "ST-10,3,2026-10-31,Anniversary sponsorship,800.00,A01,,,,2026-09-01,2026-09-31",
        ),
        encoding="utf-8",
    )
    settings = load_settings(home)
    summary = run(settings, D31, D31, chains=["AAA"], progress=lambda m: None)
    assert not summary.failed
    engine = connect(settings.warehouse_url)
    bad = rows(
        engine,
        "select row_number, column_name, reason from ops_quarantine where feed = 'deductions'",
    )
    # 30 September does not exist: the row is quarantined, the other two lines load
    assert [(b.row_number, b.column_name) for b in bad] == [(3, "period_end")]
    assert "not a calendar date" in bad[0].reason and "'2026-09-31'" in bad[0].reason
    assert rows(engine, "select count(*) as n from raw_deductions")[0].n == 2


def test_a_line_with_too_many_fields_is_quarantined_and_the_rest_loads(home: Path) -> None:
    sales = home / "feeds/AAA/sales/AAA_sales_20261030.csv"
    sales.write_text(
        "business_date,store_code,barcode,units,sales_amount\n"
        "2026-10-30,A01,6901234567892,10,29.90\n"
        "2026-10-30,A01,0012345678905,2,10.00,oops\n"  # an unquoted comma in the chain's export
        "2026-10-30,A02,0012345678905,1\n",  # short: padded, then sales_amount is empty
        encoding="utf-8",
    )
    settings = load_settings(home)
    summary = run(settings, D30, D30, chains=["AAA"], progress=lambda m: None)
    counts = summary.chains[0].feeds["sales"]
    assert (counts.rows_read, counts.rows_loaded, counts.rows_quarantined) == (3, 1, 2)
    engine = connect(settings.warehouse_url)
    bad = rows(
        engine,
        "select row_number, reason, raw_record from ops_quarantine"
        " where feed = 'sales' order by row_number",
    )
    assert [(b.row_number, b.reason) for b in bad] == [
        (2, "the line has 6 fields, the header has 5"),
        (3, "sales_amount is empty"),
    ]
    assert json.loads(bad[0].raw_record)[-1] == "oops"
    loaded = rows(engine, "select store_code, barcode, units from raw_sales")
    assert [tuple(r) for r in loaded] == [("A01", "6901234567892", 10)]
