"""Issue 23: a warehouse and its artifacts/ folder copied elsewhere keep serving from
any working directory (artefact folders are stored relative to the artefact root);
migration 016 rewrites rows stored before; a missing artefact names the absolute
path looked for. Real data: tests/data/test_portable_real.py."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import BREAKOUT_V1
from nbaprops.models.calibration import Calibration
from nbaprops.models.registry import (
    ModelVersion,
    load_model,
    promote,
    reference_rows,
    register_version,
    warehouse_artifacts_root,
)
from nbaprops.systems.breakout import BreakoutClassifier
from nbaprops.warehouse.migrate import available_migrations, migrate
from tests.unit.test_breakout import _frame

runner = CliRunner()
LEGACY_DIR = "v1-47634e78"
MIGRATION = next(m for m in available_migrations() if m.name == "portable_artefacts")


def register(
    con: duckdb.DuckDBPyConnection, root: Path, *, alias_row: bool = False
) -> tuple[ModelVersion, pd.DataFrame]:
    """A breakout version registered and made shadow (``alias_row``: the alias written
    as a warehouse before migration 020 held it, one row per system and alias)."""
    train = _frame(400, seed=3)
    model = BreakoutClassifier(iterations=10).fit(train, train["breakout"])
    version = register_version(
        con,
        system=model,
        calibration=Calibration.identity(),
        oos=pd.DataFrame({"game_date": [date(2023, 6, 1)], "warmup": [False]}),
        experiment_id="unit",
        mode="shared",
        feature_set=BREAKOUT_V1,
        eval_window="2023-05-01:2023-06-01",
        metrics={"auc": 0.6},
        train_start=date(2023, 1, 1),
        train_end=date(2023, 10, 27),
        train_rows=len(train),
        code_commit=None,
        code_dirty=None,
        artifacts_root=root,
    )
    if alias_row:
        con.execute(
            "INSERT INTO models.alias VALUES ('breakout', 'shadow', ?, now())", [version.version]
        )
    else:
        promote(con, "breakout", version.version, "shadow", min_rows=1, max_ece=1.0)
    return version, train


def stored_dir(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT artefact_dir FROM models.version").fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A warehouse folder (warehouse file + artifacts/) with a registered shadow model,
    registered from inside that folder as the default settings would."""
    monkeypatch.delenv("NBAPROPS_ARTIFACTS_DIR", raising=False)
    folder = tmp_path / "original"
    folder.mkdir()
    monkeypatch.chdir(folder)
    settings = Settings(db=Path("w.duckdb"))  # relative, as data/nbaprops.duckdb is
    with connect(settings.paths.db) as con:
        migrate(con)
        register(con, settings.paths.resolved_artifacts_dir())
    return folder


def test_an_artefact_folder_is_stored_relative_to_the_root_beside_the_warehouse(
    original: Path,
) -> None:
    stored = stored_dir(original / "w.duckdb")
    assert not Path(stored).is_absolute()
    assert stored.startswith("breakout/v1-"), stored
    assert (original / "artifacts" / stored / "model.pkl").is_file()


def test_a_copied_warehouse_folder_serves_from_any_working_directory(
    original: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(original, copy)
    shutil.rmtree(original)  # nothing may still be read from where it was registered
    monkeypatch.chdir(tmp_path)  # a folder holding no artifacts/ of any kind
    with connect(copy / "w.duckdb") as con:
        loaded = load_model(con, "breakout@shadow")
        assert Path(loaded.version.artefact_dir).is_relative_to(copy / "artifacts")
        assert len(reference_rows(loaded.version)) == 1
        train = _frame(50, seed=4)
        assert np.isfinite(loaded.system.risk_score(train)).all()
    # the CLI too: the registry lists the folder where it now is
    result = runner.invoke(app, ["model", "list", "--json", "--db", str(copy / "w.duckdb")])
    assert result.exit_code == 0, result.stderr
    (listed,) = json.loads(result.stdout)["versions"]
    assert listed["artefact_dir"].startswith(str(copy / "artifacts") + "/")


def test_a_missing_artefact_names_the_absolute_path_it_looked_for(
    original: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = stored_dir(original / "w.duckdb")
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(original / "w.duckdb", copy / "w.duckdb")  # the warehouse without artifacts/
    monkeypatch.chdir(tmp_path)
    with connect(copy / "w.duckdb") as con, pytest.raises(NbapropsError) as err:
        load_model(con, "breakout@shadow")
    expected = copy / "artifacts" / stored / "model.pkl"
    assert f"breakout@v1: artefact {expected} is missing" in str(err.value)


def test_the_configured_artefact_root_wins_over_the_warehouse_folder(
    original: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = tmp_path / "models-store"
    shutil.move(original / "artifacts", moved)
    monkeypatch.setenv("NBAPROPS_ARTIFACTS_DIR", str(moved))
    monkeypatch.chdir(tmp_path)
    configured = Settings().paths.artifacts_dir  # the entry point reads it; domain code is given it
    assert configured == moved
    with connect(original / "w.duckdb") as con:
        assert warehouse_artifacts_root(con) == original / "artifacts"  # not configured: beside
        assert warehouse_artifacts_root(con, configured) == moved
        loaded = load_model(con, "breakout@shadow", artifacts_dir=configured)
        assert Path(loaded.version.artefact_dir).parent.parent == moved


def test_a_folder_outside_the_root_is_stored_absolute_and_still_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NBAPROPS_ARTIFACTS_DIR", raising=False)
    db = tmp_path / "wh" / "w.duckdb"
    with connect(db) as con:
        migrate(con)
        register(con, tmp_path / "somewhere")
    stored = stored_dir(db)
    assert Path(stored).is_absolute()
    assert stored.startswith(str(tmp_path / "somewhere"))
    monkeypatch.chdir(tmp_path / "wh")
    with connect(db) as con:
        assert load_model(con, "breakout@shadow").version.version == 1


def _legacy_rows(con: duckdb.DuckDBPyConnection, paths: dict[int, str]) -> None:
    for version, path in paths.items():
        con.execute(
            "INSERT INTO models.version VALUES ('xgboost', ?, 'e', 'shared', 'points', 1, "
            "'h', ['a'], NULL, '2024-05-24', 1, '{}', '{}', NULL, NULL, 'w', '{}', '{}', ?, "
            "'sha', now())",
            [version, path],
        )


def test_the_migration_makes_stored_paths_relative_where_they_lie_under_the_root(
    tmp_path: Path,
) -> None:
    db = tmp_path / "wh" / "w.duckdb"
    root = tmp_path / "wh" / "artifacts"
    legacy = {
        1: f"data/artifacts/xgboost/{LEGACY_DIR}",  # relative to the old working directory
        2: f"{root}/xgboost/v2-0123abcd/",  # absolute, under this warehouse's artifacts/
        3: "data\\artifacts\\xgboost\\v3-89abcdef",  # written on Windows
        4: f"{tmp_path}/custom-root/xgboost/v4-0123abcd",  # absolute, under another root
        5: "xgboost/v5-0123abcd",  # already relative to the root
        6: "data/artifacts/catboost_full/v6-0123abcd",  # not this row's folder: untouched
        7: "by/hand",
    }
    with connect(db) as con:
        migrate(con)
        _legacy_rows(con, legacy)
        con.execute(MIGRATION.sql)
        after = dict(con.execute("SELECT version, artefact_dir FROM models.version").fetchall())
    assert after == {
        1: f"xgboost/{LEGACY_DIR}",
        2: "xgboost/v2-0123abcd",
        3: "xgboost/v3-89abcdef",
        4: legacy[4],
        5: legacy[5],
        6: legacy[6],
        7: legacy[7],
    }


def migrate_before(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """The schema as it was before ``version`` (as ``migrate`` records it)."""
    con.execute(
        "CREATE TABLE schema_version ("
        "version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    for m in available_migrations():
        if m.version < version:
            con.execute(m.sql)
            con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [m.version, m.name])


def test_a_warehouse_registered_before_the_migration_serves_after_it_from_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported failure: rows holding data/artifacts/... (the working directory of
    whoever registered them) were found only from a folder that happened to hold it."""
    monkeypatch.delenv("NBAPROPS_ARTIFACTS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    db = Path("data/nbaprops.duckdb")  # the default settings, relative to the cwd
    with connect(db) as con:
        migrate_before(con, MIGRATION.version)
        root = Settings(db=db).paths.resolved_artifacts_dir()
        version, _ = register(con, root, alias_row=True)
        leaf = Path(version.artefact_dir).name
        # what the code before 016 stored: the folder as the working directory saw it
        con.execute(
            "UPDATE models.version SET artefact_dir = ?", [f"data/artifacts/breakout/{leaf}"]
        )
    copy = tmp_path / "moved" / "data"
    shutil.copytree(tmp_path / "data", copy)
    shutil.rmtree(tmp_path / "data")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    with connect(copy / "nbaprops.duckdb") as con:
        with pytest.raises(NbapropsError, match="is missing"):
            # before the migration: the old cwd's path (named by version: aliases are per
            # market only from migration 020 on)
            load_model(con, f"breakout@v{version.version}")
        assert MIGRATION in migrate(con)
        row = con.execute("SELECT artefact_dir FROM models.version").fetchone()
        assert row == (f"breakout/{leaf}",)
        loaded = load_model(con, "breakout@shadow")
    assert Path(loaded.version.artefact_dir) == copy / "artifacts" / "breakout" / leaf
