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
* **Fresh statistics.** A model whose YAML says ``analyze: true`` (a large table such as
  ``stg_sales``) is analyzed on PostgreSQL right after it is written, before the models
  that read it are planned.
* **Per chain, in one transaction.** For each chain, every model's rows are replaced
  (delete the chain's rows, insert the query result) in one transaction, so a failed
  model leaves the previous results in place and other chains' rows are never touched.
  Running twice gives the same tables.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from ka_pipeline import resources
from ka_pipeline.errors import ConfigError

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
        doc = yaml.safe_load(doc_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{doc_path}: not valid YAML: {exc}") from exc
    for key in ("name", "grain", "key", "depends_on", "columns"):
        if key not in doc:
            raise ConfigError(f"{doc_path}: missing '{key}'")
    if doc["name"] != path.stem:
        raise ConfigError(f"{doc_path}: name {doc['name']!r} is not the file's {path.stem!r}")
    return doc


def discover_models(folder: Path | None = None) -> list[Model]:
    """Every model under the layer folders, in dependency order (see module docstring)."""
    folder = folder or sql_dir()
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
            if model.is_view and (layer != "staging" or ":chain_code" in sql):
                raise ConfigError(
                    f"{path}: a view is a staging model over all chains (no :chain_code)"
                )
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


def check_sources(engine: sa.Engine, models: list[Model]) -> None:
    """Every declared table is a model or a table of the warehouse; else ConfigError."""
    with engine.connect() as conn:  # tables and views of the warehouse's schema
        existing = {
            str(name).lower()
            for name in conn.execute(
                sa.text(
                    "select table_name from information_schema.tables"
                    " where table_schema = current_schema()"
                )
            ).scalars()
        }
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
        for view in views:
            query = _strip_trailing_semicolon(view.sql)
            checksum = hashlib.sha256(query.encode()).hexdigest()
            present = _view_exists(conn, view.table)
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


def _view_exists(conn: sa.Connection, name: str) -> bool:
    return bool(
        conn.execute(
            sa.text("select count(*) from information_schema.views where table_name = :v"),
            {"v": name},
        ).scalar_one()
    )


def _strip_trailing_semicolon(sql: str) -> str:
    return sql.strip().rstrip(";").strip()


def run_models(
    engine: sa.Engine, chain_codes: list[str], models: list[Model] | None = None
) -> dict[str, int]:
    """Rebuild every model for each chain; return rows written per table."""
    models = order_models(list(models)) if models is not None else discover_models()
    check_sources(engine, models)
    ensure_views(engine, models)
    tables = [m for m in models if not m.is_view]
    written: dict[str, int] = {m.table: 0 for m in tables}
    for chain_code in chain_codes:
        with engine.begin() as conn:
            for model in tables:
                query = _strip_trailing_semicolon(model.sql)
                conn.execute(
                    sa.text(f"delete from {model.table} where chain_code = :chain_code"),
                    {"chain_code": chain_code},
                )
                conn.execute(
                    sa.text(f"insert into {model.table} select * from ({query}) as model_rows"),
                    {"chain_code": chain_code},
                )
                if model.doc.get("analyze") and conn.dialect.name == "postgresql":
                    # a large table just rewritten: fresh statistics before later models
                    # plan their joins on it (stale ones cost minutes on PostgreSQL)
                    conn.execute(sa.text(f"analyze {model.table}"))
                # counted, not rowcount: DuckDB's driver reports -1 for insert-select
                written[model.table] += conn.execute(
                    sa.text(f"select count(*) from {model.table} where chain_code = :chain_code"),
                    {"chain_code": chain_code},
                ).scalar_one()
    return written


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
