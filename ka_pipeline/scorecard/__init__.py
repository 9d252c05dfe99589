"""Scorecards: one mail per account owner and period (ISO week or month), covering only
that owner's chains, and one team roll-up per manager.

The package is the stage between the marts and delivery, in three steps:

* :mod:`.queries` (and :mod:`.analytics`) read the warehouse (``ref_``, ``mart_``,
  ``ops_`` tables only, never the configuration) into the dataclasses of :mod:`.model`;
* :mod:`.render` turns a card into a :class:`ka_pipeline.delivery.RenderedMail`
  (subject, HTML, plain text, :mod:`.charts`, the :mod:`.xlsx` attachment), with the
  words and number formats of :mod:`.catalogue`;
* :mod:`ka_pipeline.delivery` writes and sends it; :mod:`ka_pipeline.release` decides
  which periods and versions are due. The rules chosen where domain.md is silent are
  in docs/scorecard.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use (PEP 562), so that finding nothing due (a re-run, most nights)
# costs no jinja2 or Pillow import: each public name and the submodule it lives in.
_LAZY = {
    **dict.fromkeys(("T", "compress_dates", "fmt_money", "fmt_pct", "strings"), "catalogue"),
    **dict.fromkeys(("text_sparkline", "trend_png"), "charts"),
    **dict.fromkeys(
        ("FIGURES", "ChainCard", "FigureChange", "Scorecard", "figure_changes", "figures"),
        "model",
    ),
    **dict.fromkeys(("CLI_KINDS", "Period", "last_ended", "period_of"), "periods"),
    **dict.fromkeys(("build_rollups", "build_scorecards", "team_code"), "queries"),
    **dict.fromkeys(("actions", "attachment_name", "render"), "render"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
    # every name of that module at once; this also puts the function render back where
    # importing the submodule of the same name bound the module
    for public, home in _LAZY.items():
        if home == _LAZY[name]:
            globals()[public] = getattr(module, public)
    return globals()[name]


__all__ = [
    "CLI_KINDS",
    "FIGURES",
    "ChainCard",
    "FigureChange",
    "Period",
    "Scorecard",
    "T",
    "actions",
    "attachment_name",
    "build_rollups",
    "build_scorecards",
    "compress_dates",
    "figure_changes",
    "figures",
    "fmt_money",
    "fmt_pct",
    "last_ended",
    "period_of",
    "render",
    "strings",
    "team_code",
    "text_sparkline",
    "trend_png",
]
