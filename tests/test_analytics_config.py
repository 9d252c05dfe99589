"""Analytics configuration: listings' optional store_classes column and analytics.yaml
(account evaluation criteria, bands, grades; diversion thresholds), loaded, checked and
published to the ref_ tables on DuckDB and PostgreSQL (ka_pipeline/config/analytics.py).
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from ka_pipeline.config import load_config
from ka_pipeline.config.analytics import Analytics, criterion_rows, load_analytics
from ka_pipeline.errors import ConfigError
from ka_pipeline.masterdata import publish_master_data
from tests.helpers import copy_fixture, rows


def test_old_config_publishes_defaults(engine, tmp_path: Path):
    home = copy_fixture("mini", tmp_path / "home")
    config = load_config(home / "config")  # no store_classes column, no analytics.yaml
    assert config.listings["store_classes"].isna().all()
    publish_master_data(engine, config)
    assert {r.store_classes for r in rows(engine, "select store_classes from ref_listing")} == {
        None
    }
    got = {r.criterion: r for r in rows(engine, "select * from ref_account_criterion")}
    # domain.md section 7: 40 / 40 / 20 on each axis
    assert {c: r.weight for c, r in got.items()} == {
        "annual_sellout": D("40.00"),
        "sellout_growth": D("40.00"),
        "days_late": D("20.00"),
        "distribution_rate": D("40.00"),
        "promo_execution_rate": D("40.00"),
        "price_compliance": D("20.00"),
    }
    assert got["days_late"].higher_is_better is False
    settings = dict(rows(engine, "select setting, value from ref_analytics_setting"))
    assert settings["grade_a"] == D("80") and settings["diversion_price_gap"] == D("0.1")


def test_listing_store_classes_and_custom_analytics(engine, tmp_path: Path):
    home = copy_fixture("mini", tmp_path / "home")
    (home / "config" / "listings.csv").write_text(
        "chain_code,barcode,listed_from,listed_to,store_classes\n"
        "AAA,6901234567892,2026-01-01,,\n"
        'AAA,0012345678905,2026-01-01,,"A,B"\n'
        "BBB,6901234567892,2026-01-01,,\n",
        encoding="utf-8",
    )
    (home / "config" / "analytics.yaml").write_text(
        "account_evaluation:\n"
        "  support:\n"
        "    - {criterion: distribution_rate, weight: 60, limits: [0.9, 0.8, 0.7, 0.6]}\n"
        "    - {criterion: price_compliance, weight: 40, limits: [0.99, 0.97, 0.95, 0.9]}\n"
        "  quadrant_split: 50\n"
        "diversion: {price_gap: 0.2}\n",
        encoding="utf-8",
    )
    publish_master_data(engine, load_config(home / "config"))
    classes = {
        r.barcode: r.store_classes
        for r in rows(engine, "select * from ref_listing where chain_code = 'AAA'")
    }
    assert classes == {"6901234567892": None, "0012345678905": "A,B"}
    support = {
        r.criterion: r
        for r in rows(engine, "select * from ref_account_criterion where axis = 'support'")
    }
    assert sorted(support) == ["distribution_rate", "price_compliance"]
    assert support["distribution_rate"].limit_40 == D("0.6")
    settings = dict(rows(engine, "select setting, value from ref_analytics_setting"))
    assert (settings["quadrant_split"], settings["diversion_price_gap"]) == (D("50"), D("0.2"))
    assert settings["diversion_volume_factor"] == D("1.3")  # default kept


def test_bad_listing_store_classes_names_file_and_line(tmp_path: Path):
    home = copy_fixture("mini", tmp_path / "home")
    path = home / "config" / "listings.csv"
    path.write_text(
        "chain_code,barcode,listed_from,listed_to,store_classes\n"
        "AAA,6901234567892,2026-01-01,,\n"
        "AAA,0012345678905,2026-01-01,,A;X\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"listings\.csv line 3.*store_classes.*'A;X'"):
        load_config(home / "config")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "account_evaluation:\n  attractiveness:\n"
            "    - {criterion: annual_sellout, weight: 50, limits: [4, 3, 2, 1]}\n",
            r"attractiveness: weights sum to 50, not 100",
        ),
        (
            "account_evaluation:\n  support:\n"
            "    - {criterion: distribution_rate, weight: 100, limits: [0.7, 0.8, 0.9, 0.95]}\n",
            r"support\[0\]: limits must decrease for distribution_rate",
        ),
        (
            "account_evaluation:\n  attractiveness:\n"
            "    - {criterion: days_late, weight: 100, limits: [30, 15, 7, 0]}\n",
            r"limits must increase for days_late",
        ),
        (
            "account_evaluation:\n  support:\n"
            "    - {criterion: annual_sellout, weight: 100, limits: [4, 3, 2, 1]}\n",
            r"support: annual_sellout belongs to the other axis",
        ),
        (
            "account_evaluation:\n  support:\n"
            "    - {criterion: store_count, weight: 100, limits: [4, 3, 2, 1]}\n",
            r"support\[0\]\.criterion",
        ),
        ("account_evaluation:\n  grades: {A: 60, B: 60, C: 40}\n", r"A > B > C"),
        ("diversion: {price_gap: 1.5}\n", r"diversion\.price_gap"),
    ],
)
def test_bad_analytics_yaml_names_file_and_key(tmp_path: Path, text: str, message: str):
    path = tmp_path / "analytics.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"analytics\.yaml.*" + message):
        load_analytics(path)


def test_defaults_are_section_7():
    got = {r["criterion"]: r for r in criterion_rows(Analytics())}
    assert [got[c]["weight"] for c in got] == ["40", "40", "20", "40", "40", "20"]
    # annual sell-out bands: >= 50M 100 %, >= 20M 80 %, >= 10M 60 %, >= 5M 40 %
    assert got["annual_sellout"]["limit_80"] == "20000000"
