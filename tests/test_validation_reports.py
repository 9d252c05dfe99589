"""Great Expectations as its users expect it: the GTIN-13 check digit is an expectation
in the suite, each suite run's result is stored, and a Data Docs site under the home
folder shows every file's result; ``status`` points to it."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ka_pipeline import pipeline
from ka_pipeline.cli import main as cli_main
from ka_pipeline.pipeline import run
from ka_pipeline.settings import load_settings
from ka_pipeline.validate import add_flags, validate_rows
from tests.helpers import copy_fixture

H = "business_date,store_code,barcode,units,sales_amount\n"


def test_the_gtin13_check_digit_is_an_expectation_of_the_suite() -> None:
    frame = pd.DataFrame(
        {
            "business_date": ["2026-10-31"] * 3,
            "store_code": ["A01"] * 3,
            # 690123456789: 6+0+4+6+5+8 = 29, (9+1+3+5+7+9) x 3 = 102, 131 -> check 9;
            # ...891 has a wrong check digit; 12 digits is no GTIN-13 at all
            "barcode": ["6901234567892", "6901234567891", "690123456789"],
            "units": ["1"] * 3,
            "sales_amount": ["2.00"] * 3,
            "_row": [1, 2, 3],
            **{c: [None] * 3 for c in ("promo_units", "promo_amount", "on_hand_units")},
        }
    )
    flagged = add_flags(
        frame,
        "sales",
        pd.Series(["2026-10-31"] * 3),
        pd.Series(["A01"]),
        {"6901234567892"},
    )
    assert "_barcode_ok" not in flagged  # no precomputed flag: the suite checks it
    result = validate_rows(flagged, "sales")
    assert result.good["_row"].tolist() == [1]
    reason = "barcode is not a valid GTIN-13 (13 digits with a correct check digit)"
    assert result.bad["reason"].tolist() == [
        f"{reason} (got '6901234567891')",
        f"{reason} (got '690123456789')",
    ]  # and not also "not a product": an invalid barcode is reported once
    failed = [r for r in result.result.results if not r.success]
    gtin = "expect_column_values_to_be_valid_gtin13"
    assert [r.expectation_config.type for r in failed] == [gtin]
    assert failed[0].result["unexpected_count"] == 2
    assert failed[0].result["unexpected_rows"] == [
        {"file": 0, "row": 2, "value": "'6901234567891'"},
        {"file": 0, "row": 3, "value": "'690123456789'"},
    ]


@pytest.fixture
def home(tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KA_WAREHOUSE_URL", warehouse_url)
    monkeypatch.delenv("KA_SMTP_URL", raising=False)
    home = copy_fixture("mini", tmp_path / "home")
    for chain in ("AAA", "BBB"):
        shutil.rmtree(home / "feeds" / chain)
    return home


def test_every_files_result_is_stored_and_shown_in_data_docs(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(home)
    sales = settings.feeds_dir / "AAA" / "sales"
    sales.mkdir(parents=True)
    (sales / "AAA_sales_20261030.csv").write_text(
        H + "2026-10-30,A01,6901234567892,1,2.00\n"
        "2026-10-30,A01,<script>alert(1)</script>,1,2.00\n"  # hostile text, escaped
    )
    (sales / "AAA_sales_20261031.csv").write_text("no,header\n")  # rejected: no suite run
    run(
        settings,
        date(2026, 10, 30),
        date(2026, 10, 31),
        chains=["AAA"],
        scorecards="never",
        progress=lambda m: None,
    )
    # one stored result (the batch of readable files), as JSON
    stored = list((home / "validation" / "AAA" / "sales").glob("*.json"))
    assert len(stored) == 1
    doc = json.loads(stored[0].read_text(encoding="utf-8"))
    assert doc["success"] is False
    assert doc["meta"]["ka_pipeline"]["files"] == [
        {"file": "'sales/AAA_sales_20261030.csv'", "business_date": "2026-10-30"}
    ]
    failed = [r for r in doc["results"] if not r["success"]]
    assert {r["expectation_config"]["type"] for r in failed} == {
        "expect_column_values_to_be_valid_gtin13"
    }
    assert failed[0]["result"]["unexpected_rows"] == [
        {"file": "'sales/AAA_sales_20261030.csv'", "row": 2, "value": "'<script>alert(1)</script>'"}
    ]
    # the index lists both files, newest first, with their outcome and report page
    index = (home / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in index
    assert index.index("AAA_sales_20261031.csv") < index.index("AAA_sales_20261030.csv")
    assert "no suite run (not readable)" in index
    page = stored[0].name.replace(".json", ".html")
    assert f'href="validations/AAA/sales/{page}"' in index
    html = (home / "data_docs" / "validations" / "AAA" / "sales" / page).read_text("utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "values must be GTIN-13 barcodes" in html  # the expectation's own words
    assert "AAA sales: &#x27;sales/AAA_sales_20261030.csv&#x27;" in html  # the run's name
    # status points to the site
    capsys.readouterr()
    assert cli_main(["--home", str(home), "status"]) == 0
    out = capsys.readouterr().out
    assert f"validation reports (Data Docs, every file's result): file://{home}" in out


def test_a_file_read_in_chunks_has_a_page_per_failing_chunk_and_one_for_the_rest(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five chunks of one row: chunk 2's bad barcode gets its own result (counts and the
    failing row); the four chunks where every expectation held share one result."""
    monkeypatch.setattr(pipeline, "BATCH_BYTES", 1)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 1)
    settings = load_settings(home)
    sales = settings.feeds_dir / "AAA" / "sales"
    sales.mkdir(parents=True)
    rows = [
        "2026-10-30,A01,6901234567892,1,2.00\n",
        "2026-10-30,A01,6901234567893,1,2.00\n",  # a bad check digit
        "2026-10-30,A01,0012345678905,1,2.00\n",
        "2026-10-30,A02,6901234567892,1,2.00\n",
        "2026-10-30,A02,0012345678905,1,2.00\n",
    ]
    (sales / "AAA_sales_20261030.csv").write_text(H + "".join(rows))
    day = date(2026, 10, 30)
    run(settings, day, day, chains=["AAA"], scorecards="never", progress=lambda m: None)
    stored = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((home / "validation" / "AAA" / "sales").glob("*.json"))
    ]
    assert [d["success"] for d in stored] == [False, True]
    failing, clean = stored
    failed = [r for r in failing["results"] if not r["success"]]
    assert [r["result"]["unexpected_rows"] for r in failed] == [
        [{"file": "'sales/AAA_sales_20261030.csv'", "row": 2, "value": "'6901234567893'"}]
    ]
    assert "covered" not in failing["meta"]["ka_pipeline"]
    assert clean["meta"]["ka_pipeline"]["covered"] == "4 chunk(s) of 4 rows without a failure"
    entry = json.loads((home / "validation" / "files.jsonl").read_text().splitlines()[-1])
    assert len(entry["reports"]) == 2


def test_the_index_reads_only_the_tail_of_the_file_list(tmp_path: Path) -> None:
    from ka_pipeline.validate import _tail_lines

    path = tmp_path / "files.jsonl"
    path.write_text("".join(f"l{i}\n" for i in range(10)))  # 10 lines of 3 bytes
    assert _tail_lines(path, 2) == ["l8", "l9"]
    # the last 10 bytes are "\nl7\nl8\nl9\n": the cut first line is dropped
    assert _tail_lines(path, 5, block=10) == ["l7", "l8", "l9"]
