"""Show text that came from a file (a header, a value, a file name) safely.

Anything a chain's file contains reaches a log line, ``ops_load_log.message``, the
``status`` output or a mail only through :func:`shown`: quoted, with every character
that is not printable (line breaks, control and bidi-override characters, escapes)
written as a Python escape, and cut to a bounded length. A hostile header cannot forge
a log line, move the terminal cursor or inject a mail header.
"""

from __future__ import annotations

LIMIT = 60


def _escaped(text: str) -> str:
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def shown(value: object, limit: int = LIMIT) -> str:
    """``value`` quoted and escaped, at most ``limit`` characters of it."""
    text = "" if value is None else str(value)
    cut = len(text) > limit
    body = _escaped(text[:limit]).replace("'", "\\'")
    return f"'{body}'" + (f"… ({len(text)} characters)" if cut else "")


def plain(value: object, limit: int = 200) -> str:
    """``value`` escaped and cut like :func:`shown`, without quotes (for stored names)."""
    text = "" if value is None else str(value)
    body = _escaped(text[:limit])
    return body + ("…" if len(text) > limit else "")
