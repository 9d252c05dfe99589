"""Dispute deadlines from the statement date, and the review list of unclassified lines.

Hand-made fixture on DuckDB and PostgreSQL; rules: docs/models.md (dispute deadline,
mart_deduction_review); domain.md section 6.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from tests.test_models import CHAIN, OTHER, by, chain, contract, deduction, insert, rows, run

FILE_DAY = date(2024, 4, 12)  # the statement file's date (business_date)


def test_deadlines_and_review_list(engine):
    insert(
        engine,
        "ref_chain",
        [
            chain(window=30),  # dispute_from defaults to statement_date
            {**chain(OTHER, window=10), "dispute_from": "deduction_date"},
        ],
    )
    insert(engine, "ref_contract", [contract(2024), contract(2024, ch=OTHER)])
    insert(
        engine,
        "raw_deductions",
        [
            # statement_date column sent: 10 Apr + 30 days = 10 May
            deduction(
                "D1",
                date(2024, 4, 2),
                "dm_fee",
                "100.00",
                business_date=FILE_DAY,
                statement_date=date(2024, 4, 10),
            ),
            # no statement_date column: the file's date, 12 Apr + 30 days = 12 May
            deduction(
                "D2",
                date(2024, 4, 2),
                "unclassified",
                "250.50",
                text="杂项扣款",
                business_date=FILE_DAY,
                reference="ADJ-7",
            ),
            # the other chain counts from the deduction date: 2 Apr + 10 days = 12 Apr
            deduction(
                "X1",
                date(2024, 4, 2),
                "unclassified",
                "80.00",
                ch=OTHER,
                text="Admin fee",
                business_date=FILE_DAY,
                statement_date=date(2024, 4, 10),
            ),
        ],
    )
    # the chain's last data date: a later deduction file (20 Apr)
    insert(
        engine,
        "raw_deductions",
        [deduction("D3", date(2024, 4, 20), "dm_fee", "1.00", statement="ST2")],
    )
    run(engine, chains=(CHAIN, OTHER))
    got = by("deduction_no", rows(engine, "select * from mart_deduction_check"))
    assert got["D1"]["dispute_deadline"] == date(2024, 5, 10)
    assert got["D2"]["dispute_deadline"] == date(2024, 5, 12)
    assert got["X1"]["dispute_deadline"] == date(2024, 4, 12)

    review = rows(
        engine,
        "select chain_code, deduction_no, statement_date, deduction_text, amount, reference,"
        " as_of_date, age_days, dispute_deadline from mart_deduction_review"
        " order by chain_code, deduction_no",
    )
    assert [tuple(r.values()) for r in review] == [
        # CF: last data 20 Apr; statement date = file date 12 Apr -> 8 days old
        (
            CHAIN,
            "D2",
            FILE_DAY,
            "杂项扣款",
            D("250.50"),
            "ADJ-7",
            date(2024, 4, 20),
            8,
            date(2024, 5, 12),
        ),
        # RT: last data = its only file 12 Apr; statement date 10 Apr -> 2 days old
        (
            OTHER,
            "X1",
            date(2024, 4, 10),
            "Admin fee",
            D("80.00"),
            None,
            FILE_DAY,
            2,
            date(2024, 4, 12),
        ),
    ]


def test_the_deductions_feed_reads_an_optional_statement_date(tmp_path):
    from ka_pipeline.config import FeedLayout
    from ka_pipeline.parse import parse_file

    path = tmp_path / "st.csv"
    path.write_text(
        "statement_no,deduction_no,deduction_date,deduction_text,amount,statement_date\n"
        "ST1,1,2024/04/02,DM海报费,100.00,2024/04/10\n"
        "ST1,2,2024/04/02,DM海报费,100.00,\n",
        encoding="utf-8",
    )
    layout = FeedLayout(feed="deductions", file="st_{date:%Y%m%d}.csv", date_format="%Y/%m/%d")
    parsed = parse_file(path, layout).rows
    assert parsed["statement_date"].iloc[0] == "2024-04-10"
    assert parsed["statement_date"].isna().iloc[1]
