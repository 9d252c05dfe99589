"""Tell the data team when a task fails: a short plain-text mail per failed task.

:func:`task_failed` is the DAG's ``on_failure_callback``. The alert names the DAG, the
task (and its chain), the business date, the reason and the link to the task's log.
It is always written to ``<outbox>/alerts/`` and, when an SMTP connection and
``KA_ALERT_TO`` (comma-separated addresses) are set, mailed through the same SMTP
settings as the scorecards. An alert that cannot be sent is logged, never raised: a
callback must not hide the task's own failure.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from typing import Any

from ka_pipeline.settings import Settings

log = logging.getLogger("ka_pipeline")


def alert_recipients() -> list[str]:
    value = os.environ.get("KA_ALERT_TO", "")
    return [addr for _, addr in getaddresses([value]) if "@" in addr]


def build_alert(settings: Settings, facts: dict[str, str], to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = (
        f"[ka-pipeline] FAILED {facts['task']}"
        + (f" {facts['chain']}" if facts.get("chain") else "")
        + f" for {facts['business_date']}"
    )
    msg["From"] = settings.mail_from
    msg["To"] = ", ".join(to) if to else "undisclosed-recipients:;"
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain="ka-pipeline.local")
    msg["Auto-Submitted"] = "auto-generated"
    width = max(len(k) for k in facts)
    body = "\n".join(f"{k.replace('_', ' '):<{width}}  {v}" for k, v in facts.items())
    msg.set_content(
        "A ka-pipeline task failed. Its log says why; docs/operations.md says what to do.\n\n"
        + body
        + "\n"
    )
    return msg


def task_failed(context: dict[str, Any]) -> None:
    """Airflow ``on_failure_callback``: write and (if configured) mail the alert."""
    try:
        _task_failed(context)
    except Exception:  # never hide the task's own failure behind the callback's
        log.exception("could not send the failure alert")


def _task_failed(context: dict[str, Any]) -> None:
    from ka_pipeline.airflow_settings import settings_from_airflow
    from ka_pipeline.delivery import parse_smtp_url, smtp_send, write_atomic

    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    facts = {
        "dag": str(getattr(ti, "dag_id", "?")),
        "task": str(getattr(ti, "task_id", "?")),
        "chain": str(context.get("ka_chain") or ""),
        "business_date": str(context.get("ka_business_date") or "?"),
        "run": str(getattr(ti, "run_id", "?")),
        "try": str(getattr(ti, "try_number", "?")),
        "reason": f"{type(exc).__name__}: {exc}" if exc is not None else "unknown",
        "log": str(getattr(ti, "log_url", "") or ""),
    }
    settings = settings_from_airflow()
    to = alert_recipients()
    msg = build_alert(settings, {k: v for k, v in facts.items() if v}, to)
    data = bytes(msg)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    name = f"{stamp}-{facts['task']}-{facts['chain'] or 'all'}-{os.getpid()}.eml"
    write_atomic(settings.outbox_dir / "alerts" / name.replace("/", "_"), data)
    if settings.smtp_url and to:
        smtp_send(parse_smtp_url(settings.smtp_url), parseaddr(settings.mail_from)[1], to, data)
        log.info("failure alert sent to %s", ", ".join(to))
    else:
        log.warning("failure alert written to the outbox only (no SMTP connection or KA_ALERT_TO)")
