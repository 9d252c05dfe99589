"""Publish validated feed rows to the warehouse, one partition per chain x feed x date.

Guarantees:

* **Write by partition.** A file's rows replace its partition (chain, feed, business
  date) in the same transaction as its bookkeeping: the old rows are deleted, the earlier
  load is marked ``superseded``, the new rows, quarantined rows and load-log row are
  inserted. A failure rolls everything back, leaving the published data as it was.
* **Nothing lost.** For every file, rows_read = rows_loaded + rows_quarantined.
* **Bulk paths.** Rows go in through the engine's bulk path: ``COPY`` on PostgreSQL,
  a scan of the registered DataFrame on DuckDB. No row-by-row inserts. After a commit,
  the raw table's BRIN index on PostgreSQL covers the pages it appended (the next
  partition's delete reads the new pages otherwise).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import sqlalchemy as sa

from ka_pipeline.feeds import FEEDS
from ka_pipeline.warehouse import summarize_brin

RAW_TABLE = {name: declared.raw_table for name, declared in FEEDS.items()}


def raw_columns(feed: str) -> list[str]:
    """The raw table's columns in insert order (see :meth:`ka_pipeline.feeds.Feed.raw_columns`)."""
    return FEEDS[feed].raw_columns()


COPY_BATCH_ROWS = 100_000  # rows rendered as CSV at a time for PostgreSQL's COPY


def bulk_insert(conn: sa.Connection, table: str, frame: pd.DataFrame | pa.Table) -> int:
    """Insert ``frame`` (columns named as in ``table``, values as text; a DataFrame or an
    Arrow table) by the bulk path."""
    if frame.shape[0] == 0:
        return 0
    columns = ", ".join(frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    if conn.dialect.name in ("duckdb", "postgresql"):
        # Arrow: registering a DataFrame with DuckDB would copy its Arrow strings to
        # Python objects, and Arrow renders CSV ten times faster than DataFrame.to_csv
        arrow = (
            frame
            if isinstance(frame, pa.Table)
            else pa.Table.from_pandas(frame, preserve_index=False)
        )
    if conn.dialect.name == "duckdb":
        raw = conn.connection.driver_connection
        view = f"bulk_{uuid.uuid4().hex}"
        raw.register(view, arrow)
        try:
            raw.execute(f"insert into {table} ({columns}) select {columns} from {view}")
        finally:
            raw.unregister(view)
    elif conn.dialect.name == "postgresql":
        # A null becomes an unquoted empty field (NULL to COPY), an empty string a quoted
        # one. Rendered and sent in slices, so the CSV of a whole chunk is never held.
        options = pa_csv.WriteOptions(include_header=False)
        with conn.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"copy {table} ({columns}) from stdin (format csv)") as copy:
                for batch in arrow.to_batches(max_chunksize=COPY_BATCH_ROWS):
                    buffer = io.BytesIO()
                    pa_csv.write_csv(batch, buffer, options)
                    copy.write(buffer.getbuffer())
    else:  # any other SQLAlchemy engine: correct, not fast
        if isinstance(frame, pa.Table):
            frame = frame.to_pandas()
        placeholders = ", ".join(":" + c for c in frame.columns)
        conn.execute(
            sa.text(f"insert into {table} ({columns}) values ({placeholders})"),
            frame.astype(object).where(frame.notna(), None).to_dict(orient="records"),
        )
    return len(frame)


@dataclass
class FileLoad:
    """One file's outcome, ready to publish. ``good``/``bad`` are parsed frames."""

    chain_code: str
    feed: str
    business_date: date
    file_name: str
    file_path: str
    checksum: str
    started_at: datetime
    good: pd.DataFrame | None = None
    bad: pd.DataFrame | None = None  # with _row, _raw, column_name, reason
    rejected_reason: str | None = None
    load_id: int | None = field(default=None, init=False)
    # (loaded, quarantined) of a file published in chunks, whose frames are not kept
    counts: tuple[int, int] | None = field(default=None, init=False)
    # Data Docs pages (relative to <home>/data_docs/) of the suite runs that checked it
    reports: list[str] = field(default_factory=list, init=False)

    @property
    def rows_loaded(self) -> int:
        if self.counts is not None:
            return self.counts[0]
        return 0 if self.good is None else len(self.good)

    @property
    def rows_quarantined(self) -> int:
        if self.counts is not None:
            return self.counts[1]
        return 0 if self.bad is None else len(self.bad)

    @property
    def rows_read(self) -> int:
        return self.rows_loaded + self.rows_quarantined


def _next_ids(conn: sa.Connection, count: int) -> list[int]:
    rows = conn.execute(
        sa.text("select nextval('ops_load_id_seq') as id from generate_series(1, :n)"),
        {"n": count},
    )
    return sorted(int(r.id) for r in rows)


def _replace_partitions(conn: sa.Connection, chain_code: str, feed: str, dates: list[date]):
    scope = {"chain": chain_code, "feed": feed, "dates": dates}
    conn.execute(
        sa.text(
            f"delete from {RAW_TABLE[feed]} where chain_code = :chain and business_date in :dates"
        ).bindparams(sa.bindparam("dates", expanding=True)),
        scope,
    )
    conn.execute(
        sa.text(
            "update ops_load_log set status = 'superseded' where chain_code = :chain"
            " and feed = :feed and status = 'loaded' and business_date in :dates"
        ).bindparams(sa.bindparam("dates", expanding=True)),
        scope,
    )


def _insert_log(conn: sa.Connection, loads: list[FileLoad], finished: datetime) -> None:
    log = pd.DataFrame(
        {
            "load_id": [f.load_id for f in loads],
            "chain_code": [f.chain_code for f in loads],
            "feed": [f.feed for f in loads],
            "business_date": [f.business_date.isoformat() for f in loads],
            "file_name": [f.file_name for f in loads],
            "file_path": [f.file_path for f in loads],
            "checksum": [f.checksum for f in loads],
            "rows_read": [f.rows_read for f in loads],
            "rows_loaded": [f.rows_loaded for f in loads],
            "rows_quarantined": [f.rows_quarantined for f in loads],
            "status": ["rejected" if f.rejected_reason else "loaded" for f in loads],
            "message": [f.rejected_reason for f in loads],
            "started_at": [f.started_at.isoformat(sep=" ") for f in loads],
            "finished_at": finished.isoformat(sep=" "),
        }
    )
    bulk_insert(conn, "ops_load_log", log)


def _insert_rows(
    conn: sa.Connection,
    loads: list[FileLoad],
    raw_table: str | None = None,
    quarantine_table: str = "ops_quarantine",
) -> None:
    """The good rows of ``loads`` into the raw table, the bad ones into the quarantine
    (or into the staging tables given)."""
    if not loads:
        return
    feed = loads[0].feed
    columns = raw_columns(feed)
    raw_table = raw_table or RAW_TABLE[feed]
    goods = [_raw_rows(f, columns) for f in loads if f.good is not None and not f.good.empty]
    if goods:
        bulk_insert(conn, raw_table, pa.concat_tables(goods, promote_options="permissive"))
    bads = [
        pd.DataFrame(
            {
                "load_id": f.load_id,
                "chain_code": f.chain_code,
                "feed": feed,
                "business_date": f.business_date.isoformat(),
                "file_name": f.file_name,
                "row_number": f.bad["_row"].astype(int).values,
                "column_name": f.bad["column_name"].values,
                "reason": f.bad["reason"].values,
                "raw_record": f.bad["_raw"].values,
            }
        )
        for f in loads
        if f.bad is not None and not f.bad.empty
    ]
    if bads:
        bulk_insert(conn, quarantine_table, pd.concat(bads, ignore_index=True))


def _raw_rows(load: FileLoad, columns: list[str]) -> pa.Table:
    """A file's good rows as the raw table's ``columns``, in Arrow: the file's values
    without a copy, its chain, business date and load id repeated by Arrow (not as a
    Python string per row)."""
    good = load.good
    constant = {
        "chain_code": load.chain_code,
        "business_date": load.business_date.isoformat(),
        "load_id": load.load_id,
    }
    table = pa.Table.from_pandas(
        good[[c for c in columns if c not in constant]], preserve_index=False
    )
    every = np.zeros(len(good), dtype=np.int32)
    arrays = {c: pc.take(pa.array([v]), every) for c, v in constant.items()}
    return pa.table({c: arrays[c] if c in arrays else table[c] for c in columns})


def publish(engine: sa.Engine, loads: list[FileLoad]) -> None:
    """Publish files of one chain and feed in one transaction (see module guarantees)."""
    if not loads:
        return
    chain_codes = {f.chain_code for f in loads}
    feeds = {f.feed for f in loads}
    if len(chain_codes) != 1 or len(feeds) != 1:
        raise ValueError("publish() takes the files of one chain and one feed")
    chain_code, feed = chain_codes.pop(), feeds.pop()
    accepted = [f for f in loads if f.rejected_reason is None]
    dates = sorted({f.business_date for f in accepted})
    finished = datetime.now()
    with engine.begin() as conn:
        for load, load_id in zip(loads, _next_ids(conn, len(loads)), strict=True):
            load.load_id = load_id
        if dates:
            _replace_partitions(conn, chain_code, feed, dates)
        _insert_log(conn, loads, finished)
        _insert_rows(conn, accepted)
    if accepted:
        summarize_brin(engine, [RAW_TABLE[feed]])


class Held(Exception):
    """A streamed file is not to be published (its message says why); nothing is kept."""


def publish_streamed(
    engine: sa.Engine,
    load: FileLoad,
    pieces: Iterator[FileLoad],
    hold: Callable[[FileLoad], str | None],
    *,
    staged: bool = True,
) -> None:
    """Publish one large file chunk by chunk: its partition is replaced in one
    transaction, by the whole file or not at all.

    ``pieces`` yields the file's validated chunks (``good``/``bad`` set); they are
    written as they come (the next one may be made meanwhile, see
    :mod:`ka_pipeline.ahead`), so memory holds two chunks, not the file. ``load`` ends
    with the totals.
    ``hold(load)`` may return a reason to keep the loaded partition: the transaction is
    rolled back and :class:`Held` raised. Any error rolls back the whole file, so the
    partition is replaced by the whole file or not at all.

    On DuckDB an open transaction keeps its appended rows in memory until the commit
    (about 110 bytes a row), so unless ``staged`` is False (the caller knows the file is
    small enough, see ``pipeline.DUCKDB_DIRECT_BYTES``) the chunks go through staging
    tables (:func:`_publish_staged`); PostgreSQL writes them straight in.
    """
    if engine.dialect.name == "duckdb" and staged:
        _publish_staged(engine, load, pieces, hold)
        return
    loaded = quarantined = 0
    with engine.begin() as conn:
        load.load_id = _next_ids(conn, 1)[0]
        _replace_partitions(conn, load.chain_code, load.feed, [load.business_date])
        for piece in pieces:
            piece.load_id = load.load_id
            _insert_rows(conn, [piece])
            loaded += piece.rows_loaded
            quarantined += piece.rows_quarantined
        load.counts = (loaded, quarantined)
        reason = hold(load)
        if reason:
            raise Held(reason)
        _insert_log(conn, [load], datetime.now())
    summarize_brin(engine, [RAW_TABLE[load.feed]])


def _publish_staged(
    engine: sa.Engine,
    load: FileLoad,
    pieces: Iterator[FileLoad],
    hold: Callable[[FileLoad], str | None],
) -> None:
    """DuckDB keeps a transaction's appended rows in memory until the commit (about
    125 bytes a row): the chunks are committed one by one into staging tables, then one
    transaction replaces the partition from them (an insert-select, which DuckDB runs in
    bounded memory). The staging tables are dropped whatever happens."""
    raw = RAW_TABLE[load.feed]
    stage, stage_q = f"stage_{uuid.uuid4().hex}", f"stage_q_{uuid.uuid4().hex}"
    with engine.begin() as conn:
        load.load_id = _next_ids(conn, 1)[0]
        conn.execute(sa.text(f"create table {stage} as select * from {raw} limit 0"))
        conn.execute(sa.text(f"create table {stage_q} as select * from ops_quarantine limit 0"))
    try:
        loaded = quarantined = 0
        for piece in pieces:
            piece.load_id = load.load_id
            with engine.begin() as conn:
                _insert_rows(conn, [piece], stage, stage_q)
            loaded += piece.rows_loaded
            quarantined += piece.rows_quarantined
        load.counts = (loaded, quarantined)
        reason = hold(load)
        if reason:
            raise Held(reason)
        with engine.begin() as conn:
            _replace_partitions(conn, load.chain_code, load.feed, [load.business_date])
            columns = ", ".join(raw_columns(load.feed))
            conn.execute(sa.text(f"insert into {raw} ({columns}) select {columns} from {stage}"))
            conn.execute(sa.text(f"insert into ops_quarantine select * from {stage_q}"))
            _insert_log(conn, [load], datetime.now())
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"drop table if exists {stage}"))
            conn.execute(sa.text(f"drop table if exists {stage_q}"))
