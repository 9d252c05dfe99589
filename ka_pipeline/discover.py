"""Find a chain's feed files for a date range, by the file patterns of its layouts.

A file belongs to the business date written in its name (the ``{date:<format>}`` token
of the layout's ``file`` pattern). Files that match no layout are ignored; a file whose
name matches but whose date is not a date written exactly in that format
(``2026101`` for ``%Y%m%d``) is reported, not read and not skipped silently.

Guarantee: only regular files inside ``feeds/<chain>/`` are read. A link (or a path)
that leads outside the chain's folder is reported and never opened; names in the
reports are escaped (:func:`ka_pipeline.shown.shown`); a file whose name has control
characters (a line break, an escape) is reported and not read, so every file name that
reaches the load log, ``status`` or a mail is plain text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path

from ka_pipeline.config import Chain
from ka_pipeline.shown import shown

_DATE_TOKEN = re.compile(r"\{date:[^}]+\}")


@dataclass(frozen=True)
class FeedFile:
    chain_code: str
    feed: str
    business_date: date
    path: Path
    name: str  # path relative to the chain's feed folder

    @cached_property
    def checksum(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def discover(
    feeds_dir: Path, chain: Chain, start: date, end: date
) -> tuple[list[FeedFile], list[str]]:
    """Files of ``chain`` with start <= business date < end, and unreadable names."""
    root = feeds_dir / chain.code
    real_root = root.resolve()
    found: list[FeedFile] = []
    problems: list[str] = []
    for feed, layout in chain.feeds.items():
        regex, fmt = layout.file_regex()
        if layout.file.startswith(("/", "\\")) or ".." in re.split(r"[\\/]", layout.file):
            problems.append(f"{feed}: the file pattern {shown(layout.file)} leaves {root}")
            continue
        for path in sorted(root.glob(_DATE_TOKEN.sub("*", layout.file))):
            name = path.relative_to(root).as_posix()
            if not path.is_file() and not path.is_symlink():
                continue
            if not name.isprintable():  # a name travels to logs, status and mails
                problems.append(f"{root}/{shown(name)}: the name has control characters; not read")
                continue
            match = regex.match(name)
            if not match:
                if _looks_dated(name, layout.file):
                    problems.append(
                        f"{root}/{shown(name)}: the date in the name is not a {fmt!r} date"
                    )
                continue
            try:
                day = datetime.strptime(match.group("date"), fmt).date()
            except ValueError:
                day = None
            if day is None or day.strftime(fmt) != match.group("date"):
                problems.append(f"{root}/{shown(name)}: the date in the name is not a {fmt!r} date")
                continue
            if not start <= day < end:
                continue
            if not path.resolve().is_relative_to(real_root) or not path.is_file():
                problems.append(
                    f"{root}/{shown(name)}: a link to a file outside the chain's folder; not read"
                )
                continue
            found.append(FeedFile(chain.code, feed, day, path, name))
    return sorted(found, key=lambda f: (f.feed, f.business_date, f.name)), problems


def _looks_dated(name: str, pattern: str) -> bool:
    """True when ``name`` matches ``pattern`` with any text in place of the date token."""
    match = _DATE_TOKEN.search(pattern)
    assert match is not None
    before, after = pattern[: match.start()], pattern[match.end() :]
    loose = "^" + re.escape(before) + r"(.+?)" + re.escape(after) + "$"
    return re.match(loose, name) is not None


def days(start: date, end: date) -> list[date]:
    """Every date with start <= d < end."""
    return [start + timedelta(n) for n in range((end - start).days)]
