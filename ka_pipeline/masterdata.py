"""Publish the master data of a config folder to the ``ref_`` tables.

Guarantees: all ``ref_`` tables are replaced together in one transaction, so the
warehouse always holds one consistent version of the master data, and loading the same
config twice leaves the tables identical. A config whose master data is what was last
published (same checksum of every table's columns and rows, recorded in
``ops_master_data``) and whose ``ref_`` tables still hold the row counts published then
is not written again: a nightly run with an unchanged config spends one query here, not
a delete and insert of every table. (The ``ref_`` tables are the config's: edit the
config, not the tables.)
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa

from ka_pipeline.config import MASTER_COLUMNS, MASTER_OPTIONAL_COLUMNS, Config
from ka_pipeline.config.analytics import criterion_rows, setting_rows
from ka_pipeline.load import bulk_insert
from ka_pipeline.locks import xact_lock

REF_TABLES = (
    "ref_owner",
    "ref_chain",
    "ref_store",
    "ref_product",
    "ref_listing",
    "ref_promotion",
    "ref_contract",
    "ref_rebate_tier",
    "ref_contract_fee",
    "ref_target",
    "ref_account_criterion",
    "ref_analytics_setting",
)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _frames(config: Config) -> dict[str, pd.DataFrame]:
    owners = pd.DataFrame(
        [
            {
                "owner_code": o.code,
                "name": o.name,
                "email": o.email,
                "locale": o.locale,
                "manager_email": o.manager_email,
            }
            for o in config.owners.values()
        ]
    )
    chains = pd.DataFrame(
        [
            {
                "chain_code": c.code,
                "name": c.name,
                "name_local": c.name_local,
                "format": c.format,
                "region": c.region,
                "settlement_mode": c.settlement_mode,
                "payment_terms_days": c.payment_terms_days,
                "dispute_window_days": c.dispute_window_days,
                "dispute_from": c.dispute_from,
                "owner_code": c.owner,
            }
            for c in config.chains.values()
        ]
    )
    contracts, tiers, fees = [], [], []
    for c in config.contract_terms:
        contracts.append(
            {
                "chain_code": c.chain,
                "contract_year": c.year,
                "start_date": c.start.isoformat(),
                "end_date": c.end.isoformat(),
                "rebate_base": c.rebate.base,
                "rebate_method": c.rebate.method,
                "rebate_promo_excluded": c.rebate.promo_excluded,
                "margin_guarantee_pct": _text(c.margin_guarantee_pct),
                "fee_amounts": c.fee_amounts,
                "vat_rate": str(c.vat_rate),
                "sales_vat_rate": str(c.sales_vat_rate),
            }
        )
        for i, tier in enumerate(sorted(c.rebate.tiers, key=lambda t: t.threshold), 1):
            tiers.append(
                {
                    "chain_code": c.chain,
                    "contract_year": c.year,
                    "tier_no": i,
                    "threshold": str(tier.threshold),
                    "rate": str(tier.rate),
                }
            )
        for fee in c.fees:
            fees.append(
                {
                    "chain_code": c.chain,
                    "contract_year": c.year,
                    "fee_type": fee.type,
                    "basis": fee.basis,
                    "amount": _text(fee.amount),
                    "rate": _text(fee.rate),
                    "pct_base": fee.base or ("sell_in_net" if fee.rate is not None else None),
                    "max_events": None if fee.max_events is None else str(fee.max_events),
                }
            )
    return {
        "ref_owner": owners,
        "ref_chain": chains,
        "ref_store": _stores(config.stores),
        "ref_product": config.products[list(MASTER_COLUMNS["products"])],
        # store_classes is optional in listings.csv (absent: must-carry in every store)
        "ref_listing": config.listings[
            [*MASTER_COLUMNS["listings"], *MASTER_OPTIONAL_COLUMNS["listings"]]
        ],
        "ref_promotion": config.promotions[list(MASTER_COLUMNS["promotions"])],
        "ref_contract": pd.DataFrame(contracts),
        "ref_rebate_tier": pd.DataFrame(tiers),
        "ref_contract_fee": pd.DataFrame(fees),
        "ref_target": config.targets[list(MASTER_COLUMNS["targets"])],
        "ref_account_criterion": pd.DataFrame(criterion_rows(config.analytics)),
        "ref_analytics_setting": pd.DataFrame(setting_rows(config.analytics)),
    }


def _stores(stores: pd.DataFrame) -> pd.DataFrame:
    """ref_store rows; ``name_en`` is optional in stores.csv (null where not given, also
    for a store frame built without the column)."""
    frame = stores.reindex(
        columns=[*MASTER_COLUMNS["stores"], *MASTER_OPTIONAL_COLUMNS["stores"], "store_class"]
    )
    return frame.astype({"name_en": object}).where(frame.notna(), None)


def checksum(frames: dict[str, pd.DataFrame]) -> str:
    """sha256 of the frames to publish: each table's name, columns, dtypes and rows."""
    digest = hashlib.sha256()
    for table in REF_TABLES:
        frame = frames[table]
        digest.update(f"{table}\0{list(frame.columns)}\0{list(map(str, frame.dtypes))}\0".encode())
        for row in frame.itertuples(index=False, name=None):
            digest.update(repr(row).encode() + b"\n")
    return digest.hexdigest()


def _published(conn: sa.Connection, digest: str) -> bool:
    """Whether the ref_ tables hold what was published with checksum ``digest``: the
    checksum recorded and every table's row count as published then."""
    recorded = conn.execute(sa.text("select checksum, row_counts from ops_master_data")).all()
    if len(recorded) != 1 or recorded[0][0] != digest:
        return False
    published = json.loads(recorded[0][1])
    counts = conn.execute(
        sa.text("select " + ", ".join(f"(select count(*) from {t})" for t in REF_TABLES))
    ).one()
    return published == dict(zip(REF_TABLES, map(int, counts), strict=True))


def publish_master_data(engine: sa.Engine, config: Config) -> dict[str, int]:
    """Replace every ref_ table with the config's master data; return rows per table
    (also when the tables already held it and nothing was written)."""
    frames = _frames(config)
    digest = checksum(frames)
    with engine.begin() as conn:
        xact_lock(conn, "master-data")  # two runs at once: one replaces, then the other
        if _published(conn, digest):
            return {table: len(frames[table]) for table in REF_TABLES}
        counts = {}
        for table in REF_TABLES:
            conn.execute(sa.text(f"delete from {table}"))
            counts[table] = bulk_insert(conn, table, frames[table])
        conn.execute(sa.text("delete from ops_master_data"))
        conn.execute(
            sa.text("insert into ops_master_data values (:c, :n, :t)"),
            {"c": digest, "n": json.dumps(counts, sort_keys=True), "t": datetime.now()},
        )
    return counts
