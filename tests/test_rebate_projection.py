"""Rebate progress per day with the projection to year end and the per-tier breakdown
(domain.md section 5), on DuckDB and PostgreSQL. Rules: docs/models.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from tests.test_models import I1, by, chain, contract, insert, invoice, rows, run, sale, tier


def test_seasonal_projection_on_a_contract_year_from_april(engine):
    insert(engine, "ref_chain", [chain()])
    insert(
        engine,
        "ref_contract",
        [{**contract(2025), "start_date": date(2025, 4, 1), "end_date": date(2026, 3, 31)}],
    )
    insert(
        engine,
        "ref_rebate_tier",
        [tier(2025, 1, "1000.00", "0.0100"), tier(2025, 2, "2000.00", "0.0200")],
    )
    insert(
        engine,
        "raw_invoices",
        [
            # last year, 1 Apr 2024 .. 31 Mar 2025: 100 + 200 + 1,200 = 1,500
            invoice(date(2024, 4, 1), "100.00"),
            invoice(date(2024, 4, 5), "200.00"),
            invoice(date(2024, 10, 1), "1200.00"),
            # this contract year
            invoice(date(2025, 4, 1), "150.00"),
            invoice(date(2025, 4, 3), "60.00"),
            invoice(date(2025, 4, 4), "900.00"),
        ],
    )
    insert(engine, "raw_sales", [sale(date(2025, 4, 5), "S1", I1, 1, "10.00")])  # last data
    run(engine)
    got = by(
        "as_of_date",
        rows(engine, "select * from mart_rebate_progress where contract_year = 2025"),
    )
    assert sorted(got) == [date(2025, 4, d) for d in range(1, 6)]

    def proj(day):
        r = got[date(2025, 4, day)]
        return (
            r["elapsed_days"],
            r["contract_days"],
            r["projection_method"],
            r["ly_base_same_days"],
            r["projected_base"],
            r["projected_tier_no"],
            r["projected_rebate"],
        )

    # day 1: base 150; last year's first day 100, whole year 1,500 (data since 1 Apr
    # 2024 covers it): seasonal 150 x 1,500 / 100 = 2,250 -> tier 2, 2 % x 2,250 = 45.00
    assert proj(1) == (1, 365, "seasonal", D("100.00"), D("2250.00"), 2, D("45.00"))
    # 3 Apr: base 210, LY 1-3 Apr 100 -> 210 x 15 = 3,150 -> 63.00
    assert proj(3) == (3, 365, "seasonal", D("100.00"), D("3150.00"), 2, D("63.00"))
    # 5 Apr: base 1,110, LY 1-5 Apr 300 -> 1,110 x 1,500 / 300 = 5,550 -> 111.00
    assert proj(5) == (5, 365, "seasonal", D("300.00"), D("5550.00"), 2, D("111.00"))
    last = got[date(2025, 4, 5)]
    assert last["ly_base_full_year"] == D("1500.00")
    # earned: 1,110 >= 1,000 -> tier 1, 1 % on the whole base = 11.10; gap to 2,000 = 890
    assert (last["tier_no_reached"], last["rebate_earned"], last["gap_to_next_tier"]) == (
        1,
        D("11.10"),
        D("890.00"),
    )
    breakdown = rows(
        engine,
        "select tier_no, band_from, band_to, rate_applied, base_in_band, amount"
        " from mart_rebate_tier_breakdown where contract_year = 2025 and as_of_date = :d"
        " order by tier_no",
        d=date(2025, 4, 5),
    )
    # retroactive: the rate reached (1 %) on every band: 1,000 x 1 % + 110 x 1 % = 11.10
    assert [tuple(r.values()) for r in breakdown] == [
        (0, D("0.00"), D("1000.00"), D("0.0100"), D("1000.00"), D("10.00")),
        (1, D("1000.00"), D("2000.00"), D("0.0100"), D("110.00"), D("1.10")),
        (2, D("2000.00"), None, D("0.0100"), D("0.00"), D("0.00")),
    ]


def test_run_rate_projection_gross_base_stepped(engine):
    insert(engine, "ref_chain", [chain()])
    insert(engine, "ref_contract", [contract(2024, "sell_in_gross", "stepped")])
    insert(
        engine,
        "ref_rebate_tier",
        [tier(2024, 1, "100.00", "0.0100"), tier(2024, 2, "1000.00", "0.0200")],
    )
    day1, day2 = date(2024, 1, 1), date(2024, 1, 2)
    insert(
        engine,
        "raw_invoices",
        [
            {**invoice(day1, "100.00"), "vat_amount": D("13.00")},  # gross 113.00
            {**invoice(day2, "1000.00"), "vat_amount": D("130.00")},  # gross 1,130.00
        ],
    )
    run(engine)
    got = by("as_of_date", rows(engine, "select * from mart_rebate_progress"))
    first = got[day1]
    # day 1, no last year: run rate 113 / 1 day x 366 days (2024) = 41,358.00;
    # stepped: 900 x 1 % + (41,358 - 1,000) x 2 % = 9 + 807.16 = 816.16
    assert (
        first["eligible_base_ytd"],
        first["projection_method"],
        first["projected_base"],
        first["projected_rebate"],
        first["ly_base_same_days"],
    ) == (D("113.00"), "run_rate", D("41358.00"), D("816.16"), None)
    # earned on day 1: (113 - 100) x 1 % = 0.13
    assert first["rebate_earned"] == D("0.13")
    second = got[day2]
    # base 1,243: run rate 1,243 x 366 / 2 = 227,469.00 -> 9 + 226,469 x 2 % = 4,538.38
    assert (second["projected_base"], second["projected_rebate"]) == (
        D("227469.00"),
        D("4538.38"),
    )
    # earned: 900 x 1 % + 243 x 2 % = 9 + 4.86 = 13.86
    assert second["rebate_earned"] == D("13.86")
    breakdown = rows(
        engine,
        "select tier_no, rate_applied, base_in_band, amount from mart_rebate_tier_breakdown"
        " where as_of_date = :d order by tier_no",
        d=day2,
    )
    assert [tuple(r.values()) for r in breakdown] == [
        (0, D("0.0000"), D("100.00"), D("0.00")),
        (1, D("0.0100"), D("900.00"), D("9.00")),
        (2, D("0.0200"), D("243.00"), D("4.86")),
    ]
