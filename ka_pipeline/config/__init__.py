"""Configuration as data: chains and their file layouts, owners, contracts, master data.

:func:`load_config` reads a config folder (see docs/configuration.md), checks it and
returns a :class:`Config`. Every problem is reported as a :class:`ConfigError` naming
the file and the entry, so onboarding a chain never needs code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ka_pipeline.config.contracts import DEDUCTION_TYPES, FEE_BASES, Contract, load_contracts
from ka_pipeline.config.deduction_text import (
    DeductionRule,
    classify,
    compile_rules,
    default_rules,
)
from ka_pipeline.errors import ConfigError

__all__ = ["DEDUCTION_TYPES", "FEE_BASES", "Contract", "DeductionRule"]

FEEDS = ("sales", "invoices", "deductions", "payments")

# Canonical columns per feed: (required, optional), domain.md section 3.
FEED_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sales": (
        ("business_date", "store_code", "barcode", "units", "sales_amount"),
        ("promo_units", "promo_amount", "on_hand_units"),
    ),
    "invoices": (
        (
            "invoice_no",
            "line_no",
            "invoice_date",
            "ship_to_code",
            "barcode",
            "units",
            "unit_price",
            "net_amount",
            "vat_amount",
        ),
        ("promo_id",),
    ),
    "deductions": (
        ("statement_no", "deduction_no", "deduction_date", "deduction_text", "amount"),
        (
            "store_code",
            "barcode",
            "units",
            "reference",
            "period_start",
            "period_end",
            "statement_date",
        ),
    ),
    "payments": (("payment_no", "payment_date", "invoice_no", "amount"), ()),
}

# The CSV master-data files and their columns (docs/configuration.md), in file order.
MASTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "stores": (
        "chain_code",
        "store_code",
        "name",
        "city",
        "region",
        "area_m2",
        "opened_on",
        "closed_on",
    ),
    "products": (
        "barcode",
        "name",
        "brand",
        "category",
        "unit_cost",
        "supply_price",
        "std_retail_price",
        "floor_price",
    ),
    "listings": ("chain_code", "barcode", "listed_from", "listed_to"),
    "promotions": (
        "promo_id",
        "chain_code",
        "barcode",
        "store_classes",
        "start_date",
        "end_date",
        "promo_price",
        "subsidy_per_unit",
    ),
    "targets": ("chain_code", "month", "target_amount"),
}

LOCALES = ("zh-CN", "en")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
_DATE_TOKEN = re.compile(r"\{date:([^}]+)\}")


@dataclass(frozen=True)
class FeedLayout:
    """How one chain sends one feed; defaults are the canonical CSV layout."""

    feed: str
    file: str  # pattern relative to feeds/<chain>/, with one {date:<strftime>} token
    format: str = "csv"  # csv | xlsx
    encoding: str = "utf-8"  # a BOM is always accepted
    delimiter: str = ","
    sheet: str | int = 0
    date_format: str = "%Y-%m-%d"
    decimal: str = "."
    thousands: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source header

    def source_header(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)

    def file_regex(self) -> tuple[re.Pattern[str], str]:
        """A regex matching this feed's file paths and the strftime format of its date."""
        match = _DATE_TOKEN.search(self.file)
        assert match is not None  # checked on load
        before, after = self.file[: match.start()], self.file[match.end() :]
        body = re.escape(before) + r"(?P<date>.+?)" + re.escape(after)
        return re.compile("^" + body + "$"), match.group(1)

    def path_for(self, day: date) -> str:
        return _DATE_TOKEN.sub(lambda m: day.strftime(m.group(1)), self.file)


@dataclass(frozen=True)
class Chain:
    code: str
    name: str
    name_local: str | None
    format: str
    region: str
    settlement_mode: str
    payment_terms_days: int
    dispute_window_days: int
    owner: str
    feeds: dict[str, FeedLayout]
    deduction_rules: tuple[DeductionRule, ...]
    dispute_from: str = "statement_date"  # statement_date | deduction_date

    def deduction_type(self, text: str) -> str:
        """The canonical type for a chain's deduction wording, or 'unclassified'."""
        return classify(self.deduction_rules, text)


@dataclass(frozen=True)
class Owner:
    code: str
    name: str
    email: str
    locale: str
    manager_email: str | None


@dataclass(frozen=True)
class Config:
    """Everything in a config folder, checked."""

    folder: Path
    chains: dict[str, Chain]
    owners: dict[str, Owner]
    contracts: list[dict[str, Any]]
    stores: pd.DataFrame
    products: pd.DataFrame
    listings: pd.DataFrame
    promotions: pd.DataFrame
    targets: pd.DataFrame
    contract_terms: tuple[Contract, ...] = ()  # the contracts, typed (config/contracts.py)

    def chain(self, code: str) -> Chain:
        if code not in self.chains:
            known = ", ".join(sorted(self.chains)) or "none"
            raise ConfigError(f"unknown chain {code!r}; chains in {self.folder}: {known}")
        return self.chains[code]


def _read_yaml(path: Path) -> Any:
    if not path.exists():
        raise ConfigError(f"{path}: missing")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def _need(entry: dict[str, Any], key: str, where: str) -> Any:
    if entry.get(key) in (None, ""):
        raise ConfigError(f"{where}: missing '{key}'")
    return entry[key]


def _layout(feed: str, entry: dict[str, Any], where: str) -> FeedLayout:
    if feed not in FEEDS:
        raise ConfigError(f"{where}: unknown feed {feed!r}; feeds are {', '.join(FEEDS)}")
    pattern = str(_need(entry, "file", where))
    if len(_DATE_TOKEN.findall(pattern)) != 1:
        raise ConfigError(
            f"{where}: file pattern {pattern!r} needs exactly one {{date:<format>}} token"
        )
    fmt = entry.get("format") or ("xlsx" if pattern.lower().endswith(".xlsx") else "csv")
    if fmt not in ("csv", "xlsx"):
        raise ConfigError(f"{where}: format must be csv or xlsx, not {fmt!r}")
    encoding = str(entry.get("encoding", "utf-8")).lower()
    if encoding not in ENCODINGS:
        raise ConfigError(f"{where}: encoding must be one of {', '.join(ENCODINGS)}")
    columns = {str(k): str(v) for k, v in (entry.get("columns") or {}).items()}
    required, optional = FEED_COLUMNS[feed]
    unknown = set(columns) - set(required) - set(optional)
    if unknown:
        raise ConfigError(f"{where}: columns maps unknown canonical names {sorted(unknown)}")
    return FeedLayout(
        feed=feed,
        file=pattern,
        format=fmt,
        encoding=encoding,
        delimiter=str(entry.get("delimiter", ",")),
        sheet=entry.get("sheet", 0),
        date_format=str(entry.get("date_format", "%Y-%m-%d")),
        decimal=str(entry.get("decimal", ".")),
        thousands=entry.get("thousands"),
        columns=columns,
    )


def _chain(entry: dict[str, Any], defaults: list[DeductionRule], where: str) -> Chain:
    code = str(_need(entry, "code", where))
    where = f"{where} ({code})"
    feeds = {
        feed: _layout(feed, layout or {}, f"{where} feeds.{feed}")
        for feed, layout in (entry.get("feeds") or {}).items()
    }
    return Chain(
        code=code,
        name=str(_need(entry, "name", where)),
        name_local=entry.get("name_local"),
        format=str(_need(entry, "format", where)),
        region=str(_need(entry, "region", where)),
        settlement_mode=str(_need(entry, "settlement_mode", where)),
        payment_terms_days=int(_need(entry, "payment_terms_days", where)),
        dispute_window_days=int(entry.get("dispute_window_days", 90)),
        owner=str(_need(entry, "owner", where)),
        feeds=feeds,
        deduction_rules=tuple(
            compile_rules(entry.get("deduction_types"), f"{where} deduction_types") + defaults
        ),
        dispute_from=_dispute_from(entry, where),
    )


def _dispute_from(entry: dict[str, Any], where: str) -> str:
    """What a chain's dispute window counts from (domain.md section 6)."""
    value = str(entry.get("dispute_from", "statement_date"))
    if value not in ("statement_date", "deduction_date"):
        raise ConfigError(
            f"{where}: dispute_from must be statement_date or deduction_date, not {value!r}"
        )
    return value


def _read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise ConfigError(f"{path}: missing")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: missing columns {missing}")
    return frame.replace({"": None})


def _check_values(frame: pd.DataFrame, path: Path, dates=(), money=(), ints=()) -> None:
    for i, row in enumerate(frame.itertuples(index=False), 2):
        record = row._asdict()
        for col in dates:
            if record.get(col) is not None:
                try:
                    date.fromisoformat(record[col])
                except ValueError:
                    raise ConfigError(
                        f"{path} line {i}: {col}={record[col]!r} is not a YYYY-MM-DD date"
                    ) from None
        for col in money:
            try:
                Decimal(record[col])
            except (InvalidOperation, TypeError):
                raise ConfigError(
                    f"{path} line {i}: {col}={record[col]!r} is not an amount"
                ) from None
        for col in ints:
            if not str(record[col] or "").isdigit():
                raise ConfigError(f"{path} line {i}: {col}={record[col]!r} is not a whole number")


def store_class(area_m2: int) -> str:
    """domain.md: A >= 5,000 m2, B >= 2,000 m2, C below."""
    return "A" if area_m2 >= 5000 else "B" if area_m2 >= 2000 else "C"


def load_config(folder: Path | str) -> Config:
    """Read and check a config folder; raise ConfigError naming the file and entry."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(
            f"config folder {folder} does not exist; run 'ka-pipeline demo' to create a demo "
            "one or set KA_CONFIG_DIR"
        )
    defaults = default_rules()
    chains_doc = _read_yaml(folder / "chains.yaml") or {}
    chains: dict[str, Chain] = {}
    for i, entry in enumerate(chains_doc.get("chains") or [], 1):
        chain = _chain(entry, defaults, f"{folder / 'chains.yaml'} chain {i}")
        if chain.code in chains:
            raise ConfigError(f"{folder / 'chains.yaml'}: chain {chain.code} defined twice")
        chains[chain.code] = chain

    owners: dict[str, Owner] = {}
    for i, entry in enumerate((_read_yaml(folder / "owners.yaml") or {}).get("owners") or [], 1):
        where = f"{folder / 'owners.yaml'} owner {i}"
        locale = str(entry.get("locale", "en"))
        if locale not in LOCALES:
            raise ConfigError(f"{where}: locale must be one of {', '.join(LOCALES)}")
        owner = Owner(
            code=str(_need(entry, "code", where)),
            name=str(_need(entry, "name", where)),
            email=str(_need(entry, "email", where)),
            locale=locale,
            manager_email=entry.get("manager_email"),
        )
        owners[owner.code] = owner
    for chain in chains.values():
        if chain.owner not in owners:
            raise ConfigError(
                f"chains.yaml: chain {chain.code} owner {chain.owner!r} not in owners.yaml"
            )

    # typed and checked in config/contracts.py; the raw entries stay for older readers
    contract_terms = load_contracts(folder / "contracts.yaml", set(chains))
    contracts = (_read_yaml(folder / "contracts.yaml") or {}).get("contracts") or []

    frames = {
        name: _read_csv(folder / f"{name}.csv", list(columns))
        for name, columns in MASTER_COLUMNS.items()
    }
    checks: dict[str, dict[str, tuple[str, ...]]] = {
        "stores": {"dates": ("opened_on", "closed_on"), "ints": ("area_m2",)},
        "products": {"money": ("unit_cost", "supply_price", "std_retail_price", "floor_price")},
        "listings": {"dates": ("listed_from", "listed_to")},
        "promotions": {
            "dates": ("start_date", "end_date"),
            "money": ("promo_price", "subsidy_per_unit"),
        },
        "targets": {"dates": ("month",), "money": ("target_amount",)},
    }
    for name, kinds in checks.items():
        _check_values(frames[name], folder / f"{name}.csv", **kinds)
    stores = frames["stores"]
    stores["store_class"] = [store_class(int(a)) for a in stores["area_m2"]]
    products, listings = frames["products"], frames["listings"]
    promotions, targets = frames["promotions"], frames["targets"]
    return Config(
        folder,
        chains,
        owners,
        contracts,
        stores,
        products,
        listings,
        promotions,
        targets,
        tuple(contract_terms),
    )
