"""Delivery: each rendered scorecard goes out exactly once, through an outbox.

One message per owner and period, keyed ``<owner_code>|<period_kind>|<period_start>``
(``ops_outbox.message_key``). :func:`deliver`:

1. key unknown: build the MIME message, write ``<outbox>/<YYYY-MM>/<owner>.eml`` and an
   ``.html`` preview (images inlined as data: URIs), and insert the ops_outbox row with
   status ``written`` in one transaction (files are written to ``.tmp`` then renamed);
2. SMTP configured (``settings.smtp_url``) and the row is not ``sent``: send the ``.eml``
   as written (same bytes, same Message-ID), then mark it ``sent``; an SMTP error marks it
   ``failed`` with the error and is not raised, so the other owners still go out;
3. a ``sent`` row is never sent again; without SMTP, ``written`` is the final state.

A later call retries ``failed`` (and ``written``, once SMTP is configured) rows. The one
gap no outbox can close: a crash after the SMTP server accepted the message but before
the row says ``sent`` sends it again on the next run; the deterministic Message-ID lets
mail clients recognise the duplicate. To re-issue a corrected scorecard, delete its
ops_outbox row (docs/scorecard.md).
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from ka_pipeline.config import Config, Owner
from ka_pipeline.errors import ConfigError
from ka_pipeline.scorecard import RenderedMail, build_scorecards, render
from ka_pipeline.settings import Settings

SMTP_TIMEOUT_S = 30
_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class DeliveryResult:
    message_key: str
    owner_code: str
    outcome: str  # what this call did: written | sent | failed | skipped
    status: str  # the ops_outbox status afterwards: written | sent | failed
    eml_path: Path | None
    html_path: Path | None
    error: str | None = None

    def __str__(self) -> str:
        where = f" -> {self.eml_path}" if self.eml_path else ""
        why = f" ({self.error})" if self.error else ""
        return f"{self.owner_code}: {self.outcome}{where}{why}"


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:pass@]host[:port]``, ``smtp+starttls://...`` or ``smtps://...``."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise ConfigError(
            f"KA_SMTP_URL {parts.scheme}://{parts.hostname or ''}... is not valid: use "
            "smtp://[user:password@]host:port, smtp+starttls://... or smtps://..."
        )
    return SmtpTarget(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or _SCHEMES[parts.scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def message_key(owner_code: str, period_kind: str, period_start: date) -> str:
    return f"{owner_code}|{period_kind}|{period_start.isoformat()}"


def _domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    domain = address.rpartition("@")[2]
    return domain if domain and "." in domain else "ka-pipeline.local"


def message_id(key: str, mail_from: str) -> str:
    """Deterministic: the same key always gives the same Message-ID."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<ka-scorecard.{digest}@{_domain(mail_from)}>"


def outbox_paths(
    settings: Settings, owner_code: str, period_kind: str, period_start: date
) -> tuple[Path, Path]:
    folder = (
        f"{period_start:%Y-%m}"
        if period_kind == "month"
        else (f"{period_kind}-{period_start.isoformat()}")
    )
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", owner_code)
    base = settings.outbox_dir / folder
    return base / f"{safe}.eml", base / f"{safe}.html"


def build_message(
    settings: Settings,
    owner: Owner,
    key: str,
    rendered: RenderedMail,
    sent_date: datetime | None = None,
) -> EmailMessage:
    """multipart/mixed[ alternative[ text, related[ html, png... ] ], csv... ]."""
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = settings.mail_from
    msg["To"] = owner.email
    if owner.manager_email:
        msg["Cc"] = owner.manager_email
    msg["Date"] = format_datetime((sent_date or datetime.now()).astimezone())
    msg["Message-ID"] = message_id(key, settings.mail_from)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-KA-Message-Key"] = key
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    html_part = msg.get_payload()[1]
    for cid, png in rendered.inline_images.items():
        html_part.add_related(
            png,
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            disposition="inline",
            filename=cid.split("@")[0] + ".png",
        )
    for name, data in rendered.attachments.items():
        maintype, subtype = (
            ("text", "csv") if name.endswith(".csv") else ("application", "octet-stream")
        )
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def preview_html(rendered: RenderedMail, msg: EmailMessage) -> str:
    """The HTML part with images as data: URIs and a header strip, for a browser."""
    page = rendered.html
    for cid, png in rendered.inline_images.items():
        page = page.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode())
    links = " ".join(
        f'<a download="{html_lib.escape(name)}" href="data:text/csv;base64,'
        f'{base64.b64encode(data).decode()}">{html_lib.escape(name)}</a>'
        for name, data in rendered.attachments.items()
    )
    rows = [("Subject", msg["Subject"]), ("From", msg["From"]), ("To", msg["To"])]
    if msg["Cc"]:
        rows.append(("Cc", msg["Cc"]))
    strip = "".join(f"<div><b>{k}:</b> {html_lib.escape(str(v))}</div>" for k, v in rows) + (
        f"<div><b>Attachments:</b> {links}</div>" if links else ""
    )
    banner = (
        '<div style="font:12px/1.5 monospace;background:#fffbeb;border-bottom:1px solid '
        f'#fcd34d;padding:8px 16px;color:#78350f;">{strip}</div>'
    )
    match = re.search(r"<body[^>]*>", page)
    return page[: match.end()] + banner + page[match.end() :] if match else banner + page


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _smtp_send(target: SmtpTarget, sender: str, recipients: list[str], data: bytes) -> None:
    if target.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host,
            target.port,
            timeout=SMTP_TIMEOUT_S,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_S)
    with client:
        if target.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password or "")
        client.sendmail(sender, recipients, data)


def _recipients(data: bytes) -> list[str]:
    parsed = message_from_bytes(data, policy=policy.default)
    fields = parsed.get_all("To", []) + parsed.get_all("Cc", [])
    return [addr for _, addr in getaddresses([str(f) for f in fields]) if addr]


def _status(conn: sa.Connection, key: str):
    return conn.execute(
        sa.text("select status, eml_path from ops_outbox where message_key = :k"), {"k": key}
    ).first()


def deliver(
    engine: sa.Engine,
    settings: Settings,
    owner: Owner,
    period_kind: str,
    period_start: date,
    period_end: date,
    rendered: RenderedMail,
) -> DeliveryResult:
    """Deliver one rendered scorecard exactly once (see the module docstring)."""
    target = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
    key = message_key(owner.code, period_kind, period_start)
    eml_path, html_path = outbox_paths(settings, owner.code, period_kind, period_start)

    def result(outcome: str, status: str, error: str | None = None) -> DeliveryResult:
        return DeliveryResult(key, owner.code, outcome, status, eml_path, html_path, error)

    with engine.connect() as conn:
        row = _status(conn, key)
    outcome = "skipped"
    if row is None:
        msg = build_message(settings, owner, key, rendered)
        data = msg.as_bytes(policy=policy.SMTP)
        try:
            # Row and files in one step: a failed write rolls the row back; a failed
            # commit leaves files that the next run overwrites.
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "insert into ops_outbox (message_key, owner_email, locale, period_kind,"
                        " period_start, period_end, subject, eml_path, status, attempts,"
                        " created_at) values (:k, :e, :l, :pk, :ps, :pe, :s, :p, 'written', 0,"
                        " :t)"
                    ),
                    {
                        "k": key,
                        "e": owner.email,
                        "l": owner.locale,
                        "pk": period_kind,
                        "ps": period_start,
                        "pe": period_end,
                        "s": rendered.subject,
                        "p": str(eml_path),
                        "t": datetime.now(),
                    },
                )
                _write_atomic(eml_path, data)
                _write_atomic(html_path, preview_html(rendered, msg).encode("utf-8"))
            status, outcome = "written", "written"
        except sa.exc.IntegrityError:
            # Another run wrote this key first: from here on it is that run's message.
            with engine.connect() as conn:
                row = _status(conn, key)
    if row is not None:
        status = row.status
        if status == "sent" or target is None:
            return result("skipped", status)
        eml_path = Path(row.eml_path)
        if not eml_path.exists():  # removed by hand: write it again
            msg = build_message(settings, owner, key, rendered)
            _write_atomic(eml_path, msg.as_bytes(policy=policy.SMTP))
        data = eml_path.read_bytes()
    if target is None:
        return result(outcome, status)

    try:
        _smtp_send(target, parseaddr(settings.mail_from)[1], _recipients(data), data)
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "update ops_outbox set status = 'failed', attempts = attempts + 1,"
                    " last_error = :err where message_key = :k and status <> 'sent'"
                ),
                {"k": key, "err": error},
            )
        return result("failed", "failed", error)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "update ops_outbox set status = 'sent', attempts = attempts + 1,"
                " last_error = null, sent_at = :t where message_key = :k"
            ),
            {"k": key, "t": datetime.now()},
        )
    return result("sent", "sent")


def send_scorecards(
    engine: sa.Engine,
    settings: Settings,
    config: Config,
    period_start: date,
    period_end: date,
    as_of: date,
) -> list[DeliveryResult]:
    """Build, render and deliver every owner's monthly scorecard; one result per owner.

    Safe to call again: already delivered scorecards are skipped, failed ones retried.
    """
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # a bad URL stops the run before anything is written
    results = []
    for card in build_scorecards(engine, config, period_start, period_end, as_of):
        results.append(
            deliver(
                engine,
                settings,
                card.owner,
                card.period_kind,
                card.period_start,
                card.period_end,
                render(card),
            )
        )
    return results
