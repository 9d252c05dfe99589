"""The nightly job: discover -> parse -> validate -> publish -> models -> scorecards.

:func:`run` processes business dates ``start..end`` (inclusive) for some or all chains.
Guarantees:

* Each chain is processed on its own: one chain's failure is reported and the others
  go on (the CLI then exits non-zero).
* Idempotent: a file whose checksum is already recorded for its partition is skipped,
  the models are rebuilt per chain from the warehouse, and each scorecard is sent once
  (see :mod:`ka_pipeline.delivery`). Running a date twice changes nothing.
* Nothing lost: every file gets a load-log row (loaded or rejected) and every row read
  is loaded or quarantined with its reason.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ka_pipeline.ahead import one_ahead
from ka_pipeline.config import Chain, Config, load_config
from ka_pipeline.daystatus import DayState, record_days
from ka_pipeline.discover import FeedFile, days, discover
from ka_pipeline.errors import FileRejected, KaError
from ka_pipeline.feeds import FEEDS
from ka_pipeline.load import RAW_TABLE, FileLoad, Held, publish, publish_streamed
from ka_pipeline.locks import chain_lock
from ka_pipeline.masterdata import publish_master_data
from ka_pipeline.models import run_models
from ka_pipeline.parse import (
    NUMBER_MISREAD,
    KeyTally,
    NeedsLineByLine,
    Parsed,
    normalise,
    read_chunks,
    read_file,
    repeated_rows,
)
from ka_pipeline.settings import Settings
from ka_pipeline.shown import plain
from ka_pipeline.validate import (
    Validated,
    add_flags,
    chain_key_reason,
    key_rule,
    record_files,
    store_result,
    validate_rows,
)
from ka_pipeline.validate import prepare as prepare_validation
from ka_pipeline.warehouse import connect

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
PUBLISH_BATCH_FILES = 100  # files per transaction at most
# Memory is bounded by rows, not files: a batch holds at most BATCH_BYTES of CSV (about
# 400k sales rows); a larger CSV file is read, checked and published in chunks of
# CHUNK_ROWS rows within one transaction.
BATCH_BYTES = 16 << 20
CHUNK_ROWS = 200_000
# DuckDB holds a transaction's appended rows in memory until the commit (about 110
# bytes a row): a CSV file up to this size (about 1.6M sales rows, 180 MB held) is
# written straight into its partition; a larger one through staging tables
# (ka_pipeline.load.publish_streamed), each row then written twice.
DUCKDB_DIRECT_BYTES = 64 << 20
DAILY_FEEDS = ("sales",)  # feeds expected every business date; a gap is a missing feed


def stdout_progress(message: str) -> None:
    """Progress of a run: ordinary output (stdout), never an error stream."""
    print(message, flush=True)


@dataclass
class FeedCounts:
    files: int = 0
    skipped: int = 0
    rejected: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0


@dataclass
class ChainResult:
    chain_code: str
    feeds: dict[str, FeedCounts] = field(default_factory=lambda: defaultdict(FeedCounts))
    rejected: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    days: list[DayState] = field(default_factory=list)  # ops_chain_day as this run left it


@dataclass
class RunSummary:
    start: date
    end: date
    chains: list[ChainResult]
    model_rows: dict[str, int] = field(default_factory=dict)
    mails: list = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[ChainResult]:
        return [c for c in self.chains if c.error]


@contextmanager
def _timed(totals: dict[str, float], stage: str) -> Iterator[None]:
    """Add the block's wall time to ``totals[stage]`` (the run summary's breakdown)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        totals[stage] = totals.get(stage, 0.0) + time.perf_counter() - start


def _known_checksums(
    engine: sa.Engine, chain_code: str, start: date, end: date
) -> dict[tuple[str, date], str]:
    query = sa.text(
        "select feed, business_date, checksum from ops_load_log where chain_code = :c"
        " and status in ('loaded', 'rejected') and business_date >= :s and business_date < :e"
        " order by load_id"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"c": chain_code, "s": start, "e": end})
        return {(r.feed, r.business_date): r.checksum for r in rows}


@dataclass
class _Batch:
    """Files of one chain and feed, parsed: each file's load with its rows as read (None
    when it is unreadable), and the readable files' rows normalised in one frame
    (``_file`` = the file's position among the readable ones)."""

    files: list[tuple[FileLoad, Parsed | None]]
    frame: pd.DataFrame | None = None

    @property
    def readable(self) -> list[tuple[FileLoad, Parsed]]:
        return [(load, parsed) for load, parsed in self.files if parsed is not None]


def _normalised(chain: Chain, feed: str, files: list[tuple[FileLoad, Parsed | None]]) -> _Batch:
    """The batch of ``files`` with its readable rows normalised in one pass (so its
    fixed cost is paid per batch, not per file), derived columns included."""
    batch = _Batch(files)
    readable = batch.readable
    if readable:
        frame = pd.concat(
            [parsed.rows.assign(_file=i) for i, (_, parsed) in enumerate(readable)],
            ignore_index=True,
        )
        batch.frame = normalise(frame, chain.feeds[feed], chain)
    return batch


def _parse_batch(chain: Chain, feed: str, files: list[FeedFile], progress: Progress) -> _Batch:
    """Parse files and normalise their rows; an unreadable file gets its rejection
    reason and no parsed rows."""
    loads, last = [], time.monotonic()
    for i, feed_file in enumerate(files, 1):
        load = _new_load(chain, feed_file)
        parsed = None
        try:
            parsed = read_file(feed_file.path, chain.feeds[feed_file.feed])
        except FileRejected as exc:
            load.rejected_reason = exc.reason
        loads.append((load, parsed))
        if time.monotonic() - last > 5:
            progress(f"  {chain.code} {feed_file.feed}: parsed {i}/{len(files)} files")
            last = time.monotonic()
    return _normalised(chain, feed, loads)


def _loaded_keys(
    engine: sa.Engine, chain_code: str, feed: str, frame: pd.DataFrame, skip: list[date]
) -> dict[tuple[str, ...], str]:
    """Keys of ``frame`` already loaded for this chain outside the dates ``skip`` (the
    partitions the batch replaces), each with the partition and file holding it."""
    columns = FEEDS[feed].chain_key
    firsts = [v for v in frame[columns[0]].dropna().unique()]
    found: dict[tuple[str, ...], str] = {}
    if not firsts:
        return found
    query = sa.text(
        f"select {', '.join('r.' + c for c in columns)}, r.business_date, l.file_name"
        f" from {RAW_TABLE[feed]} r join ops_load_log l on l.load_id = r.load_id"
        f" where r.chain_code = :chain and r.{columns[0]} in :firsts"
        " and r.business_date not in :skip"
    ).bindparams(sa.bindparam("firsts", expanding=True), sa.bindparam("skip", expanding=True))
    with engine.connect() as conn:
        for i in range(0, len(firsts), 5000):
            params = {"chain": chain_code, "firsts": firsts[i : i + 5000], "skip": skip}
            for row in conn.execute(query, params):
                key = tuple(str(v) for v in row[: len(columns)])
                found.setdefault(key, f"for {row.business_date} from {plain(row.file_name)}")
    return found


def _claim_keys_in_order(
    result: Validated, feed: str, readable: list[tuple[FileLoad, Parsed | None]]
) -> Validated:
    """Within a batch, a key belongs to the first file (by business date) loading it: a
    later file's row with that key is quarantined, exactly as a nightly run would find
    it already loaded. Nightly and backfill thus give the same tables."""
    columns = list(FEEDS[feed].chain_key)
    good, bad = result.good, result.bad
    owner = good.sort_values("_file", kind="stable").drop_duplicates(columns)
    owner = owner.set_index(columns)["_file"]
    if owner.empty:
        return result
    where = {
        i: f"for {load.business_date} from {plain(load.file_name)}"
        for i, (load, _) in enumerate(readable)
    }
    reason = chain_key_reason(feed)
    column = ",".join(columns)

    def taken(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        keys = pd.MultiIndex.from_frame(frame[columns].astype(object))
        first = pd.Series(owner.reindex(keys).to_numpy(), index=frame.index)
        return first.notna() & (first < frame["_file"]), first

    late, first = taken(good)
    moved = good[late].assign(
        column_name=column,
        reason=[f"{reason}: {where[int(f)]}" for f in first[late]],
    )
    if not bad.empty:
        also, bad_first = taken(bad)
        bad = bad.copy()
        bad.loc[also, "column_name"] = bad.loc[also, "column_name"] + ", " + column
        bad.loc[also, "reason"] = [
            f"{r}; {reason}: {where[int(f)]}"
            for r, f in zip(bad.loc[also, "reason"], bad_first[also], strict=True)
        ]
    return Validated(good[~late], pd.concat([bad, moved]).sort_values("_key_order"), result.result)


def _validate_batch(
    config: Config,
    chain: Chain,
    feed: str,
    batch: _Batch,
    engine: sa.Engine | None = None,
) -> Any:
    """Validate all readable files of a batch in one suite run; split good from bad.
    Returns the suite's result (None for a batch with no readable row), for the caller
    to store (:func:`ka_pipeline.validate.store_result`).

    Every check is per file and per partition (a key repeated in one file, a date
    outside its file's window), so a file gives the same rows whichever batch it is in;
    keys that must be unique across partitions are checked against what is loaded and
    claimed in business-date order (:func:`_claim_keys_in_order`).
    """
    readable, frame = batch.readable, batch.frame
    if not readable or frame is None:
        return None
    layout = chain.feeds[feed]
    chain_key = FEEDS[feed].chain_key
    file_dates = frame["_file"].map(
        {i: load.business_date.isoformat() for i, (load, _) in enumerate(readable)}
    )
    loaded = None
    if chain_key and engine is not None:
        dates = sorted({load.business_date for load, _ in readable})
        loaded = _loaded_keys(engine, chain.code, feed, frame, dates)
    stores = config.stores.loc[config.stores["chain_code"] == chain.code, "store_code"]
    flagged = add_flags(
        frame, feed, file_dates, stores, set(config.products["barcode"]), layout, loaded
    )
    flagged["_key_order"] = range(len(flagged))
    result = validate_rows(flagged, feed)
    if chain_key and len(readable) > 1:
        result = _claim_keys_in_order(result, feed, readable)
    keep = [c for c in frame.columns if c not in ("_file", NUMBER_MISREAD)]
    if len(readable) == 1:  # a chunk of a large file: no split (it copies every column)
        good_by_file, bad_by_file = {0: result.good}, {0: result.bad} if len(result.bad) else {}
    else:
        good_by_file = dict(tuple(result.good.groupby("_file")))
        bad_by_file = dict(tuple(result.bad.groupby("_file")))
    for i, (load, parsed) in enumerate(readable):
        good = good_by_file.get(i)
        bad = bad_by_file.get(i)
        load.good = good[keep].reset_index(drop=True) if good is not None else frame.iloc[0:0][keep]
        if bad is not None:
            bad = bad.sort_values("_row")
            load.bad = bad.reset_index(drop=True).assign(_raw=parsed.raw_records(bad["_row"]))
        if parsed.malformed:
            lines = pd.DataFrame(
                {
                    "_row": [m.row_number for m in parsed.malformed],
                    "column_name": None,
                    "reason": [m.reason for m in parsed.malformed],
                    "_raw": [m.raw for m in parsed.malformed],
                }
            )
            load.bad = lines if load.bad is None else pd.concat([load.bad, lines])
    return result.result


def _loaded_partitions(
    engine: sa.Engine, chain_code: str, feed: str, dates: list[date]
) -> dict[date, sa.Row]:
    """The current load (rows_loaded, file_name) of each partition among ``dates``."""
    query = sa.text(
        "select business_date, rows_loaded, file_name from ops_load_log"
        " where chain_code = :chain and feed = :feed and status = 'loaded'"
        " and business_date in :dates"
    ).bindparams(sa.bindparam("dates", expanding=True))
    params = {"chain": chain_code, "feed": feed, "dates": dates}
    with engine.connect() as conn:
        return {_as_date(r.business_date): r for r in conn.execute(query, params)}


def _hold_reason(load: FileLoad, old: sa.Row | None, share: float) -> str | None:
    """Why ``load`` must not replace the partition's loaded rows ``old``, or None."""
    if old is None or old.rows_loaded == 0:
        return None
    if load.rows_loaded == 0 or load.rows_loaded < share * old.rows_loaded:
        return (
            f"held for review: it would replace the {old.rows_loaded} row(s) loaded from"
            f" {plain(old.file_name)} with {load.rows_loaded} good row(s), below"
            f" {share:.0%} of them (restatement_min_share); the loaded rows are kept;"
            " re-run with --force to accept it"
        )
    return None


def _hold_shrinking_restatements(
    engine: sa.Engine, chain: Chain, feed: str, loads: list[FileLoad]
) -> None:
    """Hold a file that would replace a loaded partition with nothing, or with fewer
    good rows than the layout's ``restatement_min_share`` of the loaded ones: it is
    rejected with a message saying so, and the loaded slice stays as it is."""
    accepted = [f for f in loads if f.rejected_reason is None]
    if not accepted:
        return
    loaded = _loaded_partitions(engine, chain.code, feed, [f.business_date for f in accepted])
    share = chain.feeds[feed].restatement_min_share
    for load in accepted:
        reason = _hold_reason(load, loaded.get(load.business_date), share)
        if reason:
            load.rejected_reason = reason
            load.good = load.bad = None


def _new_load(chain: Chain, feed_file: FeedFile) -> FileLoad:
    return FileLoad(
        chain_code=chain.code,
        feed=feed_file.feed,
        business_date=feed_file.business_date,
        file_name=feed_file.name,
        file_path=str(feed_file.path),
        checksum=feed_file.checksum,
        started_at=datetime.now(),
    )


def _load_streamed(
    engine: sa.Engine,
    config: Config,
    chain: Chain,
    feed_file: FeedFile,
    *,
    force: bool,
    seconds: dict[str, float],
    home: Path | None = None,
) -> FileLoad:
    """Load one large CSV file in chunks of :data:`CHUNK_ROWS` rows, in one transaction;
    the next chunk is read and validated while this one is written (:func:`one_ahead`), so
    memory holds two chunks. The checks are those of a batch: a key repeated anywhere
    in the file quarantines each of its rows, as the suite's uniqueness check does
    within a chunk (found by a pass over the key columns, made only for a file whose
    keys repeat); a restatement is held the same way."""
    feed, layout = feed_file.feed, chain.feeds[feed_file.feed]
    load = _new_load(chain, feed_file)
    key, key_reason = key_rule(feed)
    old = None if force else _loaded_partitions(engine, chain.code, feed, [load.business_date])
    share = layout.restatement_min_share

    def pieces(line_by_line: bool, key_pass: bool) -> Iterator[FileLoad]:
        repeated: set[int] = set()
        if key_pass:
            with _timed(seconds, "read"):
                repeated = repeated_rows(feed_file.path, layout, key, CHUNK_ROWS)
        tally = None if key_pass else KeyTally()
        reports = _ChunkReports(home, chain.code, feed_file)
        chunks = read_chunks(feed_file.path, layout, CHUNK_ROWS, line_by_line=line_by_line)
        while True:
            with _timed(seconds, "read"):
                parsed = next(chunks, None)
            if parsed is None:
                break
            piece = _new_load(chain, feed_file)
            with _timed(seconds, "read"):
                batch = _normalised(chain, feed, [(piece, parsed)])
                if tally is not None and batch.frame is not None:
                    tally.add(batch.frame, key)
            with _timed(seconds, "validate"):
                reports.add(_validate_batch(config, chain, feed, batch, engine), len(parsed.rows))
                _quarantine_repeated(piece, parsed, repeated, key, key_reason)
            yield piece
        if tally is not None and tally.any_repeated():
            raise _KeysRepeated(feed_file.name)
        with _timed(seconds, "validate"):
            load.reports.extend(reports.stored())

    # Most files repeat no key: the first attempt reads the file once and only counts
    # its keys; a file where some key repeats is loaded again (the first attempt rolled
    # back) after a pass over its key columns, so every row of a repeated key is
    # quarantined whichever chunks hold them.
    attempts = [(False, False)]
    while attempts:
        line_by_line, key_pass = attempts.pop(0)
        try:
            with _timed(seconds, "publish"):
                publish_streamed(
                    engine,
                    load,
                    one_ahead(pieces(line_by_line, key_pass)),
                    lambda done: _hold_reason(done, (old or {}).get(load.business_date), share),
                    staged=feed_file.path.stat().st_size > DUCKDB_DIRECT_BYTES,
                )
            return load
        except (NeedsLineByLine, _KeysRepeated) as exc:
            load.counts = None
            load.reports.clear()  # that attempt was rolled back
            if not line_by_line:
                attempts = [(isinstance(exc, NeedsLineByLine), True)]
            continue
        except (FileRejected, Held) as exc:
            load.rejected_reason = exc.reason if isinstance(exc, FileRejected) else str(exc)
            load.counts = None
            break
    load.good = load.bad = None
    publish(engine, [load])
    return load


class _ChunkReports:
    """The suite results of a file loaded in chunks, stored once the file is read (an
    attempt rolled back stores none): a chunk where some expectation failed gets its own
    result and Data Docs page (its counts and first failing rows, trimmed: small); the
    chunks where every expectation held share one (a passing result lists no counts, so
    theirs are the same but for the rows covered)."""

    def __init__(self, home: Path | None, chain_code: str, feed_file: FeedFile) -> None:
        self.home, self.chain_code, self.feed_file = home, chain_code, feed_file
        self.failed: list[Any] = []
        self.clean: Any = None
        self.clean_chunks = self.clean_rows = 0

    def add(self, result: Any, rows: int) -> None:
        if self.home is None or result is None:
            return
        if not result.success:
            self.failed.append(result)
            return
        if self.clean is None:
            self.clean = result
        self.clean_chunks += 1
        self.clean_rows += rows

    def stored(self) -> list[str]:
        """Store the results; their Data Docs pages, failing chunks first."""
        pages = [self._store(result, None) for result in self.failed]
        if self.clean is not None:
            covered = f"{self.clean_chunks} chunk(s) of {self.clean_rows} rows without a failure"
            pages.append(self._store(self.clean, covered))
        return pages

    def _store(self, result: Any, covered: str | None) -> str:
        files = [(self.feed_file.name, self.feed_file.business_date.isoformat())]
        return store_result(self.home, self.chain_code, self.feed_file.feed, files, result, covered)


class _KeysRepeated(Exception):
    """Some key of a streamed file appears on more than one row: load it with the key pass."""


def _quarantine_repeated(
    piece: FileLoad, parsed: Parsed, repeated: set[int], key: tuple[str, ...], reason: str
) -> None:
    """Quarantine the good rows of a chunk whose key is repeated elsewhere in the file
    (the suite saw only this chunk); a bad row gets the reason too if it lacks it."""
    if not repeated:
        return
    column = ",".join(key)
    good = piece.good
    if good is not None and not good.empty:
        late = good["_row"].isin(repeated)
        if late.any():
            moved = good[late].assign(column_name=column, reason=reason)
            moved["_raw"] = parsed.raw_records(moved["_row"])
            piece.good = good[~late].reset_index(drop=True)
            piece.bad = moved if piece.bad is None else pd.concat([piece.bad, moved])
    bad = piece.bad
    if bad is not None and not bad.empty:
        lacking = bad["_row"].isin(repeated) & ~bad["reason"].str.contains(reason, regex=False)
        bad = bad.copy()
        bad.loc[lacking, "column_name"] = bad.loc[lacking, "column_name"].fillna("") + (
            ", " + column
        )
        bad.loc[lacking, "reason"] = bad.loc[lacking, "reason"] + "; " + reason
        piece.bad = bad.sort_values("_row").reset_index(drop=True)


def _report_entry(load: FileLoad) -> dict[str, object]:
    """A file's line in the Data Docs index (see :func:`ka_pipeline.validate.record_files`)."""
    return {
        "at": datetime.now().isoformat(sep=" ", timespec="seconds"),
        "chain": load.chain_code,
        "feed": load.feed,
        "business_date": load.business_date.isoformat(),
        "file": load.file_name,
        "load_id": load.load_id,
        "status": "rejected" if load.rejected_reason else "loaded",
        "message": load.rejected_reason,
        "rows_read": load.rows_read,
        "rows_loaded": load.rows_loaded,
        "rows_quarantined": load.rows_quarantined,
        "reports": load.reports,
    }


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _streamed(chain: Chain, feed_file: FeedFile) -> bool:
    """A CSV file too large for a batch is loaded in chunks on its own."""
    layout = chain.feeds[feed_file.feed]
    return layout.format == "csv" and feed_file.path.stat().st_size > BATCH_BYTES


def _batches(chain: Chain, files: list[FeedFile]) -> Iterator[list[FeedFile]]:
    """Files in batches of at most :data:`BATCH_BYTES` (so of bounded rows) and
    :data:`PUBLISH_BATCH_FILES` files; a larger CSV file is a batch of its own, loaded
    in chunks. An XLSX file counts 10x its size (it is compressed)."""
    group: list[FeedFile] = []
    size = 0
    for feed_file in files:
        layout = chain.feeds[feed_file.feed]
        weight = feed_file.path.stat().st_size * (10 if layout.format == "xlsx" else 1)
        if _streamed(chain, feed_file):
            if group:
                yield group
            yield [feed_file]
            group, size = [], 0
            continue
        if group and (size + weight > BATCH_BYTES or len(group) >= PUBLISH_BATCH_FILES):
            yield group
            group, size = [], 0
        group.append(feed_file)
        size += weight
    if group:
        yield group


def run_chain(
    engine: sa.Engine,
    settings: Settings,
    config: Config,
    chain_code: str,
    start: date,
    end: date,
    *,
    force: bool = False,
    progress: Progress = stdout_progress,
) -> ChainResult:
    """Load one chain's files with start <= business date < end (no models, no mail)."""
    chain = config.chain(chain_code)
    result = ChainResult(chain_code)
    files, problems = discover(settings.feeds_dir, chain, start, end)
    result.rejected.extend(problems)
    known = _known_checksums(engine, chain_code, start, end)
    by_feed: dict[str, list[FeedFile]] = defaultdict(list)
    for feed_file in files:
        by_feed[feed_file.feed].append(feed_file)
    for feed in DAILY_FEEDS:
        if feed in chain.feeds:
            present = {f.business_date for f in by_feed.get(feed, [])}
            result.missing += [f"{feed} {d}" for d in days(start, end) if d not in present]
    for feed, feed_files in sorted(by_feed.items()):
        counts = result.feeds[feed]
        counts.files = len(feed_files)
        todo = [f for f in feed_files if force or known.get((feed, f.business_date)) != f.checksum]
        counts.skipped = len(feed_files) - len(todo)
        if todo:
            progress(
                f"  {chain_code} {feed}: {len(todo)} file(s) to load, {counts.skipped} unchanged"
            )
            with _timed(result.seconds, "GE setup"):  # once per process, then cached
                prepare_validation(feed)
        for group in _batches(chain, todo):
            if len(group) == 1 and _streamed(chain, group[0]):
                batch = [
                    _load_streamed(
                        engine,
                        config,
                        chain,
                        group[0],
                        force=force,
                        seconds=result.seconds,
                        home=settings.home,
                    )
                ]
            else:
                with _timed(result.seconds, "read"):
                    parsed = _parse_batch(chain, feed, group, progress)
                with _timed(result.seconds, "validate"):
                    suite_result = _validate_batch(config, chain, feed, parsed, engine)
                    if suite_result is not None:
                        readable = [load for load, _ in parsed.readable]
                        files = [(f.file_name, f.business_date.isoformat()) for f in readable]
                        page = store_result(settings.home, chain_code, feed, files, suite_result)
                        for load in readable:
                            load.reports.append(page)
                batch = [load for load, _ in parsed.files]
                if not force:
                    _hold_shrinking_restatements(engine, chain, feed, batch)
                with _timed(result.seconds, "publish"):
                    publish(engine, batch)
            with _timed(result.seconds, "validate"):
                record_files(settings.home, [_report_entry(load) for load in batch])
            for load in batch:
                if load.rejected_reason:
                    counts.rejected += 1
                    result.rejected.append(f"{load.file_path}: {load.rejected_reason}")
                counts.rows_read += load.rows_read
                counts.rows_loaded += load.rows_loaded
                counts.rows_quarantined += load.rows_quarantined
    return result


def _missing_by_day(missing: list[str]) -> dict[date, list[str]]:
    """``["sales 2026-10-31", ...]`` (ChainResult.missing) by date."""
    by_day: dict[date, list[str]] = defaultdict(list)
    for item in missing:
        feed, _, day = item.rpartition(" ")
        by_day[date.fromisoformat(day)].append(feed)
    return by_day


def _max_load_id(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("select coalesce(max(load_id), 0) from ops_load_log")).scalar()
        )


def _loaded_days(engine: sa.Engine, chain_code: str, after_load_id: int) -> set[date]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select distinct business_date from ops_load_log where chain_code = :c"
                " and load_id > :id and status = 'loaded'"
            ),
            {"c": chain_code, "id": after_load_id},
        )
        return {r[0] for r in rows}


def process_chain(
    engine: sa.Engine,
    settings: Settings,
    config: Config,
    chain_code: str,
    start: date,
    end: date,
    *,
    force: bool = False,
    progress: Progress = stdout_progress,
) -> tuple[ChainResult, dict[str, int]]:
    """Load, model and record one chain for ``start <= business date < end``.

    The one writer of the chain (:func:`ka_pipeline.locks.chain_lock`): a second run of
    the same chain waits, then finds the files loaded and does nothing. Models run only
    when some file was loaded or a day was not complete before (a re-run of a loaded
    date does no model work). Every day of the range gets its ``ops_chain_day`` state,
    also when the chain fails. Returns the chain's result and the model rows written.
    """
    model_rows: dict[str, int] = {}
    with chain_lock(engine, f"chain:{chain_code}", progress=progress):
        before = _max_load_id(engine)
        try:
            result = run_chain(
                engine, settings, config, chain_code, start, end, force=force, progress=progress
            )
            loaded = _loaded_days(engine, chain_code, before)
            with engine.connect() as conn:
                settled = conn.execute(
                    sa.text(
                        "select count(*) from ops_chain_day where chain_code = :c"
                        " and business_date >= :s and business_date < :e and status = 'ok'"
                    ),
                    {"c": chain_code, "s": start, "e": end},
                ).scalar_one()
            if loaded or force or settled < (end - start).days:
                progress(f"  {chain_code}: rebuilding models")
                with _timed(result.seconds, "models"):
                    # the slice from the earliest day this run loaded (or, for a re-run
                    # of days left incomplete, from its first day); --force: everything
                    since = None if force else min(loaded) if loaded else start
                    model_rows = run_models(engine, [chain_code], since=since)
        except Exception as exc:  # record the failed days, then let the caller decide
            error = f"{type(exc).__name__}: {exc}"
            record_days(engine, chain_code, start, end, missing={}, error=error)
            raise
        result.days = record_days(
            engine, chain_code, start, end, missing=_missing_by_day(result.missing), loaded=loaded
        )
    return result, model_rows


def run(
    settings: Settings,
    start: date,
    end: date,
    *,
    chains: list[str] | None = None,
    force: bool = False,
    scorecards: str = "auto",
    progress: Progress = stdout_progress,
) -> RunSummary:
    """Run business dates ``start..end`` (inclusive) for ``chains`` (default: all).

    ``scorecards``: ``auto`` releases the scorecards that are due as of ``end``
    (complete periods, revisions; :mod:`ka_pipeline.release`) when the run covers every
    chain; ``always`` also sends the month of ``end`` now, stating any gap; ``never``
    mails nothing.
    """
    if end < start:
        raise KaError(f"the range is empty: {start} is after {end}")
    began = time.monotonic()
    config = load_config(settings.config_dir)
    codes = chains or sorted(config.chains)
    for code in codes:
        config.chain(code)  # unknown chain: a clear error before any work
    engine = connect(settings.warehouse_url)
    publish_master_data(engine, config)
    summary = RunSummary(start, end, [])
    stop = end + timedelta(days=1)
    for code in codes:
        progress(f"{code}: loading {start} .. {end}")
        try:
            result, model_rows = process_chain(
                engine, settings, config, code, start, stop, force=force, progress=progress
            )
            summary.chains.append(result)
            for table, n in model_rows.items():
                summary.model_rows[table] = summary.model_rows.get(table, 0) + n
        except Exception as exc:  # isolate chains: report and go on with the others
            log.exception("chain %s failed", code)
            failed = ChainResult(code, error=f"{type(exc).__name__}: {exc}")
            if not isinstance(exc, KaError):
                failed.error += "\n" + traceback.format_exc(limit=3)
            summary.chains.append(failed)
    for chain_result in summary.chains:
        for stage, seconds in chain_result.seconds.items():
            summary.stage_seconds[stage] = summary.stage_seconds.get(stage, 0.0) + seconds
    # A run for some chains only (a backfill, a re-run) mails nothing unless asked.
    if scorecards == "always" or (scorecards == "auto" and chains is None):
        from ka_pipeline.release import release_scorecards  # jinja2, Pillow: only when mailing

        with _timed(summary.stage_seconds, "scorecards"):
            summary.mails = release_scorecards(
                engine,
                settings,
                config,
                end,
                force_month=scorecards == "always",
                progress=progress,
            )
    summary.seconds = time.monotonic() - began
    return summary
