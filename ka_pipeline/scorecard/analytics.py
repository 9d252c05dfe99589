"""Sell-out analytics sections, read from the issue-8 tables (names and columns fixed by
the analytics contract): below-floor prices, diversion risk, out-of-stock, phantom
inventory, promotion results and the account evaluation.

A table that is not in the warehouse (an older schema) gives ``None``: the mail says
there is no data to compute from, rather than "nothing to show".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ka_pipeline.scorecard.model import (
    AccountEval,
    Analytics,
    BelowFloor,
    DiversionRisk,
    OutOfStock,
    Phantom,
    PromoResult,
)
from ka_pipeline.scorecard.periods import Period

TABLES = (
    "mart_price_below_floor",
    "mart_diversion_risk",
    "mart_oos_day",
    "mart_phantom_inventory",
    "mart_promo_eval",
    "mart_account_eval",
)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def present_tables(conn: sa.Connection) -> set[str]:
    """Which of :data:`TABLES` exist in this warehouse."""
    rows = conn.execute(
        sa.text(
            "select table_name from information_schema.tables where table_name in :t"
        ).bindparams(sa.bindparam("t", expanding=True)),
        {"t": list(TABLES)},
    )
    return {r[0] for r in rows}


def below_floor(conn, chain: str, period: Period, names: dict[str, str]) -> list[BelowFloor]:
    """Store x item with sales below the floor (or below the promo price inside a
    promotion) in the period, by the money lost (Σ gap_amount), largest first."""
    rows = conn.execute(
        sa.text(
            "select store_code, barcode, count(distinct business_date), min(business_date),"
            " max(business_date), sum(units), min(unit_price), max(required_price),"
            " sum(gap_amount), max(case when promo_id is null then 0 else 1 end)"
            " from mart_price_below_floor where chain_code = :c"
            " and business_date >= :a and business_date <= :b"
            " group by store_code, barcode order by sum(gap_amount) desc, store_code, barcode"
        ),
        {"c": chain, "a": period.start, "b": period.end},
    )
    return [
        BelowFloor(
            chain, r[0], names.get(r[0]), r[1], int(r[2]), r[3], r[4], _dec(r[5]), _dec(r[6]),
            _dec(r[7]), _dec(r[8]), bool(r[9]),
        )
        for r in rows
    ]  # fmt: skip


def diversion(conn, chain: str, period: Period) -> list[DiversionRisk]:
    """Regions flagged at risk in the ISO weeks starting inside the period (the latest
    week of each item x region), widest price gap first."""
    rows = conn.execute(
        sa.text(
            "select barcode, iso_week, region, avg_unit_price, floor_price, price_gap,"
            " sellout_units_4w, shipped_units_4w, risk_reason from mart_diversion_risk d"
            " where chain_code = :c and at_risk and iso_week >= :a and iso_week <= :b"
            " and iso_week = (select max(iso_week) from mart_diversion_risk e"
            "   where e.chain_code = d.chain_code and e.barcode = d.barcode"
            "   and e.region = d.region and e.at_risk and e.iso_week >= :a and e.iso_week <= :b)"
            " order by price_gap desc nulls last, barcode, region"
        ),
        {"c": chain, "a": period.start, "b": period.end},
    )
    return [
        DiversionRisk(chain, r[0], r[1], r[2], _dec(r[3]), _dec(r[4]), _dec(r[5]), _dec(r[6]),
                      _dec(r[7]), r[8])
        for r in rows
    ]  # fmt: skip


def out_of_stock(conn, chain: str, period: Period, names: dict[str, str]) -> list[OutOfStock]:
    """Store x must-carry item out of stock on days of the period, by lost sales."""
    rows = conn.execute(
        sa.text(
            "select store_code, barcode, count(*), min(business_date), max(business_date),"
            " sum(lost_units), sum(lost_sales_amount) from mart_oos_day where chain_code = :c"
            " and business_date >= :a and business_date <= :b group by store_code, barcode"
            " order by sum(lost_sales_amount) desc, count(*) desc, store_code, barcode"
        ),
        {"c": chain, "a": period.start, "b": period.end},
    )
    return [
        OutOfStock(chain, r[0], names.get(r[0]), r[1], int(r[2]), r[3], r[4],
                   _dec(r[5]) or Decimal(0), _dec(r[6]) or Decimal("0.00"))
        for r in rows
    ]  # fmt: skip


def phantom(conn, chain: str, period: Period, names: dict[str, str]) -> list[Phantom]:
    """Runs overlapping the period, longest first."""
    rows = conn.execute(
        sa.text(
            "select store_code, barcode, run_start, run_end, zero_days, on_hand_units,"
            " trailing_daily_units from mart_phantom_inventory where chain_code = :c"
            " and run_end >= :a and run_start <= :b"
            " order by zero_days desc, store_code, barcode"
        ),
        {"c": chain, "a": period.start, "b": period.end},
    )
    return [
        Phantom(chain, r[0], names.get(r[0]), r[1], r[2], r[3], int(r[4]), _dec(r[5]), _dec(r[6]))
        for r in rows
    ]


def promos(conn, chain: str, period: Period) -> list[PromoResult]:
    """Promotions that ended inside the period, by end date."""
    rows = conn.execute(
        sa.text(
            "select promo_id, start_date, end_date, baseline_method, lift_units,"
            " incremental_gp, cost_amount, roi, execution_rate, participating_stores"
            " from mart_promo_eval where chain_code = :c and end_date >= :a and end_date <= :b"
            " order by end_date, promo_id"
        ),
        {"c": chain, "a": period.start, "b": period.end},
    )
    return [
        PromoResult(chain, r[0], r[1], r[2], r[3], _dec(r[4]), _dec(r[5]), _dec(r[6]),
                    _dec(r[7]), _dec(r[8]), None if r[9] is None else int(r[9]))
        for r in rows
    ]  # fmt: skip


def account(conn, chain: str, period_end: date) -> AccountEval | None:
    """The evaluation of the latest month starting on or before the period end."""
    row = conn.execute(
        sa.text(
            "select month, attractiveness_score, support_score, attractiveness_grade,"
            " support_grade, quadrant from mart_account_eval where chain_code = :c"
            " and month <= :d order by month desc limit 1"
        ),
        {"c": chain, "d": period_end},
    ).first()
    if row is None:
        return None
    return AccountEval(row[0], _dec(row[1]), _dec(row[2]), row[3], row[4], row[5])


def read(
    conn: sa.Connection, chain: str, period: Period, names: dict[str, str], tables: set[str]
) -> Analytics:
    def has(table: str) -> bool:
        return table in tables

    return Analytics(
        below_floor=below_floor(conn, chain, period, names)
        if has("mart_price_below_floor")
        else None,
        diversion=diversion(conn, chain, period) if has("mart_diversion_risk") else None,
        out_of_stock=out_of_stock(conn, chain, period, names) if has("mart_oos_day") else None,
        phantom=phantom(conn, chain, period, names) if has("mart_phantom_inventory") else None,
        promos=promos(conn, chain, period) if has("mart_promo_eval") else None,
        account=account(conn, chain, period.end) if has("mart_account_eval") else None,
        account_known=has("mart_account_eval"),
    )
