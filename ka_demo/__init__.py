"""The demo data set: a realistic, deterministic set of master data and feed files for
three chains, with planted cases in known places (docs/demo.md).

A package of its own, outside the pipeline's modules: it only uses the pipeline's config
declarations (layouts, master-data columns) to write what a chain would send.

- :mod:`ka_demo.master`: chains, owners, stores, products, listings, promotions, layouts;
- :mod:`ka_demo.sales`, :mod:`ka_demo.invoices`, :mod:`ka_demo.deductions`,
  :mod:`ka_demo.payments`: one module per feed;
- :mod:`ka_demo.plants`: the planted cases, from explicit values, and their manifest;
- :mod:`ka_demo.writer`: CSV/XLSX files with headers from the generated chains.yaml;
- :mod:`ka_demo.generator`: :func:`generate`, which runs them in order.

Guarantees: the same seed and range give byte-identical files; money is integer cents
written with 2 decimals; any range of a few weeks up to several years can be built.
"""

from ka_demo.generator import generate
from ka_demo.summary import DemoSummary

__all__ = ["DemoSummary", "generate"]
