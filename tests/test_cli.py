"""The command line: arguments, exit codes, the run summary and ``status``."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ka_pipeline import pipeline
from ka_pipeline.cli import main
from tests.helpers import copy_fixture


def cli(home: Path, args: str) -> int:
    """``ka-pipeline --home HOME <args>``, in process; returns the exit code."""
    return main(["--home", str(home), *args.split()])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("KA_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("KA_SMTP_URL", raising=False)
    return copy_fixture("mini", tmp_path / "home")


def test_bad_arguments_exit_2_with_a_clear_message(home: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli(home, "run --date 31/10/2026")
    assert exc.value.code == 2
    assert "'31/10/2026' is not a date (use YYYY-MM-DD)" in capsys.readouterr().err
    code = cli(home, "backfill --chain AAA --from 2026-10-31 --to 2026-10-01")
    assert code == 1
    assert "--from 2026-10-31 is after --to 2026-10-01" in capsys.readouterr().err
    assert cli(home, "run --date 2026-10-31 --chain ZZZ") == 2
    assert "unknown chain 'ZZZ'; chains in" in capsys.readouterr().err
    assert cli(home / "nowhere", "run --date 2026-10-31") == 2
    assert "run 'ka-pipeline demo'" in capsys.readouterr().err


def test_run_prints_a_summary_and_status_shows_the_loads(home: Path, capsys) -> None:
    assert cli(home, "run --date 2026-10-31 --scorecards never") == 0
    out = capsys.readouterr().out
    assert "AAA    sales" in out and "BBB    sales" in out
    assert f"warehouse: duckdb:///{home / 'warehouse.duckdb'}" in out
    assert cli(home, "status --chain AAA") == 0
    out = capsys.readouterr().out
    assert "AAA_sales_20261031.csv" in out
    assert (
        "AAA sales barcode: 1 row(s), e.g. sales/AAA_sales_20261031.csv row 3:"
        " barcode is not a valid GTIN-13" in out
    )


def test_a_rejected_file_makes_the_run_exit_1(home: Path, capsys) -> None:
    (home / "feeds/AAA/sales/AAA_sales_20261031.csv").write_text("nonsense\n")
    assert cli(home, "backfill --chain AAA --from 2026-10-31 --to 2026-10-31") == 1
    assert "rejected:" in capsys.readouterr().out


def test_one_chain_failing_does_not_stop_the_others(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    real_read = pipeline.read_file

    def parse_or_fail(path, layout):  # a bug that only bites BBB's layout
        if layout.encoding == "gbk":
            raise RuntimeError("parser crashed")
        return real_read(path, layout)

    monkeypatch.setattr(pipeline, "read_file", parse_or_fail)
    assert cli(home, "run --date 2026-10-31 --scorecards never") == 1
    out = capsys.readouterr().out
    assert "BBB    FAILED: RuntimeError: parser crashed" in out
    assert "AAA    sales" in out  # AAA loaded and its models ran
    assert "mart_chain_month 1" in out


def _hold_duckdb(warehouse: Path, seconds: float) -> subprocess.Popen:
    """Another process that opens the DuckDB file and keeps it for ``seconds``."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; db = duckdb.connect({str(warehouse)!r});"
            f" print('ready', flush=True); time.sleep({seconds}); db.close()",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ready"
    return holder


def test_a_busy_duckdb_file_is_waited_for_then_a_clear_error(
    home: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KA_LOCK_TIMEOUT_S", "1")
    holder = _hold_duckdb(home / "warehouse.duckdb", 60)
    try:
        began = time.monotonic()
        assert cli(home, "status") == 1
        assert time.monotonic() - began >= 1  # it waited the bounded time first
        err = capsys.readouterr().err
        assert f"is in use by process {holder.pid}" in err
        assert "gave up after 1 s (KA_LOCK_TIMEOUT_S)" in err
        assert "run one at a time" in err and "use PostgreSQL" in err
        assert "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()


def test_a_run_waits_for_the_duckdb_file_and_then_goes_on(
    home: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KA_LOCK_TIMEOUT_S", "60")
    holder = _hold_duckdb(home / "warehouse.duckdb", 2)
    try:
        assert cli(home, "run --date 2026-10-31 --scorecards never") == 0
        out = capsys.readouterr().out
        assert f"warehouse: waiting for process {holder.pid}" in out
        assert "mart_chain_month 2" in out
    finally:
        holder.wait()
