"""The feature store on the real warehouse: defaults, season boundaries, checks, CLI."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.features.catalog import BREAKOUT_V1, POINTS_V1
from nbaprops.features.checks import COMPLETENESS_GATE, completeness
from nbaprops.features.frame import build_frame, serving_spine, training_spine
from nbaprops.features.store import load_frame, materialize

runner = CliRunner()


def test_a_season_opener_falls_back_to_last_seasons_form_and_says_so(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    frame = build_frame(
        real_con,
        training_spine(real_con, date(2023, 10, 24), date(2023, 10, 25)),
        POINTS_V1,
        with_flags=True,
    )
    veterans = frame[frame["career_games"] >= 10]
    assert len(veterans) > 200
    assert veterans["points_avg_season__defaulted"].all()  # a new season starts empty ...
    pd.testing.assert_series_equal(  # ... and falls back to his last-10 mean
        veterans["points_avg_season"], veterans["points_avg_last_10"], check_names=False
    )
    assert (veterans["season_games_played"] == 0).all()
    assert (veterans["n_required_defaulted"] == 0).mean() > 0.95


def test_a_debut_has_every_history_feature_defaulted(real_con: duckdb.DuckDBPyConnection) -> None:
    first = real_con.execute(
        "SELECT player_id, min(game_date) FROM core.player_game WHERE season = '2023-24' "
        "GROUP BY player_id HAVING min(game_date) = (SELECT min(game_date) FROM "
        "core.player_game p2 WHERE p2.player_id = core.player_game.player_id) LIMIT 1"
    ).fetchall()
    player_id, day = first[0]
    spine = training_spine(real_con, day, day)
    row = build_frame(real_con, spine[spine["player_id"] == player_id], POINTS_V1).iloc[0]
    assert row["career_games"] == 0
    assert row["points_avg_last_10"] == 8.0  # the catalog default
    assert row["n_required_defaulted"] >= 15


def test_the_breakout_frame_has_its_ten_features_in_order(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    frame = build_frame(
        real_con, training_spine(real_con, date(2024, 12, 1), date(2024, 12, 7)), BREAKOUT_V1
    )
    feature_cols = [c for c in frame.columns if c in BREAKOUT_V1.features]
    assert feature_cols == list(BREAKOUT_V1.features)
    assert frame[feature_cols].notna().all().all()
    assert (frame["days_since_breakout"] <= 365).all()


def test_completeness_of_a_regular_season_date_passes_the_gate(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    result = completeness(real_con, date(2024, 3, 10), POINTS_V1)
    assert result.n_rows > 100
    assert result.share_complete >= COMPLETENESS_GATE
    assert set(result.defaulted_share_by_feature) == set(POINTS_V1.features)


def test_the_serving_spine_holds_every_lined_player_and_the_rotations(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    day = date(2024, 3, 10)
    spine = serving_spine(real_con, day)
    lined = {
        r[0]
        for r in real_con.execute(
            "SELECT DISTINCT player_id FROM core.prop_line WHERE market = 'points' "
            "AND game_date = ? AND player_id IS NOT NULL",
            [day],
        ).fetchall()
    }
    assert lined <= set(spine["player_id"])
    teams = spine.groupby("team")["is_rotation"].sum()
    assert (teams >= 7).all()  # each team's rotation, not just the lined stars
    assert spine["game_id"].notna().all()


def test_materialising_is_incremental(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "m.duckdb"
    shutil.copy(warehouse, copy)
    with connect(copy) as con:
        first = materialize(con, POINTS_V1, date(2024, 1, 1), date(2024, 1, 31))
        again = materialize(con, POINTS_V1, date(2024, 1, 1), date(2024, 2, 10))
        stored = load_frame(con, POINTS_V1, date(2024, 1, 1), date(2024, 2, 10))
        direct = build_frame(
            con, training_spine(con, date(2024, 1, 1), date(2024, 2, 10)), POINTS_V1
        )
    assert first.dates_built == first.dates_total > 25
    assert again.dates_skipped == first.dates_built
    assert again.dates_built == again.dates_total - first.dates_total
    assert len(stored) == len(direct) == first.rows_written + again.rows_written
    cols = list(POINTS_V1.features)
    pd.testing.assert_frame_equal(
        stored[cols].reset_index(drop=True), direct[cols].reset_index(drop=True)
    )


def test_features_show_prints_every_value_and_default_flag(warehouse: Path) -> None:
    result = runner.invoke(
        app,
        [
            "features",
            "show",
            "--player",
            "Jalen Brunson",
            "--date",
            "2024-03-10",
            "--db",
            str(warehouse),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["team"] == "NYK"
    assert [f["feature"] for f in payload["features"]] == list(POINTS_V1.features)
    line = next(f for f in payload["features"] if f["feature"] == "points_line")
    assert 20 < line["value"] < 35
    assert line["defaulted"] is False


def test_features_validate_reports_drift_as_json(warehouse: Path) -> None:
    result = runner.invoke(
        app,
        [
            "features",
            "validate",
            "--reference",
            "2023-10-24:2024-01-31",
            "--current",
            "2024-02-01:2024-04-14",
            "--db",
            str(warehouse),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload["features"]) == len(POINTS_V1.features)
    assert {f["method"] for f in payload["features"]} == {"wasserstein"}
    assert isinstance(payload["dataset_drift"], bool)


def test_feature_commands_reject_bad_input_with_one_line(warehouse: Path) -> None:
    bad = [
        ["features", "show", "--player", "Nobody Atall", "--date", "2024-03-10"],
        ["features", "show", "--player", "Jalen Brunson", "--date", "2024-03-11"],
        ["features", "validate", "--reference", "2024-01-01", "--current", "2024-02-01:2024-03-01"],
        ["features", "completeness", "--date", "2024-02-30"],
    ]
    for args in bad:
        result = runner.invoke(app, [*args, "--db", str(warehouse)])
        assert result.exit_code == 1, args
        assert result.stderr.startswith("error:"), (args, result.stderr)
        assert "Traceback" not in result.stderr
