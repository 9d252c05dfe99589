"""Find a chain's feed files for a date range, by the file patterns of its layouts.

A file belongs to the business date written in its name (the ``{date:<format>}`` token
of the layout's ``file`` pattern). Files that match no layout are ignored; a file whose
name matches but whose date does not parse is reported, not skipped silently.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path

from ka_pipeline.config import Chain

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
    found: list[FeedFile] = []
    problems: list[str] = []
    for feed, layout in chain.feeds.items():
        regex, fmt = layout.file_regex()
        for path in sorted(root.glob(_DATE_TOKEN.sub("*", layout.file))):
            name = path.relative_to(root).as_posix()
            match = regex.match(name)
            if not match or not path.is_file():
                continue
            try:
                day = datetime.strptime(match.group("date"), fmt).date()
            except ValueError:
                problems.append(f"{path}: the date in the name does not match {fmt!r}")
                continue
            if start <= day < end:
                found.append(FeedFile(chain.code, feed, day, path, name))
    return sorted(found, key=lambda f: (f.feed, f.business_date, f.name)), problems


def days(start: date, end: date) -> list[date]:
    """Every date with start <= d < end."""
    return [start + timedelta(n) for n in range((end - start).days)]
