"""``ka-pipeline scorecards`` and ``ka-pipeline preview`` on a seeded warehouse."""

from __future__ import annotations

import io
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from test_scorecard import seed, seed_analytics

from ka_pipeline.cli import main


@pytest.fixture
def home(engine, warehouse_url, tmp_path, monkeypatch):
    seed(engine)
    seed_analytics(engine)
    engine.dispose()  # the command opens the warehouse itself
    monkeypatch.setenv("KA_WAREHOUSE_URL", warehouse_url)
    monkeypatch.delenv("KA_SMTP_URL", raising=False)
    monkeypatch.setenv("KA_MAIL_FROM", "KA Team <ka@supplier.example.com>")
    return tmp_path / "home"


def test_preview_writes_html_text_and_xlsx(home, capsys):
    # business date 3 November: the last month ended is October
    assert main(["--home", str(home), "preview", "--owner", "JS", "--period", "monthly",
                 "--date", "2026-11-03"]) == 0  # fmt: skip
    out = home / "preview"
    html = (out / "JS_month_2026-10-01.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "Walmart" in html
    assert "¥2,000,000.00" in (out / "JS_month_2026-10-01.txt").read_text(encoding="utf-8")
    wb = load_workbook(io.BytesIO((out / "scorecard-details_JS_2026-10.xlsx").read_bytes()))
    assert "Deductions to dispute" in wb.sheetnames
    assert "[KA monthly scorecard] October 2026 · Walmart" in capsys.readouterr().out


def test_scorecards_dry_run_writes_nothing_then_sends_once(home, warehouse_url, capsys):
    args = ["--home", str(home), "scorecards", "--period", "weekly", "--date", "2026-11-01"]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "week 2026-10-26..2026-11-01, as of 2026-11-01: 3 mail(s)" in out
    assert "LN|week|2026-10-26 -> li.na@example.com" in out
    assert "team-wang.qiang@example.com|week|2026-10-26" in out
    assert not (home / "outbox").exists()

    assert main([*args, "--owner", "LN"]) == 0
    eml = home / "outbox" / "week-2026-10-26" / "LN.eml"
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["From"] == "KA Team <ka@supplier.example.com>"  # KA_MAIL_FROM
    assert msg["Subject"].startswith("【KA周记分卡】2026年第44周")
    assert main([*args, "--owner", "LN"]) == 0  # again: the outbox key holds it
    assert "LN: skipped" in capsys.readouterr().out
    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        keys = conn.execute(sa.text("select message_key from ops_outbox")).scalars().all()
    engine.dispose()
    assert keys == ["LN|week|2026-10-26"]


def test_unknown_owner_is_a_clear_error(home, capsys):
    code = main(["--home", str(home), "preview", "--owner", "NOPE", "--period", "monthly",
                 "--date", "2026-11-03"])  # fmt: skip
    assert code != 0
    assert "--owner NOPE: no such owner" in capsys.readouterr().err
