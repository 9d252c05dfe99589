"""ka_nightly: every night, load yesterday's files of each chain, then mail scorecards.

Thin wiring only: the work lives in ``ka_pipeline.orchestration``. One mapped task per
chain, so one chain's failure does not stop the others; the scorecard task runs once
every chain has finished, whatever their state. Nothing heavy is imported at parse time.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task


def _business_date(context):
    from ka_pipeline.orchestration import business_date_for

    logical = context.get("logical_date") or context["dag_run"].run_after
    return business_date_for(logical, context["params"].get("business_date"))


@dag(
    dag_id="ka_nightly",
    schedule="0 4 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(hours=1),
    },
    params={
        "business_date": Param(
            None,
            type=["null", "string"],
            description="YYYY-MM-DD; default: the day before the logical date",
        ),
        "force_scorecards": Param(False, type="boolean"),
    },
    tags=["ka-pipeline"],
    doc_md=__doc__,
)
def ka_nightly():
    @task
    def prepare() -> list[str]:
        from ka_pipeline.orchestration import prepare as prepare_warehouse

        return prepare_warehouse()

    # One writer at a time: DuckDB allows a single writing process.
    @task(max_active_tis_per_dag=1)
    def load_chain(chain_code: str, **context) -> dict:
        from ka_pipeline.orchestration import load_chain as load_one_chain

        return load_one_chain(chain_code, _business_date(context))

    @task(trigger_rule="all_done", retries=3)
    def scorecards(results: list[dict], **context) -> list[str]:
        from ka_pipeline.orchestration import send_month_scorecards

        return send_month_scorecards(
            _business_date(context), force=bool(context["params"].get("force_scorecards"))
        )

    scorecards(load_chain.expand(chain_code=prepare()))


ka_nightly()
