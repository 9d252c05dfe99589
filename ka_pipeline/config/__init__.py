"""Configuration as data: chains and their file layouts, owners, contracts, master data.

:func:`load_config` reads a config folder (see docs/configuration.md), checks it and
returns a :class:`Config`. Every problem is reported as a :class:`ConfigError` naming
the file and the entry, so onboarding a chain never needs code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ka_pipeline.config import schema
from ka_pipeline.config.analytics import Analytics, load_analytics
from ka_pipeline.config.contracts import DEDUCTION_TYPES, FEE_BASES, Contract, load_contracts
from ka_pipeline.config.deduction_text import (
    DeductionRule,
    classify,
    compile_rules,
    default_rules,
)
from ka_pipeline.errors import ConfigError
from ka_pipeline.feeds import FEEDS as _FEED_DECLARATIONS

__all__ = ["DEDUCTION_TYPES", "FEE_BASES", "Contract", "DeductionRule"]

FEEDS = tuple(_FEED_DECLARATIONS)

# Canonical columns per feed: (required, optional), domain.md section 3; declared in
# ka_pipeline/feeds.py with the rest of each feed's shape (kept here for importers).
FEED_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    name: (declared.required, declared.optional) for name, declared in _FEED_DECLARATIONS.items()
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
# Columns a master-data file may leave out (older configs stay valid); absent = null.
MASTER_OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "listings": ("store_classes",),  # must-carry only for these store classes ('A,B')
    "stores": ("name_en",),  # the English name English scorecards show (docs/scorecard.md)
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
    # A restated file whose good rows fall below this share of the partition's loaded
    # rows is held for review (rejected, the old slice kept) unless the run is forced.
    restatement_min_share: float = 0.5
    # Dates in a file's rows are plausible within [file date - before, file date + after].
    plausible_days_before: int = 400
    plausible_days_after: int = 366
    # An amount beyond +/- this on one line is implausible: quarantined, never loaded.
    max_line_amount: Decimal = Decimal("10000000.00")

    def source_header(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)

    def file_regex(self) -> tuple[re.Pattern[str], str]:
        """A regex matching this feed's file paths and the strftime format of its date.

        Each strftime directive matches exactly its own width (``%Y`` four digits,
        ``%m`` two, ...), so ``2026101`` is not taken for a ``%Y%m%d`` date.
        """
        match = _DATE_TOKEN.search(self.file)
        assert match is not None  # checked on load
        before, after = self.file[: match.start()], self.file[match.end() :]
        body = re.escape(before) + f"(?P<date>{_date_regex(match.group(1))})" + re.escape(after)
        return re.compile("^" + body + "$"), match.group(1)

    def path_for(self, day: date) -> str:
        return _DATE_TOKEN.sub(lambda m: day.strftime(m.group(1)), self.file)


# strftime directives allowed in a date format, and what each matches in a file name.
_DIRECTIVES = {
    "Y": r"\d{4}",
    "y": r"\d{2}",
    "m": r"\d{2}",
    "d": r"\d{2}",
    "j": r"\d{3}",
    "b": r"[A-Za-z]{3}",
    "B": r"[A-Za-z]{3,9}",
    "%": "%",
}
_DIRECTIVE = re.compile(r"%(.)")


def _date_regex(fmt: str) -> str:
    parts, last = [], 0
    for m in _DIRECTIVE.finditer(fmt):
        parts.append(re.escape(fmt[last : m.start()]))
        parts.append(_DIRECTIVES[m.group(1)])
        last = m.end()
    parts.append(re.escape(fmt[last:]))
    return "".join(parts)


def check_date_format(fmt: str) -> str:
    """``fmt`` if it is a strftime date format naming a year, a month and a day (or a
    day of year) and nothing else; else ValueError saying what is wrong."""
    found = _DIRECTIVE.findall(fmt)
    unknown = sorted({d for d in found if d not in _DIRECTIVES})
    if unknown or fmt.count("%") != len(found) + found.count("%"):
        bad = ", ".join("%" + d for d in unknown) or "a lone %"
        raise ValueError(
            f"{fmt!r} is not a date format: {bad} is not one of "
            + ", ".join("%" + d for d in _DIRECTIVES)
        )
    has_year = bool({"Y", "y"} & set(found))
    has_day = "j" in found or ({"d"} & set(found) and {"m", "b", "B"} & set(found))
    if not (has_year and has_day):
        raise ValueError(f"{fmt!r} needs a year, a month and a day (%Y, %m, %d)")
    sample = date(2026, 11, 27)
    if datetime.strptime(sample.strftime(fmt), fmt).date() != sample:
        raise ValueError(f"{fmt!r} does not read back the dates it writes")
    return fmt


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
    # account evaluation and diversion settings (config/analytics.py; analytics.yaml)
    analytics: Analytics = field(default_factory=Analytics)

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


def _layout(feed: str, entry: Any, where: str) -> FeedLayout:
    if feed not in FEEDS:
        raise ConfigError(f"{where}: unknown feed {feed!r}; feeds are {', '.join(FEEDS)}")
    checked = schema.check(schema.LayoutEntry, entry, where)
    unknown = set(checked.columns) - set(_FEED_DECLARATIONS[feed].columns)
    if unknown:
        raise ConfigError(f"{where}: columns maps unknown canonical names {sorted(unknown)}")
    fields = checked.model_dump(exclude={"format"})
    fmt = checked.format or ("xlsx" if checked.file.lower().endswith(".xlsx") else "csv")
    return FeedLayout(feed=feed, format=fmt, **fields)


def _chain(entry: Any, defaults: list[DeductionRule], where: str) -> Chain:
    code = entry.get("code") if isinstance(entry, dict) else None
    where = f"{where} ({code})" if code else where
    checked = schema.check(schema.ChainEntry, entry, where)
    feeds = {
        feed: _layout(feed, layout or {}, f"{where} feeds.{feed}")
        for feed, layout in checked.feeds.items()
    }
    return Chain(
        code=checked.code,
        name=checked.name,
        name_local=checked.name_local,
        format=checked.format,
        region=checked.region,
        settlement_mode=checked.settlement_mode,
        payment_terms_days=checked.payment_terms_days,
        dispute_window_days=checked.dispute_window_days,
        owner=checked.owner,
        feeds=feeds,
        deduction_rules=tuple(
            compile_rules(checked.deduction_types, f"{where} deduction_types") + defaults
        ),
        dispute_from=checked.dispute_from,
    )


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    """A master-data CSV, every row checked against its schema; values stay text."""
    if not path.exists():
        raise ConfigError(f"{path}: missing")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{path}: not a readable CSV ({str(exc).strip()})") from None
    required = list(MASTER_COLUMNS[name])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: missing columns {missing}")
    for column in MASTER_OPTIONAL_COLUMNS.get(name, ()):
        if column not in frame.columns:
            frame[column] = ""
        required.append(column)
    frame = frame[required].replace({"": None})
    model, key = schema.ROW_MODELS[name], schema.ROW_KEYS[name]
    seen: dict[tuple, int] = {}
    for line, record in enumerate(frame.to_dict("records"), 2):
        checked = schema.check(model, record, f"{path} line {line}")
        ident = tuple(getattr(checked, c) for c in key)
        if ident in seen:
            shown = ", ".join(f"{c}={v}" for c, v in zip(key, ident, strict=True))
            raise ConfigError(f"{path} line {line}: {shown} is already on line {seen[ident]}")
        seen[ident] = line
    return frame


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
    chains_path = folder / "chains.yaml"
    chains: dict[str, Chain] = {}
    for i, entry in enumerate(
        schema.check_list(_read_yaml(chains_path), "chains", str(chains_path)), 1
    ):
        chain = _chain(entry, defaults, f"{chains_path} chain {i}")
        if chain.code in chains:
            raise ConfigError(f"{chains_path}: chain {chain.code} defined twice")
        chains[chain.code] = chain

    owners_path = folder / "owners.yaml"
    owners: dict[str, Owner] = {}
    codes: dict[str, int] = {}
    for i, entry in enumerate(
        schema.check_list(_read_yaml(owners_path), "owners", str(owners_path)), 1
    ):
        checked = schema.check(schema.OwnerEntry, entry, f"{owners_path} owner {i}")
        fold = checked.code.casefold()
        if fold in codes:
            raise ConfigError(
                f"{owners_path} owner {i}: code {checked.code!r} is already owner {codes[fold]}'s"
            )
        codes[fold] = i
        owners[checked.code] = Owner(
            code=checked.code,
            name=checked.name,
            email=checked.email,
            locale=checked.locale,
            manager_email=checked.manager_email,
        )
    for chain in chains.values():
        if chain.owner not in owners:
            raise ConfigError(
                f"{chains_path}: chain {chain.code} owner {chain.owner!r} not in owners.yaml"
            )

    # typed and checked in config/contracts.py; the raw entries stay for older readers
    contract_terms = load_contracts(folder / "contracts.yaml", set(chains))
    contracts = (_read_yaml(folder / "contracts.yaml") or {}).get("contracts") or []

    frames = {name: _read_csv(folder / f"{name}.csv", name) for name in MASTER_COLUMNS}
    for name, frame in frames.items():
        if "chain_code" in frame:
            unknown = sorted(set(frame["chain_code"]) - set(chains))
            if unknown:
                raise ConfigError(f"{folder / (name + '.csv')}: unknown chain(s) {unknown}")
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
        load_analytics(folder / "analytics.yaml"),
    )
