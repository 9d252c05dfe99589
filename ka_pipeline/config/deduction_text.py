"""Deduction text -> canonical deduction type: whole-term rules (domain.md section 6).

A rule is ``{type: <deduction type>, terms: [...]}`` or ``{type: ..., pattern: <regex>}``.
Guarantees:

* **Whole terms.** A term whose end is a Latin letter or digit only matches where the
  text has no Latin letter or digit next to that end: ``DM`` matches "DM海报费" and
  "DM flyer" but not "Admin fee". Chinese terms are written as whole words
  ("信息系统费", not "系统": in "家乐福系统年节费" 系统 means the chain).
* A space inside a term matches any run of spaces, ``-`` or ``_`` (or none): "end cap"
  matches "End-cap", "endcap" and "END CAP". Matching ignores case.
* Rules are tried in order (the chain's own rules first, then the defaults in
  ``deduction_types.yaml``); the first match wins; no match gives ``unclassified``.
* A bad entry is a :class:`ConfigError` naming where it is and the rule's number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ka_pipeline.config.contracts import DEDUCTION_TYPES
from ka_pipeline.errors import ConfigError
from ka_pipeline.resources import load_shipped_yaml

UNCLASSIFIED = "unclassified"
_LATIN = "A-Za-z0-9"


@dataclass(frozen=True)
class DeductionRule:
    pattern: re.Pattern[str]
    type: str
    source: str = ""  # the terms or pattern as written, for messages and docs


def term_regex(term: str) -> str:
    """The regex of one whole term (see the module docstring)."""
    words = term.split()
    if not words:
        raise ValueError("empty term")
    body = r"[\s\-_]*".join(re.escape(w) for w in words)
    if re.match(f"[{_LATIN}]", words[0][0]):
        body = f"(?<![{_LATIN}])" + body
    if re.match(f"[{_LATIN}]", words[-1][-1]):
        body += f"(?![{_LATIN}])"
    return body


def compile_rules(entries: Any, where: str) -> list[DeductionRule]:
    """Check and compile a list of rule entries."""
    if entries in (None, ""):
        return []
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: expected a list of {{type, terms | pattern}} rules")
    rules = []
    for i, entry in enumerate(entries, 1):
        at = f"{where} rule {i}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{at}: expected a mapping with 'type' and 'terms' or 'pattern'")
        kind = entry.get("type")
        if kind not in DEDUCTION_TYPES:
            raise ConfigError(
                f"{at}: unknown type {kind!r}; use one of {', '.join(DEDUCTION_TYPES)}"
            )
        terms, pattern = entry.get("terms"), entry.get("pattern")
        if (terms is None) == (pattern in (None, "")):
            raise ConfigError(f"{at}: give either 'terms' (a list) or 'pattern' (a regex)")
        if terms is not None:
            if not isinstance(terms, list) or not all(str(t).strip() for t in terms) or not terms:
                raise ConfigError(f"{at}: 'terms' must be a non-empty list of words")
            regex, source = "|".join(term_regex(str(t)) for t in terms), ", ".join(map(str, terms))
        else:
            regex, source = str(pattern), str(pattern)
        try:
            compiled = re.compile(regex, re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(f"{at}: bad pattern: {exc}") from exc
        rules.append(DeductionRule(compiled, kind, source))
    return rules


def default_rule_entries() -> list[dict[str, Any]]:
    """The shipped rules (``deduction_types.yaml``) as written."""
    text = (resources.files("ka_pipeline.config") / "deduction_types.yaml").read_text("utf-8")
    return load_shipped_yaml(text)


def default_rules() -> list[DeductionRule]:
    return compile_rules(default_rule_entries(), "default deduction_types")


def classify(rules: tuple[DeductionRule, ...] | list[DeductionRule], text: str) -> str:
    """The type of the first rule matching ``text``, or ``unclassified``."""
    for rule in rules:
        if rule.pattern.search(text):
            return rule.type
    return UNCLASSIFIED
