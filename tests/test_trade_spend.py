"""Trade spend per deduction type, per month and per contract year, and gross profit
after trade spend (domain.md section 4), on DuckDB and PostgreSQL. Rules: docs/models.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from tests.test_fee_basis import fee, product
from tests.test_models import I1, by, chain, contract, deduction, insert, invoice, rows, run

APRIL = {"period_start": date(2024, 4, 1), "period_end": date(2024, 4, 30)}


def test_trade_spend_by_type_and_contract_year(engine):
    insert(engine, "ref_chain", [chain()])
    insert(engine, "ref_product", [product(I1, "8.00")])  # unit cost 5.00
    insert(
        engine,
        "ref_contract",
        [
            {
                **contract(2024, fee_amounts="incl_vat"),
                "start_date": date(2024, 4, 1),
                "end_date": date(2025, 3, 31),
            }
        ],
    )
    insert(engine, "ref_contract_fee", [fee("dm_fee", "per_month", "1000.00")])
    insert(
        engine,
        "raw_invoices",
        [
            {**invoice(date(2024, 3, 15), "40.00"), "units": 1},  # before the contract year
            {**invoice(date(2024, 4, 10), "100.00"), "units": 10},  # cost 10 x 5 = 50
            {**invoice(date(2024, 5, 3), "300.00"), "units": 20},  # cost 20 x 5 = 100
        ],
    )
    insert(
        engine,
        "raw_deductions",
        [
            deduction("D1", date(2024, 4, 20), "dm_fee", "800.00", **APRIL),  # valid
            deduction("D2", date(2024, 4, 25), "unclassified", "50.00", text="杂项"),
            # a rebate with no tiers: earned 0, all 30.00 disputable; not trade spend
            deduction("D3", date(2024, 5, 5), "rebate", "30.00", **APRIL),
            deduction("D4", date(2024, 5, 6), "data_fee", "70.00"),  # no contract basis
            # charged in April for March 2024: before the contract year (outside_period)
            deduction(
                "D5",
                date(2024, 4, 2),
                "display_fee",
                "20.00",
                period_start=date(2024, 3, 1),
                period_end=date(2024, 3, 31),
            ),
        ],
    )
    run(engine)
    month = [
        tuple(r.values())
        for r in rows(
            engine,
            "select month, deduction_type, lines, amount, disputable, is_trade_spend"
            " from mart_trade_spend_type_month order by month, deduction_type",
        )
    ]
    apr, may = date(2024, 4, 1), date(2024, 5, 1)
    assert month == [
        (apr, "display_fee", 1, D("20.00"), D("20.00"), True),
        (apr, "dm_fee", 1, D("800.00"), D("0.00"), True),
        (apr, "unclassified", 1, D("50.00"), D("0.00"), True),
        (may, "data_fee", 1, D("70.00"), D("70.00"), True),
        (may, "rebate", 1, D("30.00"), D("30.00"), False),
    ]
    chain_month = by(
        "month",
        rows(
            engine,
            "select month, sell_in_net, cost_of_goods, trade_spend,"
            " gross_profit_after_trade_spend from mart_chain_month",
        ),
    )
    # March: 40 - 1 x 5 - 0 = 35; April: 100 - 50 - (800 + 50 + 20) = -820;
    # May: 300 - 100 - 70 = 130 (the rebate is not trade spend)
    assert [tuple(chain_month[m].values())[1:] for m in (date(2024, 3, 1), apr, may)] == [
        (D("40.00"), D("5.00"), D("0.00"), D("35.00")),
        (D("100.00"), D("50.00"), D("870.00"), D("-820.00")),
        (D("300.00"), D("100.00"), D("70.00"), D("130.00")),
    ]
    year = [
        tuple(r.values())
        for r in rows(
            engine,
            "select deduction_type, lines, amount, disputable, is_trade_spend"
            " from mart_trade_spend_type_year where contract_year = 2024 order by deduction_type",
        )
    ]
    # D5 charges March 2024, outside every contract year: not in the year's spend
    assert year == [
        ("data_fee", 1, D("70.00"), D("70.00"), True),
        ("dm_fee", 1, D("800.00"), D("0.00"), True),
        ("rebate", 1, D("30.00"), D("30.00"), False),
        ("unclassified", 1, D("50.00"), D("0.00"), True),
    ]
    (pnl,) = rows(engine, "select * from mart_contract_year_pnl")
    # contract year 1 Apr 2024 .. 31 Mar 2025: sell-in 100 + 300 = 400, cost 150;
    # trade spend 70 + 800 + 50 = 920, rate 920 / 400 = 2.3; GP 400 - 150 - 920 = -670;
    # disputable 70 + 30 = 100
    assert (
        pnl["sell_in_net"],
        pnl["cost_of_goods"],
        pnl["trade_spend"],
        pnl["trade_spend_rate"],
        pnl["rebate_taken"],
        pnl["disputable"],
        pnl["gross_profit_after_trade_spend"],
    ) == (
        D("400.00"),
        D("150.00"),
        D("920.00"),
        D("2.300000"),
        D("30.00"),
        D("100.00"),
        D("-670.00"),
    )
