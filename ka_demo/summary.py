"""The manifest of a generation (``home/demo_manifest.json``): counts and planted cases."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass
class DemoSummary:
    """What :func:`ka_demo.generate` wrote; also saved as ``home/demo_manifest.json``.

    ``planted`` lists every planted case with ``kind``, ``chain`` and the keys to find it;
    the sell-out cases carry ``expect``: the warehouse table and the key columns of each
    row that must show up there (``tests/demo_plants_check.py`` reads them).
    """

    seed: int
    start: date
    end: date
    chains: int = 0
    owners: int = 0
    stores: int = 0
    products: int = 0
    promotions: int = 0
    files: dict[str, int] = field(default_factory=dict)  # feed -> files
    rows: dict[str, int] = field(default_factory=dict)  # feed -> data rows
    by_chain: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    planted: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"

    def describe(self) -> str:
        """A few lines for the console."""
        kinds: dict[str, int] = {}
        for entry in self.planted:
            kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
        lines = [
            f"demo data {self.start} .. {self.end} (seed {self.seed}): {self.chains} chains, "
            f"{self.stores} stores, {self.products} products, {self.promotions} promotions, "
            f"{self.owners} owners"
        ]
        for feed in self.files:
            lines.append(f"  {feed:<10} {self.files[feed]:>6} files {self.rows[feed]:>9,} rows")
        lines.append(
            "  planted: "
            + ", ".join(f"{kind} x{n}" for kind, n in kinds.items())
            + " (see demo_manifest.json)"
        )
        return "\n".join(lines)

    def planted_of(self, kind: str) -> list[dict[str, Any]]:
        return [p for p in self.planted if p["kind"] == kind]

    def plant(self, **entry: Any) -> None:
        self.planted.append(entry)

    def count(self, chain: str, feed: str, files: int, rows: int) -> None:
        per = self.by_chain.setdefault(chain, {}).setdefault(feed, {"files": 0, "rows": 0})
        per["files"] += files
        per["rows"] += rows
        self.files[feed] = self.files.get(feed, 0) + files
        self.rows[feed] = self.rows.get(feed, 0) + rows
