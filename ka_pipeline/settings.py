"""Project settings, read from environment variables with safe embedded defaults.

Everything lives under one home folder (``KA_HOME``, default ``./data``)::

    data/
      config/           master data and chain layouts (KA_CONFIG_DIR)
      feeds/<CHAIN>/    files as the chains send them (KA_FEEDS_DIR)
      warehouse.duckdb  the embedded warehouse (KA_WAREHOUSE_URL)
      outbox/           rendered emails, .eml + .html preview (KA_OUTBOX_DIR)

Set ``KA_WAREHOUSE_URL`` to a SQLAlchemy URL such as
``postgresql+psycopg://user@host:5432/db`` to use PostgreSQL instead of DuckDB, and
``KA_SMTP_URL`` (``smtp://user:password@host:port``, ``smtp+starttls://`` or
``smtps://``) to deliver by SMTP as well as to the outbox.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build one with :func:`load_settings`."""

    home: Path
    config_dir: Path
    feeds_dir: Path
    outbox_dir: Path
    warehouse_url: str
    smtp_url: str | None = None
    mail_from: str = "ka-pipeline <ka-pipeline@localhost>"
    extra: dict[str, str] = field(default_factory=dict)


def load_settings(home: Path | str | None = None) -> Settings:
    """Read settings from the environment; ``home`` overrides ``KA_HOME``."""
    base = (
        Path(home).expanduser().resolve()
        if home is not None
        else _path("KA_HOME", Path.cwd() / "data")
    )
    url = os.environ.get("KA_WAREHOUSE_URL") or f"duckdb:///{base / 'warehouse.duckdb'}"
    return Settings(
        home=base,
        config_dir=_path("KA_CONFIG_DIR", base / "config"),
        feeds_dir=_path("KA_FEEDS_DIR", base / "feeds"),
        outbox_dir=_path("KA_OUTBOX_DIR", base / "outbox"),
        warehouse_url=url,
        smtp_url=os.environ.get("KA_SMTP_URL") or None,
        mail_from=os.environ.get("KA_MAIL_FROM", "ka-pipeline <ka-pipeline@localhost>"),
    )
