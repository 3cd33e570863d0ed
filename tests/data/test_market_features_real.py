"""Every market's features on the real warehouse, against the box scores recomputed in pandas."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.features.frame import build_frame, ensure_state, training_spine

DAYS = (date(2024, 3, 14), date(2024, 3, 16))  # 2023-24: injury reports published


@pytest.fixture(scope="module")
def con(
    warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    copy = tmp_path_factory.mktemp("markets") / "w.duckdb"
    shutil.copy(warehouse, copy)
    with connect(copy) as c:
        ensure_state(c)
        yield c


@pytest.fixture(scope="module")
def frames(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    spine = training_spine(con, *DAYS)
    return {
        key: build_frame(con, spine, key, with_flags=True)
        for key in ("rebounds_v1", "assists_v1", "threes_v1", "pra_v1")
    }


def _history(con: duckdb.DuckDBPyConnection) -> dict[int, pd.DataFrame]:
    games = con.execute(
        "SELECT player_id, game_date, season, minutes, points, reb, ast, fg3m, fg3a, oreb, dreb "
        "FROM core.player_game WHERE season_type IN ('regular', 'playoffs') AND game_date < ? "
        "ORDER BY player_id, game_date",
        [DAYS[-1]],
    ).df()
    games["game_date"] = pd.to_datetime(games["game_date"]).dt.date
    for c in ("minutes", "points", "reb", "ast", "fg3m", "fg3a", "oreb", "dreb"):
        games[c] = games[c].astype(float)
    games["pra"] = games["points"] + games["reb"] + games["ast"]
    return {int(pid): g for pid, g in games.groupby("player_id")}


def test_market_history_features_are_the_previous_games_box_scores(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]
) -> None:
    history = _history(con)
    expected: dict[str, list[float]] = {}
    got: dict[str, list[float]] = {}

    def check(name: str, value: float, frame: pd.DataFrame, i: int) -> None:
        expected.setdefault(name, []).append(value)
        got.setdefault(name, []).append(float(frame.loc[i, name]))

    reb, ast, threes, pra = (
        frames[k] for k in ("rebounds_v1", "assists_v1", "threes_v1", "pra_v1")
    )
    for i, row in reb.iterrows():
        games = history.get(int(row["player_id"]))
        if games is None:
            continue
        before = games[games["game_date"] < pd.Timestamp(row["game_date"]).date()]
        if len(before) < 2:
            continue
        last5, last10, last20 = before.tail(5), before.tail(10), before.tail(20)
        check("rebounds_avg_last_5", last5["reb"].mean(), reb, i)
        check("rebounds_avg_last_20", last20["reb"].mean(), reb, i)
        check("rebounds_std_last_10", last10["reb"].std(ddof=1), reb, i)
        check("rebounds_per_minute_last_10", last10["reb"].sum() / last10["minutes"].sum(), reb, i)
        check("oreb_avg_last_10", last10["oreb"].mean(), reb, i)
        check("dreb_avg_last_10", last10["dreb"].mean(), reb, i)
        check("assists_avg_last_10", last10["ast"].mean(), ast, i)
        check("threes_avg_last_3", before.tail(3)["fg3m"].mean(), threes, i)
        check("fg3a_avg_last_10", last10["fg3a"].mean(), threes, i)
        if last20["fg3a"].sum() > 0:
            check("fg3_pct_last_20", last20["fg3m"].sum() / last20["fg3a"].sum(), threes, i)
        check("pra_avg_last_10", last10["pra"].mean(), pra, i)
        check("points_avg_last_10", last10["points"].mean(), pra, i)
        season = before[before["season"] == row["season"]]
        if before["season"].iloc[-1] == row["season"]:
            check("pra_avg_season", season["pra"].mean(), pra, i)
            check("rebounds_avg_season", season["reb"].mean(), pra, i)
    for name, values in expected.items():
        assert len(values) > 300, name
        np.testing.assert_allclose(got[name], values, rtol=1e-9, atol=1e-12, err_msg=name)
    # the frames agree with each other on shared features (one spine, one state)
    pd.testing.assert_series_equal(reb["minutes_avg_last_10"], pra["minutes_avg_last_10"])


def test_opponent_allowed_is_what_the_opponents_last_ten_opponents_put_up(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]
) -> None:
    tg = con.execute(
        "SELECT a.team, a.game_date, b.oreb + b.dreb AS reb, b.ast, b.fg3m, b.points "
        "FROM core.team_game a JOIN core.team_game b ON b.game_id = a.game_id AND b.team <> a.team "
        "WHERE a.season_type IN ('regular', 'playoffs') AND a.game_date < ? "
        "ORDER BY a.team, a.game_date",
        [DAYS[-1]],
    ).df()
    tg["game_date"] = pd.to_datetime(tg["game_date"]).dt.date
    by_team = dict(tuple(tg.groupby("team")))
    reb, pra, threes = frames["rebounds_v1"], frames["pra_v1"], frames["threes_v1"]
    checked = 0
    for i, row in reb.iterrows():
        games = by_team[row["opponent"]]
        last10 = games[games["game_date"] < pd.Timestamp(row["game_date"]).date()].tail(10)
        assert len(last10) == 10
        assert reb.loc[i, "opponent_rebounds_allowed_last_10"] == pytest.approx(
            last10["reb"].mean(), rel=1e-12
        )
        assert pra.loc[i, "opponent_pra_allowed_last_10"] == pytest.approx(
            (last10["points"] + last10["reb"] + last10["ast"]).mean(), rel=1e-12
        )
        assert threes.loc[i, "opponent_threes_allowed_last_10"] == pytest.approx(
            last10["fg3m"].mean(), rel=1e-12
        )
        checked += 1
    assert checked > 400
    assert reb["opponent_rebounds_allowed_last_10"].between(35, 55).all()
    assert reb["opponent_rebounds_allowed_last_10__defaulted"].sum() == 0


def test_vacated_rebounds_and_assists_follow_the_vacated_minutes(
    frames: dict[str, pd.DataFrame],
) -> None:
    f = frames["rebounds_v1"]
    known = f[f["availability_report_known"] == 1]
    assert len(known) > 300
    none_out = known["vacated_minutes"] == 0
    assert (known.loc[none_out, "vacated_rebounds_share"] == 0).all()
    assert (known.loc[none_out, "vacated_assists_share"] == 0).all()
    some_out = known[known["vacated_minutes"] > 10]
    assert len(some_out) > 50
    assert (some_out["vacated_rebounds_share"] > 0).mean() > 0.95
    assert (some_out["vacated_assists_share"] > 0).mean() > 0.95
    assert f["vacated_rebounds_share"].between(0, 2).all()
    # the more minutes out, the more rebounds vacated
    assert np.corrcoef(some_out["vacated_minutes"], some_out["vacated_rebounds_share"])[0, 1] > 0.5
    unknown = f[f["availability_report_known"] == 0]
    assert unknown["vacated_rebounds_share__defaulted"].all()
