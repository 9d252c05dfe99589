"""Delivery against a real SMTP server (aiosmtpd on 127.0.0.1) and the outbox on disk."""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_scorecard import AS_OF, OCT, seed

from ka_pipeline.delivery import outbox_paths, parse_smtp_url
from ka_pipeline.errors import ConfigError
from ka_pipeline.release import send_scorecards as send_period
from ka_pipeline.settings import Settings


def _settings(tmp_path: Path, smtp_url: str | None) -> Settings:
    return Settings(
        home=tmp_path,
        config_dir=tmp_path / "config",
        feeds_dir=tmp_path / "feeds",
        outbox_dir=tmp_path / "outbox",
        warehouse_url="unused",
        smtp_url=smtp_url,
        mail_from="KA Pipeline <ka@supplier.example.com>",
    )


def _send(engine, settings, rollups=False):
    """Every owner's October scorecard now (the manager's roll-up only when asked)."""
    return send_period(engine, settings, "month", OCT, AS_OF, rollups=rollups)


def _outbox(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select message_key, status, attempts, last_error, sent_at from ops_outbox")
        )
        return {r[0]: tuple(r[1:]) for r in rows}


def _files(tmp_path: Path) -> dict[str, int]:
    return {
        str(p.relative_to(tmp_path)): p.stat().st_mtime_ns
        for p in (tmp_path / "outbox").rglob("*")
        if p.is_file()
    }


def test_smtp_delivery_exactly_once(engine, tmp_path, smtp_server):
    port, start, _stop, collector = smtp_server
    seed(engine)
    start()
    settings = _settings(tmp_path, f"smtp://127.0.0.1:{port}")
    results = _send(engine, settings)
    assert [(r.owner_code, r.outcome, r.status) for r in results] == [
        ("JS", "sent", "sent"),
        ("LN", "sent", "sent"),
    ]
    assert len(collector.envelopes) == 2
    by_rcpt = {tuple(sorted(e.rcpt_tos)): e for e in collector.envelopes}
    ln = by_rcpt[("li.na@example.com",)]  # no Cc: the manager gets the roll-up
    js = by_rcpt[("john.smith@example.com",)]
    assert ln.mail_from == "ka@supplier.example.com"

    msg = message_from_bytes(ln.content, policy=policy.default)
    assert msg["Subject"] == "【KA月度记分卡】2026年10月 · 家乐福、大润发"
    assert msg["To"] == "li.na@example.com" and msg["Cc"] is None  # the manager gets the roll-up
    assert msg["Message-ID"].endswith("@supplier.example.com>") and msg["Date"]
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    text, related = alternative.get_payload()
    assert text.get_content_type() == "text/plain"
    assert "¥1,234,567.89" in text.get_content()
    assert related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html" and "家乐福" in html.get_content()
    assert len(images) == 2
    for image in images:
        assert image.get_content_type() == "image/png"
        assert image.get_content().startswith(b"\x89PNG")
        assert f"cid:{image['Content-ID'].strip('<>')}" in html.get_content()
    assert attachment.get_filename() == "scorecard-details_LN_2026-10.xlsx"
    assert attachment.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert attachment.get_payload(decode=True).startswith(b"PK")  # a zip: the workbook

    en = message_from_bytes(js.content, policy=policy.default)
    assert en["Subject"] == "[KA monthly scorecard] October 2026 · Walmart"
    assert en["Cc"] is None

    state = _outbox(engine)
    assert {k: v[:2] for k, v in state.items()} == {
        "JS|month|2026-10-01": ("sent", 1),
        "LN|month|2026-10-01": ("sent", 1),
    }
    assert all(v[3] is not None for v in state.values())  # sent_at

    files = _files(tmp_path)
    again = _send(engine, settings)
    assert [(r.outcome, r.status) for r in again] == [("skipped", "sent")] * 2
    assert len(collector.envelopes) == 2  # nothing sent twice
    assert _files(tmp_path) == files  # no file written again
    assert _outbox(engine) == state


def test_outbox_only_without_smtp(engine, tmp_path):
    seed(engine)
    settings = _settings(tmp_path, None)
    results = _send(engine, settings)
    assert [(r.outcome, r.status) for r in results] == [("written", "written")] * 2
    folder = tmp_path / "outbox" / "2026-10"
    assert sorted(p.name for p in folder.iterdir()) == ["JS.eml", "JS.html", "LN.eml", "LN.html"]
    eml = message_from_bytes((folder / "LN.eml").read_bytes(), policy=policy.default)
    assert eml["Subject"] == "【KA月度记分卡】2026年10月 · 家乐福、大润发"
    preview = (folder / "LN.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in preview and "cid:" not in preview
    assert "¥1,234,567.89" in preview
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "select status, attempts, eml_path, subject, locale, period_end from ops_outbox"
                " where message_key = 'LN|month|2026-10-01'"
            )
        ).one()
    assert row[:2] == ("written", 0)
    assert row[2] == str(folder / "LN.eml") and row[4] == "zh-CN" and str(row[5]) == "2026-10-31"
    files = _files(tmp_path)
    again = _send(engine, settings)
    assert [r.outcome for r in again] == ["skipped", "skipped"]
    assert _files(tmp_path) == files
    assert not list(tmp_path.rglob("*.tmp"))


def test_smtp_outage_then_retry(engine, tmp_path, smtp_server):
    port, start, stop, collector = smtp_server
    seed(engine)
    settings = _settings(tmp_path, f"smtp://127.0.0.1:{port}")  # nothing listening yet
    results = _send(engine, settings)
    assert [(r.outcome, r.status) for r in results] == [("failed", "failed")] * 2
    assert all(r.error for r in results)
    state = _outbox(engine)
    assert all(v[0] == "failed" and v[1] == 1 and v[2] for v in state.values())
    eml_before = (tmp_path / "outbox" / "2026-10" / "LN.eml").read_bytes()

    start()
    results = _send(engine, settings)
    assert [(r.outcome, r.status) for r in results] == [("sent", "sent")] * 2
    assert len(collector.envelopes) == 2
    ln = next(e for e in collector.envelopes if "li.na@example.com" in e.rcpt_tos)
    assert ln.content.replace(b"\r\n", b"\n") == eml_before.replace(b"\r\n", b"\n")
    state = _outbox(engine)
    assert all(v[0] == "sent" and v[1] == 2 and v[2] is None for v in state.values())

    stop()  # a third run needs no server: nothing is left to send
    again = _send(engine, settings)
    assert [r.outcome for r in again] == ["skipped", "skipped"]
    assert len(collector.envelopes) == 2


def test_written_rows_go_out_once_smtp_is_configured(engine, tmp_path, smtp_server):
    port, start, _stop, collector = smtp_server
    seed(engine)
    _send(engine, _settings(tmp_path, None))
    start()
    settings = _settings(tmp_path, f"smtp://127.0.0.1:{port}")
    results = _send(engine, settings)
    assert [r.outcome for r in results] == ["sent", "sent"]
    _send(engine, settings)
    assert len(collector.envelopes) == 2


def test_parse_smtp_url():
    t = parse_smtp_url("smtp+starttls://ka%40corp:p%3Ass@mail.corp:2525")
    assert (t.scheme, t.host, t.port, t.username, t.password) == (
        "smtp+starttls",
        "mail.corp",
        2525,
        "ka@corp",
        "p:ss",
    )
    assert parse_smtp_url("smtps://mail.corp").port == 465
    assert parse_smtp_url("smtp://mail.corp").port == 25
    with pytest.raises(ConfigError):
        parse_smtp_url("http://mail.corp")


class _QuitWith421(socketserver.StreamRequestHandler):
    """A real SMTP dialogue that accepts the mail, then answers QUIT with 421."""

    accepted: list[bytes] = []

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.strip().split(b" ")[0].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                type(self).accepted.append(body)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"421 closing with an error\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_a_421_at_quit_after_the_mail_was_accepted_is_still_sent(engine, tmp_path):
    seed(engine)
    _QuitWith421.accepted = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _QuitWith421)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = _settings(tmp_path, f"smtp://127.0.0.1:{server.server_address[1]}")
        results = _send(engine, settings)
        assert [(r.outcome, r.status) for r in results] == [("sent", "sent")] * 2
        again = _send(engine, settings)
        assert [r.outcome for r in again] == ["skipped", "skipped"]
        assert len(_QuitWith421.accepted) == 2  # not sent again
    finally:
        server.shutdown()
        server.server_close()


def test_an_eml_write_error_fails_that_owner_only_and_leaves_no_tmp(engine, tmp_path, smtp_server):
    port, start, _stop, collector = smtp_server
    seed(engine)
    start()
    # something in the way of JS's file only: its .tmp path is a folder
    (tmp_path / "outbox" / "2026-10" / "JS.eml.tmp").mkdir(parents=True)
    settings = _settings(tmp_path, f"smtp://127.0.0.1:{port}")
    results = _send(engine, settings)
    by_owner = {r.owner_code: r for r in results}
    assert by_owner["JS"].outcome == "failed" and "cannot write" in by_owner["JS"].error
    assert by_owner["LN"].outcome == "sent"  # the other owner still went out
    assert "JS|month|2026-10-01" not in _outbox(engine)  # the row was rolled back
    leftovers = [p for p in (tmp_path / "outbox").rglob("*.tmp") if p.is_file()]
    assert leftovers == []
    (tmp_path / "outbox" / "2026-10" / "JS.eml.tmp").rmdir()
    again = _send(engine, settings)
    assert [(r.owner_code, r.outcome) for r in again] == [("JS", "sent"), ("LN", "skipped")]
    assert len(collector.envelopes) == 2


def test_owner_codes_that_clean_to_the_same_name_get_their_own_files(tmp_path):
    settings = _settings(tmp_path, None)
    paths = {
        code: outbox_paths(settings, code, "month", OCT)[0].name
        for code in ("wang fang", "wang_fang", "wang/fang", "ann")
    }
    assert paths["ann"] == "ann.eml"
    assert paths["wang_fang"] == "wang_fang.eml"
    assert len(set(paths.values())) == 4, paths
    assert paths["wang fang"].startswith("wang_fang-") and paths["wang/fang"].startswith(
        "wang_fang-"
    )
    assert outbox_paths(settings, "ann", "month", OCT, version=2)[0].name == "ann.r2.eml"


def test_the_manager_gets_one_rollup_once(engine, tmp_path, smtp_server):
    port, start, _stop, collector = smtp_server
    seed(engine)
    start()
    settings = _settings(tmp_path, f"smtp://127.0.0.1:{port}")
    results = _send(engine, settings, rollups=True)
    assert [(r.owner_code, r.outcome) for r in results] == [
        ("JS", "sent"),
        ("LN", "sent"),
        ("team-wang.qiang@example.com", "sent"),
    ]
    rollups = [e for e in collector.envelopes if e.rcpt_tos == ["wang.qiang@example.com"]]
    assert len(rollups) == 1
    msg = message_from_bytes(rollups[0].content, policy=policy.default)
    assert msg["Subject"] == "【KA团队记分卡】2026年10月 · 3个系统"
    assert msg["X-KA-Message-Key"] == "team-wang.qiang@example.com|month|2026-10-01"
    again = _send(engine, settings, rollups=True)
    assert [r.outcome for r in again] == ["skipped"] * 3 and len(collector.envelopes) == 3
