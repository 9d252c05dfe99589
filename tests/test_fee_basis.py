"""Fees checked against their contract basis (domain.md section 6), on DuckDB and PostgreSQL.

One hand-made fixture: a contract year that is not a calendar year (1 Apr 2024 ..
31 Mar 2025), fee amounts quoted without VAT (service VAT 6 %), and lines for every basis.
Each expected value is computed by hand beside it. Rules: docs/models.md (fees by basis).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from tests.test_models import (
    CHAIN,
    I1,
    I2,
    by,
    chain,
    contract,
    deduction,
    insert,
    invoice,
    rows,
    run,
    sale,
    store,
)

YEAR_START, YEAR_END = date(2024, 4, 1), date(2025, 3, 31)
ST_A, ST_B, ST_C, ST_D = date(2024, 7, 5), date(2024, 8, 5), date(2024, 10, 10), date(2025, 3, 5)
JUNE = {"period_start": date(2024, 6, 1), "period_end": date(2024, 6, 30)}
JULY = {"period_start": date(2024, 7, 1), "period_end": date(2024, 7, 31)}


def fee(kind: str, basis: str, amount: str | None, **extra) -> dict:
    row = {
        "chain_code": CHAIN,
        "contract_year": 2024,
        "fee_type": kind,
        "basis": basis,
        "amount": None if amount is None else D(amount),
    }
    row.update(extra)
    return row


def product(barcode: str, supply: str) -> dict:
    return {
        "barcode": barcode,
        "name": barcode,
        "brand": "B",
        "category": "C",
        "unit_cost": D("5.00"),
        "supply_price": D(supply),
        "std_retail_price": D("12.00"),
        "floor_price": D("10.00"),
    }


def fee_fixture(engine) -> None:
    insert(engine, "ref_chain", [chain(window=30)])
    insert(
        engine,
        "ref_store",
        [
            store("S1", "A", date(2020, 1, 1), date(2025, 1, 1)),
            store("S2", "B", date(2024, 6, 1), date(2025, 1, 1)),  # opened in the year
            store("S3", "C", date(2020, 1, 1), date(2024, 5, 1)),  # closed before June
        ],
    )
    insert(
        engine,
        "ref_listing",
        [
            {"chain_code": CHAIN, "barcode": I1, "listed_from": date(2021, 1, 1)},
            {"chain_code": CHAIN, "barcode": I2, "listed_from": date(2024, 5, 10)},
        ],
    )
    insert(engine, "ref_product", [product(I1, "8.00"), product(I2, "8.00")])
    insert(
        engine,
        "ref_contract",
        [
            {
                **contract(2024),
                "start_date": YEAR_START,
                "end_date": YEAR_END,
                "margin_guarantee_pct": D("0.2500"),
                "sales_vat_rate": D("0.1300"),
            }
        ],
    )
    insert(
        engine,
        "ref_contract_fee",
        [
            fee("dm_fee", "per_month", "1000.00"),
            fee("display_fee", "per_store_month", "500.00"),
            fee("barcode_fee", "per_item", "2000.00"),
            fee("listing_fee", "per_store", "3000.00"),
            fee("festival_fee", "per_event", "800.00", max_events=2),
            fee("data_fee", "pct_of_base", None, rate=D("0.0700"), pct_base="sell_in_net"),
            fee("anniversary_fee", "per_year", "1500.00", max_events=2),
            fee("stockout_penalty", "per_event", "100.00"),
        ],
    )
    insert(
        engine,
        "raw_invoices",
        [invoice(date(2024, 6, 10), "10000.00"), invoice(date(2024, 7, 3), "5000.00")],
    )
    insert(
        engine,
        "raw_sales",
        [
            {**sale(date(2024, 7, 1), "S1", I1, 10, "113.00"), "on_hand_units": 5},
            {**sale(date(2024, 7, 2), "S1", I1, 0, "0.00"), "on_hand_units": 3},
            {**sale(date(2024, 7, 1), "S1", I2, 0, "0.00"), "on_hand_units": 0},
        ],
    )

    def a(no, kind, amount, **extra):
        return deduction(no, ST_A, kind, amount, statement="ST-A", **extra)

    def b(no, kind, amount, **extra):
        return deduction(no, ST_B, kind, amount, statement="ST-B", **extra)

    insert(
        engine,
        "raw_deductions",
        [
            a("A1", "dm_fee", "600.00", reference="DM-JUN-1", **JUNE),
            b("B1", "dm_fee", "600.00", reference="DM-JUN-2", **JUNE),
            a(
                "A2",
                "dm_fee",
                "1060.00",
                reference="DM-MAY",
                period_start=date(2024, 5, 1),
                period_end=date(2024, 5, 31),
            ),
            a("A3", "display_fee", "1060.00", **JUNE),
            deduction(
                "D2",
                ST_D,
                "display_fee",
                "530.00",
                statement="ST-D",
                period_start=date(2025, 2, 1),
                period_end=date(2025, 2, 28),
            ),
            a("A5", "barcode_fee", "2120.00", barcode=I1),
            a("A6", "barcode_fee", "2120.00", barcode=I2),
            a("A7", "listing_fee", "3180.00", store_code="S1"),
            a("A8", "listing_fee", "3180.00", store_code="S2"),
            a("A9", "festival_fee", "848.00", reference="DRAGONBOAT"),
            b("B2", "festival_fee", "848.00", reference="MIDAUTUMN"),
            deduction(
                "C1", ST_C, "festival_fee", "848.00", statement="ST-C", reference="NATIONALDAY"
            ),
            b("B3", "data_fee", "800.00", **JUNE),
            a("A10", "anniversary_fee", "2000.00", store_code="S1"),
            deduction(
                "D1",
                ST_D,
                "anniversary_fee",
                "1500.00",
                statement="ST-D",
                period_start=date(2025, 3, 1),
                period_end=date(2025, 3, 31),
            ),
            b("B4", "margin_guarantee", "8.00", **JULY),
            # one stockout event (same reference) charged for two store x items
            b(
                "B5",
                "stockout_penalty",
                "106.00",
                store_code="S1",
                barcode=I1,
                reference="SO",
                **JULY,
            ),
            b(
                "B6",
                "stockout_penalty",
                "106.00",
                store_code="S1",
                barcode=I2,
                reference="SO",
                **JULY,
            ),
            deduction("C2", ST_C, "complaint_claim", "300.00", statement="ST-C"),
        ],
    )


def test_fees_by_basis_with_vat(engine):
    fee_fixture(engine)
    run(engine)
    got = by("deduction_no", rows(engine, "select * from mart_deduction_check"))

    def check(no, status, expected, disputable):
        r = got[no]
        assert (r["status"], r["expected_amount"], r["disputable_amount"]) == (
            status,
            D(expected),
            D(disputable),
        ), (no, r["evidence"])
        return r["evidence"]

    # per_month 1,000.00 excl. VAT -> 1,000 x 1.06 = 1,060.00 per month charged.
    # June is charged on two lines with different references on two statements:
    # 600 (ST-A, first) fits; 600 (ST-B, latest) gets 1,060 - 600 = 460, excess 140.
    check("A1", "valid", "600.00", "0.00")
    evidence = check("B1", "over_contract", "460.00", "140.00")
    assert evidence == (
        "contract 2024 dm_fee per_month, group month 2024-06: allowance 1060.00"
        " (1000.00 per month, excl. VAT, x 1.0600 VAT); group charged 1200.00 on ST-A/A1,"
        " ST-B/B1; this line allowed 460.00, charged 600.00"
    )
    # May: 1,060.00 charged = the allowance exactly -> valid
    check("A2", "valid", "1060.00", "0.00")
    # per_store_month 500 excl. VAT, one line for all stores in June: S1 and S2 (opened
    # 1 Jun) are open, S3 closed 1 May -> 2 x 500 x 1.06 = 1,060.00, hit exactly
    check("A3", "valid", "1060.00", "0.00")
    # February 2025: S1 and S2 closed 1 Jan 2025, S3 in May -> no open store, allowance 0
    evidence = check("D2", "over_contract", "0.00", "530.00")
    assert "0 store(s) open that month" in evidence
    # barcode fee per item 2,000 -> 2,120.00, only for items first listed in the year:
    # I1 first listed 2021 -> 0; I2 first listed 10 May 2024 -> 2,120.00
    check("A5", "over_contract", "0.00", "2120.00")
    check("A6", "valid", "2120.00", "0.00")
    # listing fee per store 3,000 -> 3,180.00, only stores opened in the contract year:
    # S1 opened 2020 -> 0; S2 opened 1 Jun 2024 -> 3,180.00
    check("A7", "over_contract", "0.00", "3180.00")
    check("A8", "valid", "3180.00", "0.00")
    # per_event 800 -> 848.00 per event, at most 2 events: 3 charged (3 references)
    # -> allowance 2 x 848 = 1,696.00; the latest (ST-C) is the excess
    check("A9", "valid", "848.00", "0.00")
    check("B2", "valid", "848.00", "0.00")
    evidence = check("C1", "over_contract", "0.00", "848.00")
    assert "800.00 x 2 event(s) (3 charged, at most 2)" in evidence
    # pct_of_base 7 % of June's sell-in net 10,000.00 = 700.00 -> x 1.06 = 742.00;
    # charged 800.00 -> 58.00 disputable
    evidence = check("B3", "over_contract", "742.00", "58.00")
    assert "0.0700 x sell-in net 10000.00" in evidence
    # per_year 1,500 x max_events 2 = 3,000 -> 3,180.00 for the contract year
    # 1 Apr 2024 .. 31 Mar 2025: 2,000 (Jul) + 1,500 (Mar 2025) = 3,500; the March line
    # is the latest: allowed 3,180 - 2,000 = 1,180, disputable 320
    check("A10", "valid", "2000.00", "0.00")
    check("D1", "over_contract", "1180.00", "320.00")
    # margin guarantee 25 %: July R = 113.00 / 1.13 = 100.00, C = 10 x 8.00 = 80.00;
    # claimable = max(0, 0.25 x 100 - (100 - 80)) = 5.00; charged 8.00 -> 3.00
    evidence = check("B4", "over_contract", "5.00", "3.00")
    assert "sell-out excl. VAT 100.00" in evidence and "supply cost 80.00" in evidence
    # stockout penalty S1 x I1: on-hand sent on 1 and 2 July (5, 3), never 0 -> no_evidence
    evidence = check("B5", "no_evidence", "0.00", "106.00")
    assert "on_hand_units sent on 2 day(s)" in evidence
    # S1 x I2 had on-hand 0 on 1 July: checked as a fee, 100 x 1.06 = 106.00 per event;
    # B5 (no evidence) neither counts as an event nor uses up the event's allowance
    check("B6", "valid", "106.00", "0.00")
    # a type the contract does not list: all of it
    check("C2", "no_contract_basis", "0.00", "300.00")
