"""Receivables and statement tie-out (domain.md section 8) on DuckDB and PostgreSQL.

Hand-made fixture: three invoices, a full, a partial and an early payment (dated before
its invoice), a payment naming an unknown invoice, two statements. Rules:
docs/models.md (receivables, statement tie-out).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from tests.test_models import CHAIN, I1, by, chain, deduction, insert, rows, run, sale


def inv(no: str, line: int, day: date, net: str, vat: str) -> dict:
    return {
        "chain_code": CHAIN,
        "business_date": day,
        "invoice_no": no,
        "line_no": line,
        "invoice_date": day,
        "ship_to_code": "DC1",
        "barcode": I1,
        "units": 1,
        "unit_price": D(net),
        "net_amount": D(net),
        "vat_amount": D(vat),
        "promo_id": None,
    }


def pay(no: str, day: date, invoice_no: str, amount: str) -> dict:
    return {
        "chain_code": CHAIN,
        "business_date": day,
        "payment_no": no,
        "payment_date": day,
        "invoice_no": invoice_no,
        "amount": D(amount),
    }


def receivables_fixture(engine) -> None:
    insert(engine, "ref_chain", [{**chain(), "payment_terms_days": 30}])
    insert(
        engine,
        "raw_invoices",
        [
            inv("INV-A", 1, date(2024, 1, 10), "1000.00", "130.00"),  # gross 1,130.00
            inv("INV-B", 1, date(2024, 2, 5), "500.00", "65.00"),  # gross 565 + 113
            inv("INV-B", 2, date(2024, 2, 5), "100.00", "13.00"),  # = 678.00
            inv("INV-C", 1, date(2024, 3, 20), "2000.00", "260.00"),  # gross 2,260.00
        ],
    )
    insert(
        engine,
        "raw_payments",
        [
            pay("P1", date(2024, 2, 20), "INV-A", "1130.00"),  # in full, 41 days
            pay("P2", date(2024, 3, 1), "INV-B", "320.00"),  # partial, 25 days
            pay("P3", date(2024, 3, 15), "INV-C", "500.00"),  # before its invoice: 0 days
            pay("P4", date(2024, 3, 18), "INV-ZZ", "99.00"),  # unknown invoice
        ],
    )
    insert(
        engine,
        "raw_deductions",
        [
            deduction("D1", date(2024, 2, 5), "dm_fee", "50.00", statement="ST1"),
            deduction("D2", date(2024, 2, 5), "display_fee", "30.00", statement="ST1"),
            deduction("D3", date(2024, 3, 31), "dm_fee", "100.00", statement="ST2"),
        ],
    )
    # the chain's last data date: a sales file of 30 April
    insert(engine, "raw_sales", [sale(date(2024, 4, 30), "S1", I1, 1, "10.00")])


def test_invoice_balances_and_ageing(engine):
    receivables_fixture(engine)
    run(engine)
    got = by("invoice_no", rows(engine, "select * from mart_invoice_balance"))
    assert sorted(got) == ["INV-A", "INV-B", "INV-C"]

    def row(no):
        r = got[no]
        return (
            r["due_date"],
            r["gross_amount"],
            r["paid_amount"],
            r["open_balance"],
            r["days_overdue"],
            r["aging_bucket"],
            r["as_of_date"],
        )

    april30 = date(2024, 4, 30)
    # due = invoice date + 30 days
    assert row("INV-A") == (
        date(2024, 2, 9),
        D("1130.00"),
        D("1130.00"),
        D("0.00"),
        0,
        "paid",
        april30,
    )
    # 678 - 320 = 358 open; due 6 Mar, 30 Apr - 6 Mar = 55 days overdue
    assert row("INV-B") == (
        date(2024, 3, 6),
        D("678.00"),
        D("320.00"),
        D("358.00"),
        55,
        "31-60",
        april30,
    )
    # 2,260 - 500 = 1,760 open; due 19 Apr: 11 days overdue
    assert row("INV-C") == (
        date(2024, 4, 19),
        D("2260.00"),
        D("500.00"),
        D("1760.00"),
        11,
        "0-30",
        april30,
    )


def test_receivables_per_month(engine):
    receivables_fixture(engine)
    run(engine)
    got = by("month", rows(engine, "select * from mart_receivables_month"))
    assert sorted(got) == [date(2024, m, 1) for m in (1, 2, 3, 4)]

    def row(month, *cols):
        return tuple(got[date(2024, month, 1)][c] for c in cols)

    # 31 Jan: INV-A 1,130 open, due 9 Feb (not overdue); 90-day gross 1,130:
    # DSO = 1,130 / (1,130 / 90) = 90.00; no payment in January
    assert row(1, "as_of_date", "open_receivables", "overdue_amount", "dso_days") == (
        date(2024, 1, 31),
        D("1130.00"),
        D("0.00"),
        D("90.00"),
    )
    assert row(1, "paid_amount", "days_to_pay", "days_late") == (D("0.00"), None, None)
    # 29 Feb: A paid; B 678 open (due 6 Mar); 90-day gross 1,130 + 678 = 1,808;
    # DSO = 678 x 90 / 1,808 = 33.75. Paid in Feb: P1 1,130 after 41 days -> 41.00,
    # late 41 - 30 = 11.00
    assert row(2, "open_receivables", "sell_in_gross_90d", "dso_days") == (
        D("678.00"),
        D("1808.00"),
        D("33.75"),
    )
    assert row(2, "paid_amount", "days_to_pay", "days_late") == (
        D("1130.00"),
        D("41.00"),
        D("11.00"),
    )
    # 31 Mar: B 358 (25 days past 6 Mar: 0-30), C 2,260 - 500 = 1,760 (not due);
    # open 2,118; 90-day gross (after 1 Jan) 1,130 + 678 + 2,260 = 4,068;
    # DSO = 2,118 x 90 / 4,068 = 46.858 -> 46.86. Paid in March on known invoices:
    # P2 320 x 25 days + P3 500 x 0 days = 8,000 / 820 = 9.756 -> 9.76; late -20.24.
    # P4 (99.00) names an unknown invoice.
    assert row(
        3,
        "open_receivables",
        "overdue_amount",
        "overdue_0_30",
        "sell_in_gross_90d",
        "dso_days",
        "paid_amount",
        "days_to_pay",
        "days_late",
        "unmatched_payment_amount",
    ) == (
        D("2118.00"),
        D("358.00"),
        D("358.00"),
        D("4068.00"),
        D("46.86"),
        D("820.00"),
        D("9.76"),
        D("-20.24"),
        D("99.00"),
    )
    # 30 Apr (the last data date): B 55 days overdue (31-60), C 11 days (0-30);
    # 90-day gross (after 31 Jan) 678 + 2,260 = 2,938; DSO = 2,118 x 90 / 2,938 = 64.88
    assert row(
        4,
        "as_of_date",
        "overdue_amount",
        "overdue_0_30",
        "overdue_31_60",
        "overdue_61_90",
        "overdue_90_plus",
        "dso_days",
    ) == (
        date(2024, 4, 30),
        D("2118.00"),
        D("1760.00"),
        D("358.00"),
        D("0.00"),
        D("0.00"),
        D("64.88"),
    )


def test_statement_tieout_and_unmatched_payments(engine):
    receivables_fixture(engine)
    run(engine)
    got = by("statement_no", rows(engine, "select * from mart_statement_tieout"))
    # ST1 (5 Feb) settles invoices up to 5 Feb: A 1,130 + B 678 = 1,808; deducted
    # 50 + 30 = 80; paid on them 1,130 + 320 = 1,450; gap 1,808 - 80 - 1,450 = 278.00
    st1 = got["ST1"]
    assert (
        st1["invoices_from"],
        st1["invoice_count"],
        st1["invoiced_gross"],
        st1["deducted_amount"],
        st1["paid_amount"],
        st1["gap_amount"],
    ) == (None, 2, D("1808.00"), D("80.00"), D("1450.00"), D("278.00"))
    # ST2 (31 Mar) settles 6 Feb .. 31 Mar: C 2,260; deducted 100; paid 500 -> 1,660.00
    st2 = got["ST2"]
    assert (
        st2["invoices_from"],
        st2["invoice_count"],
        st2["invoiced_gross"],
        st2["deducted_amount"],
        st2["paid_amount"],
        st2["gap_amount"],
    ) == (date(2024, 2, 6), 1, D("2260.00"), D("100.00"), D("500.00"), D("1660.00"))
    unmatched = rows(engine, "select payment_no, invoice_no, amount from mart_payment_unmatched")
    assert [tuple(r.values()) for r in unmatched] == [("P4", "INV-ZZ", D("99.00"))]
