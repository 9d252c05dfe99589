"""Settings inside Airflow: the warehouse and mail come from Airflow connections.

* ``ka_warehouse``: a ``postgres`` connection (host, port, login, password, schema =
  database; extras become URL query arguments such as ``sslmode``) or a ``duckdb`` one
  (host or schema = the database file).
* ``smtp_default``: an ``smtp`` connection as the SMTP provider reads it: SSL unless the
  extra ``disable_ssl`` is true, then STARTTLS unless ``disable_tls`` is true; the
  extra ``from_email`` is the sender. The SMTP provider (a dependency) registers this
  connection type and its form in the Airflow UI; the mail itself is built and sent by
  :mod:`ka_pipeline.delivery`, which needs multipart/alternative messages the provider
  cannot build.

A connection that is not defined falls back to the ``KA_*`` environment variables
(:mod:`ka_pipeline.settings`), which stay the way to configure the CLI. Secrets are
never logged: URLs are only ever shown with the password hidden.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from ka_pipeline.errors import ConfigError
from ka_pipeline.settings import Settings, load_settings

WAREHOUSE_CONN_ID = "ka_warehouse"
SMTP_CONN_ID = "smtp_default"


def _connection(conn_id: str) -> Any | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def warehouse_url(conn: Any) -> str:
    """A SQLAlchemy URL for an Airflow connection of type postgres or duckdb."""
    kind = (conn.conn_type or "").lower()
    if kind in ("postgres", "postgresql"):
        extra = conn.extra_dejson or {}
        return sa.URL.create(
            "postgresql+psycopg",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
            query={k: str(v) for k, v in extra.items() if isinstance(v, str | int)},
        ).render_as_string(hide_password=False)
    if kind == "duckdb":
        path = conn.host or conn.schema
        if not path:
            raise ConfigError(
                f"Airflow connection {conn.conn_id}: a duckdb connection needs the file"
                " path as its host"
            )
        return f"duckdb:///{path}"
    raise ConfigError(
        f"Airflow connection {conn.conn_id}: type {conn.conn_type!r} is not a warehouse"
        " (use postgres or duckdb)"
    )


def smtp_url(conn: Any) -> str:
    """A ``KA_SMTP_URL``-style URL for an Airflow smtp connection (provider semantics)."""
    extra = conn.extra_dejson or {}
    if not _flag(extra.get("disable_ssl")):
        scheme = "smtps"
    elif not _flag(extra.get("disable_tls")):
        scheme = "smtp+starttls"
    else:
        scheme = "smtp"
    auth = ""
    if conn.login:
        auth = quote(conn.login, safe="")
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        auth += "@"
    port = f":{conn.port}" if conn.port else ""
    if not conn.host:
        raise ConfigError(f"Airflow connection {conn.conn_id}: the SMTP connection has no host")
    return f"{scheme}://{auth}{conn.host}{port}"


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def settings_from_airflow() -> Settings:
    """The environment's settings, with the warehouse and SMTP of Airflow connections."""
    settings = load_settings()
    changes: dict[str, Any] = {}
    warehouse = _connection(WAREHOUSE_CONN_ID)
    if warehouse is not None:
        changes["warehouse_url"] = warehouse_url(warehouse)
    smtp = _connection(SMTP_CONN_ID)
    if smtp is not None:
        changes["smtp_url"] = smtp_url(smtp)
        sender = (smtp.extra_dejson or {}).get("from_email")
        if sender:
            changes["mail_from"] = str(sender)
    return dataclasses.replace(settings, **changes)
