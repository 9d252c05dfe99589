"""Where the project's data folders are: the SQL models and the expectation suites.

The folders live at the top of the repository (``sql/``, ``expectations/``); the wheel
carries a copy of each inside the package (``ka_pipeline/sql``,
``ka_pipeline/expectations``, mapped by the build, see pyproject.toml). Lookup order:

1. the environment override (``KA_SQL_DIR``, ``KA_EXPECTATIONS_DIR``) when set;
2. the installed package's copy (a wheel install, ``pip install .``);
3. the source checkout's top-level folder (an editable install, or running from the repo).

Guarantee: :func:`resource_dir` returns a folder holding at least one file of the
expected kind, or raises :class:`ConfigError` naming every folder it tried; a missing or
empty folder never reads as "nothing to do".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ka_pipeline.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent

# name -> (environment override, file pattern that must match at least once, recursively)
_RESOURCES = {
    "sql": ("KA_SQL_DIR", "*.sql"),
    "expectations": ("KA_EXPECTATIONS_DIR", "*.json"),
}


def _has_files(folder: Path, pattern: str) -> bool:
    return folder.is_dir() and next(folder.rglob(pattern), None) is not None


def resource_dir(name: str) -> Path:
    """The folder of resource ``name`` (``sql`` or ``expectations``); see the module doc."""
    env, pattern = _RESOURCES[name]
    override = os.environ.get(env)
    if override:
        folder = Path(override).expanduser().resolve()
        if not _has_files(folder, pattern):
            raise ConfigError(
                f"{env}={override}: {folder} is missing or holds no {pattern} file; "
                f"unset {env} to use the folder shipped with ka-pipeline"
            )
        return folder
    candidates = [PACKAGE_DIR / name, PACKAGE_DIR.parent / name]
    for folder in candidates:
        if _has_files(folder, pattern):
            return folder
    tried = ", ".join(str(c) for c in candidates)
    raise ConfigError(
        f"no {name} folder with {pattern} files found (tried {tried}); reinstall ka-pipeline "
        f"from a wheel that includes it, or set {env} to the folder"
    )


def sql_dir() -> Path:
    """The warehouse models folder."""
    return resource_dir("sql")


def expectations_dir() -> Path:
    """The Great Expectations suites folder."""
    return resource_dir("expectations")


# libyaml's safe loader when PyYAML has it: the same documents as yaml.safe_load, parsed
# in a tenth of the pure-Python loader's time
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_shipped_yaml(text: str) -> Any:
    """A YAML document the package ships (model YAML, the default deduction rules, the
    scorecard strings), read on every run: parsed as ``yaml.safe_load`` would, faster."""
    return yaml.load(text, Loader=_SAFE_LOADER)
