"""The analytics settings (``analytics.yaml``, optional): account evaluation and diversion.

:func:`load_analytics` reads the file, or returns the defaults of domain.md section 7 and
section 10 when it is absent, and :func:`criterion_rows` / :func:`setting_rows` give the
rows published to ``ref_account_criterion`` / ``ref_analytics_setting`` (read by
``sql/marts/mart_account_eval.sql`` and ``mart_diversion_risk.sql``).

Guarantees: every criterion is one the warehouse computes, each axis's weights sum to
100, band limits are ordered in the criterion's direction (decreasing when higher is
better, increasing when lower is), grade limits decrease (A > B > C), and each problem is
a :class:`ConfigError` naming the file and the key, e.g.
``analytics.yaml account_evaluation.support[1].limits: must decrease ...``.

The file (every key optional; a given axis replaces that axis's defaults whole)::

    account_evaluation:
      attractiveness:
        - {criterion: annual_sellout, weight: 40, limits: [50000000, 20000000, 10000000, 5000000]}
        - {criterion: sellout_growth, weight: 40, limits: [0.15, 0.08, 0.03, 0]}
        - {criterion: days_late, weight: 20, limits: [0, 7, 15, 30]}
      support:
        - {criterion: distribution_rate, weight: 40, limits: [0.95, 0.90, 0.80, 0.70]}
        - {criterion: promo_execution_rate, weight: 40, limits: [0.95, 0.90, 0.80, 0.70]}
        - {criterion: price_compliance, weight: 20, limits: [0.98, 0.95, 0.90, 0.85]}
      grades: {A: 80, B: 60, C: 40}
      quadrant_split: 60
    diversion:
      price_gap: 0.10
      volume_factor: 1.3

``limits`` are the least values (greatest for ``days_late``, where lower is better) of
the bands worth 100 %, 80 %, 60 % and 40 % of the weight; below the last, 20 %.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ka_pipeline.errors import ConfigError

# criterion -> (axis it belongs to, higher is better); computed in mart_account_eval.sql
CRITERIA: dict[str, tuple[str, bool]] = {
    "annual_sellout": ("attractiveness", True),
    "sellout_growth": ("attractiveness", True),
    "days_late": ("attractiveness", False),
    "distribution_rate": ("support", True),
    "promo_execution_rate": ("support", True),
    "price_compliance": ("support", True),
}

Number = Annotated[Decimal, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    """One criterion of an axis: its weight (points) and the four band limits."""

    criterion: Literal[tuple(CRITERIA)]  # type: ignore[valid-type]
    weight: Annotated[Decimal, Field(gt=0, le=100)]
    limits: Annotated[list[Number], Field(min_length=4, max_length=4)]

    @property
    def higher_is_better(self) -> bool:
        return CRITERIA[self.criterion][1]

    @model_validator(mode="after")
    def _ordered(self) -> Criterion:
        a, b, c, d = self.limits
        if self.higher_is_better and not a >= b >= c >= d:
            raise ValueError(
                f"limits must decrease for {self.criterion} (higher is better): 100 % band first"
            )
        if not self.higher_is_better and not a <= b <= c <= d:
            raise ValueError(
                f"limits must increase for {self.criterion} (lower is better): 100 % band first"
            )
        return self


def _defaults(axis: str) -> list[Criterion]:
    table = {
        "attractiveness": [
            ("annual_sellout", 40, ["50000000", "20000000", "10000000", "5000000"]),
            ("sellout_growth", 40, ["0.15", "0.08", "0.03", "0"]),
            ("days_late", 20, ["0", "7", "15", "30"]),
        ],
        "support": [
            ("distribution_rate", 40, ["0.95", "0.90", "0.80", "0.70"]),
            ("promo_execution_rate", 40, ["0.95", "0.90", "0.80", "0.70"]),
            ("price_compliance", 20, ["0.98", "0.95", "0.90", "0.85"]),
        ],
    }[axis]
    return [
        Criterion(criterion=name, weight=Decimal(w), limits=[Decimal(x) for x in limits])
        for name, w, limits in table
    ]


class Grades(_Strict):
    A: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(80)
    B: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(60)
    C: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(40)

    @model_validator(mode="after")
    def _decreasing(self) -> Grades:
        if not self.A > self.B > self.C:
            raise ValueError("grade limits must decrease: A > B > C")
        return self


class AccountEvaluation(_Strict):
    """domain.md section 7: two axes out of 100, five bands, grades, quadrant."""

    attractiveness: list[Criterion] = Field(default_factory=lambda: _defaults("attractiveness"))
    support: list[Criterion] = Field(default_factory=lambda: _defaults("support"))
    grades: Grades = Grades()
    quadrant_split: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(60)

    @model_validator(mode="after")
    def _axes(self) -> AccountEvaluation:
        for axis in ("attractiveness", "support"):
            criteria: list[Criterion] = getattr(self, axis)
            names = [c.criterion for c in criteria]
            wrong = [n for n in names if CRITERIA[n][0] != axis]
            if wrong:
                raise ValueError(f"{axis}: {', '.join(wrong)} belongs to the other axis")
            if len(set(names)) != len(names):
                raise ValueError(f"{axis}: a criterion is listed twice")
            total = sum((c.weight for c in criteria), Decimal(0))
            if criteria and total != 100:
                raise ValueError(f"{axis}: weights sum to {total}, not 100")
        return self


class Diversion(_Strict):
    """domain.md section 10: price gap limit and the sell-out / shipped volume factor."""

    price_gap: Annotated[Decimal, Field(gt=0, lt=1)] = Decimal("0.10")
    volume_factor: Annotated[Decimal, Field(gt=0)] = Decimal("1.3")


class Analytics(_Strict):
    account_evaluation: AccountEvaluation = AccountEvaluation()
    diversion: Diversion = Diversion()


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def load_analytics(path: Path) -> Analytics:
    """Read and check ``analytics.yaml``; the defaults when the file does not exist."""
    if not path.exists():
        return Analytics()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping (account_evaluation, diversion)")
    try:
        return Analytics.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ConfigError(f"{path} {problems}") from None


def criterion_rows(analytics: Analytics) -> list[dict[str, Any]]:
    """The rows of ``ref_account_criterion``."""
    rows = []
    for axis in ("attractiveness", "support"):
        for c in getattr(analytics.account_evaluation, axis):
            rows.append(
                {
                    "axis": axis,
                    "criterion": c.criterion,
                    "weight": str(c.weight),
                    "higher_is_better": c.higher_is_better,
                    **{
                        f"limit_{share}": str(limit)
                        for share, limit in zip((100, 80, 60, 40), c.limits, strict=True)
                    },
                }
            )
    return rows


def setting_rows(analytics: Analytics) -> list[dict[str, Any]]:
    """The rows of ``ref_analytics_setting``."""
    ev, div = analytics.account_evaluation, analytics.diversion
    values = {
        "grade_a": ev.grades.A,
        "grade_b": ev.grades.B,
        "grade_c": ev.grades.C,
        "quadrant_split": ev.quadrant_split,
        "diversion_price_gap": div.price_gap,
        "diversion_volume_factor": div.volume_factor,
    }
    return [{"setting": k, "value": str(v)} for k, v in values.items()]
