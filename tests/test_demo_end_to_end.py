"""The demo end to end: every problem the generator plants is caught by the pipeline.

Runs a short demo range (two monthly statements) through the whole pipeline on DuckDB
and checks the warehouse against the generator's manifest (demo_manifest.json): each
bad row quarantined at its file and row, each planted deduction with the expected
status and disputable amount, the missing sales day reported, and nothing lost.
"""

from __future__ import annotations

import dataclasses
import email
from datetime import date
from decimal import Decimal
from email import policy

import pytest
import sqlalchemy as sa

from ka_demo import generate
from ka_pipeline.pipeline import run
from ka_pipeline.settings import load_settings
from ka_pipeline.warehouse import connect
from tests.helpers import rows

START, END = date(2026, 1, 1), date(2026, 3, 31)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("demo_e2e")
    mp = pytest.MonkeyPatch()
    mp.delenv("KA_WAREHOUSE_URL", raising=False)
    mp.delenv("KA_SMTP_URL", raising=False)
    demo = generate(home, start=START, end=END)
    settings = load_settings(home)
    summary = run(settings, START, END, scorecards="always", progress=lambda m: None)
    yield demo, summary, connect(settings.warehouse_url), home
    mp.undo()


def test_every_planted_bad_row_is_quarantined_where_it_was_planted(demo_run) -> None:
    demo, summary, engine, _ = demo_run
    planted = {(p["chain"], p["file"], p["row"]) for p in demo.planted_of("bad_row")}
    assert planted, "the short range must contain planted bad rows"
    quarantined = {
        (q.chain_code, q.file_name, q.row_number)
        for q in rows(engine, "select chain_code, file_name, row_number from ops_quarantine")
    }
    assert quarantined == planted


def test_planted_deductions_get_their_status_and_disputable_amount(demo_run) -> None:
    demo, _, engine, _ = demo_run
    kinds = (
        "duplicate",
        "over_contract",
        "no_contract_basis",
        "promo_overclaim",
        "unclassified",
        "promo_not_found",
    )
    planted = [p for k in kinds for p in demo.planted_of(k)]
    assert {p["kind"] for p in planted} == set(kinds)
    for p in planted:
        check = rows(
            engine,
            "select status, disputable_amount from mart_deduction_check"
            " where chain_code = :c and statement_no = :s and deduction_no = :d",
            c=p["chain"],
            s=p["statement_no"],
            d=p["deduction_no"],
        )
        assert [(c.status, c.disputable_amount) for c in check] == [
            (p["expected_status"], Decimal(p["disputable"]))
        ], p
    others = rows(
        engine,
        "select count(*) as n from mart_deduction_check where status <> 'valid'",
    )[0].n
    assert others == len(planted)  # no false alarm on the clean lines


def test_nothing_lost_and_missing_days_reported(demo_run) -> None:
    demo, summary, engine, _ = demo_run
    for load in rows(engine, "select * from ops_load_log"):
        assert load.rows_read == load.rows_loaded + load.rows_quarantined
    for feed in ("sales", "invoices", "deductions", "payments"):
        loaded = rows(engine, f"select count(*) as n from raw_{feed}")[0].n
        quarantined = rows(
            engine, "select count(*) as n from ops_quarantine where feed = :f", f=feed
        )[0].n
        assert loaded + quarantined == demo.rows[feed], feed
    missing = [f"sales {p['business_date']}" for p in demo.planted_of("missing_feed")]
    reported = [m for c in summary.chains for m in c.missing]
    assert reported == missing and missing


def test_one_scorecard_per_owner_in_their_language(demo_run) -> None:
    _, summary, _, home = demo_run
    mails = sorted((home / "outbox" / "2026-03").glob("*.eml"))
    assert [m.stem for m in mails] == ["emily.chen", "zhang.wei"]
    zh = email.message_from_bytes(mails[1].read_bytes(), policy=policy.default)
    en = email.message_from_bytes(mails[0].read_bytes(), policy=policy.default)
    assert "记分卡" in zh["Subject"] and "2026年3月" in zh["Subject"]
    assert en["Subject"] == "[KA monthly scorecard] March 2026 · Walmart"


COMPARED_TABLES = (
    "raw_sales",
    "raw_invoices",
    "raw_deductions",
    "raw_payments",
    "ops_quarantine",
    "stg_sales",
    "mart_chain_month",
    "mart_chain_week",
    "mart_store_month",
    "mart_rebate_progress",
    "mart_deduction_check",
)


def test_postgresql_gives_the_same_warehouse_as_duckdb(
    demo_run, postgres_server_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import _drop_pg_database, _new_pg_database

    _, _, duck, home = demo_run
    name, url = _new_pg_database(postgres_server_url)
    try:
        monkeypatch.setenv("KA_WAREHOUSE_URL", url)
        settings = load_settings(home)
        settings = dataclasses.replace(settings, outbox_dir=tmp_path / "outbox")
        run(settings, START, END, scorecards="never", progress=lambda m: None)
        pg = connect(url)
        for table in COMPARED_TABLES:
            # load_id is a per-warehouse sequence number; everything else must match
            query = f"select * from {table}"
            with duck.connect() as a, pg.connect() as b:
                left = [r._asdict() for r in a.execute(sa.text(query))]
                right = [r._asdict() for r in b.execute(sa.text(query))]
            for record in left + right:
                record.pop("load_id", None)
            assert sorted(map(repr, left)) == sorted(map(repr, right)), table
        pg.dispose()
    finally:
        from ka_pipeline import warehouse

        warehouse._engine_for.cache_clear()
        _drop_pg_database(postgres_server_url, name)
