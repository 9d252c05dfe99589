"""A corpus of hostile and careless inputs, each with its exact outcome.

Feed cases: every file sits on its own business date, so the whole corpus loads in one
backfill per warehouse (which also proves each file's checks are its own: no file's
outcome depends on the others in its batch). Each case states which rows load, which
are quarantined with which column and reason, or why the whole file is rejected.
Configuration cases: each bad value gives a ConfigError (exit 2) naming the file and the
entry. End-to-end cases run ``ka_pipeline.pipeline.run`` / the CLI for exit codes,
restatement holds and nightly == backfill.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from ka_pipeline import pipeline
from ka_pipeline.cli import main as cli_main
from ka_pipeline.config import load_config
from ka_pipeline.errors import ConfigError
from ka_pipeline.pipeline import run, run_chain
from ka_pipeline.settings import load_settings
from ka_pipeline.warehouse import connect
from tests.helpers import copy_fixture, rows

H = "business_date,store_code,barcode,units,sales_amount\n"
G = "{d},A01,6901234567892,10,29.90\n"  # a good AAA sales row
G2 = "{d},A01,0012345678905,2,10.00\n"
BH = "销售日期,门店编码,商品条码,销售数量,销售金额\n"  # BBB (GBK, thousands ",")
IH = "invoice_no,line_no,invoice_date,ship_to_code,barcode,units,unit_price,net_amount,vat_amount\n"
IG = "INV-{n},1,{d},A01,6901234567892,100,2.00,200.00,26.00\n"
FIRST = date(2026, 5, 1)


@dataclass
class Case:
    name: str
    content: str | bytes
    loaded: int | None = None  # rows loaded; None when the file is rejected
    quarantined: list[tuple[int, str, str]] = field(default_factory=list)  # row, column, reason
    rejected: str | None = None
    feed: str = "sales"
    chain: str = "AAA"


CASES = [
    Case("good", H + G + G2, 2),
    Case("header only", H, 0),
    Case("empty file", b"", None, rejected="the file is empty (no header row)"),
    Case("no header", G + G2, None, rejected="missing required column(s) 'business_date'"),
    Case("utf-8 BOM", "\ufeff" + H + G, 1),
    Case("CRLF line ends", (H + G + G2).replace("\n", "\r\n"), 2),
    Case("UTF-16 export", (H + G).encode("utf-16"), None, rejected="cannot be decoded as utf-8"),
    Case(
        "GBK bytes in a UTF-8 layout",
        (H.strip() + ",备注\n" + G.strip() + ",促销\n").encode("gbk"),
        None,
        rejected="cannot be decoded as utf-8",
    ),
    Case("cut off mid-field", H + G + "{d},A01,0012345678905,9,6", 1, [(2, None, "cut off")]),
    Case("cut off in the header", "business_date,store_code,barc", None, rejected="missing"),
    Case(
        "trailing total row 合计",
        H + G + "合计,,,10,29.90\n",
        1,
        [
            (
                2,
                "store_code, barcode, business_date",
                "calendar date in the layout's date format (got '合计')",
            )
        ],
    ),
    Case(
        "Excel scientific barcode",
        H + "{d},A01,6.90123E+12,10,29.90\n",
        0,
        [
            (
                1,
                "barcode",
                "not a valid GTIN-13 (13 digits with a correct check digit) (got '6.90123E+12')",
            )
        ],
    ),
    Case(
        "barcode lost its leading zeros",
        H + "{d},A01,12345678905,2,10.00\n",
        0,
        [(1, "barcode", "(got '12345678905')")],
    ),
    Case("bad check digit", H + "{d},A01,6901234567893,1,2.00\n", 0, [(1, "barcode", "GTIN")]),
    Case("unknown product", H + "{d},A01,6901234567809,1,2.00\n", 0, [(1, "barcode", "")]),
    Case("unknown store", H + G + "{d},Z99,0012345678905,1,2.00\n", 1, [(2, "store_code", "")]),
    Case(
        "store code in the wrong case",
        H + "{d},a01,6901234567892,1,2.00\n",
        0,
        [(1, "store_code", "(got 'a01')")],
    ),
    Case(
        "formula text",
        H + '{d},"=HYPERLINK(""http://x"")",6901234567892,1,2.00\n',
        0,
        [(1, "store_code", "=HYPERLINK")],
    ),
    Case(
        "control characters",
        H + "{d},A01\x1b[2J,6901234567892,1,2.00\n",
        0,
        [(1, "store_code", "\\x1b[2J")],
    ),
    Case(
        "bidi override",
        H + "{d},A01\u202e,6901234567892,1,2.00\n",
        0,
        [(1, "store_code", "\\u202e")],
    ),
    Case(
        "comma inside a quoted code",
        H + '{d},"A0,1",6901234567892,1,2.00\n',
        0,
        [(1, "store_code", "")],
    ),
    Case(
        "whitespace-only store",
        H + "{d},  ,6901234567892,1,2.00\n",
        0,
        [(1, "store_code", "store_code is empty")],
    ),
    Case("fractional units", H + "{d},A01,6901234567892,10.5,2.00\n", 0, [(1, "units", "10.5")]),
    Case("units in exponent form", H + "{d},A01,6901234567892,1e3,2.00\n", 0, [(1, "units", "")]),
    Case(
        "units beyond integer",
        H + "{d},A01,6901234567892,99999999999,2.00\n",
        0,
        [(1, "units", "")],
    ),
    Case("units written 12.0", H + "{d},A01,6901234567892,12.0,2.00\n", 1),
    Case("returns: negative units", H + "{d},A01,6901234567892,-2,-5.98\n", 1),
    Case(
        "three decimals",
        H + "{d},A01,6901234567892,1,29.999\n",
        0,
        [(1, "sales_amount", "(got '29.999')")],
    ),
    Case(
        "amount 999999999999.99",
        H + "{d},A01,6901234567892,1,999999999999.99\n",
        0,
        [(1, "sales_amount", "beyond the plausible amount")],
    ),
    Case(
        "amount beyond decimal(14,2)",
        H + "{d},A01,6901234567892,1,12345678901234.00\n",
        0,
        [(1, "sales_amount", "")],
    ),
    Case("amount NaN", H + "{d},A01,6901234567892,1,NaN\n", 0, [(1, "sales_amount", "NaN")]),
    Case(
        "amount with currency sign",
        H + "{d},A01,6901234567892,1,¥2.00\n",
        0,
        [(1, "sales_amount", "")],
    ),
    Case(
        "accounting negative", H + "{d},A01,6901234567892,1,(2.00)\n", 0, [(1, "sales_amount", "")]
    ),
    Case(
        "decimal comma in a '.' layout",
        H + '{d},A01,6901234567892,1,"29,90"\n',
        0,
        [(1, "sales_amount", "")],
    ),
    Case(
        "amount empty",
        H + "{d},A01,6901234567892,1,\n",
        0,
        [(1, "sales_amount", "sales_amount is empty")],
    ),
    Case(
        "yesterday's row",
        H + G + "{y},A01,0012345678905,2,10.00\n",
        1,
        [(2, "business_date", "differs from the file's business date")],
    ),
    Case(
        "day-first date",
        H + "31/10/2026,A01,6901234567892,1,2.00\n",
        0,
        [(1, "business_date", "not a calendar date")],
    ),
    Case(
        "same key twice in the file",
        H + G + G,
        0,
        [
            (1, "business_date,store_code,barcode", "more than once in the file"),
            (2, "business_date,store_code,barcode", "more than once in the file"),
        ],
    ),
    Case("padded header names", " business_date , store_code ,barcode,units,sales_amount\n" + G, 1),
    Case(
        "reordered columns",
        "sales_amount,units,barcode,store_code,business_date\n29.90,10,6901234567892,A01,{d}\n",
        1,
    ),
    Case(
        "header named twice",
        "business_date,store_code,barcode,units,units,sales_amount\n"
        "{d},A01,6901234567892,1,2,2.00\n",
        None,
        rejected="'units' more than once",
    ),
    Case(
        "merged title row above the header",
        "销售日报,,,,\n" + H + G,
        None,
        rejected="missing required column(s)",
    ),
    Case(
        "line with an extra field",
        H + G + "{d},A01,0012345678905,2,10.00,x\n",
        1,
        [(2, None, "the line has 6 fields, the header has 5")],
    ),
    Case(
        "short line",
        H + G + "{d},A01,0012345678905,2\n",
        1,
        [(2, "sales_amount", "sales_amount is empty")],
    ),
    Case("blank lines", H + "\n" + G + "\n\n" + G2, 2),
    Case(
        "tab-separated in a comma layout",
        (H + G).replace(",", "\t"),
        None,
        rejected="the header has 'business_date\\tstore_code",
    ),
    Case(
        "line break injected in a header",
        '"business_date\nERROR forged",' + H[14:] + G,
        None,
        rejected="'business_date\\nERROR forged'",
    ),
    Case(
        "optional columns",
        H.strip() + ",promo_units,on_hand_units\n{d},A01,6901234567892,10,29.90,4,0\n",
        1,
    ),
    Case(
        "on-hand not a number",
        H.strip() + ",on_hand_units\n{d},A01,6901234567892,10,29.90,n/a\n",
        0,
        [(1, "on_hand_units", "n/a")],
    ),
    # BBB: GBK, %Y/%m/%d dates, thousands ","
    Case("thousands grouped", BH + '{s},B01,6901234567892,1,"1,234.50"\n', 1, chain="BBB"),
    Case(
        "thousands misused 85,50",
        BH + '{s},B01,6901234567892,1,"85,50"\n',
        0,
        [(1, "sales_amount", "thousands separator outside groups of three digits (got '85,50')")],
        chain="BBB",
    ),
    Case(
        "thousands misused 1,2,3.40",
        BH + '{s},B01,6901234567892,1,"1,2,3.40"\n',
        0,
        [(1, "sales_amount", "(got '1,2,3.40')")],
        chain="BBB",
    ),
    Case("ISO date in a %Y/%m/%d layout", BH + "{d},B01,6901234567892,1,3.50\n", 1, chain="BBB"),
    Case(
        "UTF-8 file in a GBK layout",
        (BH + "{s},B01,6901234567892,1,3.50\n").encode(),
        None,
        rejected="",
        chain="BBB",
    ),
    # invoices
    Case("invoice good", IH + IG, 1, feed="invoices"),
    Case(
        "invoice dated 2099-12-31",
        IH + IG.replace("{d}", "2099-12-31"),
        0,
        [(1, "invoice_date", "implausibly far from the file's date")],
        feed="invoices",
    ),
    Case(
        "invoice dated 1900-01-01",
        IH + IG.replace("{d}", "1900-01-01"),
        0,
        [(1, "invoice_date", "implausibly far")],
        feed="invoices",
    ),
    Case(
        "invoice line twice in the file",
        IH + IG + IG,
        0,
        [(1, "invoice_no,line_no", "more than once"), (2, "invoice_no,line_no", "more than")],
        feed="invoices",
    ),
    Case(
        "invoice amount 999999999999.99",
        IH + "INV-{n},1,{d},A01,6901234567892,1,2.00,999999999999.99,26.00\n",
        0,
        [(1, "net_amount", "beyond the plausible amount")],
        feed="invoices",
    ),
    Case(
        "invoice line_no negative",
        IH + IG.replace(",1,{d}", ",-1,{d}"),
        0,
        [(1, "line_no", "")],
        feed="invoices",
    ),
]
FILES = {
    ("AAA", "sales"): "sales/AAA_sales_{:%Y%m%d}.csv",
    ("BBB", "sales"): "sales/销售_{:%Y%m%d}.csv",
    ("AAA", "invoices"): "invoices/AAA_invoices_{:%Y%m%d}.csv",
}


def _day(i: int) -> date:
    return FIRST + timedelta(days=i)


def _write_case(feeds: Path, i: int, case: Case) -> str:
    day = _day(i)
    name = FILES[(case.chain, case.feed)].format(day)
    content = case.content
    if isinstance(content, str):
        for token, value in {
            "{d}": day.isoformat(),
            "{y}": (day - timedelta(days=1)).isoformat(),
            "{s}": f"{day:%Y/%m/%d}",
            "{n}": str(i),
        }.items():
            content = content.replace(token, value)
        content = content.encode("gbk" if case.chain == "BBB" else "utf-8")
    path = feeds / case.chain / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return name


@pytest.fixture
def corpus_home(tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KA_WAREHOUSE_URL", warehouse_url)
    monkeypatch.delenv("KA_SMTP_URL", raising=False)
    home = copy_fixture("mini", tmp_path / "home")
    for chain in ("AAA", "BBB"):
        shutil.rmtree(home / "feeds" / chain)
    return home


def test_corpus_size() -> None:
    assert len(CASES) + len(FILE_CASES) + len(CONFIG_CASES) >= 60


@pytest.mark.parametrize("chunked", [False, True], ids=["batched", "chunked"])
def test_every_corpus_file_has_its_exact_outcome(
    corpus_home: Path, chunked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batched: all files in one batch. Chunked: every file read, checked and published
    in chunks of 1 row (the large-file path; on DuckDB through its staging tables, as a
    file over DUCKDB_DIRECT_BYTES is): the outcomes are the same."""
    if chunked:
        monkeypatch.setattr(pipeline, "BATCH_BYTES", 1)
        monkeypatch.setattr(pipeline, "CHUNK_ROWS", 1)
        monkeypatch.setattr(pipeline, "DUCKDB_DIRECT_BYTES", 0)
    settings = load_settings(corpus_home)
    names = [_write_case(settings.feeds_dir, i, case) for i, case in enumerate(CASES)]
    config = load_config(settings.config_dir)
    engine = connect(settings.warehouse_url)
    from ka_pipeline.masterdata import publish_master_data

    publish_master_data(engine, config)
    end = _day(len(CASES))
    for chain in ("AAA", "BBB"):
        run_chain(engine, settings, config, chain, FIRST, end, progress=lambda m: None)
    log = {
        (r.chain_code, r.file_name): r
        for r in rows(engine, "select * from ops_load_log where status <> 'superseded'")
    }
    quarantine = rows(
        engine,
        "select chain_code, file_name, row_number, column_name, reason, raw_record"
        " from ops_quarantine order by row_number",
    )
    failures = []
    for case, name in zip(CASES, names, strict=True):
        entry = log.get((case.chain, name))
        got_q = [
            (q.row_number, q.column_name, q.reason)
            for q in quarantine
            if (q.chain_code, q.file_name) == (case.chain, name)
        ]
        if entry is None:
            failures.append(f"{case.name}: no load-log row")
            continue
        if case.rejected is not None:
            ok = entry.status == "rejected" and case.rejected in (entry.message or "")
            ok = ok and "\n" not in entry.message and len(entry.message) < 2000
        else:
            ok = entry.status == "loaded" and entry.rows_loaded == case.loaded
            ok = ok and entry.rows_read == entry.rows_loaded + entry.rows_quarantined
            ok = ok and len(got_q) == len(case.quarantined) == entry.rows_quarantined
            for (row, column, reason), (g_row, g_column, g_reason) in zip(
                case.quarantined, got_q, strict=False
            ):
                ok = ok and row == g_row and column == g_column and reason in g_reason
                ok = ok and g_reason.isprintable()
        if not ok:
            failures.append(
                f"{case.name}: got {entry.status} {entry.rows_loaded} {entry.message!r} {got_q}"
            )
    assert not failures, "\n".join(failures)
    # the amount that passed before: nothing beyond the plausible limit was loaded
    amounts = rows(engine, "select max(sales_amount) as top from raw_sales")
    assert amounts[0].top == Decimal("1234.50")  # the BBB "1,234.50" row


# Files found by name: reported by discovery, never read.
FILE_CASES = [
    "seven-digit date",
    "impossible month",
    "link to /etc/passwd",
    "link to a folder",
    "line break in the name",
]


def test_names_and_links_that_are_not_feed_files(corpus_home: Path) -> None:
    settings = load_settings(corpus_home)
    sales = settings.feeds_dir / "AAA" / "sales"
    sales.mkdir(parents=True)
    (sales / "AAA_sales_2026101.csv").write_text(H + G.replace("{d}", "2026-10-01"))
    (sales / "AAA_sales_20261332.csv").write_text(H)
    (sales / "AAA_sales_\n20261004.csv").write_text(H)
    (sales / "AAA_sales_20261002.csv").symlink_to("/etc/passwd")
    outside = settings.home / "elsewhere"
    outside.mkdir()
    (outside / "AAA_sales_20261003.csv").write_text(H + G.replace("{d}", "2026-10-03"))
    (settings.feeds_dir / "AAA" / "sales2").symlink_to(outside)
    config = load_config(settings.config_dir)
    chain = config.chain("AAA")
    layout = chain.feeds["sales"]
    linked = type(layout)(**{**layout.__dict__, "file": "sales2/AAA_sales_{date:%Y%m%d}.csv"})
    engine = connect(settings.warehouse_url)
    from ka_pipeline.masterdata import publish_master_data

    publish_master_data(engine, config)
    object.__setattr__(chain, "feeds", {"sales": layout, "invoices": linked})
    result = run_chain(
        engine,
        settings,
        config,
        "AAA",
        date(2026, 10, 1),
        date(2026, 11, 1),
        progress=lambda m: None,
    )
    problems = "\n".join(result.rejected)
    assert "sales/AAA_sales_2026101.csv': the date in the name is not a '%Y%m%d' date" in problems
    assert "sales/AAA_sales_20261332.csv': the date in the name" in problems
    assert "sales/AAA_sales_20261002.csv': a link to a file outside the chain's folder" in problems
    assert "'sales2/AAA_sales_20261003.csv': a link to a file outside" in problems
    assert "'sales/AAA_sales_\\n20261004.csv': the name has control characters" in problems
    assert "root:" not in problems  # nothing of /etc/passwd is read
    assert rows(engine, "select count(*) as n from ops_load_log")[0].n == 0


def _two_day_files(feeds: Path) -> None:
    """Day 1 and day 2 sales and invoices; day 2's invoice file is day 1's copied, and
    day 2's sales file repeats day 1's store x item with day 1's date."""
    d1, d2 = "2026-10-30", "2026-10-31"
    (feeds / "AAA/sales/AAA_sales_20261030.csv").write_text(H + G.replace("{d}", d1))
    (feeds / "AAA/sales/AAA_sales_20261031.csv").write_text(
        H + G2.replace("{d}", d2) + G.replace("{d}", d1)
    )
    invoices = IH + IG.replace("{n}", "1").replace("{d}", d1)
    (feeds / "AAA/invoices/AAA_invoices_20261030.csv").write_text(invoices)
    (feeds / "AAA/invoices/AAA_invoices_20261031.csv").write_text(invoices)
    for feed in ("deductions", "payments"):
        shutil.rmtree(feeds / "AAA" / feed)


def _tables(engine: sa.Engine) -> dict[str, list[tuple]]:
    queries = {
        "sales": "select business_date, store_code, barcode, units, sales_amount from raw_sales",
        "invoices": "select business_date, invoice_no, line_no, net_amount from raw_invoices",
        "quarantine": "select feed, business_date, file_name, row_number, column_name, reason"
        " from ops_quarantine",
        "log": "select feed, business_date, file_name, status, rows_read, rows_loaded,"
        " rows_quarantined from ops_load_log",
    }
    return {k: sorted(tuple(r) for r in rows(engine, q)) for k, q in queries.items()}


def test_nightly_and_backfill_give_identical_tables(
    tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KA_SMTP_URL", raising=False)
    results = []
    for mode in ("nightly", "backfill"):
        url = warehouse_url if mode == "nightly" else f"duckdb:///{tmp_path / 'b.duckdb'}"
        if mode == "backfill" and warehouse_url.startswith("postgresql"):
            engine = sa.create_engine(warehouse_url)
            with engine.begin() as conn:  # a fresh schema for the second run
                conn.execute(sa.text("drop schema public cascade; create schema public"))
            engine.dispose()
            url = warehouse_url
        monkeypatch.setenv("KA_WAREHOUSE_URL", url)
        home = copy_fixture("mini", tmp_path / mode)
        _two_day_files(home / "feeds")
        settings = load_settings(home)
        days = [(date(2026, 10, 30), date(2026, 10, 30)), (date(2026, 10, 31),) * 2]
        for start, end in days if mode == "nightly" else [(date(2026, 10, 30), date(2026, 10, 31))]:
            run(settings, start, end, chains=["AAA"], scorecards="never", progress=lambda m: None)
        engine = connect(settings.warehouse_url)
        results.append(_tables(engine))
        if mode == "nightly":
            from ka_pipeline import warehouse

            engine.dispose()
            warehouse._engine_for.cache_clear()
    nightly, backfill = results
    assert nightly == backfill
    # day 1's good row stays loaded; day 2's copy of it and of the invoice are quarantined
    assert [r[:3] for r in nightly["sales"]] == [
        (date(2026, 10, 30), "A01", "6901234567892"),
        (date(2026, 10, 31), "A01", "0012345678905"),
    ]
    assert [r[:3] for r in nightly["invoices"]] == [(date(2026, 10, 30), "INV-1", 1)]
    reasons = [r[5] for r in nightly["quarantine"]]
    assert any(
        "the invoice line is already loaded: for 2026-10-30 from invoices/AAA_invoices_20261030"
        in r
        for r in reasons
    )


def _cli(home: Path, *args: str) -> int:
    return cli_main(["--home", str(home), *args])


@pytest.mark.parametrize("chunked", [False, True], ids=["batched", "chunked"])
def test_restatement_that_empties_a_partition_is_held_unless_forced(
    tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch, chunked: bool
) -> None:
    if chunked:  # the large-file path: held after the last chunk, nothing kept (on
        # DuckDB in one transaction, as a file under DUCKDB_DIRECT_BYTES is)
        monkeypatch.setattr(pipeline, "BATCH_BYTES", 1)
        monkeypatch.setattr(pipeline, "CHUNK_ROWS", 1)
    monkeypatch.setenv("KA_WAREHOUSE_URL", warehouse_url)
    monkeypatch.delenv("KA_SMTP_URL", raising=False)
    home = copy_fixture("mini", tmp_path / "home")
    settings = load_settings(home)
    day = date(2026, 10, 30)
    summary = run(settings, day, day, chains=["AAA"], scorecards="never", progress=lambda m: None)
    assert summary.chains[0].feeds["sales"].rows_loaded == 2
    engine = connect(settings.warehouse_url)
    sales = home / "feeds/AAA/sales/AAA_sales_20261030.csv"
    # yesterday's file under today's name: every row's date differs, no good row
    sales.write_text(H + G.replace("{d}", "2026-10-29") + G2.replace("{d}", "2026-10-29"))
    code = _cli(
        home,
        "backfill",
        "--chain",
        "AAA",
        "--from",
        "2026-10-30",
        "--to",
        "2026-10-30",
        "--scorecards",
        "never",
    )
    assert code == 1  # held: a rejected file
    log = rows(
        engine,
        "select status, rows_loaded, message from ops_load_log"
        " where feed = 'sales' order by load_id",
    )
    assert [(r.status, r.rows_loaded) for r in log] == [("loaded", 2), ("rejected", 0)]
    assert "held for review: it would replace the 2 row(s) loaded from" in log[1].message
    assert "with 0 good row(s), below 50 %" in log[1].message.replace("50%", "50 %")
    assert rows(engine, "select count(*) as n from raw_sales where chain_code = 'AAA'")[0].n == 2
    # one good row of two: 50 % is not below the share, it replaces the partition
    sales.write_text(H + G.replace("{d}", "2026-10-30") + "2026-10-30,A01,bad,1,1.00\n")
    code = _cli(
        home,
        "backfill",
        "--chain",
        "AAA",
        "--from",
        "2026-10-30",
        "--to",
        "2026-10-30",
        "--scorecards",
        "never",
    )
    assert code == 0
    assert rows(engine, "select count(*) as n from raw_sales where chain_code = 'AAA'")[0].n == 1
    # a header-only file is held; --force accepts it and empties the partition
    sales.write_text(H)
    assert (
        _cli(
            home,
            "backfill",
            "--chain",
            "AAA",
            "--from",
            "2026-10-30",
            "--to",
            "2026-10-30",
            "--scorecards",
            "never",
        )
        == 1
    )
    assert rows(engine, "select count(*) as n from raw_sales where chain_code = 'AAA'")[0].n == 1
    assert (
        _cli(
            home,
            "backfill",
            "--chain",
            "AAA",
            "--from",
            "2026-10-30",
            "--to",
            "2026-10-30",
            "--scorecards",
            "never",
            "--force",
        )
        == 0
    )
    assert rows(engine, "select count(*) as n from raw_sales where chain_code = 'AAA'")[0].n == 0
    assert not [t for t in sa.inspect(engine).get_table_names() if t.startswith("stage_")]


def test_a_large_file_is_read_once_unless_a_key_repeats_across_its_chunks(
    tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The large-file path counts each chunk's keys as it reads; only a file where some
    key repeats is loaded again after a pass over its key columns, so both rows of a key
    repeated in chunks 1 and 2 are quarantined (the suite sees one chunk at a time)."""
    monkeypatch.setattr(pipeline, "BATCH_BYTES", 1)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 2)
    key_passes = []
    real = pipeline.repeated_rows

    def counted(*args, **kwargs):
        key_passes.append(args[0].name)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "repeated_rows", counted)
    monkeypatch.setenv("KA_WAREHOUSE_URL", warehouse_url)
    monkeypatch.delenv("KA_SMTP_URL", raising=False)
    home = copy_fixture("mini", tmp_path / "home")
    settings = load_settings(home)
    day = date(2026, 10, 30)
    sales = home / "feeds/AAA/sales/AAA_sales_20261030.csv"
    good, good2 = G.replace("{d}", "2026-10-30"), G2.replace("{d}", "2026-10-30")
    sales.write_text(H + good + good2 + "2026-10-30,A02,6901234567892,1,2.99\n")
    run(settings, day, day, chains=["AAA"], scorecards="never", progress=lambda m: None)
    assert key_passes == []  # no key repeats: the file was read once
    engine = connect(settings.warehouse_url)
    assert rows(engine, "select count(*) as n from raw_sales where chain_code = 'AAA'")[0].n == 3

    # the next day: row 4 repeats row 1, in the next chunk; row 2's barcode is bad
    day = date(2026, 10, 31)
    good, good2 = G.replace("{d}", "2026-10-31"), G2.replace("{d}", "2026-10-31")
    bad = "2026-10-31,A01,6901234567893,1,2.00\n"
    (home / "feeds/AAA/sales/AAA_sales_20261031.csv").write_text(H + good + bad + good2 + good)
    run(settings, day, day, chains=["AAA"], scorecards="never", progress=lambda m: None)
    assert key_passes == ["AAA_sales_20261031.csv"]
    loaded = rows(
        engine,
        "select barcode from raw_sales where chain_code = 'AAA' and business_date = '2026-10-31'",
    )
    assert [r.barcode for r in loaded] == ["0012345678905"]
    quarantined = rows(
        engine,
        "select q.row_number, q.reason from ops_quarantine q join ops_load_log l"
        " on l.load_id = q.load_id where l.status = 'loaded' and l.feed = 'sales'"
        " and l.business_date = '2026-10-31' order by q.row_number",
    )
    assert [r.row_number for r in quarantined] == [1, 2, 4]
    assert "more than once in the file" in quarantined[0].reason
    assert "GTIN-13" in quarantined[1].reason
    assert "more than once in the file" in quarantined[2].reason
    log = rows(
        engine,
        "select rows_read, rows_loaded, rows_quarantined from ops_load_log where"
        " feed = 'sales' and status = 'loaded' and business_date = '2026-10-31'",
    )
    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in log] == [(4, 1, 3)]
    # results stored: chunk 1's failure and the clean chunk 2, of the attempt that
    # loaded; none of the attempt rolled back when the repeat was found
    results = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (home / "validation" / "AAA" / "sales").glob("*.json")
        if "AAA_sales_20261031.csv" in p.read_text(encoding="utf-8")
    ]
    assert sorted(r["success"] for r in results) == [False, True]


def test_status_shows_file_contents_only_escaped(
    corpus_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(corpus_home)
    sales = settings.feeds_dir / "AAA" / "sales"
    sales.mkdir(parents=True)
    (sales / "AAA_sales_20261030.csv").write_text('"business_date\n\x1b[31mFORGED",x\n1,2\n')
    (sales / "AAA_sales_20261031.csv").write_text(
        H + "2026-10-31,\x1b[2J\u202eA01,6901234567892,1,2.00\n"
    )
    run(
        settings,
        date(2026, 10, 30),
        date(2026, 10, 31),
        chains=["AAA"],
        scorecards="never",
        progress=lambda m: None,
    )
    capsys.readouterr()
    assert _cli(corpus_home, "status") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "FORGED" in out and not any(
        line.startswith("\\x1b[31mFORGED") for line in out.split("\n")
    )
    assert "\\x1b[2J" in out


# --------------------------------------------------------------------------- config

CHAINS_AAA_SALES = 'sales: {file: "sales/AAA_sales_{date:%Y%m%d}.csv"}'


def _replace(name: str, old: str, new: str):
    def apply(folder: Path) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def _append(name: str, line: str):
    def apply(folder: Path) -> None:
        with (folder / name).open("a", encoding="utf-8") as handle:
            handle.write(line)

    return apply


CONFIG_CASES = {
    "owner email not an email": (
        _replace("owners.yaml", "email: ann@example.com", "email: not-an-email"),
        "owners.yaml owner 1: email: 'not-an-email' is not one email address",
    ),
    "owner email with a second recipient": (
        _replace("owners.yaml", "email: ann@example.com", 'email: "a@x.cn, attacker@evil.test"'),
        "owners.yaml owner 1: email: 'a@x.cn, attacker@evil.test' is not one email address",
    ),
    "manager email with a display name": (
        _replace("owners.yaml", "boss@example.com", '"Boss <boss@example.com>"'),
        "owners.yaml owner 1: manager_email:",
    ),
    "duplicate owner codes": (
        _replace("owners.yaml", "code: wang,", "code: ann,"),
        "owners.yaml owner 2: code 'ann' is already owner 1's",
    ),
    "owner locale": (
        _replace("owners.yaml", "locale: zh-CN", "locale: fr"),
        "owners.yaml owner 2: locale:",
    ),
    "target dated mid-month": (
        _replace("targets.csv", "AAA,2026-10-01", "AAA,2026-10-15"),
        "targets.csv line 2: month: 2026-10-15 is not the first day of a month",
    ),
    "target month 2026-13-01": (
        _replace("targets.csv", "AAA,2026-10-01", "AAA,2026-13-01"),
        "targets.csv line 2: month: '2026-13-01' is not a calendar date",
    ),
    "target text amount": (
        _replace("targets.csv", "100.00", "lots"),
        "targets.csv line 2: target_amount: 'lots' is not an amount",
    ),
    "text in a numeric field": (
        _replace("chains.yaml", "payment_terms_days: 30", "payment_terms_days: thirty"),
        "chains.yaml chain 1 (AAA): payment_terms_days: 'thirty' is not a whole number",
    ),
    "negative payment terms": (
        _replace("chains.yaml", "payment_terms_days: 30", "payment_terms_days: -5"),
        "chains.yaml chain 1 (AAA): payment_terms_days:",
    ),
    "a list at the top of chains.yaml": (
        lambda folder: (folder / "chains.yaml").write_text("- code: AAA\n"),
        "chains.yaml: the top level must be a mapping with 'chains:', got list",
    ),
    "chains not a list": (
        lambda folder: (folder / "chains.yaml").write_text("chains: {code: AAA}\n"),
        "chains.yaml: 'chains' must be a list, got dict",
    ),
    "not YAML": (
        lambda folder: (folder / "owners.yaml").write_text("owners: [\n"),
        "owners.yaml: not valid YAML",
    ),
    "barcode twice in products.csv": (
        _append("products.csv", "6901234567892,Green Tea copy,Leaf,beverages,1,2,3,3\n"),
        "products.csv line 4: barcode=6901234567892 is already on line 2",
    ),
    "product barcode check digit": (
        _append("products.csv", "6901234567893,Tea,Leaf,beverages,1,2,3,3\n"),
        "products.csv line 4: barcode: '6901234567893' is not a GTIN-13",
    ),
    "product price with 3 decimals": (
        _replace("products.csv", "1.20,2.00,3.50", "1.205,2.00,3.50"),
        "products.csv line 2: unit_cost: '1.205' is not an amount with at most 2 decimals",
    ),
    "store area text": (
        _replace("stores.csv", "6000", "big"),
        "stores.csv line 2: area_m2: 'big' is not a whole number",
    ),
    "store of an unknown chain": (
        _append("stores.csv", "ZZZ,Z1,Zed,Nowhere,North,100,2020-01-01,\n"),
        "stores.csv: unknown chain(s) ['ZZZ']",
    ),
    "store closed before opening": (
        _replace("stores.csv", "2020-01-01,", "2020-01-01,2019-01-01"),
        "stores.csv line 2: closed_on 2019-01-01 is before opened_on 2020-01-01",
    ),
    "absolute file pattern": (
        _replace("chains.yaml", '"sales/AAA_sales_{date:%Y%m%d}.csv"', '"/etc/{date:%Y%m%d}"'),
        "chains.yaml chain 1 (AAA) feeds.sales: file: '/etc/{date:%Y%m%d}' is absolute",
    ),
    "pattern leaving the folder": (
        _replace("chains.yaml", '"sales/AAA_sales', '"../BBB/sales/AAA_sales'),
        "chains.yaml chain 1 (AAA) feeds.sales: file: '../BBB/sales/AAA_sales_{date:%Y%m%d}.csv'"
        " leaves the chain's folder",
    ),
    "pattern with a wildcard": (
        _replace("chains.yaml", '"sales/AAA_sales', '"sales/*_sales'),
        "feeds.sales: file: 'sales/*_sales_{date:%Y%m%d}.csv' has a wildcard",
    ),
    "date token %Q": (
        _replace(
            "chains.yaml", '{date:%Y%m%d}.csv"}\n      invoices', '{date:%Q}.csv"}\n      invoices'
        ),
        "chains.yaml chain 1 (AAA) feeds.sales: file: '%Q' is not a date format",
    ),
    "date_format %Q": (
        _replace("chains.yaml", 'date_format: "%Y/%m/%d"', 'date_format: "%Q"'),
        "chains.yaml chain 2 (BBB) feeds.sales: date_format: '%Q' is not a date format",
    ),
    "date_format without a day": (
        _replace("chains.yaml", 'date_format: "%Y/%m/%d"', 'date_format: "%Y/%m"'),
        "date_format: '%Y/%m' needs a year, a month and a day",
    ),
    "newline in a name": (
        _replace("chains.yaml", "name: Alpha Mart", 'name: "Alpha\\nMart"'),
        "chains.yaml chain 1 (AAA): name: contains a line break",
    ),
    "chain code with a slash": (
        _replace("chains.yaml", "code: AAA", "code: A/A"),
        "chains.yaml chain 1 (A/A): code: 'A/A' is not a code",
    ),
    "misspelt layout setting": (
        _replace("chains.yaml", 'thousands: ","', 'thousand: ","'),
        "chains.yaml chain 2 (BBB) feeds.sales: thousand: is not a setting here",
    ),
    "unknown encoding": (
        _replace("chains.yaml", "encoding: gbk", "encoding: latin-1"),
        "chains.yaml chain 2 (BBB) feeds.sales: encoding:",
    ),
    "thousands equal to decimal": (
        _replace("chains.yaml", 'thousands: ","', 'thousands: "."'),
        "feeds.sales: thousands and decimal are both '.'",
    ),
    "restatement share above 1": (
        _replace("chains.yaml", "encoding: gbk", "encoding: gbk\n        restatement_min_share: 2"),
        "feeds.sales: restatement_min_share: Input should be less than or equal to 1",
    ),
    "layout not a mapping": (
        _replace("chains.yaml", CHAINS_AAA_SALES, "sales: [a, b]"),
        "chains.yaml chain 1 (AAA) feeds.sales: expected a mapping of settings, got list",
    ),
    "unknown feed": (
        _replace("chains.yaml", CHAINS_AAA_SALES, CHAINS_AAA_SALES + "\n      stock: {file: x}"),
        "chains.yaml chain 1 (AAA) feeds.stock: unknown feed 'stock'",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_configuration_names_file_and_entry(case: str, tmp_path: Path) -> None:
    mutate, message = CONFIG_CASES[case]
    home = copy_fixture("mini", tmp_path / "home")
    mutate(home / "config")
    with pytest.raises(ConfigError) as error:
        load_config(home / "config")
    assert message in str(error.value)
    assert "\n" not in str(error.value).split(": not valid YAML")[0]


def test_bad_configuration_exits_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KA_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'w.duckdb'}")
    home = copy_fixture("mini", tmp_path / "home")
    CONFIG_CASES["owner email with a second recipient"][0](home / "config")
    assert _cli(home, "run", "--date", "2026-10-30", "--scorecards", "never") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "is not one email address" in err
    assert os.fspath(home / "config" / "owners.yaml") in err
