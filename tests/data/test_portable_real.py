"""Issue 23 on the real data: a warehouse with a real champion, copied with its
artifacts/ to another folder, predicts from any working directory (also after
migration 016 rewrote a row stored the old way); typos in a system or a player name
are errors that say what was meant."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.warehouse.migrate import available_migrations, migrate
from tests.conftest import CHAMPION_DAY, bootstrapped, copy_warehouse

pytestmark = [pytest.mark.data, pytest.mark.slow]

DAY = date(2024, 4, 12)  # 15 games, 107 lined players
runner = CliRunner()
MIGRATION = next(m for m in available_migrations() if m.name == "portable_artefacts")


@pytest.fixture(scope="module")
def served(champion_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse folder (nbaprops.duckdb + artifacts/) whose champion was bootstrapped
    before DAY, registered through the default settings (artifacts/ beside the db): a copy
    of the session's champion warehouse folder (trained once)."""
    assert CHAMPION_DAY == DAY
    root = tmp_path_factory.mktemp("served")
    copy_warehouse(champion_warehouse, root / "nbaprops.duckdb")
    settings = Settings(db=root / "nbaprops.duckdb", runs_dir=root / "runs")
    with connect(settings.paths.db) as con:
        migrate(con)
    assert "champion" in bootstrapped(champion_warehouse)
    return root


def champion_dir(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT v.artefact_dir FROM models.version v JOIN models.alias a "
            "USING (system_id, version) WHERE a.alias = 'champion'"
        ).fetchone()
    assert row is not None
    return str(row[0])


def predict(db: Path) -> Result:
    return runner.invoke(app, ["predict", "--date", str(DAY), "--db", str(db), "--json"])


def test_a_copied_warehouse_folder_predicts_from_another_working_directory(
    served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = champion_dir(served / "nbaprops.duckdb")
    assert stored.startswith("xgboost/v")  # relative to the artefact root
    copy = tmp_path / "copied" / "warehouse"
    shutil.copytree(served, copy)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no data/artifacts/ here
    hidden = served / "artifacts.hidden"  # nor the original's: only the copy's can serve
    (served / "artifacts").rename(hidden)
    try:
        out = predict(copy / "nbaprops.duckdb")
    finally:
        hidden.rename(served / "artifacts")
    assert out.exit_code == 0, out.output + out.stderr
    payload = json.loads(out.stdout)
    with duckdb.connect(str(copy / "nbaprops.duckdb"), read_only=True) as con:
        written = con.execute(
            "SELECT count(*), count(DISTINCT system_id) FROM predictions.prediction "
            "WHERE game_date = ? AND is_active",
            [DAY],
        ).fetchone()
    assert written is not None
    assert written[0] > 200
    assert written[1] >= 1
    assert str(DAY) in json.dumps(payload)
    # the original was not touched: its copy predicted, not it
    with duckdb.connect(str(served / "nbaprops.duckdb"), read_only=True) as con:
        original = con.execute(
            "SELECT count(*) FROM predictions.prediction WHERE game_date = ?", [DAY]
        ).fetchone()
    assert original == (0,)


def test_a_row_stored_the_old_way_is_missing_then_served_after_the_migration(
    served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "moved"
    shutil.copytree(served, copy)
    db = copy / "nbaprops.duckdb"
    stored = champion_dir(db)
    with connect(db) as con:  # as the code before issue 23 stored it (cwd-relative)
        con.execute(
            "UPDATE models.version SET artefact_dir = 'data/artifacts/' || artefact_dir "
            "WHERE artefact_dir = ?",
            [stored],
        )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = predict(db)
    assert out.exit_code == 1
    # a relative path is under the root beside the warehouse, named absolute
    looked_for = copy / "artifacts" / "data" / "artifacts" / stored / "model.pkl"
    assert f"artefact {looked_for} is missing" in out.stderr
    with connect(db) as con:
        con.execute(MIGRATION.sql)
    assert champion_dir(db) == stored
    out = predict(db)
    assert out.exit_code == 0, out.output + out.stderr


def test_real_typos_say_what_was_meant(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    out = runner.invoke(
        app,
        [
            "features",
            "show",
            "--player",
            "Jalen Brunsen",
            "--date",
            "2024-03-10",
            "--db",
            str(copy),
        ],
    )
    assert out.exit_code == 1
    assert out.stderr.strip() == (
        "error: no player named 'Jalen Brunsen' in the warehouse; did you mean Jalen Brunson?"
    )
    out = runner.invoke(app, ["model", "history", "xgbost", "--db", str(copy)])
    assert out.exit_code == 1
    assert "unknown system 'xgbost'; did you mean xgboost? (known: " in out.stderr
    out = runner.invoke(
        app, ["diagnose", "--date", "2024-04-12", "--system", "xgbost", "--db", str(copy)]
    )
    assert out.exit_code == 1
    assert "unknown system 'xgbost'; did you mean xgboost?" in out.stderr
    assert "no active predictions" not in out.stderr
