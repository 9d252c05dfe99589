"""The contracts file (``contracts.yaml``): one typed, checked contract per chain and year.

:func:`load_contracts` reads the file and returns :class:`Contract` objects. Guarantees:
every amount is a :class:`~decimal.Decimal` (never a float), every rate (tier rate, fee
rate, VAT rate, margin %) lies in [0, 1], a fee's keys fit its basis, contract years of
one chain do not overlap, and each problem is a :class:`ConfigError` naming the file, the
contract entry (number, chain and year) and the key, e.g.
``contracts.yaml contract 2 (CRF 2026) rebate.tiers[1].rate: must be between 0 and 1``.

Rules behind the keys: docs/configuration.md (contracts) and docs/models.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ka_pipeline.errors import ConfigError

DEDUCTION_TYPES = (
    "listing_fee",
    "barcode_fee",
    "display_fee",
    "dm_fee",
    "festival_fee",
    "anniversary_fee",
    "new_store_fee",
    "promo_subsidy",
    "stockout_penalty",
    "margin_guarantee",
    "data_fee",
    "complaint_claim",
    "min_sales_guarantee",
    "slow_moving_disposal",
    "logistics_fee",
    "shrinkage_fee",
    "rebate",
)
FEE_BASES = (
    "per_year",
    "per_month",
    "per_store",
    "per_item",
    "per_store_month",
    "per_event",
    "pct_of_base",
)

Rate = Annotated[Decimal, Field(ge=0, le=1, description="a share: 0.025 = 2.5 %")]
Money = Annotated[Decimal, Field(ge=0, decimal_places=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Strict):
    """A rebate tier: from ``threshold`` (reached exactly counts as reached) at ``rate``."""

    tier: int | None = None  # a label only; tiers are ordered by threshold
    threshold: Money
    rate: Rate


class Rebate(_Strict):
    base: Literal["sell_in", "sell_in_gross", "sell_out"] = "sell_in"
    method: Literal["retroactive", "stepped"] = "retroactive"
    promo_excluded: bool = True
    tiers: list[Tier] = []

    @model_validator(mode="after")
    def _increasing(self) -> Rebate:
        thresholds = [t.threshold for t in self.tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("rebate tiers must have strictly increasing thresholds")
        return self


class Fee(_Strict):
    """One contract fee item: what the chain may charge for ``type`` and on what basis.

    ``amount`` is the allowance per unit of the basis (quoted with or without VAT as the
    contract's ``fee_amounts`` says); ``pct_of_base`` fees give a ``rate`` of the
    period's sell-in (``base``: ``sell_in_net`` or ``sell_in_gross``) instead.
    ``max_events`` caps a ``per_event`` fee's events per contract year, or multiplies a
    ``per_year`` amount.
    """

    type: Literal[DEDUCTION_TYPES]  # type: ignore[valid-type]
    basis: Literal[FEE_BASES]  # type: ignore[valid-type]
    amount: Money | None = None
    rate: Rate | None = None
    base: Literal["sell_in_net", "sell_in_gross"] | None = None
    max_events: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _fits_basis(self) -> Fee:
        if self.type in ("promo_subsidy", "rebate", "margin_guarantee"):
            raise ValueError(
                f"{self.type} is not a fee item: promo subsidies follow promotions.csv, "
                "rebates the rebate terms, the margin guarantee margin_guarantee_pct"
            )
        if self.basis == "pct_of_base":
            if self.rate is None or self.amount is not None:
                raise ValueError("a pct_of_base fee needs 'rate' (e.g. 0.07) and no 'amount'")
        else:
            if self.amount is None or self.rate is not None or self.base is not None:
                raise ValueError(
                    f"a {self.basis} fee needs 'amount' and no 'rate' or 'base' "
                    "(those are for pct_of_base)"
                )
        if self.max_events is not None and self.basis not in ("per_event", "per_year"):
            raise ValueError("max_events is only for per_event and per_year fees")
        return self


class Contract(_Strict):
    """One chain's contract for one contract year (``start``..``end``, both inclusive)."""

    chain: str
    year: int
    start: date
    end: date
    contract_no: str | None = None
    fee_amounts: Literal["excl_vat", "incl_vat"] = "excl_vat"
    vat_rate: Rate = Decimal("0.06")  # service VAT on fees
    sales_vat_rate: Rate = Decimal("0.13")  # goods VAT inside sales_amount (margin check)
    margin_guarantee_pct: Rate | None = None
    fees: list[Fee] = []
    rebate: Rebate = Rebate()

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        types = [f.type for f in self.fees]
        twice = sorted({t for t in types if types.count(t) > 1})
        if twice:
            raise ValueError(f"fee type(s) {', '.join(twice)} listed twice")
        return self


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(contract)"


def parse_contract(entry: Any, where: str) -> Contract:
    """One contracts.yaml entry as a :class:`Contract`; ConfigError naming ``where``."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a mapping of contract keys")
    label = f"{where} ({entry.get('chain', '?')} {entry.get('year', '?')})"
    try:
        return Contract.model_validate(entry)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ConfigError(f"{label}: {problems}") from None


def load_contracts(path: Path, chain_codes: set[str] | None = None) -> list[Contract]:
    """Read and check ``contracts.yaml``; raise ConfigError naming the file and entry."""
    if not path.exists():
        raise ConfigError(f"{path}: missing")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    entries = doc.get("contracts") or [] if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a list under 'contracts'")
    contracts = [
        parse_contract(entry, f"{path} contract {i}") for i, entry in enumerate(entries, 1)
    ]
    for i, c in enumerate(contracts, 1):
        where = f"{path} contract {i} ({c.chain} {c.year})"
        if chain_codes is not None and c.chain not in chain_codes:
            raise ConfigError(f"{where}: unknown chain {c.chain!r}")
        for j, other in enumerate(contracts[: i - 1], 1):
            if other.chain != c.chain:
                continue
            if other.year == c.year:
                raise ConfigError(f"{where}: contract year {c.year} already given by contract {j}")
            if c.start <= other.end and other.start <= c.end:
                raise ConfigError(
                    f"{where}: {c.start}..{c.end} overlaps contract {j} "
                    f"({other.start}..{other.end}); a date belongs to one contract year"
                )
    return contracts
