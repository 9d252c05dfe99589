"""The typed schema of the configuration files (pydantic), checked on load.

Every entry of ``chains.yaml`` and ``owners.yaml`` and every row of the master-data CSVs
is checked against these models; :func:`check` turns the first failure into a
:class:`~ka_pipeline.errors.ConfigError` naming the file, the entry and what is wrong
(``chains.yaml chain 2 (RTM) feeds.sales.date_format: '%Q' is not a date format``).
No configuration mistake ever surfaces as a traceback. Contracts are checked in
``ka_pipeline.config`` itself.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ka_pipeline.errors import ConfigError
from ka_pipeline.gtin import is_valid_gtin13

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_DATE_TOKEN = re.compile(r"\{date:([^}]+)\}")


def _one_line(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("is empty")
    if any(not c.isprintable() for c in value):
        raise ValueError("contains a line break or a control character; names are one line of text")
    return value


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError(
            f"{value!r} is not one email address (exactly one address, like name@example.com)"
        )
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"{text!r} is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date") from None


def _money(value: Any) -> Decimal:
    text = str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"{text!r} is not an amount with at most 2 decimals")
    if abs(amount) >= Decimal("1e12"):
        raise ValueError(f"{text!r} is beyond the warehouse's amounts (below 10^12)")
    return amount


def _whole(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("is a yes/no value, not a whole number")
    if isinstance(value, str) and not re.fullmatch(r"\s*-?\d+\s*", value):
        raise ValueError(f"{value!r} is not a whole number")
    return value


Line = Annotated[str, AfterValidator(_one_line)]
Email = Annotated[str, AfterValidator(_email)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Money = Annotated[Decimal, BeforeValidator(_money)]
NonNegativeMoney = Annotated[Money, Field(ge=0)]
Whole = Annotated[int, BeforeValidator(_whole)]


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise ValueError(
            f"{value!r} is not a code: letters, digits, '_' and '-' only "
            "(it names the chain's feed folder)"
        )
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


def _file_pattern(value: str) -> str:
    from ka_pipeline.config import check_date_format  # the one date-format rule

    value = _one_line(value)
    if (
        PurePosixPath(value).is_absolute()
        or PureWindowsPath(value).is_absolute()
        or (value.startswith("\\") or re.match(r"^[A-Za-z]:", value))
    ):
        raise ValueError(f"{value!r} is absolute; patterns are relative to feeds/<chain>/")
    if ".." in re.split(r"[\\/]", value):
        raise ValueError(f"{value!r} leaves the chain's folder ('..')")
    tokens = _DATE_TOKEN.findall(value)
    if len(tokens) != 1:
        raise ValueError(f"{value!r} needs exactly one {{date:<format>}} token")
    check_date_format(tokens[0])
    if any(c in value for c in "*?[]"):
        raise ValueError(f"{value!r} has a wildcard; name the files with the date token only")
    return value


class LayoutEntry(_Model):
    """One feed of one chain in chains.yaml."""

    file: Annotated[str, AfterValidator(_file_pattern)]
    format: Literal["csv", "xlsx"] | None = None
    encoding: Literal["utf-8", "utf-8-sig", "gbk", "gb18030"] = "utf-8"
    delimiter: str = Field(",", min_length=1, max_length=1)
    sheet: Annotated[int, Field(ge=0)] | Line = 0
    date_format: str = "%Y-%m-%d"
    decimal: Literal[".", ","] = "."
    thousands: Literal[",", ".", " ", "'", "\u00a0"] | None = None
    columns: dict[str, Line] = Field(default_factory=dict)
    restatement_min_share: Annotated[float, Field(ge=0, le=1)] = 0.5
    plausible_days_before: Annotated[Whole, Field(ge=0, le=36500)] = 400
    plausible_days_after: Annotated[Whole, Field(ge=0, le=36500)] = 366
    max_line_amount: Annotated[Money, Field(gt=0)] = Decimal("10000000.00")

    @field_validator("encoding", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str) -> str:
        from ka_pipeline.config import check_date_format

        return check_date_format(value)

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if value in '\r\n"' or value.isalnum():
            raise ValueError(f"{value!r} cannot separate fields")
        return value

    @model_validator(mode="after")
    def _conventions(self) -> LayoutEntry:
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(f"thousands and decimal are both {self.decimal!r}")
        headers = list(self.columns.values())
        twice = sorted({h for h in headers if headers.count(h) > 1})
        if twice:
            raise ValueError(f"columns maps two canonical names to the header(s) {twice}")
        return self


class ChainEntry(_Model):
    """One chain in chains.yaml (master data and its feed layouts)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)

    code: Annotated[Line, AfterValidator(_code)]
    name: Line
    name_local: Line | None = None
    format: Line
    region: Line
    settlement_mode: Line
    payment_terms_days: Annotated[Whole, Field(ge=0, le=3650)]
    dispute_window_days: Annotated[Whole, Field(ge=0, le=3650)] = 90
    owner: Line
    feeds: dict[str, Any] = Field(default_factory=dict)
    deduction_types: list[dict[str, Any]] = Field(default_factory=list)
    # what the dispute window counts from (domain.md section 6)
    dispute_from: Literal["statement_date", "deduction_date"] = "statement_date"


class OwnerEntry(_Model):
    """One account owner in owners.yaml."""

    code: Line
    name: Line
    email: Email
    locale: Literal["zh-CN", "en"] = "en"
    manager_email: Email | None = None


def _known_barcode(value: str) -> str:
    value = _one_line(value)
    if not is_valid_gtin13(value):
        raise ValueError(f"{value!r} is not a GTIN-13 with a valid check digit")
    return value


Barcode = Annotated[str, AfterValidator(_known_barcode)]


class StoreRow(_Model):
    chain_code: Line
    store_code: Line
    name: Line
    name_en: Line | None = None
    city: Line
    region: Line
    area_m2: Annotated[Whole, Field(ge=0, le=10_000_000)]
    opened_on: IsoDate
    closed_on: IsoDate | None = None

    @model_validator(mode="after")
    def _order(self) -> StoreRow:
        if self.closed_on is not None and self.closed_on < self.opened_on:
            raise ValueError(f"closed_on {self.closed_on} is before opened_on {self.opened_on}")
        return self


class ProductRow(_Model):
    barcode: Barcode
    name: Line
    brand: Line
    category: Line
    unit_cost: NonNegativeMoney
    supply_price: NonNegativeMoney
    std_retail_price: NonNegativeMoney
    floor_price: NonNegativeMoney


def _store_classes(value: str | None) -> str | None:
    """A comma-separated list of store classes ('A,B', spaces ignored), or None."""
    if value is not None and not set(value.replace(" ", "").split(",")) <= {"A", "B", "C"}:
        raise ValueError(f"{value!r} is not a list of store classes like 'A,B'")
    return value


class ListingRow(_Model):
    chain_code: Line
    barcode: Barcode
    listed_from: IsoDate
    listed_to: IsoDate | None = None
    # optional column: must-carry only in stores of these classes; empty = every store
    store_classes: Annotated[str | None, AfterValidator(_store_classes)] = None

    @model_validator(mode="after")
    def _order(self) -> ListingRow:
        if self.listed_to is not None and self.listed_to < self.listed_from:
            raise ValueError(f"listed_to {self.listed_to} is before listed_from {self.listed_from}")
        return self


class PromotionRow(_Model):
    promo_id: Line
    chain_code: Line
    barcode: Barcode
    store_classes: str | None = None
    start_date: IsoDate
    end_date: IsoDate
    promo_price: NonNegativeMoney
    subsidy_per_unit: NonNegativeMoney

    @field_validator("store_classes")
    @classmethod
    def _classes(cls, value: str | None) -> str | None:
        if value is not None and not set(value.replace(" ", "").split(",")) <= {"A", "B", "C"}:
            raise ValueError(f"{value!r} is not a list of store classes like 'A,B'")
        return value

    @model_validator(mode="after")
    def _order(self) -> PromotionRow:
        if self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        return self


class TargetRow(_Model):
    chain_code: Line
    month: IsoDate
    target_amount: NonNegativeMoney

    @field_validator("month")
    @classmethod
    def _month_start(cls, value: date) -> date:
        if value.day != 1:
            raise ValueError(f"{value} is not the first day of a month (targets are monthly)")
        return value


ROW_MODELS: dict[str, type[_Model]] = {
    "stores": StoreRow,
    "products": ProductRow,
    "listings": ListingRow,
    "promotions": PromotionRow,
    "targets": TargetRow,
}
# Columns that identify a master-data row: a second row with the same key is an error.
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "stores": ("chain_code", "store_code"),
    "products": ("barcode",),
    "listings": ("chain_code", "barcode", "listed_from"),
    "promotions": ("promo_id", "barcode"),
    "targets": ("chain_code", "month"),
}

M = TypeVar("M", bound=BaseModel)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a setting here (misspelt?)"
        elif error["type"] == "missing":
            message = "is missing"
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def check(model: type[M], data: Any, where: str) -> M:
    """``data`` validated as ``model``, or ConfigError ``<where>: <what is wrong>``."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(exc)}") from None


def check_list(doc: Any, key: str, where: str) -> list[Any]:
    """The list under ``key`` of a YAML document that must be a mapping."""
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise ConfigError(
            f"{where}: the top level must be a mapping with '{key}:', got {type(doc).__name__}"
        )
    entries = doc.get(key) or []
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: '{key}' must be a list, got {type(entries).__name__}")
    return entries
