"""Run the warehouse models in ``sql/``: one target table per file, rebuilt per chain.

A model file is a plain SELECT in the CTE shape (import CTEs, logic CTEs, ``final``,
``select * from final``), named ``NN_<target_table>.sql``; files run in name order, so a
model may read the tables of models numbered before it. Bind parameters: ``:chain_code``.
Guarantee: for each chain, every model's rows are replaced in one transaction, so a
failed model leaves the previous results in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from ka_pipeline import resources

_MODEL_NAME = re.compile(r"^\d{2}_(?P<table>[a-z][a-z0-9_]*)\.sql$")


def sql_dir() -> Path:
    """The models folder (see :mod:`ka_pipeline.resources`); a missing one is a ConfigError."""
    return resources.sql_dir()


@dataclass(frozen=True)
class Model:
    table: str
    path: Path
    sql: str


def discover_models(folder: Path | None = None) -> list[Model]:
    folder = folder or sql_dir()
    models = []
    for path in sorted(folder.glob("*.sql")):
        match = _MODEL_NAME.match(path.name)
        if match:
            models.append(Model(match.group("table"), path, path.read_text(encoding="utf-8")))
    return models


def _strip_trailing_semicolon(sql: str) -> str:
    return sql.strip().rstrip(";").strip()


def run_models(
    engine: sa.Engine, chain_codes: list[str], models: list[Model] | None = None
) -> dict[str, int]:
    """Rebuild every model for each chain; return rows written per table."""
    models = models if models is not None else discover_models()
    written: dict[str, int] = {m.table: 0 for m in models}
    for chain_code in chain_codes:
        with engine.begin() as conn:
            for model in models:
                query = _strip_trailing_semicolon(model.sql)
                conn.execute(
                    sa.text(f"delete from {model.table} where chain_code = :chain_code"),
                    {"chain_code": chain_code},
                )
                conn.execute(
                    sa.text(f"insert into {model.table} select * from ({query}) as model_rows"),
                    {"chain_code": chain_code},
                )
                # counted, not rowcount: DuckDB's driver reports -1 for insert-select
                written[model.table] += conn.execute(
                    sa.text(f"select count(*) from {model.table} where chain_code = :chain_code"),
                    {"chain_code": chain_code},
                ).scalar_one()
    return written
