"""One declaration per feed: its columns, their types, its raw table, keys and suite.

Parse (which headers to pick, how to normalise each value), validate (which suite,
which flags, which keys) and load (which table, which columns in which order) all read
the :data:`FEEDS` entry of a feed; nothing about a feed's shape is written anywhere
else. The row checks themselves are the feed's Great Expectations suite
(``expectations/<feed>.json``, :attr:`Feed.suite`), which is data reviewers read.

Guarantee: every column a feed declares is canonical (domain.md section 3) and typed
exactly once: a date (ISO ``YYYY-MM-DD`` after normalising), money (``-1234.50``), a
whole number (``-12``) or text (codes whose leading zeros matter stay text).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Feed:
    """The shape of one feed, as parse, validate and load read it."""

    name: str
    required: tuple[str, ...]  # a file without one of these headers is rejected
    optional: tuple[str, ...]  # absent -> missing values
    dates: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    # Unique within one file (the suite's compound-uniqueness check, per file).
    file_key: tuple[str, ...] = ()
    # Unique per chain across partitions: a key that holds no business date (an invoice
    # line already loaded for another date is a duplicate). Empty: none.
    chain_key: tuple[str, ...] = ()
    # Columns computed while normalising, written to the raw table after the canonical
    # ones: canonical name -> the column it is derived from.
    derived: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        """The canonical columns, required first."""
        return self.required + self.optional

    @property
    def raw_table(self) -> str:
        return f"raw_{self.name}"

    @property
    def suite(self) -> str:
        """The suite's file name in ``expectations/``."""
        return f"{self.name}.json"

    def raw_columns(self) -> list[str]:
        """The raw table's columns in insert order (canonical + derived + bookkeeping)."""
        columns = ["chain_code", "business_date", *self.columns, *self.derived, "load_id"]
        return list(dict.fromkeys(columns))  # sales carries business_date itself


FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        Feed(
            "sales",
            required=("business_date", "store_code", "barcode", "units", "sales_amount"),
            optional=("promo_units", "promo_amount", "on_hand_units"),
            dates=("business_date",),
            money=("sales_amount", "promo_amount"),
            integers=("units", "promo_units", "on_hand_units"),
            file_key=("business_date", "store_code", "barcode"),
        ),
        Feed(
            "invoices",
            required=(
                "invoice_no",
                "line_no",
                "invoice_date",
                "ship_to_code",
                "barcode",
                "units",
                "unit_price",
                "net_amount",
                "vat_amount",
            ),
            optional=("promo_id",),
            dates=("invoice_date",),
            money=("unit_price", "net_amount", "vat_amount"),
            integers=("line_no", "units"),
            file_key=("invoice_no", "line_no"),
            chain_key=("invoice_no", "line_no"),
        ),
        Feed(
            "deductions",
            required=("statement_no", "deduction_no", "deduction_date", "deduction_text", "amount"),
            optional=(
                "store_code",
                "barcode",
                "units",
                "reference",
                "period_start",
                "period_end",
                "statement_date",
            ),
            dates=("deduction_date", "period_start", "period_end", "statement_date"),
            money=("amount",),
            integers=("units",),
            file_key=("statement_no", "deduction_no"),
            chain_key=("statement_no", "deduction_no"),
            derived={"deduction_type": "deduction_text"},  # the chain's wording rules
        ),
        Feed(
            "payments",
            required=("payment_no", "payment_date", "invoice_no", "amount"),
            optional=(),
            dates=("payment_date",),
            money=("amount",),
            file_key=("payment_no", "invoice_no"),
            chain_key=("payment_no", "invoice_no"),
        ),
    )
}


def feed(name: str) -> Feed:
    """The declaration of feed ``name`` (KeyError for an unknown feed)."""
    return FEEDS[name]
