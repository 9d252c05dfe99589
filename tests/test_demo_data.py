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

from ka_demo import DemoSummary, generate
from ka_pipeline.config import load_config
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


# ----------------------------------------------------------------------------- planted cases
# Simple, direct re-statements of the sell-out rules (domain.md §4, §10) over the files,
# so the generator's guarantees are checked in this branch before the warehouse tables
# exist (tests/demo_plants_check.py checks the real tables after the merge).


def _feed(home: Path, config, code: str, feed: str) -> pd.DataFrame:
    layout = config.chains[code].feeds[feed]
    folder = home / "feeds" / code
    frames = []
    for path in sorted(folder.glob(f"{feed}/*")):
        frame = _read(layout, path)
        frame = frame.rename(columns={v: k for k, v in layout.columns.items()})
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    date_col = {"sales": "business_date", "invoices": "invoice_date"}[feed]
    fmt = layout.date_format
    frame[date_col] = pd.to_datetime(frame[date_col], format=fmt, errors="coerce")
    for column in ("units", "on_hand_units"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if "sales_amount" in frame:
        amount = frame["sales_amount"].str.replace(",", "", regex=False)
        frame["sales_amount"] = pd.to_numeric(amount, errors="coerce")
    return frame.dropna(subset=[date_col])


@pytest.fixture(scope="module")
def sales(demo, config) -> dict[str, pd.DataFrame]:
    return {code: _feed(demo[0], config, code, "sales") for code in config.chains}


def _keys(entry, table: str) -> set[tuple]:
    return {tuple(e["key"].values()) for e in entry["expect"] if e["table"] == table}


def test_below_floor_prices_only_where_planted(demo, config, sales):
    _, summary = demo
    floor = config.products.set_index("barcode")["floor_price"].astype(float)
    flagged = set()
    for code, frame in sales.items():
        sold = frame[frame["units"] > 0]
        price = sold["sales_amount"] / sold["units"]
        below = sold[price < sold["barcode"].map(floor) - 1e-9]
        flagged |= {
            (code, s, b, d.date().isoformat())
            for s, b, d in zip(
                below["store_code"], below["barcode"], below["business_date"], strict=True
            )
        }
    (plant,) = summary.planted_of("below_floor_price")
    expected = _keys(plant, "mart_price_below_floor")
    # 3 stores of WMT 西南 x 14 days, each 6 units at 5.20 under a 6.10 floor
    assert len(expected) == 3 * 14
    assert flagged == expected


def test_on_hand_zero_only_in_the_planted_run_and_no_clean_phantom(demo, sales):
    _, summary = demo
    crf = sales["CRF"]
    zero = crf[crf["on_hand_units"] == 0]
    (oos,) = summary.planted_of("out_of_stock_run")
    assert {
        ("CRF", s, b, d.date().isoformat())
        for s, b, d in zip(zero["store_code"], zero["barcode"], zero["business_date"], strict=True)
    } == _keys(oos, "mart_oos_day")
    # runs of >= 14 days with units = 0 and on-hand > 0 (every store x item, any rate)
    runs = set()
    for (store, barcode), rows in crf.sort_values("business_date").groupby(
        ["store_code", "barcode"]
    ):
        idle = ((rows["units"] == 0) & (rows["on_hand_units"] > 0)).to_numpy()
        dates = rows["business_date"].to_numpy()
        k = 0
        while k < len(idle):
            if not idle[k]:
                k += 1
                continue
            j = k
            while j < len(idle) and idle[j]:
                j += 1
            if j - k >= 14:
                runs.add(("CRF", store, barcode, pd.Timestamp(dates[k]).date().isoformat()))
            k = j
    (phantom,) = summary.planted_of("phantom_inventory")
    assert runs == _keys(phantom, "mart_phantom_inventory")


def test_distribution_gaps_only_where_planted(demo, config, sales):
    _, summary = demo
    stores = config.stores.set_index(["chain_code", "store_code"])
    listings = pd.read_csv(demo[0] / "config" / "listings.csv", dtype=str, keep_default_na=False)
    gaps = set()
    for month in pd.date_range(START.replace(day=1), END, freq="MS"):
        month_end = month + pd.offsets.MonthEnd(0)
        if month_end.date() > END:
            continue
        for (code, store), st in stores.iterrows():
            opened = pd.Timestamp(st["opened_on"])
            closed = pd.Timestamp(st["closed_on"]) if st["closed_on"] else None
            if opened > month_end or (closed is not None and closed <= month):
                continue
            frame = sales[code]
            inside = frame[
                (frame["store_code"] == store)
                & (frame["business_date"] >= month)
                & (frame["business_date"] <= month_end)
            ]
            carried = set(inside.loc[inside["units"] != 0, "barcode"])
            if "on_hand_units" in inside:
                carried |= set(inside.loc[inside["on_hand_units"] > 0, "barcode"])
            for x in listings[listings["chain_code"] == code].itertuples():
                if pd.Timestamp(x.listed_from) > month or (
                    x.listed_to and pd.Timestamp(x.listed_to) < month_end
                ):
                    continue
                if x.store_classes and st["store_class"] not in x.store_classes.split(","):
                    continue
                if x.barcode not in carried:
                    gaps.add((code, month.date().isoformat(), store, x.barcode))
    (plant,) = summary.planted_of("distribution_gap")
    assert gaps == _keys(plant, "mart_distribution_gap")
    # the C stores do not carry the class-restricted item, and that is no gap
    restricted = listings[listings["store_classes"] != ""]
    assert list(restricted["store_classes"]) == ["A,B"]
    rtm = sales["RTM"]
    c_stores = set(config.stores.query("chain_code == 'RTM' and store_class == 'C'")["store_code"])
    assert not set(rtm.loc[rtm["barcode"] == plant["barcode"], "store_code"]) & c_stores


def test_sell_out_never_exceeds_shipments_to_a_store_except_where_planted(demo, config, sales):
    """RT-Mart ships to its stores: per store (= region share) x item x 4 ISO weeks, the
    clean sell-out stays below 1.3 x the units shipped; the planted store does not."""
    home, summary = demo
    inv = _feed(home, config, "RTM", "invoices")
    week = lambda s: (s - pd.to_timedelta(s.dt.day_of_week, unit="D")).dt.date  # noqa: E731
    rtm = sales["RTM"]
    sold = rtm.groupby([rtm["store_code"], rtm["barcode"], week(rtm["business_date"])])[
        "units"
    ].sum()
    shipped = inv.groupby([inv["ship_to_code"], inv["barcode"], week(inv["invoice_date"])])[
        "units"
    ].sum()
    both = pd.concat({"sold": sold, "shipped": shipped}, axis=1).fillna(0)
    both.index.names = ["store", "barcode", "week"]
    flagged = set()
    for (store, barcode), rows in both.groupby(level=[0, 1]):
        rows = rows.droplevel([0, 1]).sort_index()
        weeks = pd.Series(rows.index)
        for k in range(3, len(rows)):  # whole 4-week windows inside the range
            if weeks[k] - weeks[k - 3] != pd.Timedelta(days=21).to_pytimedelta():
                continue
            window = rows.iloc[k - 3 : k + 1].sum()
            if window["sold"] > 1.3 * window["shipped"]:
                flagged.add((store, barcode, weeks[k].isoformat()))
    (plant,) = summary.planted_of("diversion_volume")
    must = {
        (plant["store_code"], e["key"]["barcode"], e["key"]["iso_week"]) for e in plant["expect"]
    }
    allowed = {(plant["store_code"], a["barcode"], a["iso_week"]) for a in plant["allow"]}
    assert must <= flagged <= must | allowed


def test_planted_promotions_exist_with_their_dm_fee(demo, config):
    _, summary = demo
    up, down = summary.planted_of("promo_roi_positive"), summary.planted_of("promo_roi_negative")
    assert len(up) == len(down) == 1
    promos = config.promotions.set_index("promo_id")
    assert promos.loc[up[0]["promo_id"], "store_classes"] in ("", None)
    assert promos.loc[down[0]["promo_id"], "store_classes"] == "A"


def test_stores_have_english_names(demo):
    stores = pd.read_csv(demo[0] / "config" / "stores.csv", dtype=str, keep_default_na=False)
    assert stores["name_en"].str.match(r"^(Carrefour|RT-Mart|Walmart) [A-Za-z -]+$").all()


def test_builds_36_months(tmp_path):
    """Issue 8: the old generator failed on ranges starting before its fixed listing date
    (random.sample of an empty candidate list, a ValueError). 36 months to the default end."""
    start, end = date(2023, 11, 1), date(2026, 10, 31)
    summary = generate(tmp_path, start=start, end=end)
    days = (end - start).days + 1  # 2023-11-01 .. 2026-10-31: 61 + 366 + 365 + 304 = 1,096
    assert days == 1096
    assert summary.by_chain["CRF"]["sales"]["files"] == days
    assert summary.by_chain["RTM"]["sales"]["files"] == days - 1
    assert summary.files["deductions"] == 3 * 35  # statements for Nov 2023 .. Sep 2026
    kinds = {p["kind"] for p in summary.planted}
    assert {
        "out_of_stock_run",
        "phantom_inventory",
        "below_floor_price",
        "diversion_price",
        "diversion_volume",
        "distribution_gap",
        "promo_roi_positive",
        "promo_roi_negative",
        "duplicate",
        "promo_overclaim",
    } <= kinds
    config = load_config(tmp_path / "config")
    assert sorted({c["year"] for c in config.contracts}) == [2023, 2024, 2025, 2026]
