"""GTIN-13 barcodes: check digit computation and validation."""

from __future__ import annotations


def check_digit(first12: str) -> str:
    """The GS1 check digit for 12 digits: weights 1,3,1,3... from the left."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def is_valid_gtin13(code: object) -> bool:
    """True for a 13-digit string whose last digit is the GS1 check digit."""
    return (
        isinstance(code, str)
        and len(code) == 13
        and code.isdigit()
        and check_digit(code[:12]) == code[12]
    )


def make_gtin13(first12: str) -> str:
    """Complete 12 digits into a valid GTIN-13."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"need 12 digits, got {first12!r}")
    return first12 + check_digit(first12)
