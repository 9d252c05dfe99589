"""The nightly job as separate steps, for a scheduler that runs one task per chain.

Each function is importable without Airflow and returns plain JSON-able values (XComs).
Guarantees:

* **Business date.** A run loads the business day before the day it runs *in the DAG's
  timezone*: the 04:00 Asia/Shanghai run of 1 November (logical date
  2026-10-31T20:00Z) loads 31 October, whatever the server's or the metadata DB's
  timezone (:func:`business_date_for`).
* **One writer per chain** (:func:`ka_pipeline.pipeline.process_chain`), so retries,
  overlapping runs and backfills of the same chain serialise in the warehouse.
* **Honest outcomes.** :func:`load_chain` loads and models what it can, records the
  day's state, then raises :class:`ChainIncomplete` when a file of the day was
  rejected or a daily feed is missing, so the task fails (and is retried: a late file
  is picked up) with the reason in its log.
* **Scorecards** go out through :func:`ka_pipeline.release.release_scorecards`: only
  complete periods, revisions when data changed, never from a backfill unless asked.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ka_pipeline.config import load_config
from ka_pipeline.errors import ConfigError, KaError
from ka_pipeline.masterdata import publish_master_data
from ka_pipeline.settings import Settings
from ka_pipeline.warehouse import connect

log = logging.getLogger("ka_pipeline")


class ChainIncomplete(KaError):
    """A chain's day is loaded as far as it could be, but a file is rejected or missing."""


def business_date_for(
    run_time: datetime | str | None, tz: str | ZoneInfo, override: str | date | None = None
) -> date:
    """The business date a run loads: ``override`` if given, else the day before the
    run's date in ``tz``.

    ``run_time`` is the end of the run's data interval (for the cron trigger timetable
    it equals the logical date), or its ``run_after`` for a manual run without one. A
    naive datetime is taken as UTC, as Airflow stores them.
    """
    if override:
        return override if isinstance(override, date) else date.fromisoformat(str(override))
    if run_time is None:
        raise KaError("a run needs a data interval, a run_after or a business_date param")
    if isinstance(run_time, str):
        run_time = datetime.fromisoformat(run_time)
    if run_time.tzinfo is None:
        run_time = run_time.replace(tzinfo=UTC)
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))
    return run_time.astimezone(zone).date() - timedelta(days=1)


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from ka_pipeline.airflow_settings import settings_from_airflow

    return settings_from_airflow()


def prepare(chains: list[str] | None = None, settings: Settings | None = None) -> list[str]:
    """Migrate the warehouse, publish master data; return the chain codes to run.

    ``chains``: the run's ``chains`` param (none or empty: every configured chain).
    """
    settings = _settings(settings)
    config = load_config(settings.config_dir)
    unknown = sorted(set(chains or ()) - set(config.chains))
    if unknown:
        raise ConfigError(
            f"unknown chain(s) {', '.join(unknown)} in the run's `chains`; configured:"
            f" {', '.join(sorted(config.chains))}"
        )
    engine = connect(settings.warehouse_url)
    log.info("warehouse %s", engine.url.render_as_string(hide_password=True))
    publish_master_data(engine, config)
    return sorted(chains) if chains else sorted(config.chains)


def load_chain(
    chain_code: str, business_date: date, settings: Settings | None = None
) -> dict[str, Any]:
    """Load one chain's files of ``business_date``, rebuild its models, record the day.

    Raises :class:`ChainIncomplete` (after everything else is done) when a file of the
    day is rejected or a daily feed is missing.
    """
    from ka_pipeline.pipeline import process_chain

    settings = _settings(settings)
    config = load_config(settings.config_dir)
    engine = connect(settings.warehouse_url)
    log.info("%s: business date %s", chain_code, business_date)
    result, model_rows = process_chain(
        engine,
        settings,
        config,
        chain_code,
        business_date,
        business_date + timedelta(days=1),
        progress=log.info,
    )
    for feed, c in sorted(result.feeds.items()):
        log.info(
            "%s %s %s: %d file(s), %d unchanged, %d rejected; rows read %d, loaded %d,"
            " quarantined %d",
            chain_code,
            feed,
            business_date,
            c.files,
            c.skipped,
            c.rejected,
            c.rows_read,
            c.rows_loaded,
            c.rows_quarantined,
        )
    if model_rows:
        log.info("%s models: %s", chain_code, ", ".join(f"{t} {n}" for t, n in model_rows.items()))
    (state,) = result.days  # the one business date of this task
    summary = {
        "chain_code": chain_code,
        "business_date": business_date.isoformat(),
        "feeds": {feed: vars(counts) for feed, counts in result.feeds.items()},
        "rejected": result.rejected,
        "missing": result.missing,
        "state": state.status,
    }
    if state.status != "ok":
        raise ChainIncomplete(f"{chain_code} {business_date}: {state.status}: {state.reason}")
    return summary


def send_scorecards(
    business_date: date,
    mode: str = "auto",
    *,
    backfill: bool = False,
    settings: Settings | None = None,
) -> list[str]:
    """Release the scorecards due as of ``business_date`` (``mode``: auto|always|never).

    A backfill run mails nothing unless ``mode`` is ``always``. Raises when a mail could
    not be delivered (every owner was tried), so the scheduler retries the rest.
    """
    if mode == "never" or (backfill and mode != "always"):
        log.info("scorecards: not mailed (mode %s%s)", mode, ", backfill" if backfill else "")
        return []
    from ka_pipeline.release import release_scorecards

    settings = _settings(settings)
    config = load_config(settings.config_dir)
    engine = connect(settings.warehouse_url)
    results = release_scorecards(
        engine, settings, config, business_date, force_month=mode == "always", progress=log.info
    )
    failed = [r for r in results if r.outcome == "failed"]
    if failed:
        raise KaError("scorecards not delivered: " + "; ".join(str(r) for r in failed))
    return [str(r) for r in results]
