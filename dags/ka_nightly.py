"""ka_nightly: every night, load yesterday's files of each chain, then release scorecards.

Thin wiring only: the work lives in ``ka_pipeline.orchestration``; nothing heavy is
imported at parse time.

* **Business date**: the day before the run's date in the DAG's timezone
  (``KA_TIMEZONE``, default Asia/Shanghai): the 04:00 run of 1 November loads
  31 October. The ``business_date`` param overrides it.
* **Chains**: one mapped ``load_chain`` task per chain, so one chain's failure does not
  stop the others; the ``chains`` param (a list; empty = all) limits a run, e.g. a
  backfill: ``airflow backfill create --dag-id ka_nightly --from-date ... --to-date ...
  --dag-run-conf '{"chains": ["CRF"]}'``.
* **Warehouse writers** run in the ``ka_warehouse`` pool: 1 slot for DuckDB (runs queue
  instead of colliding), N for PostgreSQL (chains load in parallel; the warehouse's
  per-chain lock serialises two runs of the same chain).
* **Honest states**: a chain whose file is rejected or missing ends failed (retried, so
  a late file is picked up), and ``on_failure_callback`` mails the data team. The
  scorecards run once every chain finished, whatever its state, and only send what is
  complete (``ka_pipeline.release``); a backfill run mails nothing unless its
  ``scorecards`` param is ``always``. Weekly and monthly (``KA_SCORECARD_PERIODS``,
  default both): the Monday run (business date Sunday) sends the ISO week before, the
  first run after a month end the month, each once per outbox key
  ``owner|week|month|period start``; managers get one team roll-up.
* **Assets**: the warehouse tables a run updates, so downstream DAGs can be scheduled
  on them.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

TIMEZONE = os.environ.get("KA_TIMEZONE", "Asia/Shanghai")
SCHEDULE = os.environ.get("KA_SCHEDULE", "0 4 * * *")
POOL = "ka_warehouse"
RETRIES = int(os.environ.get("KA_TASK_RETRIES", "2"))

RAW_ASSETS = [
    Asset(f"ka-warehouse://raw/{feed}") for feed in ("sales", "invoices", "deductions", "payments")
]
MART_ASSETS = [Asset("ka-warehouse://marts")]
OUTBOX_ASSET = Asset("ka-outbox://scorecards")


def _business_date(context):
    from ka_pipeline.orchestration import business_date_for

    # The cron trigger timetable gives a scheduled run a zero-length data interval at its
    # run time, which is also its logical date; a manual run with a logical date means
    # that date (its data interval ends at the trigger time); one without runs as of now.
    run = context["dag_run"]
    when = context.get("logical_date") or context.get("data_interval_end") or run.run_after
    tz = context["dag"].timezone
    return business_date_for(
        when, getattr(tz, "name", None) or str(tz), context["params"].get("business_date")
    )


def _on_failure(context):
    from ka_pipeline.alerts import task_failed

    try:
        context["ka_business_date"] = _business_date(context).isoformat()
    except Exception:  # the alert still goes out without it
        pass
    ti = context.get("ti")
    context["ka_chain"] = getattr(ti, "rendered_map_index", None) or ""
    task_failed(context)


@dag(
    dag_id="ka_nightly",
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": RETRIES,
        "retry_delay": timedelta(minutes=20),
        "execution_timeout": timedelta(hours=2),
        "pool": POOL,
        "on_failure_callback": _on_failure,
    },
    params={
        "business_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="YYYY-MM-DD; default: the day before the run's date (DAG timezone)",
        ),
        "chains": Param(
            [], type="array", items={"type": "string"}, description="chain codes; empty = all"
        ),
        "scorecards": Param(
            "auto",
            enum=["auto", "always", "never"],
            description="auto: what is due (never in a backfill); always: the month now",
        ),
    },
    tags=["ka-pipeline"],
    doc_md=__doc__,
)
def ka_nightly():
    @task
    def prepare(**context) -> list[str]:
        from ka_pipeline.orchestration import prepare as prepare_warehouse

        return prepare_warehouse(list(context["params"].get("chains") or []))

    @task(map_index_template="{{ ka_chain }}", outlets=RAW_ASSETS + MART_ASSETS)
    def load_chain(chain_code: str) -> dict:
        from ka_pipeline.orchestration import load_chain as load_one_chain

        context = get_current_context()
        context["ka_chain"] = chain_code
        return load_one_chain(chain_code, _business_date(context))

    @task(
        trigger_rule="all_done", retries=3, retry_delay=timedelta(minutes=5), outlets=[OUTBOX_ASSET]
    )
    def scorecards(results: list[dict], **context) -> list[str]:
        from ka_pipeline.orchestration import send_scorecards

        run_type = str(getattr(context["dag_run"], "run_type", ""))
        return send_scorecards(
            _business_date(context),
            context["params"].get("scorecards") or "auto",
            backfill="backfill" in run_type.lower(),
        )

    # Airflow's "watcher" pattern: the run's state follows its leaves, and the scorecards
    # leaf runs whatever the chains did, so this leaf fails the run when any task failed.
    @task(trigger_rule="one_failed", retries=0, pool="default_pool", on_failure_callback=None)
    def watcher() -> None:
        from ka_pipeline.errors import KaError

        raise KaError("a task of this run failed: see the failed task's log and alert mail")

    loads = load_chain.expand(chain_code=prepare())
    [loads, scorecards(loads)] >> watcher()


ka_nightly()
