"""Unit tests of the pure parts: GTIN-13, config checks, parsing, text mapping, migrations."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from ka_pipeline.config import FeedLayout, check_date_format, load_config, store_class
from ka_pipeline.errors import ConfigError, FileRejected
from ka_pipeline.gtin import check_digit, is_valid_gtin13, make_gtin13
from ka_pipeline.parse import (
    NeedsLineByLine,
    _normalise_numbers,
    parse_file,
    read_chunks,
    read_file,
)
from ka_pipeline.shown import plain, shown
from ka_pipeline.warehouse import (
    create_engine,
    migrate,
    migration_engine,
    migrations,
    split_statements,
)
from tests.helpers import FIXTURES


def test_gtin13_check_digit() -> None:
    # 6 9 0 1 2 3 4 5 6 7 8 9: odd positions 6+0+2+4+6+8 = 26, even 9+1+3+5+7+9 = 34
    # 26 + 3*34 = 128 -> check digit (10 - 8) % 10 = 2
    assert check_digit("690123456789") == "2"
    assert is_valid_gtin13("6901234567892")
    assert not is_valid_gtin13("6901234567893")
    assert is_valid_gtin13("0012345678905")  # leading zeros are part of the code
    assert not is_valid_gtin13("012345678905")  # 12 digits
    assert not is_valid_gtin13(6901234567892)  # a number is not a barcode
    assert make_gtin13("001234567890") == "0012345678905"


def test_store_class_thresholds() -> None:
    assert [store_class(a) for a in (5000, 4999, 2000, 1999)] == ["A", "B", "B", "C"]


def _layout(**kw) -> FeedLayout:
    return FeedLayout(feed="sales", file="s_{date:%Y%m%d}.csv", **kw)


def test_parse_gbk_chinese_headers_and_thousands(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(
        '日期,门店,条码,数量,金额\n2026/10/31,S1,6901234567892,1200,"4,200.50"\n'.encode("gbk")
    )
    layout = _layout(
        encoding="gbk",
        date_format="%Y/%m/%d",
        thousands=",",
        columns={
            "business_date": "日期",
            "store_code": "门店",
            "barcode": "条码",
            "units": "数量",
            "sales_amount": "金额",
        },
    )
    frame = parse_file(path, layout).rows
    row = frame.iloc[0]
    assert (row.business_date, row.units, row.sales_amount) == ("2026-10-31", "1200", "4200.50")
    assert pd.isna(row.promo_units) and row._row == 1


def test_parse_decimal_comma_and_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(
        b"\xef\xbb\xbfbusiness_date;store_code;barcode;units;sales_amount\n"
        b"31.10.2026;S1;0012345678905;2;1.234,50\n"
    )
    layout = _layout(delimiter=";", date_format="%d.%m.%Y", decimal=",", thousands=".")
    row = parse_file(path, layout).rows.iloc[0]
    assert (row.business_date, row.barcode, row.sales_amount) == (
        "2026-10-31",
        "0012345678905",
        "1234.50",
    )


def test_parse_xlsx_with_excel_dates_and_numbers(tmp_path: Path) -> None:
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["Date", "Store Nbr", "UPC", "Qty", "Amt"])
    sheet.append([datetime(2026, 10, 31), "W1", "0012345678905", 3, 15.5])
    path = tmp_path / "s.xlsx"
    book.save(path)
    layout = FeedLayout(
        feed="sales",
        file="s_{date:%Y%m%d}.xlsx",
        format="xlsx",
        date_format="%m/%d/%Y",
        columns={
            "business_date": "Date",
            "store_code": "Store Nbr",
            "barcode": "UPC",
            "units": "Qty",
            "sales_amount": "Amt",
        },
    )
    row = parse_file(path, layout).rows.iloc[0]
    assert (row.business_date, row.units, row.sales_amount, row.barcode) == (
        "2026-10-31",
        "3",
        "15.5",
        "0012345678905",
    )


def test_unreadable_files_are_rejected_with_the_reason(tmp_path: Path) -> None:
    missing_column = tmp_path / "a.csv"
    missing_column.write_text("business_date,store_code,barcode,units\n2026-10-31,S1,1,1\n")
    with pytest.raises(
        FileRejected,
        match=r"missing required column\(s\) 'sales_amount'; the header has 'business_date'",
    ):
        parse_file(missing_column, _layout())
    not_gbk = tmp_path / "b.csv"
    not_gbk.write_bytes(b"\xff\xff\xff")
    with pytest.raises(FileRejected, match="cannot be decoded as gbk"):
        parse_file(not_gbk, _layout(encoding="gbk"))
    empty = tmp_path / "c.csv"
    empty.write_text("")
    with pytest.raises(FileRejected, match="empty"):
        parse_file(empty, _layout())
    fake_xlsx = tmp_path / "d.xlsx"
    fake_xlsx.write_text("not a workbook")
    with pytest.raises(FileRejected, match="not a readable XLSX"):
        parse_file(fake_xlsx, FeedLayout(feed="sales", file="d_{date:%Y}.xlsx", format="xlsx"))


def test_deduction_texts_map_to_types() -> None:
    config = load_config(FIXTURES / "mini" / "config")
    chain = config.chain("AAA")
    assert chain.deduction_type("DM海报费") == "dm_fee"
    assert chain.deduction_type("毛利补差 2026Q3") == "margin_guarantee"  # before 补差
    assert chain.deduction_type("促销补差") == "promo_subsidy"
    assert chain.deduction_type("条码费-新品") == "barcode_fee"
    assert chain.deduction_type("店庆费") == "anniversary_fee"
    assert chain.deduction_type("返利 Q3") == "rebate"
    assert chain.deduction_type("其他") == "unclassified"


def test_config_errors_name_the_file_and_entry(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    shutil.copytree(FIXTURES / "mini" / "config", folder)
    chains = folder / "chains.yaml"
    chains.write_text(
        chains.read_text().replace('file: "sales/AAA_sales_{date:%Y%m%d}.csv"', 'file: "sales.csv"')
    )
    with pytest.raises(ConfigError, match=r"chains.yaml chain 1 \(AAA\) feeds.sales: .*date"):
        load_config(folder)
    with pytest.raises(ConfigError, match="unknown chain 'ZZZ'"):
        load_config(FIXTURES / "mini" / "config").chain("ZZZ")
    stores = folder / "stores.csv"
    shutil.copy(FIXTURES / "mini" / "config" / "chains.yaml", chains)
    stores.write_text(stores.read_text().replace("2020-01-01", "01/01/2020"))
    with pytest.raises(
        ConfigError, match=r"stores.csv line 2: opened_on: '01/01/2020' is not a YYYY-MM-DD date"
    ):
        load_config(folder)


def test_migrations_apply_once_and_refuse_edits(tmp_path: Path) -> None:
    engine = create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    shipped = [name for _, name, _ in migrations()]
    assert shipped[:2] == ["0001_initial.sql", "0002_marts.sql"]
    assert migrate(engine) == shipped
    assert migrate(engine) == []
    with engine.begin() as conn:
        conn.execute(sa.text("update ops_schema_migrations set checksum = 'x' where version = 1"))
    with pytest.raises(ConfigError, match="0001_initial.sql changed after it was applied"):
        migrate(engine)
    engine.dispose()


def test_an_engine_migration_runs_on_its_engine_and_is_recorded_on_the_other(
    engine: sa.Engine,
) -> None:
    """0090 drops the raw tables' partition indexes on DuckDB only (its zone maps serve
    the partition filters; the ART index made a large load 3x slower); 0091 makes
    raw_sales' a BRIN index on PostgreSQL only; both engines record both versions."""
    script = dict((name, sql) for _, name, sql in migrations())[
        "0090_duckdb_raw_without_indexes.sql"
    ]
    assert migration_engine(script) == "duckdb"
    assert migration_engine("-- 0001: every engine\ncreate table a (x int);") is None
    with engine.connect() as conn:
        applied = conn.execute(
            sa.text("select count(*) from ops_schema_migrations where version = 90")
        ).scalar_one()
        if engine.dialect.name == "duckdb":
            indexes = conn.execute(
                sa.text("select index_name from duckdb_indexes() where table_name like 'raw_%'")
            ).scalars()
        else:
            indexes = conn.execute(
                sa.text("select indexname from pg_indexes where tablename like 'raw_%'")
            ).scalars()
        names = set(indexes)
    assert applied == 1
    partition = {"raw_sales_part", "raw_invoices_part", "raw_deductions_part", "raw_payments_part"}
    if engine.dialect.name == "duckdb":
        assert not names & partition
        assert {"raw_invoices_invoice", "raw_payments_invoice"} <= names
    else:
        assert partition <= names
        with engine.connect() as conn:
            method = conn.execute(
                sa.text(
                    "select am.amname from pg_class c join pg_am am on am.oid = c.relam"
                    " where c.relname = 'raw_sales_part'"
                )
            ).scalar_one()
        assert method == "brin"  # 0091: raw_sales' partition index is a BRIN index


def test_split_statements_ignores_comments() -> None:
    script = "-- a comment; with a semicolon\ncreate table a (x int);\n\ncreate table b (y int);\n"
    assert split_statements(script) == ["create table a (x int)", "create table b (y int)"]


def test_shown_escapes_and_cuts_file_text() -> None:
    assert shown("A01") == "'A01'"
    assert shown("a\nb\x1b[2J\u202ec'") == "'a\\nb\\x1b[2J\\u202ec\\''"
    # 100 characters: the first 60 shown, then how long the text was
    assert shown("x" * 100) == "'" + "x" * 60 + "'… (100 characters)"
    assert plain("a\r\nb") == "a\\r\\nb"


def test_date_formats_and_strict_file_dates() -> None:
    assert check_date_format("%Y%m%d") == "%Y%m%d"
    for bad, message in (
        ("%Q", "'%Q' is not a date format: %Q"),
        ("%Y/%m", "needs a year, a month and a day"),
        ("100%", "a lone %"),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            check_date_format(bad)
    regex, _ = _layout().file_regex()
    assert regex.match("s_20261001.csv")
    assert not regex.match("s_2026101.csv")  # seven digits: not a %Y%m%d date
    assert not regex.match("s_202610011.csv")


def test_thousands_separator_only_in_groups_of_three() -> None:
    layout = _layout(thousands=",")
    values = pd.Series(
        ["1,234.50", "85,50", "1,2,3.40", "1234", "-12,345,678.9", None], dtype="str"
    )
    text, misused = _normalise_numbers(values, layout, integer=False)
    assert list(misused) == [False, True, True, False, False, False]
    # grouped values lose the separator; misused ones stay as read for the quarantine
    assert list(text[:5]) == ["1234.50", "85,50", "1,2,3.40", "1234", "-12345678.9"]
    euro = _layout(thousands=".", decimal=",")
    text, misused = _normalise_numbers(pd.Series(["1.234,50", "85.50"], dtype="str"), euro, False)
    assert list(text) == ["1234.50", "85.50"] and list(misused) == [False, True]


def test_a_file_without_a_final_line_break_loses_its_last_line_to_quarantine(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "business_date,store_code,barcode,units,sales_amount\n"
        "2026-10-31,A01,6901234567892,10,29.90\n"
        "2026-10-31,A01,0012345678905,9,6"  # cut off: 71.10 was being written
    )
    parsed = parse_file(path, _layout())
    assert list(parsed.rows["_row"]) == [1]
    assert [(m.row_number, m.reason[:22]) for m in parsed.malformed] == [
        (2, "the file ends inside t")
    ]
    chunks = list(read_chunks(path, _layout(), 1))
    assert [list(c.rows["_row"]) for c in chunks] == [[1], []]
    assert [m.row_number for c in chunks for m in c.malformed] == [2]


def test_the_large_file_reader_gives_the_rows_the_small_file_reader_gives(
    tmp_path: Path,
) -> None:
    """Arrow reads large files, pandas small ones: the same rows, numbers and values."""
    path = tmp_path / "s.csv"
    path.write_bytes(
        b"\xef\xbb\xbfbusiness_date, store_code ,barcode,units,sales_amount,note,note\n"
        b'2026-10-31,A01,6901234567892,10,29.90,"two\nlines",x\n'
        b"\n"  # a blank line is no row
        b'2026-10-31,"A,02",0012345678905,,"",,\r\n'
        b"2026-10-31,A03,0012345678905,1,1.00,,\n"
    )
    whole = parse_file(path, _layout())
    chunks = list(read_chunks(path, _layout(), 2))
    assert [len(c.rows) for c in chunks] == [2, 1]  # chunks of exactly 2 rows
    streamed = pd.concat([c.rows for c in chunks], ignore_index=True)
    # the rows as read (parse_file normalises them too)
    pd.testing.assert_frame_equal(streamed, read_file(path, _layout()).rows)
    assert list(whole.rows["_row"]) == [1, 2, 3]
    assert list(streamed["store_code"]) == ["A01", "A,02", "A03"]
    assert list(streamed["units"]) == ["10", "", "1"]  # an empty cell stays empty text
    # the second "note" column is named as pandas names it
    assert list(chunks[0].source.columns)[-2:] == ["note", "note.1"]
    assert chunks[0].source.loc[1, "note"] == "two\nlines"


def test_a_short_line_sends_a_large_file_to_the_line_by_line_reader(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "business_date,store_code,barcode,units,sales_amount\n"
        "2026-10-31,A01,6901234567892,10,29.90\n"
        "2026-10-31,A01\n"  # two fields of five
    )
    with pytest.raises(NeedsLineByLine):
        list(read_chunks(path, _layout(), 10))
    chunks = list(read_chunks(path, _layout(), 10, line_by_line=True))
    # padded with empty cells, as pandas pads it in the small-file reader
    assert list(chunks[0].rows["barcode"]) == ["6901234567892", ""]
