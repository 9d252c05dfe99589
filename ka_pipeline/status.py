"""``ka-pipeline status``: the last loads, rejected files and quarantined rows, and
where the validation reports are (the Data Docs site under the home folder, one page
per suite run, an index of every file's result).

File names, messages and reasons may carry text from a chain's file: they are printed
only escaped (:func:`ka_pipeline.shown.plain`), never as raw terminal output.
"""

from __future__ import annotations

import sqlalchemy as sa

from ka_pipeline.settings import Settings
from ka_pipeline.shown import plain
from ka_pipeline.validate import data_docs_index
from ka_pipeline.warehouse import connect


def print_status(settings: Settings, limit: int = 20, chain: str | None = None) -> None:
    engine = connect(settings.warehouse_url)
    where = "where chain_code = :chain" if chain else ""
    params = {"chain": chain, "limit": limit}
    with engine.connect() as conn:
        loads = conn.execute(
            sa.text(
                "select load_id, chain_code, feed, business_date, file_name, status,"
                " rows_read, rows_loaded, rows_quarantined, finished_at, message"
                f" from ops_load_log {where} order by load_id desc limit :limit"
            ),
            params,
        ).fetchall()
        reasons = conn.execute(
            sa.text(
                "select q.chain_code, q.feed, q.column_name, count(*) as n,"
                " max(q.file_name || ' row ' || cast(q.row_number as varchar)"
                " || ': ' || q.reason) as example"
                " from ops_quarantine q join ops_load_log l on l.load_id = q.load_id"
                f" where l.status = 'loaded' {'and q.chain_code = :chain' if chain else ''}"
                " group by q.chain_code, q.feed, q.column_name order by n desc limit :limit"
            ),
            params,
        ).fetchall()
        rejected = conn.execute(
            sa.text(
                "select chain_code, feed, business_date, file_name, message from ops_load_log"
                f" where status = 'rejected' {'and chain_code = :chain' if chain else ''}"
                " order by load_id desc limit :limit"
            ),
            params,
        ).fetchall()
    print(f"warehouse: {engine.url.render_as_string(hide_password=True)}")
    index = data_docs_index(settings.home)
    if index.exists():
        print(f"validation reports (Data Docs, every file's result): {index.as_uri()}")
    else:
        print(f"validation reports: none yet (written to {index} when files are validated)")
    print(f"\nlast {len(loads)} loads:")
    print(
        f"{'id':>6} {'chain':<6} {'feed':<11} {'date':<10} {'status':<10} "
        f"{'read':>6} {'loaded':>6} {'quar.':>6}  file"
    )
    for r in loads:
        print(
            f"{r.load_id:>6} {r.chain_code:<6} {r.feed:<11} {r.business_date!s:<10} "
            f"{r.status:<10} {r.rows_read:>6} {r.rows_loaded:>6} {r.rows_quarantined:>6}  "
            f"{plain(r.file_name)}"
        )
    print(f"\nrejected files ({len(rejected)}):" if rejected else "\nrejected files: none")
    for r in rejected:
        print(
            f"  {r.chain_code} {r.feed} {r.business_date} {plain(r.file_name)}:"
            f" {plain(r.message, 500)}"
        )
    print(
        "\nquarantined rows by column (current loads):" if reasons else "\nquarantined rows: none"
    )
    for r in reasons:
        print(
            f"  {r.chain_code} {r.feed} {r.column_name}: {r.n} row(s), e.g. {plain(r.example, 300)}"
        )
