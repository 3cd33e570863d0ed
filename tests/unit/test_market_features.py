"""Every market's features (issue 26): generated from the market catalog, on tiny inputs."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import duckdb
import pytest

from nbaprops.core.markets import MARKET_CATALOG, get_market
from nbaprops.features import state
from nbaprops.features.catalog import (
    CATALOG_AVAILABILITY,
    FEATURE_SETS,
    FEATURES,
    MARKET_FEATURE_SETS,
    POINTS_V2,
    POINTS_V3,
    get_feature_set,
)
from nbaprops.warehouse.migrate import migrate

OTHER_MARKETS = [m for m in MARKET_CATALOG if m != "points"]
# Features that read the points lines or the points record against them.
POINTS_LINE_FEATURES = {
    "points_line",
    "has_line",
    "line_minus_season_avg",
    "over_rate_last_10_lined",
    "mean_actual_minus_line_last_5",
    "board_missing_team",
    "board_missing_opponent",
    "line_move_since_open",
    "book_line_spread",
    "n_books_quoting",
}


def _digest(names: tuple[str, ...]) -> str:
    return hashlib.sha256("|".join(names).encode()).hexdigest()[:12]


def test_the_points_sets_are_untouched() -> None:
    for key in ("points_v1", "points_v2", "points_v3", "breakout_v1"):
        assert FEATURE_SETS[key].market == "points"
    assert len(POINTS_V2.features) == 49
    assert len(POINTS_V3.features) == 68
    assert _digest(POINTS_V2.features) == "9fa19478293e"
    assert _digest(POINTS_V3.features) == "d87de0200218"


@pytest.mark.parametrize("name", OTHER_MARKETS)
def test_each_market_has_its_v1_set_of_catalog_features(name: str) -> None:
    market = get_market(name)
    fs = get_feature_set(market.feature_set)
    assert fs.key == f"{name}_v1" == market.feature_set
    assert fs.market == name
    assert set(fs.features) <= set(FEATURES)
    assert len(fs.features) == len(set(fs.features))
    own = [
        f"{name}_avg_last_3",
        f"{name}_avg_last_5",
        f"{name}_avg_last_10",
        f"{name}_avg_last_20",
        market.season_avg_feature,
        market.std_feature,
        f"{name}_per_minute_last_10",
        f"opponent_{name}_allowed_last_10",
        f"{name}_line",
        f"has_{name}_line",
        f"{name}_line_minus_season_avg",
    ]
    assert list(fs.features[: len(own)]) == own
    for component in market.components:
        assert f"{component}_avg_last_10" in fs.features
        assert get_market(component).season_avg_feature in fs.features
    assert not POINTS_LINE_FEATURES & set(fs.features)
    assert {"vacated_rebounds_share", "vacated_assists_share", "minutes_avg_last_10"} <= set(
        fs.features
    )
    assert {f.name for f in CATALOG_AVAILABILITY if f.group == "availability"} <= set(fs.features)
    for f in fs.definitions():  # the history and line read the market's own columns
        if f.name.startswith(f"{name}_avg_last_"):
            assert f.sql == f"ps.{name}_avg_{f.name.rsplit('_', 1)[1]}"
    line = FEATURES[f"{name}_line"]
    assert line.sql == "pl.line"
    assert not line.required
    assert FEATURES[f"has_{name}_line"].sql == "CASE WHEN pl.line IS NULL THEN 0 ELSE 1 END"


def test_market_sets_cover_every_other_market_once() -> None:
    assert sorted(fs.market for fs in MARKET_FEATURE_SETS) == sorted(OTHER_MARKETS)
    assert FEATURES["threes_avg_last_10"].default == 1.0
    assert FEATURES["pra_avg_last_10"].default == 13.0  # points 8 + rebounds 3 + assists 2
    assert FEATURES["opponent_ra_allowed_last_10"].sql == "os.allowed_reb_10 + os.allowed_ast_10"
    assert {"oreb_avg_last_10", "dreb_avg_last_10"} <= set(FEATURE_SETS["rebounds_v1"].features)
    assert {"fg3a_avg_last_10", "fg3_pct_last_20"} <= set(FEATURE_SETS["threes_v1"].features)


def _team_game(con: duckdb.DuckDBPyConnection, day: date, gid: str, team: str, **v: int) -> None:
    con.execute(
        "INSERT INTO core.team_game (game_id, season, season_type, game_date, team_id, team, "
        "opponent, home, won, minutes, points, opp_points, possessions, opp_possessions, fga, "
        "fta, tov, oreb, dreb, ast, fg3m, pace, off_rating, def_rating) VALUES (?, '2023-24', "
        "'regular', ?, 1, ?, 'X', true, true, 240, ?, 0, 100, 100, 80, 20, 12, ?, ?, ?, ?, 100, "
        "110, 110)",
        [gid, day, team, v["points"], v["oreb"], v["dreb"], v["ast"], v["fg3m"]],
    )


def test_state_columns_on_a_tiny_season() -> None:
    """Two teams play each other four times; one player of A: his rolling market columns
    and what A's opponents put up (B's box scores) are the plain arithmetic of the games."""
    con = duckdb.connect()
    migrate(con)
    start = date(2024, 1, 1)
    reb = [4, 10, 6, 8]
    ast = [1, 3, 5, 7]
    fg3m = [0, 2, 1, 3]
    fg3a = [2, 4, 4, 6]
    for i in range(4):
        day, gid = start + timedelta(days=2 * i), f"g{i}"
        _team_game(con, day, gid, "A", points=100, oreb=10, dreb=30, ast=20, fg3m=10)
        _team_game(con, day, gid, "B", points=90 + i, oreb=5 + i, dreb=35, ast=22 + i, fg3m=12)
        con.execute(
            "INSERT INTO core.player_game (season, season_type, game_id, game_date, player_id, "
            "player_name, team_id, team, opponent, home, source, minutes, points, fga, fta, tov, "
            "fg3m, fg3a, oreb, dreb, reb, ast, blk) VALUES ('2023-24', 'regular', ?, ?, 1, 'P', "
            "1, 'A', 'B', true, 'test', 20, 10, 8, 2, 1, ?, ?, 1, ?, ?, ?, 0)",
            [gid, day, fg3m[i], fg3a[i], reb[i] - 1, reb[i], ast[i]],
        )
    state.refresh_state(con)
    rows = con.execute(
        "SELECT rebounds_avg_3, rebounds_season_avg, assists_avg_5, pra_avg_3, ra_per_min_10, "
        "threes_std_10, fg3_pct_20, oreb_avg_10, reb_share_10, ast_share_10 "
        "FROM features.player_state ORDER BY game_date"
    ).fetchall()
    last = rows[-1]
    assert last[0] == pytest.approx((10 + 6 + 8) / 3)
    assert last[1] == pytest.approx(7.0)
    assert last[2] == pytest.approx(4.0)
    assert last[3] == pytest.approx(10 + (10 + 6 + 8) / 3 + (3 + 5 + 7) / 3)
    assert last[4] == pytest.approx((28 + 16) / 80)
    assert last[5] == pytest.approx(1.2909944, rel=1e-6)  # sample std of 0, 2, 1, 3
    assert last[6] == pytest.approx(6 / 16)
    assert last[7] == pytest.approx(1.0)
    assert last[8] == pytest.approx(28 / 160)
    assert last[9] == pytest.approx(16 / 80)
    assert rows[0][0] == 4.0  # after his first game: that game alone
    allowed = con.execute(
        "SELECT team, allowed_points_10, allowed_reb_10, allowed_ast_10, allowed_fg3m_10 "
        "FROM features.team_state WHERE game_date = ? ORDER BY team",
        [start + timedelta(days=6)],
    ).fetchall()
    assert allowed[0] == ("A", pytest.approx(91.5), pytest.approx(41.5), 23.5, 12.0)
    assert allowed[1] == ("B", 100.0, 40.0, 20.0, 10.0)


def test_every_generated_state_column_exists() -> None:
    con = duckdb.connect()
    migrate(con)
    state.refresh_state(con)
    columns = {r[0] for r in con.execute("DESCRIBE features.player_state").fetchall()}
    for m in state.state_markets():
        for kind in state.MARKET_STATE_KINDS:
            assert state.market_state_column(m, kind) in columns
    team = {r[0] for r in con.execute("DESCRIBE features.team_state").fetchall()}
    assert {state.allowed_column(s) for s in ("points", "reb", "ast", "fg3m")} <= team
    with pytest.raises(KeyError):
        state.market_state_column(get_market("rebounds"), "avg_7")
