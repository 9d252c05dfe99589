"""Delivery: each version of a scorecard goes out exactly once, through an outbox.

A version of an owner's scorecard for a period is one ``ops_outbox`` row, keyed
``<owner>|<kind>|<period_start>`` (version 1) or ``...|r<N>`` (revision N).
:func:`deliver`:

1. **write**: the run that inserts the row (``insert ... on conflict do nothing``)
   writes ``<outbox>/<YYYY-MM>/<owner>[.rN].eml`` and an ``.html`` preview in the same
   transaction (``.tmp`` then rename); a write error rolls the row back, removes the
   ``.tmp`` and is reported for that owner only;
2. **claim**: with SMTP configured, a run sends the ``.eml`` only after moving the row
   from ``written``/``failed`` to ``sending`` with its own claim token in one
   conditional update: of two runs at the same time, one sends and the other skips;
3. **send**: the ``.eml`` as written (same bytes, same Message-ID); once the server has
   accepted the message it is ``sent``, whatever happens at QUIT; an SMTP error marks
   it ``failed`` (retried by the next run) and the other owners still go out.

A ``sent`` row is never sent again; without SMTP, ``written`` is the final state. A
claim older than :data:`CLAIM_STALE_S` (a run killed mid-send) may be taken over: the
one case where a mail can go out twice, and its deterministic Message-ID lets mail
clients recognise it. When a period's figures change after it was mailed,
:mod:`ka_pipeline.release` adds the next version; an unsent older version is marked
``superseded`` and never sent.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import os
import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from ka_pipeline.errors import ConfigError
from ka_pipeline.settings import Settings

SMTP_TIMEOUT_S = 30
CLAIM_STALE_S = 900  # a claim this old belongs to a run that died mid-send
_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class RenderedMail:
    """A mail ready to go: what delivery needs and nothing it has to compute.

    Built by :func:`ka_pipeline.scorecard.render`; delivery never calls back into the
    scorecard. ``key`` is the outbox key (``owner|kind|start`` and ``|rN`` for a
    revision); ``figures`` are the period's figures a later run compares (revisions).
    """

    key: str
    owner_code: str
    to: str
    cc: str | None
    locale: str
    period_kind: str  # month | week
    period_start: date
    period_end: date
    version: int
    subject: str
    html: str
    text: str
    inline_images: dict[str, bytes] = field(default_factory=dict)  # Content-ID (no <>) -> PNG
    attachments: dict[str, bytes] = field(default_factory=dict)  # filename -> bytes
    figures: dict[str, str | None] = field(default_factory=dict)
    changes: str | None = None  # JSON list of what changed since the last version
    gaps: str | None = None  # JSON {chain: [[day, state], ...]}


_MIME = {
    ".csv": ("text", "csv"),
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _mime_type(name: str) -> str:
    return "/".join(_MIME.get(Path(name).suffix, ("application", "octet-stream")))


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


def safe_name(owner_code: str) -> str:
    """A file name for the owner: the code itself when it is safe, else a cleaned code
    with a digest of the real one, so that ``wang fang`` and ``wang_fang`` differ."""
    if re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}", owner_code):
        return owner_code
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", owner_code)[:40]
    return f"{cleaned}-{hashlib.sha256(owner_code.encode()).hexdigest()[:8]}"


def _domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    domain = address.rpartition("@")[2]
    return domain if domain and "." in domain else "ka-pipeline.local"


def message_id(key: str, mail_from: str) -> str:
    """Deterministic: the same key always gives the same Message-ID."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<ka-scorecard.{digest}@{_domain(mail_from)}>"


def outbox_paths(
    settings: Settings, owner_code: str, period_kind: str, period_start: date, version: int = 1
) -> tuple[Path, Path]:
    folder = (
        f"{period_start:%Y-%m}"
        if period_kind == "month"
        else (f"{period_kind}-{period_start.isoformat()}")
    )
    name = safe_name(owner_code) + ("" if version == 1 else f".r{version}")
    base = settings.outbox_dir / folder
    if owner_code.startswith("team-"):  # a manager's roll-up: beside the owners' mails
        base = base / "teams"
    return base / f"{name}.eml", base / f"{name}.html"


def _address(value: str) -> str:
    """An address header value, RFC 2047-encoding a non-ASCII display name."""
    name, addr = parseaddr(value)
    return formataddr((name, addr), charset="utf-8") if name else addr


def _b64(data: bytes) -> bytes:
    """Base64 in 76-character lines with CRLF (RFC 2045)."""
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _part(headers: list[str], body: bytes) -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n").encode("ascii") + _b64(body)


def build_message(
    settings: Settings, rendered: RenderedMail, sent_date: datetime | None = None
) -> bytes:
    """The mail as sent (CRLF line ends)::

        multipart/mixed[ alternative[ text, related[ html, png... ] ], xlsx... ]

    Assembled directly rather than through ``email.message``: the structure is fixed,
    every body is base64 (so no body line can look like a boundary, which are derived
    from the message key), and the stdlib generator costs ~15 ms per mail, most of the
    20 ms budget. Headers: RFC 2047-encoded Subject and display names, a deterministic
    Message-ID, ``Auto-Submitted`` and ``X-KA-Message-Key``. Tests parse it back with
    the stdlib parser.
    """
    key = rendered.key
    tag = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    mixed, alt, rel = (f"ka-{tag}-{n}" for n in ("mixed", "alt", "rel"))
    subject = rendered.subject
    headers = [
        "MIME-Version: 1.0",
        "Subject: "
        + (subject if subject.isascii() else Header(subject, "utf-8").encode(linesep="\r\n")),
        f"From: {_address(settings.mail_from)}",
        f"To: {rendered.to}",
        *([f"Cc: {rendered.cc}"] if rendered.cc else []),
        f"Date: {format_datetime((sent_date or datetime.now()).astimezone())}",
        f"Message-ID: {message_id(key, settings.mail_from)}",
        "Auto-Submitted: auto-generated",
        f"X-KA-Message-Key: {key if key.isascii() else Header(key, 'utf-8').encode()}",
        f'Content-Type: multipart/mixed; boundary="{mixed}"',
    ]
    b64 = "Content-Transfer-Encoding: base64"
    out = [("\r\n".join(headers) + "\r\n\r\n").encode("ascii")]
    out.append(
        f'--{mixed}\r\nContent-Type: multipart/alternative; boundary="{alt}"\r\n\r\n'.encode()
    )
    out.append(f"--{alt}\r\n".encode())
    out.append(_part(['Content-Type: text/plain; charset="utf-8"', b64], rendered.text.encode()))
    out.append(f'--{alt}\r\nContent-Type: multipart/related; boundary="{rel}"\r\n\r\n'.encode())
    out.append(f"--{rel}\r\n".encode())
    out.append(_part(['Content-Type: text/html; charset="utf-8"', b64], rendered.html.encode()))
    for cid, png in rendered.inline_images.items():
        name = cid.split("@")[0] + ".png"
        out.append(f"--{rel}\r\n".encode())
        out.append(_part(["Content-Type: image/png", b64, f"Content-ID: <{cid}>",
                          f'Content-Disposition: inline; filename="{name}"'], png))  # fmt: skip
    out.append(f"--{rel}--\r\n--{alt}--\r\n".encode())
    for name, data in rendered.attachments.items():
        out.append(f"--{mixed}\r\n".encode())
        disposition = f'Content-Disposition: attachment; filename="{name}"'
        out.append(_part([f"Content-Type: {_mime_type(name)}", b64, disposition], data))
    out.append(f"--{mixed}--\r\n".encode())
    return b"".join(out)


def preview_html(rendered: RenderedMail, mail_from: str) -> str:
    """The HTML part with images as data: URIs and a header strip, for a browser."""
    page = rendered.html
    for cid, png in rendered.inline_images.items():
        page = page.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode())
    links = " ".join(
        f'<a download="{html_lib.escape(name)}" href="data:{_mime_type(name)};base64,'
        f'{base64.b64encode(data).decode()}">{html_lib.escape(name)}</a>'
        for name, data in rendered.attachments.items()
    )
    rows = [("Subject", rendered.subject), ("From", mail_from), ("To", rendered.to)]
    if rendered.cc:
        rows.append(("Cc", rendered.cc))
    strip = "".join(f"<div><b>{k}:</b> {html_lib.escape(str(v))}</div>" for k, v in rows) + (
        f"<div><b>Attachments:</b> {links}</div>" if links else ""
    )
    banner = (
        '<div style="font:12px/1.5 monospace;background:#fffbeb;border-bottom:1px solid '
        f'#fcd34d;padding:8px 16px;color:#78350f;">{strip}</div>'
    )
    match = re.search(r"<body[^>]*>", page)
    return page[: match.end()] + banner + page[match.end() :] if match else banner + page


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a failed write leaves no ``.tmp`` behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def smtp_send(target: SmtpTarget, sender: str, recipients: list[str], data: bytes) -> None:
    if target.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host,
            target.port,
            timeout=SMTP_TIMEOUT_S,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_S)
    try:
        if target.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password or "")
        client.sendmail(sender, recipients, data)
    except BaseException:
        client.close()
        raise
    # Accepted: the mail is sent. A server that answers QUIT with an error (421) or
    # hangs up does not make it unsent.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _recipients(data: bytes) -> list[str]:
    parsed = message_from_bytes(data, policy=policy.default)
    fields = parsed.get_all("To", []) + parsed.get_all("Cc", [])
    return [addr for _, addr in getaddresses([str(f) for f in fields]) if addr]


def latest_version(conn: sa.Connection, owner_code: str, period_kind: str, period_start: date):
    """The newest ops_outbox row of an owner's period (None: never written)."""
    return conn.execute(
        sa.text(
            "select message_key, version, status, content_hash, figures, created_at, eml_path"
            " from ops_outbox where owner_code = :o and period_kind = :k and period_start = :s"
            " order by version desc limit 1"
        ),
        {"o": owner_code, "k": period_kind, "s": period_start},
    ).first()


def _status_of(engine: sa.Engine, key: str) -> str:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select status from ops_outbox where message_key = :k"), {"k": key}
        ).scalar_one()


def content_hash(figures: dict[str, str | None]) -> str:
    return hashlib.sha256(json.dumps(figures, sort_keys=True).encode()).hexdigest()


def deliver(engine: sa.Engine, settings: Settings, mail: RenderedMail) -> DeliveryResult:
    """Write, claim and send one version of a mail (see the module docstring)."""
    target = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
    key = mail.key
    eml_path, html_path = outbox_paths(
        settings, mail.owner_code, mail.period_kind, mail.period_start, mail.version
    )

    def result(outcome: str, status: str, error: str | None = None) -> DeliveryResult:
        return DeliveryResult(key, mail.owner_code, outcome, status, eml_path, html_path, error)

    outcome = "skipped"
    try:
        with engine.begin() as conn:
            inserted = conn.execute(
                sa.text(
                    "insert into ops_outbox (message_key, owner_code, version, owner_email,"
                    " locale, period_kind, period_start, period_end, subject, eml_path, status,"
                    " attempts, created_at, content_hash, figures, changes, gaps) values (:k,"
                    " :o, :v, :e, :l, :pk, :ps, :pe, :s, :p, 'written', 0, :t, :h, :f, :c, :g)"
                    " on conflict do nothing returning message_key"
                ),
                {
                    "k": key,
                    "o": mail.owner_code,
                    "v": mail.version,
                    "e": mail.to,
                    "l": mail.locale,
                    "pk": mail.period_kind,
                    "ps": mail.period_start,
                    "pe": mail.period_end,
                    "s": mail.subject,
                    "p": str(eml_path),
                    "t": datetime.now(),
                    "h": content_hash(mail.figures),
                    "f": json.dumps(mail.figures, sort_keys=True),
                    "c": mail.changes,
                    "g": mail.gaps,
                },
            ).first()
            if inserted is not None:
                # Row and files in one step: a failed write rolls the row back.
                write_atomic(eml_path, build_message(settings, mail))
                write_atomic(html_path, preview_html(mail, settings.mail_from).encode("utf-8"))
                outcome = "written"
            if mail.version > 1 and target is not None:
                # an older version nobody sent yet must never go out after this one
                conn.execute(
                    sa.text(
                        "update ops_outbox set status = 'superseded' where owner_code = :o"
                        " and period_kind = :k and period_start = :s and version < :v"
                        " and status in ('written', 'failed')"
                    ),
                    {
                        "o": mail.owner_code,
                        "k": mail.period_kind,
                        "s": mail.period_start,
                        "v": mail.version,
                    },
                )
    except OSError as exc:
        return result("failed", "unwritten", f"cannot write {eml_path.parent}: {exc}")
    if target is None:
        return result(outcome, _status_of(engine, key))
    return _claim_and_send(engine, settings, target, key, result)


def _claim_and_send(engine, settings, target, key, result) -> DeliveryResult:
    token = uuid.uuid4().hex
    now = datetime.now()
    with engine.begin() as conn:
        claimed = conn.execute(
            sa.text(
                "update ops_outbox set status = 'sending', claim_token = :tok, claimed_at = :t,"
                " attempts = attempts + 1 where message_key = :k and (status in ('written',"
                " 'failed') or (status = 'sending' and claimed_at < :stale))"
                " returning eml_path"
            ),
            {"tok": token, "t": now, "k": key, "stale": now - timedelta(seconds=CLAIM_STALE_S)},
        ).first()
    if claimed is None:  # sent, superseded, or another run is sending it right now
        return result("skipped", _status_of(engine, key))
    try:
        data = Path(claimed.eml_path).read_bytes()
        smtp_send(target, parseaddr(settings.mail_from)[1], _recipients(data), data)
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "update ops_outbox set status = 'failed', last_error = :err"
                    " where message_key = :k and claim_token = :tok"
                ),
                {"k": key, "err": error, "tok": token},
            )
        return result("failed", "failed", error)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "update ops_outbox set status = 'sent', last_error = null, sent_at = :t"
                " where message_key = :k and claim_token = :tok"
            ),
            {"k": key, "t": datetime.now(), "tok": token},
        )
    return result("sent", "sent")
