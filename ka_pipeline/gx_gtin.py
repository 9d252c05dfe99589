"""A custom Great Expectations expectation: ``expect_column_values_to_be_valid_gtin13``.

Imported only by :mod:`ka_pipeline.validate` once Great Expectations itself is imported
(importing this module registers the expectation, so a suite's JSON can name it).
A value is expected to be 13 digits whose last digit is the GS1 check digit
(:func:`ka_pipeline.gtin.is_valid_gtin13`); missing values are left to the
``not_null`` expectation, as for every column map expectation.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.render import LegacyRendererType, RenderedStringTemplateContent
from great_expectations.render.renderer.renderer import renderer

from ka_pipeline.validate import valid_barcodes


class ColumnValuesValidGtin13(ColumnMapMetricProvider):
    """True where a value is a valid GTIN-13 (checked once per distinct value:
    :func:`ka_pipeline.validate.valid_barcodes`)."""

    condition_metric_name = "column_values.valid_gtin13"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:  # noqa: N805
        return column.isin(valid_barcodes(column))


class ExpectColumnValuesToBeValidGtin13(ColumnMapExpectation):
    """Expect each value to be a GTIN-13 barcode with a correct check digit."""

    map_metric = "column_values.valid_gtin13"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict[str, Any]] = {"tags": ["gtin", "barcode"]}

    @classmethod
    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    def _prescriptive_renderer(
        cls,
        configuration: Any = None,
        result: Any = None,
        runtime_configuration: dict | None = None,
        **kwargs: Any,
    ) -> list[RenderedStringTemplateContent]:
        """How Data Docs states the rule."""
        column = (configuration.kwargs if configuration else {}).get("column")
        styling = (runtime_configuration or {}).get("styling") or {}
        return [
            RenderedStringTemplateContent(
                content_block_type="string_template",
                string_template={
                    "template": "$column values must be GTIN-13 barcodes: 13 digits, the"
                    " last one the GS1 check digit.",
                    "params": {"column": column},
                    "styling": styling,
                },
            )
        ]
