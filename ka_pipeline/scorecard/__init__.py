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

from ka_pipeline.scorecard.catalogue import (
    T,
    compress_dates,
    fmt_money,
    fmt_pct,
    strings,
)
from ka_pipeline.scorecard.charts import text_sparkline, trend_png
from ka_pipeline.scorecard.model import (
    FIGURES,
    ChainCard,
    FigureChange,
    Scorecard,
    figure_changes,
    figures,
)
from ka_pipeline.scorecard.periods import CLI_KINDS, Period, last_ended, period_of
from ka_pipeline.scorecard.queries import build_rollups, build_scorecards, team_code
from ka_pipeline.scorecard.render import actions, attachment_name, render

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
