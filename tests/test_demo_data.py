"""The demo data set: loadable config, the three layouts, determinism, planted problems.

Generated once per module over a short range (Jan 1 - Mar 10, 2026: two monthly
statements, so every planted deduction problem fits) to keep the test fast.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ka_pipeline.config import load_config
from ka_demo import DemoSummary, generate
from ka_pipeline.gtin import is_valid_gtin13

START, END = date(2026, 1, 1), date(2026, 3, 10)
MONEY = re.compile(r"^-?\d{1,3}(,\d{3})*\.\d{2}$|^-?\d+\.\d{2}$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    home = tmp_path_factory.mktemp("demo")
    return home, generate(home, start=START, end=END)


@pytest.fixture(scope="module")
def config(demo):
    return load_config(demo[0] / "config")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read(layout, path: Path) -> pd.DataFrame:
    if layout.format == "xlsx":
        return pd.read_excel(
            path, dtype=str, sheet_name=layout.sheet, keep_default_na=False, engine="calamine"
        )
    return pd.read_csv(path, dtype=str, encoding=layout.encoding, keep_default_na=False)


def test_config_loads_with_three_chains_and_owners(config):
    assert sorted(config.chains) == ["CRF", "RTM", "WMT"]
    assert {o.locale for o in config.owners.values()} == {"zh-CN", "en"}
    assert config.owners[config.chains["CRF"].owner].locale == "zh-CN"
    assert config.chains["CRF"].owner == config.chains["RTM"].owner
    assert config.owners[config.chains["WMT"].owner].locale == "en"
    assert all(o.manager_email for o in config.owners.values())


def test_stores_products_listings(config):
    stores = config.stores
    assert len(stores) >= 40
    assert set(stores["store_class"]) == {"A", "B", "C"}
    opened = pd.to_datetime(stores["opened_on"])
    assert ((opened >= pd.Timestamp(START)) & (opened <= pd.Timestamp(END))).sum() >= 1
    assert stores["closed_on"].notna().sum() == 1

    products = config.products
    assert len(products) >= 30
    assert all(is_valid_gtin13(b) for b in products["barcode"])
    assert any(b.startswith("0") for b in products["barcode"])
    money = products[["unit_cost", "supply_price", "floor_price", "std_retail_price"]].astype(float)
    assert (money["unit_cost"] < money["supply_price"]).all()
    assert (money["supply_price"] < money["floor_price"]).all()
    assert (money["floor_price"] < money["std_retail_price"]).all()
    assert set(config.listings["barcode"]) <= set(products["barcode"])


def test_promotions_contracts_targets(config):
    promos = config.promotions.merge(config.products, on="barcode")
    assert promos["chain_code"].value_counts().min() >= 3
    assert (promos["promo_price"].astype(float) < promos["std_retail_price"].astype(float)).all()
    assert (promos["promo_price"].astype(float) >= promos["floor_price"].astype(float)).all()
    methods = {c["chain"]: c["rebate"]["method"] for c in config.contracts}
    assert sorted(methods.values()) == ["retroactive", "retroactive", "stepped"]
    assert all(len(c["rebate"]["tiers"]) >= 2 and c["fees"] for c in config.contracts)
    months = pd.date_range(START.replace(day=1), END, freq="MS").strftime("%Y-%m-%d")
    for code in config.chains:
        got = config.targets.loc[config.targets["chain_code"] == code, "month"]
        assert list(got) == list(months)


def test_every_feed_file_exists_at_its_layout_path(demo, config):
    home, summary = demo
    for code, chain in config.chains.items():
        for feed, layout in chain.feeds.items():
            pattern, _ = layout.file_regex()
            files = [
                p.relative_to(home / "feeds" / code).as_posix()
                for p in (home / "feeds" / code).rglob("*")
                if p.is_file()
            ]
            mine = [f for f in files if pattern.match(f)]
            assert len(mine) == summary.by_chain[code][feed]["files"], (code, feed)
    # sales and invoices daily, one sales day missing for RTM
    days = (END - START).days + 1
    assert summary.by_chain["CRF"]["sales"]["files"] == days
    assert summary.by_chain["RTM"]["sales"]["files"] == days - 1
    assert all(summary.by_chain[c]["invoices"]["files"] == days for c in config.chains)
    assert summary.rows["sales"] > 30_000


def test_layouts(demo, config):
    home, _ = demo
    rtm = config.chains["RTM"].feeds["sales"]
    path = home / "feeds" / "RTM" / rtm.path_for(date(2026, 1, 5))
    text = path.read_bytes().decode("gbk")
    assert text.splitlines()[0].startswith("销售日期,门店编码,商品条码")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    wmt = config.chains["WMT"].feeds["sales"]
    path = home / "feeds" / "WMT" / wmt.path_for(date(2026, 1, 5))
    assert path.suffix == ".xlsx" and zipfile.is_zipfile(path)
    frame = pd.read_excel(path, dtype=str, engine="calamine")
    assert list(frame.columns) == ["Date", "Store Nbr", "UPC", "Sales Qty", "Sales Amt"]
    assert (frame["Date"] == "01/05/2026").all()
    crf = config.chains["CRF"].feeds["sales"]
    frame = pd.read_csv(home / "feeds" / "CRF" / crf.path_for(date(2026, 1, 5)), dtype=str)
    assert {"promo_units", "promo_amount", "on_hand_units"} <= set(frame.columns)
    for code in config.chains:  # invoices from the ERP: canonical CSV everywhere
        layout = config.chains[code].feeds["invoices"]
        assert (layout.format, layout.encoding, layout.columns) == ("csv", "utf-8", {})


def test_money_has_at_most_two_decimals(demo, config):
    home, _ = demo
    money_columns = {
        "sales": ["sales_amount", "promo_amount"],
        "invoices": ["unit_price", "net_amount", "vat_amount"],
        "deductions": ["amount"],
        "payments": ["amount"],
    }
    bad_values = {"N/A"}  # planted non-numeric amount
    for code, chain in config.chains.items():
        for feed, layout in chain.feeds.items():
            folder = home / "feeds" / code
            files = sorted(
                p
                for p in folder.rglob("*")
                if layout.file_regex()[0].match(p.relative_to(folder).as_posix())
            )
            for path in files[:: max(1, len(files) // 8)] + files[-1:]:
                frame = _read(layout, path)
                for column in money_columns[feed]:
                    header = layout.source_header(column)
                    if header not in frame.columns:
                        continue
                    values = frame[header].replace("", None).dropna()
                    values = values[~values.isin(bad_values)]
                    assert values.str.match(MONEY).all(), (path, header)
    for name in ("products.csv", "promotions.csv", "targets.csv"):
        frame = pd.read_csv(home / "config" / name, dtype=str)
        for column in frame.columns:
            if column in (
                "unit_cost",
                "supply_price",
                "std_retail_price",
                "floor_price",
                "promo_price",
                "subsidy_per_unit",
                "target_amount",
            ):
                assert frame[column].str.match(MONEY).all(), (name, column)


def test_invoice_vat_is_13_percent_of_net(demo, config):
    home, _ = demo
    layout = config.chains["CRF"].feeds["invoices"]
    frame = pd.read_csv(home / "feeds" / "CRF" / layout.path_for(date(2026, 1, 5)), dtype=str)
    assert len(frame) > 0
    cents = lambda s: s.str.replace(".", "", regex=False).astype(int)  # noqa: E731
    net, vat = cents(frame["net_amount"]), cents(frame["vat_amount"])
    assert ((net * 13 + 50) // 100 == vat).all()
    assert (cents(frame["unit_price"]) * frame["units"].astype(int) == net).all()


def test_planted_problems_are_listed(demo):
    home, summary = demo
    kinds = {p["kind"] for p in summary.planted}
    assert {
        "duplicate",
        "over_contract",
        "no_contract_basis",
        "promo_overclaim",
        "unclassified",
        "promo_not_found",
        "bad_row",
        "missing_feed",
        "below_floor_price",
    } <= kinds
    reasons = {p["reason"] for p in summary.planted_of("bad_row")}
    assert {"check_digit", "unknown_store", "missing_store", "non_numeric", "bad_date"} <= reasons
    manifest = json.loads((home / "demo_manifest.json").read_text(encoding="utf-8"))
    assert manifest["planted"] == json.loads(summary.to_json())["planted"]
    for entry in summary.planted:
        if "file" in entry and entry["kind"] != "missing_feed":
            assert (home / "feeds" / entry["chain"] / entry["file"]).exists(), entry
    missing = summary.planted_of("missing_feed")[0]
    assert not (home / "feeds" / missing["chain"] / missing["file"]).exists()


def test_planted_rows_are_where_the_manifest_says(demo, config):
    home, summary = demo
    for entry in summary.planted_of("bad_row"):
        layout = config.chains[entry["chain"]].feeds["sales"]
        frame = _read(layout, home / "feeds" / entry["chain"] / entry["file"])
        row = frame.iloc[entry["row"] - 1]
        value = row[layout.source_header(entry["column"])]
        value = "" if pd.isna(value) else value
        assert value == entry["value"], entry
        if entry["reason"] == "check_digit":
            assert not is_valid_gtin13(value)
    for entry in summary.planted_of("promo_overclaim"):
        assert entry["claimed_units"] > entry["pos_promo_units"]


def test_deduction_texts_map_to_the_intended_types(demo, config):
    home, summary = demo
    for code, chain in config.chains.items():
        layout = chain.feeds["deductions"]
        folder = home / "feeds" / code
        for path in sorted(folder.glob("deductions/*")):
            frame = _read(layout, path)
            types = {chain.deduction_type(t) for t in frame[layout.source_header("deduction_text")]}
            assert "dm_fee" in types and "display_fee" in types
    unclassified = summary.planted_of("unclassified")[0]
    chain = config.chains[unclassified["chain"]]
    assert chain.deduction_type(unclassified["deduction_text"]) == "unclassified"


def test_same_seed_same_bytes(demo, tmp_path):
    home, summary = demo
    again = generate(tmp_path, start=START, end=END)
    assert again.to_json() == summary.to_json()
    first = sorted(p for p in home.rglob("*") if p.is_file())
    second = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert [p.relative_to(home) for p in first] == [p.relative_to(tmp_path) for p in second]
    sample = first[:: max(1, len(first) // 60)] + [p for p in first if p.suffix == ".xlsx"][:20]
    for path in sample:
        assert _sha(path) == _sha(tmp_path / path.relative_to(home)), path


def test_replaces_config_and_feeds_only(tmp_path):
    (tmp_path / "feeds" / "OLD").mkdir(parents=True)
    (tmp_path / "feeds" / "OLD" / "stale.csv").write_text("x")
    (tmp_path / "warehouse.duckdb").write_text("keep me")
    generate(tmp_path, start=date(2026, 2, 1), end=date(2026, 2, 10))
    assert not (tmp_path / "feeds" / "OLD").exists()
    assert (tmp_path / "warehouse.duckdb").read_text() == "keep me"
    load_config(tmp_path / "config")
