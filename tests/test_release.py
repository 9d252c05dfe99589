"""Scorecards go out only from complete data, and once more, marked, when the data changes.

The mini fixture: ann owns AAA (sales files for 30 and 31 October), wang owns BBB (a
sales file for 31 October only, so BBB's 30 October is incomplete). Outbox only, no SMTP:
every version is one .eml file in the outbox and one ops_outbox row.
"""

from __future__ import annotations

import email
from datetime import date
from email import policy
from pathlib import Path

import pytest

from ka_pipeline.orchestration import business_date_for
from ka_pipeline.pipeline import run
from ka_pipeline.settings import load_settings
from ka_pipeline.warehouse import connect
from tests.helpers import copy_fixture, rows

D30, D31 = date(2026, 10, 30), date(2026, 10, 31)
NOV1, NOV3 = date(2026, 11, 1), date(2026, 11, 3)
QUIET = {"progress": lambda m: None}


@pytest.mark.parametrize(
    ("run_time", "tz", "expected"),
    [
        # the 04:00 Asia/Shanghai run of 1 November, as the scheduler stores it (UTC)
        ("2026-10-31T20:00:00+00:00", "Asia/Shanghai", "2026-10-31"),
        ("2026-10-31T20:00:00", "Asia/Shanghai", "2026-10-31"),  # naive = UTC
        ("2026-10-31T20:00:00+00:00", "UTC", "2026-10-30"),
        # Europe/Berlin, 04:00 local on the days DST starts and ends
        ("2026-03-29T02:00:00+00:00", "Europe/Berlin", "2026-03-28"),
        ("2026-10-25T03:00:00+00:00", "Europe/Berlin", "2026-10-24"),
        # America/New_York: 1 November 2026 is the day DST ends; 04:00 EST = 09:00Z
        ("2026-11-01T09:00:00+00:00", "America/New_York", "2026-10-31"),
        ("2026-03-08T08:00:00+00:00", "America/New_York", "2026-03-07"),
    ],
)
def test_business_date_is_the_day_before_the_run_in_the_dag_timezone(
    run_time: str, tz: str, expected: str
) -> None:
    assert business_date_for(run_time, tz).isoformat() == expected


def test_business_date_param_overrides() -> None:
    assert business_date_for("2026-10-31T20:00:00+00:00", "UTC", "2026-09-15") == date(2026, 9, 15)


@pytest.fixture
def home(tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KA_WAREHOUSE_URL", warehouse_url)
    monkeypatch.delenv("KA_SMTP_URL", raising=False)
    monkeypatch.delenv("KA_SCORECARD_GRACE_DAYS", raising=False)  # default: 3 days
    return copy_fixture("mini", tmp_path / "home")


def _outbox(home: Path, folder: str = "2026-10", teams: bool = False) -> list[str]:
    """The .eml files of a period's folder: the owners' mails (and the roll-ups, which
    are in its teams/ folder)."""
    pattern = "**/*.eml" if teams else "*.eml"
    return sorted(p.name for p in (home / "outbox" / folder).glob(pattern))


def _mail(home: Path, name: str) -> email.message.EmailMessage:
    data = (home / "outbox" / "2026-10" / name).read_bytes()
    return email.message_from_bytes(data, policy=policy.default)


def _text(msg: email.message.EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def test_incomplete_period_is_held_then_sent_with_its_gap_then_revised(home: Path) -> None:
    settings = load_settings(home)
    run(settings, D30, D30, **QUIET)  # BBB's sales of the 30th are missing
    first = run(settings, D31, D31, **QUIET)
    # October ended: ann's AAA is complete and goes out; wang's BBB misses the 30th
    assert _outbox(home) == ["ann.eml"]
    held = [m for m in first.mails if m.outcome == "held"]
    assert [(h.owner_code, h.period_start) for h in held] == [("wang", date(2026, 10, 1))]
    assert "BBB: 1 day(s) incomplete from 2026-10-30" in held[0].reason
    assert "from 2026-11-03" in held[0].reason  # 31 October + 3 days of grace

    run(settings, NOV1, NOV1, **QUIET)  # still within the grace: still held
    assert _outbox(home) == ["ann.eml"]

    run(settings, NOV3, NOV3, **QUIET)  # grace over: out, with the gap stated
    assert _outbox(home) == ["ann.eml", "wang.eml"]
    wang = _mail(home, "wang.eml")
    assert not wang["Subject"].startswith("【更正】")
    assert "数据不完整" in _text(wang) and "10月30日" in _text(wang)

    # the late file arrives and is loaded by a re-run of that day for BBB (no mail)
    late = home / "feeds" / "BBB" / "sales"
    text = (late / "销售_20261031.csv").read_text(encoding="gbk")
    (late / "销售_20261030.csv").write_text(text.replace("2026/10/31", "2026/10/30"), "gbk")
    run(settings, D30, D30, chains=["BBB"], **QUIET)
    assert _outbox(home) == ["ann.eml", "wang.eml"]

    run(settings, NOV3, NOV3, **QUIET)  # the next nightly run: one revision for wang
    assert _outbox(home) == ["ann.eml", "wang.eml", "wang.r2.eml"]
    revised = _mail(home, "wang.r2.eml")
    assert revised["Subject"].startswith("【更正】")
    text = _text(revised)
    assert "更正版记分卡（第 2 版）" in text
    assert "本期数据尚不完整" not in text  # the gap is closed, and the change says so:
    assert "BBB · 数据不完整：2026-10-30 → —" in text
    # the 30th holds the same good row as the 31st (4,200.00): sell-out doubles
    assert "BBB · 销售额：¥4,200.00 → ¥8,400.00" in text, text[:1500]
    run(settings, NOV3, NOV3, **QUIET)  # nothing changed since: nothing new
    assert _outbox(home) == ["ann.eml", "wang.eml", "wang.r2.eml"]
    engine = connect(settings.warehouse_url)
    versions = rows(
        engine,
        "select owner_code, version from ops_outbox where period_kind = 'month'"
        " and owner_code not like 'team-%' order by owner_code, version",
    )
    assert [(r.owner_code, r.version) for r in versions] == [("ann", 1), ("wang", 1), ("wang", 2)]


def test_a_restated_file_after_the_mail_sends_one_revision_with_what_changed(
    home: Path,
) -> None:
    settings = load_settings(home)
    run(settings, D30, D31, scorecards="always", **QUIET)
    assert _outbox(home) == ["ann.eml", "wang.eml"]
    before = _text(_mail(home, "ann.eml"))

    # AAA restates the 31st: store A01's 4 units are worth 21.96, not 11.96
    sales = home / "feeds" / "AAA" / "sales" / "AAA_sales_20261031.csv"
    text = sales.read_text(encoding="utf-8")
    assert "A01,6901234567892,4,11.96," in text
    sales.write_text(text.replace("4,11.96,", "4,21.96,", 1), encoding="utf-8")
    backfill = run(settings, D31, D31, chains=["AAA"], **QUIET)
    assert backfill.mails == []  # a run for some chains mails nothing
    assert _outbox(home) == ["ann.eml", "wang.eml"]

    run(settings, NOV1, NOV1, **QUIET)
    assert _outbox(home) == ["ann.eml", "ann.r2.eml", "wang.eml"]
    revised = _mail(home, "ann.r2.eml")
    assert revised["Subject"].startswith("[Revised] ")
    text = _text(revised)
    assert "Revised scorecard, version 2" in text
    old = before.split("Sell-out: ", 1)[1].split()[0]  # the first mail's headline sell-out
    new = f"¥{float(old[1:].replace(',', '')) + 10:,.2f}"  # + 10.00 restated
    assert f"AAA · Sell-out: {old} → {new}" in text, text[:1200]
    assert revised["Message-ID"] != _mail(home, "ann.eml")["Message-ID"]

    run(settings, NOV1, NOV1, **QUIET)  # idempotent: no third version
    assert _outbox(home) == ["ann.eml", "ann.r2.eml", "wang.eml"]


def test_weekly_scorecards_go_out_for_the_week_before_once(home: Path) -> None:
    """The ISO week 26 October - 1 November: complete when its seven days are ok (days
    before the chains' first file, 30 October, do not count). The 1 November run has no
    sales file of that Sunday: held until 1 + 3 days of grace, then sent with the gap."""
    settings = load_settings(home)
    run(settings, D30, D31, **QUIET)
    first = run(settings, NOV1, NOV1, **QUIET)
    week = "week-2026-10-26"
    held = sorted((h.owner_code, h.period_kind) for h in first.mails if h.outcome == "held")
    assert ("ann", "week") in held and ("wang", "week") in held
    assert ("team-boss@example.com", "week") in held  # the roll-up waits for the team
    assert _outbox(home, week, teams=True) == []
    nov4 = date(2026, 11, 4)
    run(settings, nov4, nov4, **QUIET)
    names = _outbox(home, week, teams=True)
    assert names[0] == "ann.eml" and names[1].startswith("team-boss") and names[2] == "wang.eml"
    ann = _mail(home, "../" + week + "/ann.eml")
    assert ann["Subject"] == "[KA weekly scorecard] Week 44 2026 (26 Oct – 1 Nov) · Alpha Mart"
    assert ann["X-KA-Message-Key"] == "ann|week|2026-10-26"
    assert "Data incomplete" in _text(ann)
    run(settings, nov4, nov4, **QUIET)  # idempotent through the outbox key
    assert _outbox(home, week, teams=True) == names
    engine = connect(settings.warehouse_url)
    keys = rows(engine, "select message_key from ops_outbox where period_kind = 'week'")
    assert sorted(r.message_key for r in keys) == [
        "ann|week|2026-10-26",
        "team-boss@example.com|week|2026-10-26",
        "wang|week|2026-10-26",
    ]
