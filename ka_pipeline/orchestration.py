"""The nightly job as separate steps, for a scheduler that runs one task per chain.

Each function is importable without Airflow and returns plain JSON-able values (XComs).
The business date of a scheduled run is the day before its logical date: the run at
04:00 on 1 November loads the files of 31 October.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from ka_pipeline.config import load_config
from ka_pipeline.errors import KaError
from ka_pipeline.masterdata import publish_master_data
from ka_pipeline.models import run_models
from ka_pipeline.pipeline import is_month_end, mail_month_scorecards, run_chain
from ka_pipeline.settings import load_settings
from ka_pipeline.warehouse import connect


def business_date_for(logical: datetime | date | str | None, override: str | None) -> date:
    """The business date a run loads: ``override`` if given, else logical date - 1 day."""
    if override:
        return date.fromisoformat(str(override))
    if logical is None:
        raise ValueError("a run needs a logical date or a business_date param")
    if isinstance(logical, str):
        logical = datetime.fromisoformat(logical)
    day = logical.date() if isinstance(logical, datetime) else logical
    return day - timedelta(days=1)


def prepare() -> list[str]:
    """Migrate the warehouse, publish master data; return the chain codes to run."""
    settings = load_settings()
    config = load_config(settings.config_dir)
    publish_master_data(connect(settings.warehouse_url), config)
    return sorted(config.chains)


def load_chain(chain_code: str, business_date: date) -> dict[str, Any]:
    """Load one chain's files of ``business_date`` and rebuild that chain's models."""
    settings = load_settings()
    config = load_config(settings.config_dir)
    engine = connect(settings.warehouse_url)
    result = run_chain(
        engine, settings, config, chain_code, business_date, business_date + timedelta(days=1)
    )
    run_models(engine, [chain_code])
    return {
        "chain_code": chain_code,
        "business_date": business_date.isoformat(),
        "feeds": {feed: vars(counts) for feed, counts in result.feeds.items()},
        "rejected": result.rejected,
        "missing": result.missing,
    }


def send_month_scorecards(business_date: date, force: bool = False) -> list[str]:
    """On a month end (or when forced), mail every owner's scorecard of that month."""
    if not (force or is_month_end(business_date)):
        return []
    settings = load_settings()
    config = load_config(settings.config_dir)
    engine = connect(settings.warehouse_url)
    results = mail_month_scorecards(engine, settings, config, business_date)
    failed = [r for r in results if r.outcome == "failed"]
    if failed:  # every owner was tried; fail the task so the scheduler retries the rest
        raise KaError("scorecards not delivered: " + "; ".join(str(r) for r in failed))
    return [str(r) for r in results]
