"""contracts.yaml: the typed contract schema (ka_pipeline/config/contracts.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ka_pipeline.config.contracts import load_contracts
from ka_pipeline.errors import ConfigError

BASE = {
    "chain": "AAA",
    "year": 2026,
    "start": "2026-04-01",
    "end": "2027-03-31",
    "rebate": {"tiers": [{"threshold": 100, "rate": 0.01}, {"threshold": 1000, "rate": 0.02}]},
    "fees": [
        {"type": "dm_fee", "basis": "per_month", "amount": "500.00"},
        {"type": "data_fee", "basis": "pct_of_base", "rate": 0.07, "base": "sell_in_gross"},
        {"type": "festival_fee", "basis": "per_event", "amount": 800, "max_events": 2},
    ],
}


def write(tmp_path: Path, *contracts: dict) -> Path:
    path = tmp_path / "contracts.yaml"
    path.write_text(yaml.safe_dump({"contracts": list(contracts)}), encoding="utf-8")
    return path


def test_a_contract_is_typed_with_defaults(tmp_path):
    (c,) = load_contracts(write(tmp_path, BASE), {"AAA"})
    assert (c.fee_amounts, c.vat_rate, c.sales_vat_rate) == (
        "excl_vat",
        Decimal("0.06"),
        Decimal("0.13"),
    )
    assert c.rebate.base == "sell_in" and c.rebate.tiers[1].rate == Decimal("0.02")
    pct = c.fees[1]
    assert (pct.basis, pct.rate, pct.base, pct.amount) == (
        "pct_of_base",
        Decimal("0.07"),
        "sell_in_gross",
        None,
    )
    assert c.fees[2].max_events == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"rebate": {"tiers": [{"threshold": 100, "rate": -0.01}]}},
            "contract 1 (AAA 2026): rebate.tiers[0].rate: Input should be greater than or equal",
        ),
        (
            {"rebate": {"tiers": [{"threshold": 100, "rate": 2.5}]}},
            "contract 1 (AAA 2026): rebate.tiers[0].rate: Input should be less than or equal to 1",
        ),
        (
            {"fees": [{"type": "data_fee", "basis": "pct_of_base", "amount": 100}]},
            "fees[0]: a pct_of_base fee needs 'rate'",
        ),
        (
            {"fees": [{"type": "dm_fee", "basis": "per_month", "amount": 1, "max_events": 3}]},
            "max_events is only for per_event and per_year fees",
        ),
        ({"fee_amounts": "gross"}, "fee_amounts: Input should be 'excl_vat' or 'incl_vat'"),
        ({"vat_rate": 6}, "vat_rate: Input should be less than or equal to 1"),
        ({"margin_guarantee_pct": -0.1}, "margin_guarantee_pct: Input should be greater"),
        ({"rebate": {"base": "gross"}}, "rebate.base: Input should be"),
        ({"fees": [{"type": "dm_fee", "basis": "per_week", "amount": 1}]}, "fees[0].basis"),
        ({"fees": [{"type": "dm_fee", "basis": "per_month", "amount": 1, "amout": 2}]}, "amout"),
        ({"end": "2026-01-01"}, "end 2026-01-01 is before start 2026-04-01"),
    ],
)
def test_bad_entries_name_the_file_contract_and_key(tmp_path, change, message):
    path = write(tmp_path, {**BASE, **change})
    with pytest.raises(ConfigError) as err:
        load_contracts(path, {"AAA"})
    assert str(path) in str(err.value) and message in str(err.value)


def test_unknown_chain_and_overlapping_years(tmp_path):
    with pytest.raises(ConfigError, match="unknown chain 'AAA'"):
        load_contracts(write(tmp_path, BASE), {"BBB"})
    later = {**BASE, "year": 2027, "start": "2027-03-01", "end": "2028-02-28"}
    with pytest.raises(
        ConfigError, match=r"contract 2 \(AAA 2027\): 2027-03-01..2028-02-28 overlaps"
    ):
        load_contracts(write(tmp_path, BASE, later), {"AAA"})
