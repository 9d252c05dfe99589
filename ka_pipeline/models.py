"""Run the warehouse models in ``sql/``: one target table per model, rebuilt per chain.

Layout: ``sql/staging/`` (one model per feed: types, renames, the promo rule),
``sql/intermediate/`` (named steps), ``sql/marts/``. A model is ``<table>.sql``, a plain
SELECT in the CTE shape (import CTEs, logic CTEs, ``final``, ``select * from final``)
with one bind parameter ``:chain_code``, and ``<table>.yml`` beside it declaring its
grain, key, the tables it reads (``depends_on``) and its columns with their meaning
(docs/models_reference.md is generated from these files). A staging model whose YAML
says ``materialized: view`` is a view over its feed (no copy, no ``:chain_code``): the
runner (re)creates it when its SQL changed, and every model reads it like a table.

Guarantees:

* **Order from declarations.** Models run in dependency order (ties by layer, then
  name). A cycle, a model reading a table it does not declare, or a declared table that
  is neither a model nor a table of the warehouse is a :class:`ConfigError` naming the
  model and the table, raised before anything is written.
* **Views follow their SQL.** Before any chain is run, each view model whose SQL differs
  from the checksum recorded in ``ops_model_view`` (or that is missing) is dropped and
  created again, under a PostgreSQL advisory lock so parallel chain runs do not race.
* **Fresh statistics.** On PostgreSQL, on a full rebuild every model's table is analyzed
  right after it is written (before the models that read it, and the next night's
  slices, are planned); on an incremental run a table never analyzed, and a model whose
  YAML says ``analyze: true`` (``stg_sales``, and tables later models join) when its
  slice is large.
* **Few catalog reads.** The warehouse's tables, views and (DuckDB) primary keys are read
  once per run by unparameterised catalog queries; the models' files are parsed again
  only when one changed.
* **No JIT on PostgreSQL.** Each chain's transaction sets ``jit = off``: compiling a
  model's plan cost seconds where running it took milliseconds.
* **Per chain, in one transaction.** For each chain, every model's rows are replaced
  (delete the chain's rows, insert the query result) in one transaction, so a failed
  model leaves the previous results in place and other chains' rows are never touched.
  Running twice gives the same tables.
* **Incremental, equal to a full rebuild.** Given ``since`` (the earliest business date
  whose files changed), a chain whose master data, contracts and models are unchanged
  (hash in ``ops_model_state``) is brought up to date by slices: the earliest date the
  changed partitions touch (invoice, payment, deduction and period dates, now and as
  last modeled, from ``ops_model_partition``) bounds each incremental model's slice
  (YAML ``incremental``: the slice column and its unit), whose rows are deleted and
  rebuilt (half-open: from the bound on). A model may instead name its slice by keys
  (YAML ``incremental: {column, keys}``: a SELECT of the column's values to recompute,
  which the runner stages in the temporary table ``slice_keys`` for the delete and the
  model's SQL). Loads after the last model run widen the range. Without ``since``, on a
  first run or a changed hash, every model is rebuilt whole. tests/test_incremental.py
  proves nightly, backfill and full give equal tables.
* **Last file dates read once.** The chain's latest business date per feed is read once
  per run (sales from the changed partitions on) and bound as ``:last_file_date`` /
  ``:last_trade_date`` (int_chain_as_of), with ``:until`` and ``:sends_promo``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from ka_pipeline import resources
from ka_pipeline.errors import ConfigError
from ka_pipeline.warehouse import summarize_brin

LAYERS = ("staging", "intermediate", "marts")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# table names a model's SQL reads: after from / join, in the warehouse's prefixes
_READS = re.compile(r"\b(?:from|join)\s+((?:raw|ref|stg|int|mart|ops)_[a-z0-9_]+)\b", re.I)


def sql_dir() -> Path:
    """The models folder (see :mod:`ka_pipeline.resources`); a missing one is a ConfigError."""
    return resources.sql_dir()


@dataclass(frozen=True)
class Model:
    table: str
    path: Path
    sql: str
    layer: str = "marts"
    depends_on: tuple[str, ...] = ()
    doc: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_view(self) -> bool:
        return self.doc.get("materialized", "table") == "view"


def _read_doc(path: Path) -> dict[str, Any]:
    doc_path = path.with_suffix(".yml")
    if not doc_path.exists():
        raise ConfigError(f"{path}: no {doc_path.name} beside it (grain, key, depends_on, columns)")
    try:
        doc = resources.load_shipped_yaml(doc_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{doc_path}: not valid YAML: {exc}") from exc
    for key in ("name", "grain", "key", "depends_on", "columns"):
        if key not in doc:
            raise ConfigError(f"{doc_path}: missing '{key}'")
    if doc["name"] != path.stem:
        raise ConfigError(f"{doc_path}: name {doc['name']!r} is not the file's {path.stem!r}")
    return doc


# discover_models' result per folder, with the files' (name, mtime, size) it was read from:
# a run asks for the models several times (the runner, the hash of every model)
_DISCOVERED: dict[Path, tuple[tuple[tuple[str, int, int], ...], list[Model]]] = {}


def discover_models(folder: Path | None = None) -> list[Model]:
    """Every model under the layer folders, in dependency order (see module docstring).
    Read again only when a file under the folder changed (name, mtime or size)."""
    folder = folder or sql_dir()
    stamp = tuple(
        (str(path), st.st_mtime_ns, st.st_size)
        for layer in LAYERS
        for path in sorted((folder / layer).glob("*.*"))
        for st in (path.stat(),)
    )
    cached = _DISCOVERED.get(folder)
    if cached is not None and cached[0] == stamp:
        return list(cached[1])
    ordered = _discover(folder)
    _DISCOVERED[folder] = (stamp, ordered)
    return list(ordered)


def _discover(folder: Path) -> list[Model]:
    models = []
    for layer in LAYERS:
        for path in sorted((folder / layer).glob("*.sql")):
            if not _NAME.match(path.stem):
                raise ConfigError(f"{path}: a model file is named <table>.sql in lower case")
            doc = _read_doc(path)
            sql = path.read_text(encoding="utf-8")
            declared = tuple(str(t) for t in doc["depends_on"] or ())
            read = {m.lower() for m in _READS.findall(sql)} - {path.stem}
            undeclared = sorted(read - set(declared))
            if undeclared:
                raise ConfigError(
                    f"{path}: reads {', '.join(undeclared)} without declaring it in "
                    f"{path.with_suffix('.yml').name} depends_on"
                )
            model = Model(path.stem, path, sql, layer, declared, doc)
            if doc.get("materialized", "table") not in ("table", "view"):
                raise ConfigError(f"{path.with_suffix('.yml')}: materialized is table or view")
            if model.is_view and ":chain_code" in sql:
                raise ConfigError(f"{path}: a view is over all chains (no :chain_code)")
            models.append(model)
    return order_models(models)


def order_models(models: list[Model]) -> list[Model]:
    """Topological order of ``models`` by ``depends_on``; ConfigError on a cycle."""
    by_table = {m.table: m for m in models}
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    pending = {m.table: {d for d in m.depends_on if d in by_table} for m in models}
    ordered: list[Model] = []
    while pending:
        ready = sorted(
            (t for t, deps in pending.items() if not deps),
            key=lambda t: (rank.get(by_table[t].layer, 99), t),
        )
        if not ready:
            cycle = " -> ".join(_find_cycle(pending))
            raise ConfigError(f"models depend on each other in a cycle: {cycle}")
        table = ready[0]
        ordered.append(by_table[table])
        del pending[table]
        for deps in pending.values():
            deps.discard(table)
    return ordered


def _find_cycle(pending: dict[str, set[str]]) -> list[str]:
    start = sorted(pending)[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(pending[path[-1]])[0]
        if nxt in seen:
            return [*path[path.index(nxt) :], nxt]
        path.append(nxt)
        seen.add(nxt)


@dataclass(frozen=True)
class Catalog:
    """The warehouse schema's tables as one run sees them, read by a few unparameterised
    catalog queries (on DuckDB a parameterised query of information_schema or
    duckdb_constraints() cost seconds, growing with the file's size)."""

    tables: frozenset[str]  # tables and views
    views: frozenset[str]
    chain_tables: frozenset[str]  # tables with a chain_code column
    primary_keys: dict[str, list[str]]  # DuckDB only: table -> its primary key columns


def read_catalog(conn: sa.Connection) -> Catalog:
    """The current schema's tables, views, chain_code tables and (DuckDB) primary keys."""
    kinds = conn.execute(
        sa.text(
            "select table_name, table_type from information_schema.tables"
            " where table_schema = current_schema()"
        )
    ).all()
    chain_tables = conn.execute(
        sa.text(
            "select table_name from information_schema.columns"
            " where table_schema = current_schema() and column_name = 'chain_code'"
        )
    ).scalars()
    keys: dict[str, list[str]] = {}
    if conn.dialect.name == "duckdb":
        for table, columns in conn.execute(
            sa.text(
                "select table_name, constraint_column_names from duckdb_constraints()"
                " where schema_name = current_schema() and constraint_type = 'PRIMARY KEY'"
            )
        ):
            keys[str(table).lower()] = [str(c) for c in columns]
    return Catalog(
        frozenset(str(t).lower() for t, _ in kinds),
        frozenset(str(t).lower() for t, kind in kinds if str(kind).upper() == "VIEW"),
        frozenset(str(t).lower() for t in chain_tables),
        keys,
    )


def check_sources(engine: sa.Engine, models: list[Model], catalog: Catalog | None = None) -> None:
    """Every declared table is a model or a table of the warehouse; else ConfigError."""
    if catalog is None:
        with engine.connect() as conn:
            catalog = read_catalog(conn)
    existing = catalog.tables
    tables = {m.table for m in models} | existing
    for model in models:
        unknown = [d for d in model.depends_on if d not in tables]
        if unknown:
            raise ConfigError(
                f"{model.path}: depends_on names unknown table(s) {', '.join(unknown)}"
            )
        if not model.is_view and model.table not in existing:
            raise ConfigError(f"{model.path}: its table {model.table} is not in the warehouse")


def ensure_views(engine: sa.Engine, models: list[Model]) -> list[str]:
    """(Re)create the view models whose SQL changed; return the names (re)created."""
    views = [m for m in models if m.is_view]
    if not views:
        return []
    done = []
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('ka_model_views'))"))
        recorded = dict(
            conn.execute(sa.text("select view_name, checksum from ops_model_view")).all()
        )
        present_views = read_catalog(conn).views
        for view in views:
            query = _strip_trailing_semicolon(view.sql)
            checksum = hashlib.sha256(query.encode()).hexdigest()
            present = view.table in present_views
            if present and recorded.get(view.table) == checksum:
                continue
            conn.execute(sa.text(f"drop view if exists {view.table}"))
            conn.execute(sa.text(f"create view {view.table} as {query}"))
            conn.execute(
                sa.text("delete from ops_model_view where view_name = :v"), {"v": view.table}
            )
            conn.execute(
                sa.text("insert into ops_model_view values (:v, :c, :t)"),
                {"v": view.table, "c": checksum, "t": datetime.now()},
            )
            done.append(view.table)
    return done


def _strip_trailing_semicolon(sql: str) -> str:
    return sql.strip().rstrip(";").strip()


# the temporary table holding a key-sliced model's keys (YAML incremental: keys), which
# its SQL reads (column slice_key)
SLICE_KEYS = "slice_keys"
# the lower bound a full rebuild passes to every model (before any business date)
FULL_SINCE = date(1900, 1, 1)
_ROUND = ("day", "month", "iso_week")
# per feed: the dates a loaded partition's rows touch besides its business date
_PARTITION_DATES = {
    "raw_invoices": (
        "select business_date, min(d) as min_date from ("
        " select business_date, invoice_date as d from raw_invoices"
        " where chain_code = :c and business_date >= :s"
        " union all"
        " select i.business_date, p.payment_date from raw_invoices as i"
        " inner join raw_payments as p on p.chain_code = i.chain_code"
        " and p.invoice_no = i.invoice_no"
        " where i.chain_code = :c and i.business_date >= :s"
        ") as dates group by business_date"
    ),
    "raw_deductions": (
        "select business_date, min(d) as min_date from ("
        " select business_date, deduction_date as d from raw_deductions"
        " where chain_code = :c and business_date >= :s"
        " union all"
        " select business_date, period_start from raw_deductions"
        " where chain_code = :c and business_date >= :s and period_start is not null"
        ") as dates group by business_date"
    ),
    "raw_payments": (
        "select business_date, min(payment_date) as min_date from raw_payments"
        " where chain_code = :c and business_date >= :s group by business_date"
    ),
}


@dataclass(frozen=True)
class Plan:
    """What one chain's run recomputes: ``lo`` is None for a full rebuild, else the
    earliest date whose data changed (every model recomputes its slices from there)."""

    lo: date | None
    reason: str
    inputs_hash: str
    sends_promo: bool
    last_load_id: int
    last_data_date: date | None
    # the latest date any row of the chain carries (business, invoice, payment, deduction
    # date): bound as :until, the end of the slices' last-year reads (LY of the latest
    # period), a constant the planner can estimate
    until: date = FULL_SINCE
    # the latest business date of any feed, payments included (int_chain_as_of)
    as_of: date | None = None


def model_since(model: Model, lo: date | None) -> date:
    """The lower bound of ``model``'s slice for changed data from ``lo`` on: rows whose
    slice column is >= it are replaced (half-open, no upper end). FULL_SINCE when the
    run is a full rebuild or the model is not incremental."""
    spec = model.doc.get("incremental")
    if lo is None or not spec:
        return FULL_SINCE
    unit = spec.get("from", "day")
    if unit == "month":
        return lo.replace(day=1)
    if unit == "iso_week":
        return lo - timedelta(days=lo.isoweekday() - 1)
    return lo


def _check_incremental(model: Model) -> None:
    spec = model.doc.get("incremental")
    if spec is None:
        return
    keys = spec.get("keys") if isinstance(spec, dict) else None
    if (
        not isinstance(spec, dict)
        or "column" not in spec
        or spec.get("from", "day") not in _ROUND
        or (keys is None and ":since" not in model.sql)
        or (keys is not None and (":since" not in str(keys) or SLICE_KEYS not in model.sql))
    ):
        raise ConfigError(
            f"{model.path.with_suffix('.yml')}: incremental needs a column (the slice), from"
            f" ({' | '.join(_ROUND)}) and a SQL that reads :since; or a column, keys (a"
            f" select of the column's values to recompute, reading :since) and a SQL that"
            f" reads {SLICE_KEYS}"
        )


def inputs_hash(
    conn: sa.Connection, chain_code: str, models: list[Model], catalog: Catalog | None = None
) -> str:
    """sha256 of the chain's master data and contracts (every ref_ table, the chain's rows
    where the table has a chain_code) and of the models' SQL and YAML."""
    digest = hashlib.sha256()
    for model in sorted(models, key=lambda m: m.table):
        digest.update(model.table.encode() + b"\0" + model.sql.encode())
        digest.update(repr(sorted(model.doc.items(), key=lambda kv: kv[0])).encode())
    catalog = catalog or read_catalog(conn)
    tables = sorted(name for name in catalog.tables if name.startswith("ref_"))
    chain_tables = catalog.chain_tables
    for table in tables:
        where = " where chain_code = :c" if table in chain_tables else ""
        rows = conn.execute(sa.text(f"select * from {table}{where}"), {"c": chain_code}).all()
        digest.update(table.encode() + b"\0")
        for row in sorted(repr(tuple(str(v) for v in r)) for r in rows):
            digest.update(row.encode() + b"\n")
    return digest.hexdigest()


def _sends_promo(conn: sa.Connection, chain_code: str, since: date) -> bool:
    return bool(
        conn.execute(
            sa.text(
                "select exists (select 1 from raw_sales where chain_code = :c"
                " and business_date >= :s and promo_amount is not null)"
            ),
            {"c": chain_code, "s": since},
        ).scalar_one()
    )


def _affected_from(conn: sa.Connection, chain_code: str, since: date) -> date:
    """The earliest date the data of partitions >= ``since`` touch, now or when last
    modeled (a restatement may have dropped earlier-dated rows)."""
    lo = since
    for feed, query in _PARTITION_DATES.items():
        for value in (
            conn.execute(
                sa.text(f"select min(min_date) from ({query}) as parts"),
                {"c": chain_code, "s": since},
            ).scalar_one(),
            conn.execute(
                sa.text(
                    "select min(min_date) from ops_model_partition"
                    " where chain_code = :c and feed = :f and business_date >= :s"
                ),
                {"c": chain_code, "f": feed, "s": since},
            ).scalar_one(),
        ):
            if value is not None:
                lo = min(lo, _as_date(value))
    return lo


def _latest(*dates: date | None) -> date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def plan_run(
    conn: sa.Connection,
    chain_code: str,
    models: list[Model],
    since: date | None,
    catalog: Catalog | None = None,
) -> Plan:
    """Full rebuild or the earliest changed date, for one chain (see docs/models.md)."""
    state = conn.execute(
        sa.text(
            "select inputs_hash, sends_promo, last_load_id, last_data_date"
            " from ops_model_state"
            " where chain_code = :c"
        ),
        {"c": chain_code},
    ).one_or_none()
    digest = inputs_hash(conn, chain_code, models, catalog)
    last_load = conn.execute(
        sa.text("select coalesce(max(load_id), 0) from ops_load_log where chain_code = :c"),
        {"c": chain_code},
    ).scalar_one()

    # the newest sales day: read from the changed partitions on (the newest row groups on
    # DuckDB, which keeps no index for max), the whole feed only when none is left there
    sales_last = None
    if since is not None:
        sales_last = conn.execute(
            sa.text(
                "select max(business_date) from raw_sales"
                " where chain_code = :c and business_date >= :s"
            ),
            {"c": chain_code, "s": since},
        ).scalar_one()
    if sales_last is None:
        sales_last = conn.execute(
            sa.text("select max(business_date) from raw_sales where chain_code = :c"),
            {"c": chain_code},
        ).scalar_one()
    other = conn.execute(
        sa.text(
            "select"
            " (select max(business_date) from raw_invoices where chain_code = :c),"
            " (select max(invoice_date) from raw_invoices where chain_code = :c),"
            " (select max(business_date) from raw_deductions where chain_code = :c),"
            " (select max(deduction_date) from raw_deductions where chain_code = :c),"
            " (select max(business_date) from raw_payments where chain_code = :c),"
            " (select max(payment_date) from raw_payments where chain_code = :c)"
        ),
        {"c": chain_code},
    ).one()
    inv_file, inv_date, ded_file, ded_date, pay_file, pay_date = (
        None if v is None else _as_date(v) for v in other
    )
    sales_last = None if sales_last is None else _as_date(sales_last)
    last_data = _latest(sales_last, inv_file, ded_file)
    as_of = _latest(last_data, pay_file)
    latest = _latest(as_of, inv_date, ded_date, pay_date)
    until = FULL_SINCE if latest is None else latest

    def full(reason: str) -> Plan:
        sends = _sends_promo(conn, chain_code, FULL_SINCE)
        return Plan(None, reason, digest, sends, last_load, last_data, until, as_of)

    if since is None:
        return full("no changed range given")
    if state is None:
        return full("first model run of the chain")
    if state.inputs_hash != digest:
        return full("master data, contracts or models changed")
    # loads since the last model run (one whose model run failed included)
    missed = conn.execute(
        sa.text(
            "select min(business_date) from ops_load_log where chain_code = :c"
            " and load_id > :id and status = 'loaded'"
        ),
        {"c": chain_code, "id": state.last_load_id},
    ).scalar_one()
    if missed is not None:
        since = min(since, _as_date(missed))
    lo = _affected_from(conn, chain_code, since)
    if state.last_data_date is not None:
        # rows as of the last data date (rebates, receivables) after the previous one
        lo = min(lo, _as_date(state.last_data_date) + timedelta(days=1))
    # the promo rule reads "sends promo columns at any date": a change re-derives all
    sends = _sends_promo(conn, chain_code, FULL_SINCE if state.sends_promo else lo)
    if sends != bool(state.sends_promo):
        return full("the chain started or stopped sending promo columns")
    return Plan(lo, f"changed from {lo}", digest, sends, last_load, last_data, until, as_of)


def _record(conn: sa.Connection, chain_code: str, plan: Plan) -> None:
    since = FULL_SINCE if plan.lo is None else plan.lo
    conn.execute(
        sa.text("delete from ops_model_partition where chain_code = :c and business_date >= :s"),
        {"c": chain_code, "s": since},
    )
    for feed, query in _PARTITION_DATES.items():
        conn.execute(
            sa.text(
                "insert into ops_model_partition (chain_code, feed, business_date, min_date)"
                f" select :c, :f, business_date, min_date from ({query}) as parts"
            ),
            {"c": chain_code, "f": feed, "s": since},
        )
    now = datetime.now()
    old_full = conn.execute(
        sa.text("select full_at from ops_model_state where chain_code = :c"), {"c": chain_code}
    ).scalar_one_or_none()
    conn.execute(sa.text("delete from ops_model_state where chain_code = :c"), {"c": chain_code})
    conn.execute(
        sa.text("insert into ops_model_state values (:c, :h, :p, :l, :d, :f, :m)"),
        {
            "c": chain_code,
            "h": plan.inputs_hash,
            "p": plan.sends_promo,
            "l": plan.last_load_id,
            "d": plan.last_data_date,
            "f": now if plan.lo is None or old_full is None else old_full,
            "m": now,
        },
    )


def run_models(
    engine: sa.Engine,
    chain_codes: list[str],
    models: list[Model] | None = None,
    since: date | None = None,
) -> dict[str, int]:
    """Bring every model up to date for each chain; return rows written per table.

    ``since`` is the earliest business date whose files changed (the nightly run passes
    the earliest date it loaded). Without it, on a chain's first run, or when its master
    data, contracts or the models changed, each model is rebuilt whole for the chain.
    Otherwise an incremental model (YAML ``incremental``) replaces only its rows from
    the slice of the earliest changed date on (:func:`model_since`), and other models
    are rebuilt whole. Either way the tables equal a full rebuild's (docs/models.md)."""
    every_model = models is None
    models = order_models(list(models)) if models is not None else discover_models()
    for model in models:
        _check_incremental(model)
    with engine.connect() as conn:
        catalog = read_catalog(conn)
    check_sources(engine, models, catalog)
    ensure_views(engine, models)
    refresh_statistics(engine, sorted({d for m in models for d in m.depends_on}))
    tables = [m for m in models if not m.is_view]
    every = models if every_model else discover_models_or(models)
    # only a run of every model says what the chain's tables are up to date with; a
    # subset run (tests, benchmark) leaves that record as it was
    complete = {m.table for m in every if not m.is_view} <= {m.table for m in tables}
    written: dict[str, int] = {m.table: 0 for m in tables}
    for chain_code in chain_codes:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # no JIT compilation: the planner overestimates the CTE joins' rows, and
                # compiling a model's plan cost up to 3 s where running it took 0.05 s
                conn.execute(sa.text("set local jit = off"))
            plan = plan_run(conn, chain_code, every, since, catalog)
            estimates = _row_estimates(conn)
            for model in tables:
                written[model.table] += _run_model(
                    conn, model, chain_code, plan, catalog, estimates
                )
            if complete:
                _record(conn, chain_code, plan)
    return written


def _row_estimates(conn: sa.Connection) -> dict[str, float]:
    """PostgreSQL: each table's row estimate (pg_class.reltuples; -1: never analyzed),
    read once per chain run; {} on DuckDB."""
    if conn.dialect.name != "postgresql":
        return {}
    return {
        str(name): float(rows)
        for name, rows in conn.execute(
            sa.text(
                "select relname, reltuples from pg_class"
                " where relnamespace = current_schema()::regnamespace and relkind = 'r'"
            )
        )
    }


def refresh_statistics(engine: sa.Engine, tables: list[str], share: float = 0.1) -> list[str]:
    """PostgreSQL: ANALYZE each ``raw_`` table among ``tables`` whose rows changed since
    its last analyze by more than ``share`` of its live rows (a large load or backfill:
    stale statistics there once made a model take minutes instead of a second); return
    the tables analyzed. Also on PostgreSQL: summarize the page ranges their BRIN indexes
    do not cover yet (`raw_sales`, migration 0091): a range appended since the last
    summary is scanned by every query until then, and autovacuum summarizes only when it
    runs (after a 12-month load, the nightly model run took 6.80 s instead of 3.67 s).
    It reads only the new ranges. Nothing on DuckDB, which keeps its statistics as it
    writes."""
    raw = [t for t in tables if t.startswith("raw_")]
    if engine.dialect.name != "postgresql" or not raw:
        return []
    summarize_brin(engine, raw)
    with engine.connect() as conn:
        stale = [
            str(name)
            for name, changed, live in conn.execute(
                sa.text(
                    "select relname, n_mod_since_analyze, n_live_tup from pg_stat_user_tables"
                    " where schemaname = current_schema() and relname = any(:t)"
                ),
                {"t": raw},
            )
            if changed and changed > share * max(live or 0, 1)
        ]
    for table in sorted(stale):
        with engine.begin() as conn:
            conn.execute(sa.text(f"analyze {table}"))
    return sorted(stale)


def discover_models_or(models: list[Model]) -> list[Model]:
    """The models whose text is hashed: the full set when available, so a subset run
    (benchmark, tests) and a full run agree on the chain's inputs hash."""
    try:
        return discover_models()
    except ConfigError:
        return models


def _replace_by_key(
    conn: sa.Connection,
    table: str,
    query: str,
    where: str,
    key: list[str],
    params: dict[str, Any],
    order: str = "",
) -> int:
    """DuckDB: replace the slice ``where`` of ``table`` by the query's rows, as delete then
    insert would, but by upsert on the primary key: DuckDB deletes and re-inserts the same
    keys in one transaction very slowly (216k invoice rows: 56 s, against 0.14 s here).
    Rows of the slice the query no longer returns are deleted. Not a plain delete and
    insert even for a few rows: tried for slices up to 1,000 rows (DuckDB 1.5.6), the
    commit failed with a FATAL "Failed to delete all rows from index" on a 4-row slice
    and left the database unusable until reopened. Returns the rows written."""
    staged = f"model_rows_{uuid.uuid4().hex[:12]}"
    written = _inserted(
        conn.execute(
            sa.text(f"create temp table {staged} as select * from ({query}) as model_rows"),
            params,
        )
    )
    try:
        match = " and ".join(f"r.{k} = {table}.{k}" for k in key)
        conn.execute(
            sa.text(
                f"delete from {table} where {where}"
                f" and not exists (select 1 from {staged} as r where {match})"
            ),
            params,
        )
        conn.execute(sa.text(f"insert or replace into {table} select * from {staged}{order}"))
    finally:
        conn.execute(sa.text(f"drop table if exists {staged}"))
    return written


def _inserted(result: sa.CursorResult) -> int:
    """The rows an insert-select or create-table-as wrote: PostgreSQL's row count; DuckDB
    reports -1 there and returns the count as the statement's one row instead."""
    if result.rowcount >= 0:
        return int(result.rowcount)
    return int(result.scalar_one())


def _run_model(
    conn: sa.Connection,
    model: Model,
    chain_code: str,
    plan: Plan,
    catalog: Catalog,
    estimates: dict[str, float],
) -> int:
    query = _strip_trailing_semicolon(model.sql)
    since = model_since(model, plan.lo)
    since_month = since.replace(day=1)
    since_week = since - timedelta(days=since.isoweekday() - 1)
    params = {
        "chain_code": chain_code,
        "since": since,
        # the first day of the month and the Monday of the ISO week holding :since, and
        # the earlier of the two: where a model's periods (months, weeks) start reading
        "since_month": since_month,
        "since_week": since_week,
        "since_period": min(since_month, since_week),
        "until": plan.until,
        "sends_promo": plan.sends_promo,
        # the chain's last file dates (int_chain_as_of): every feed's, and sales,
        # invoices and deductions' (the last data date of ops_model_state)
        "last_file_date": plan.as_of,
        "last_trade_date": plan.last_data_date,
    }
    sliced = since != FULL_SINCE
    spec = model.doc.get("incremental") or {}
    keys = spec.get("keys")
    where = "chain_code = :chain_code"
    if keys is not None:
        # key-sliced: the keys the changed partitions name (all of them on a full
        # rebuild, where :since is 1900-01-01), staged for the model's SQL and the delete
        conn.execute(sa.text(f"drop table if exists {SLICE_KEYS}"))
        conn.execute(
            sa.text(
                f"create temp table {SLICE_KEYS} as select distinct slice_key"
                f" from ({_strip_trailing_semicolon(str(keys))}) as k(slice_key)"
                " where slice_key is not null"
            ),
            params,
        )
        if sliced:
            where += f" and {spec['column']} in (select slice_key from {SLICE_KEYS})"
    elif sliced:
        where += f" and {spec['column']} >= :since"
    # a date-sliced model's rows are written in the order of its slice column, so a
    # full rebuild leaves them clustered by date as nightly appends do: a later bounded
    # read ("the last 28 days") then skips the older row groups (DuckDB zone maps) or
    # heap pages (PostgreSQL); unordered, it read the whole table (0.2 s at 12 months)
    order = f" order by {spec['column']}" if spec.get("column") and keys is None else ""
    try:
        key = catalog.primary_keys.get(model.table, [])
        if key:
            count = _replace_by_key(conn, model.table, query, where, key, params, order)
        else:
            conn.execute(sa.text(f"delete from {model.table} where {where}"), params)
            count = _inserted(
                conn.execute(
                    sa.text(
                        f"insert into {model.table} select * from ({query}) as model_rows{order}"
                    ),
                    params,
                )
            )
    finally:
        if keys is not None:
            conn.execute(sa.text(f"drop table if exists {SLICE_KEYS}"))
    if conn.dialect.name == "postgresql" and _needs_analyze(model, plan, count, estimates):
        # fresh statistics before later models plan their joins on the table, and before
        # the next night's slices do (stale ones cost minutes on PostgreSQL)
        conn.execute(sa.text(f"analyze {model.table}"))
    return int(count)


def _needs_analyze(model: Model, plan: Plan, count: int, estimates: dict[str, float]) -> bool:
    """Whether a model's table is analyzed right after the model ran (PostgreSQL):

    * on a full rebuild of the chain, every table (autovacuum would analyze them only
      later: the first night after a rebuild or backfill planned its slices on empty or
      missing statistics and took 233 s instead of 12 s);
    * a table never analyzed (``reltuples`` -1) or estimated empty that now has rows;
    * a model whose YAML says ``analyze: true`` (large tables later models join) when its
      slice holds more than a tenth of the table's estimated rows."""
    if plan.lo is None:
        return True
    estimate = estimates.get(model.table, -1.0)
    if estimate <= 0:
        return count > 0
    return bool(model.doc.get("analyze")) and count > 0.1 * estimate


def reference_markdown(models: list[Model] | None = None) -> str:
    """The analysts' reference page (docs/models_reference.md) from the models' YAML."""
    models = models if models is not None else discover_models()
    out = [
        "# Warehouse models: reference",
        "",
        "Generated from `sql/**/<model>.yml` by `python -m ka_pipeline.models reference`;",
        "do not edit by hand (a test checks it is up to date). Rules and the reasons behind",
        "them: [models.md](models.md).",
        "",
        "| model | layer | grain | reads |",
        "|---|---|---|---|",
    ]
    for m in models:
        reads = ", ".join(
            f"[{d}](#{d})" if d in {x.table for x in models} else d for d in m.depends_on
        )
        out.append(f"| [{m.table}](#{m.table}) | {m.layer} | {m.doc['grain']} | {reads} |")
    for m in models:
        out += [
            "",
            f"## {m.table}",
            "",
            str(m.doc.get("description", "")).strip(),
            "",
            f"- **Layer**: {m.layer} (`{m.path.parent.name}/{m.path.name}`)",
            f"- **Grain**: {m.doc['grain']}",
            f"- **Key**: {', '.join(m.doc['key'])}",
            f"- **Reads**: {', '.join(m.depends_on) or '-'}",
            "",
            "| column | meaning |",
            "|---|---|",
        ]
        for col in m.doc["columns"]:
            meaning = str(col.get("description", "")).replace("|", "\\|")
            out.append(f"| `{col['name']}` | {meaning} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # python -m ka_pipeline.models reference
    import sys

    if sys.argv[1:] != ["reference"]:
        sys.exit("usage: python -m ka_pipeline.models reference > docs/models_reference.md")
    sys.stdout.write(reference_markdown())
