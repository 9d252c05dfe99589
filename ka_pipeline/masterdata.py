"""Publish the master data of a config folder to the ``ref_`` tables.

Guarantee: all ``ref_`` tables are replaced together in one transaction, so the
warehouse always holds one consistent version of the master data, and loading the same
config twice leaves the tables identical.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import sqlalchemy as sa

from ka_pipeline.config import MASTER_COLUMNS, Config
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
)


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
                "owner_code": c.owner,
            }
            for c in config.chains.values()
        ]
    )
    contracts, tiers, fees = [], [], []
    for c in config.contracts:
        rebate = c.get("rebate") or {}
        contracts.append(
            {
                "chain_code": c["chain"],
                "contract_year": int(c["year"]),
                "start_date": str(c["start"]),
                "end_date": str(c["end"]),
                "rebate_base": rebate.get("base", "sell_in"),
                "rebate_method": rebate.get("method", "retroactive"),
                "rebate_promo_excluded": bool(rebate.get("promo_excluded", True)),
                "margin_guarantee_pct": c.get("margin_guarantee_pct"),
            }
        )
        for i, tier in enumerate(rebate.get("tiers") or [], 1):
            tiers.append(
                {
                    "chain_code": c["chain"],
                    "contract_year": int(c["year"]),
                    "tier_no": i,
                    "threshold": str(Decimal(str(tier["threshold"]))),
                    "rate": str(Decimal(str(tier["rate"]))),
                }
            )
        for fee in c.get("fees") or []:
            fees.append(
                {
                    "chain_code": c["chain"],
                    "contract_year": int(c["year"]),
                    "fee_type": fee["type"],
                    "basis": fee["basis"],
                    "amount": str(Decimal(str(fee["amount"]))),
                }
            )
    return {
        "ref_owner": owners,
        "ref_chain": chains,
        "ref_store": config.stores[[*MASTER_COLUMNS["stores"], "store_class"]],
        "ref_product": config.products[list(MASTER_COLUMNS["products"])],
        "ref_listing": config.listings[list(MASTER_COLUMNS["listings"])],
        "ref_promotion": config.promotions[list(MASTER_COLUMNS["promotions"])],
        "ref_contract": pd.DataFrame(contracts),
        "ref_rebate_tier": pd.DataFrame(tiers),
        "ref_contract_fee": pd.DataFrame(fees),
        "ref_target": config.targets[list(MASTER_COLUMNS["targets"])],
    }


def publish_master_data(engine: sa.Engine, config: Config) -> dict[str, int]:
    """Replace every ref_ table with the config's master data; return rows per table."""
    frames = _frames(config)
    counts = {}
    with engine.begin() as conn:
        xact_lock(conn, "master-data")  # two runs at once: one replaces, then the other
        for table in REF_TABLES:
            conn.execute(sa.text(f"delete from {table}"))
            counts[table] = bulk_insert(conn, table, frames[table])
    return counts
