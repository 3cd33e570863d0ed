"""The README's main job through the real CLI entry point, on the real data: the
README's command (``scripts/run``) as a process of the installed ``nbaprops``; the other
commands in this process (``CliRunner`` through the root group's ``main``, as the entry
point runs it: the same exit codes and stderr), without a new interpreter's imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from nbaprops.cli.main import app


def nbaprops(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("nbaprops")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        check=False,
    )


def in_process(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_the_main_job_ingests_the_data_folder_and_prints_status(
    warehouse: Path, data_dir: Path
) -> None:
    result = in_process("run", "--db", str(warehouse), "--data-dir", str(data_dir), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["status"]["tables"]["core.player_game"] > 260_000
    assert payload["ingest"]["failures"] == []
    sources = {s["source"]: s for s in payload["ingest"]["sources"]}
    assert sources["nba_player_logs"]["files_unchanged"] == 10  # nothing re-loaded


def test_the_readme_main_job_runs_the_daily_pipeline_and_prints_picks(
    warehouse: Path, data_dir: Path, tmp_path: Path
) -> None:
    """`scripts/run` = `nbaprops run daily`: ingest, bootstrap a champion on a warehouse
    without models, grade, predict the default date (real lines), print signal and picks."""
    db = tmp_path / "nbaprops.duckdb"
    shutil.copy(warehouse, db)
    run_script = (Path(__file__).parents[2] / "scripts" / "run").read_text()
    assert "nbaprops run daily" in run_script
    result = nbaprops(
        "run",
        "daily",
        "--db",
        str(db),
        "--data-dir",
        str(data_dir),
        env={"NBAPROPS_RUNS_DIR": str(tmp_path / "runs")},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "no registered model: trained xgboost@v1" in out
    assert "Slate signal 2024-04-12" in out
    # the champion's record, then the picks: bets the record backs, or "no bets today"
    assert "xgboost@champion's record" in out
    assert "Bets 2024-04-12" in out or "no bets today" in out
    assert "Watchlist 2024-04-12" in out
    assert "(champion):" in out
    assert "predictions for 2024-04-12" in out
    again = in_process("run", "daily", "--db", str(db), "--data-dir", str(data_dir), "--json")
    assert again.exit_code == 0, again.output
    payload = json.loads(again.stdout)
    assert payload["bootstrapped"] is None  # the champion exists now
    assert payload["predict"]["unchanged"] is True  # a re-run changes nothing
    assert payload["picks"]["picks"]
    assert payload["picks"]["record"]["system"] == "xgboost"


def test_status_without_a_warehouse_is_one_error_line(tmp_path: Path) -> None:
    result = in_process("status", "--db", str(tmp_path / "missing.duckdb"))
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: no warehouse at")
    assert len(result.stderr.strip().splitlines()) == 1


def test_settings_come_from_the_environment(warehouse: Path) -> None:
    result = in_process("status", "--json", env={"NBAPROPS_DB": str(warehouse)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["schema_version"] >= 3
