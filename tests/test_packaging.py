"""The project installs as a wheel that carries its models and suites.

Issue 5 point 8: a non-editable install used to lack ``sql/`` and ``expectations/``, so
``run`` crashed, or with ``KA_EXPECTATIONS_DIR`` set built no models (0 rows, exit 0).
Here the wheel is built as ``pip install .`` builds it (PEP 517, build isolation), installed
into a fresh venv with the runtime lock (uv links the locked packages from its cache),
and its ``ka-pipeline`` runs the mini fixture end to end from a folder outside the repo.
The folder lookup itself (:mod:`ka_pipeline.resources`) is tested in-process.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ka_pipeline import resources
from ka_pipeline.errors import ConfigError
from tests.helpers import copy_fixture

REPO = Path(__file__).resolve().parent.parent


def _uv(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "uv", *args], cwd=cwd, capture_output=True, text=True, check=True
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _uv("build", "--wheel", "--quiet", "-o", str(out), str(REPO))
    (built,) = out.glob("ka_pipeline-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the runtime lock and the wheel (not editable)."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    _uv("venv", "--quiet", "--python", sys.executable, str(root))
    python = str(root / "bin" / "python")
    _uv("pip", "install", "--quiet", "--python", python, "-r", str(REPO / "requirements.lock"))
    _uv("pip", "install", "--quiet", "--python", python, "--no-deps", str(wheel))
    return root


def _files_under(folder: Path, pattern: str) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob(pattern))


def test_wheel_carries_models_suites_and_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for sql in _files_under(REPO / "sql", "*.sql"):
        assert f"ka_pipeline/sql/{sql}" in names
    for suite in _files_under(REPO / "expectations", "*.json"):
        assert f"ka_pipeline/expectations/{suite}" in names
    migrations = _files_under(REPO / "ka_pipeline" / "warehouse" / "migrations", "*.sql")
    assert migrations and all(f"ka_pipeline/warehouse/migrations/{m}" in names for m in migrations)
    assert "ka_pipeline/templates/scorecard.html.j2" in names
    assert "ka_pipeline/config/deduction_types.yaml" in names
    # the demo generator ships in the same wheel (`ka-pipeline demo` imports it)
    demo = _files_under(REPO / "ka_demo", "*.py")
    assert "generator.py" in demo and all(f"ka_demo/{m}" in names for m in demo)


def test_installed_wheel_runs_the_mini_fixture(venv: Path, tmp_path: Path) -> None:
    python = venv / "bin" / "python"
    site = subprocess.run(
        [
            str(python),
            "-c",
            "from ka_pipeline import resources as r; "
            "print(r.PACKAGE_DIR); print(r.sql_dir()); print(r.expectations_dir())",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    package_dir = Path(site[0])
    assert package_dir.parent.name == "site-packages"  # the installed copy, not the checkout
    assert [Path(p) for p in site[1:]] == [package_dir / "sql", package_dir / "expectations"]

    home = copy_fixture("mini", tmp_path / "home")
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "KA_HOME": str(home), "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(venv / "bin" / "ka-pipeline"), "run", "--date", "2026-10-31"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    models_line = next(
        line for line in done.stdout.splitlines() if line.startswith("models: stg_sales")
    )
    counts = dict(item.rsplit(" ", 1) for item in models_line.removeprefix("models: ").split(", "))
    # every table model of the installed sql/ ran (views are created, not counted)
    assert set(counts) <= {Path(p).stem for p in _files_under(REPO / "sql", "*.sql")}
    assert len(counts) >= 10, models_line
    # mart_chain_month: one row per chain x month -> AAA 2026-10 and BBB 2026-10 = 2
    assert counts["mart_chain_month"] == "2"
    for table in ("stg_sales", "mart_store_month", "mart_deduction_check", "mart_rebate_progress"):
        assert int(counts[table]) > 0, models_line


@pytest.mark.parametrize(
    "name, env", [("sql", "KA_SQL_DIR"), ("expectations", "KA_EXPECTATIONS_DIR")]
)
def test_empty_or_missing_override_is_an_error_naming_the_folder(
    name: str, env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in (tmp_path / "missing", tmp_path):  # missing, then present but empty
        monkeypatch.setenv(env, str(folder))
        with pytest.raises(ConfigError, match=f"{env}=.*{folder.name}.*missing or holds no"):
            resources.resource_dir(name)


def test_package_copy_first_then_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KA_SQL_DIR", raising=False)
    package = tmp_path / "site" / "ka_pipeline"
    monkeypatch.setattr(resources, "PACKAGE_DIR", package)
    with pytest.raises(ConfigError, match="no sql folder with \\*.sql files found"):
        resources.sql_dir()  # neither copy exists: an error, never 0 models
    (tmp_path / "site" / "sql" / "staging").mkdir(parents=True)
    (tmp_path / "site" / "sql" / "staging" / "stg_x.sql").write_text("select 1")
    assert resources.sql_dir() == tmp_path / "site" / "sql"  # checkout layout, nested models
    (package / "sql").mkdir(parents=True)
    (package / "sql" / "10_x.sql").write_text("select 1")
    assert resources.sql_dir() == package / "sql"  # the installed copy wins
    monkeypatch.setenv("KA_SQL_DIR", str(tmp_path / "site" / "sql"))
    assert resources.sql_dir() == tmp_path / "site" / "sql"  # the override wins over both


def test_checkout_resolves_to_the_top_level_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KA_SQL_DIR", raising=False)
    monkeypatch.delenv("KA_EXPECTATIONS_DIR", raising=False)
    if (resources.PACKAGE_DIR / "sql").exists():
        pytest.skip("running from an installed wheel")
    assert resources.sql_dir() == REPO / "sql"
    assert resources.expectations_dir() == REPO / "expectations"
