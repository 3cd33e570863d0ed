"""The catalog and feature sets, and the drift statistics, on small inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nbaprops.core.errors import NbapropsError
from nbaprops.features.catalog import (
    BREAKOUT_V1,
    CATALOG,
    FEATURE_SETS,
    FEATURES,
    GROUPS,
    POINTS_V1,
    get_feature_set,
)
from nbaprops.features.checks import (
    drift_report,
    feature_drift,
    population_stability_index,
)

POINTS_V1_DIGEST = "5166755bcb1a"  # sha256 of the ordered names, frozen at release


def test_every_feature_is_declared_once_with_a_group_default_and_description() -> None:
    names = [f.name for f in CATALOG]
    assert len(names) == len(set(names))
    for f in CATALOG:
        assert f.group in GROUPS, f.name
        assert f.description.strip(), f.name
        assert np.isfinite(f.default), f.name


def test_feature_sets_only_use_catalog_features() -> None:
    for fs in FEATURE_SETS.values():
        assert set(fs.features) <= set(FEATURES), fs.key
        assert len(fs.features) == len(set(fs.features))


def test_breakout_v1_has_exactly_ten_features_in_fixed_order() -> None:
    assert BREAKOUT_V1.key == "breakout_v1"
    assert BREAKOUT_V1.features == (
        "pts_vs_season_zscore",
        "points_std_last_10",
        "explosion_ratio",
        "days_since_breakout",
        "opponent_def_rating",
        "home_away",
        "back_to_back",
        "points_avg_last_5",
        "points_avg_season",
        "minutes_avg_last_10",
    )


def test_points_v1_covers_what_the_issue_asks_for() -> None:
    wanted = {
        "points_avg_last_3",
        "points_avg_last_5",
        "points_avg_last_10",
        "points_avg_season",
        "points_std_last_10",
        "minutes_avg_last_10",
        "minutes_std_last_10",
        "points_per_minute_last_10",
        "usage_proxy_last_10",
        "fga_per_minute_last_10",
        "fta_per_minute_last_10",
        "fg3a_per_minute_last_10",
        "points_trend_slope_last_10",
        "pts_vs_season_zscore",
        "games_last_7_days",
        "minutes_last_7_days",
        "days_rest",
        "back_to_back",
        "rest_advantage",
        "home_away",
        "playoff_game",
        "games_since_team_change",
        "opponent_def_rating",
        "opponent_def_rating_last_15",
        "opponent_pace_last_10",
        "team_pace_last_10",
        "team_off_rating_last_10",
        "team_win_pct",
        "h2h_points_avg_365",
        "h2h_games_365",
        "dnp_rate_last_10",
        "game_total",
        "team_spread",
        "implied_team_total",
        "points_line",
        "has_line",
        "line_minus_season_avg",
        "over_rate_last_10_lined",
        "mean_actual_minus_line_last_5",
        "teammates_out_minutes",
    }
    assert wanted <= set(POINTS_V1.features)
    assert POINTS_V1.key == "points_v1"


def test_an_unknown_feature_set_is_a_clear_error() -> None:
    with pytest.raises(NbapropsError, match="unknown feature set 'points_v9'"):
        get_feature_set("points_v9")


def test_ks_is_used_below_1000_rows_and_flags_a_shift() -> None:
    rng = np.random.default_rng(7)
    same = feature_drift("x", rng.normal(0, 1, 400), rng.normal(0, 1, 400))
    moved = feature_drift("x", rng.normal(0, 1, 400), rng.normal(0.6, 1, 400))
    assert same.method == moved.method == "ks"
    assert not same.drifted
    assert moved.drifted
    assert moved.p_value is not None
    assert moved.p_value < 0.05


def test_wasserstein_is_used_above_1000_rows_in_reference_sd_units() -> None:
    rng = np.random.default_rng(8)
    small = feature_drift("x", rng.normal(0, 2, 5000), rng.normal(0.1, 2, 5000))
    large = feature_drift("x", rng.normal(0, 2, 5000), rng.normal(1.0, 2, 5000))
    assert small.method == "wasserstein"
    assert not small.drifted  # 0.05 sd
    assert large.drifted  # 0.5 sd
    assert 0.4 < large.statistic < 0.6


def test_psi_is_zero_for_identical_samples_and_grows_with_shift() -> None:
    rng = np.random.default_rng(9)
    ref = rng.normal(0, 1, 5000)
    assert population_stability_index(ref, ref) == pytest.approx(0.0, abs=1e-9)
    assert population_stability_index(ref, ref + 1.0) > 0.25
    assert np.isfinite(population_stability_index(np.zeros(100), np.ones(100)))


def test_dataset_drift_needs_half_the_features() -> None:
    rng = np.random.default_rng(10)
    ref = pd.DataFrame({c: rng.normal(0, 1, 3000) for c in "abcd"})
    cur = ref.copy()
    cur["a"] += 1.0
    assert not drift_report(ref, cur, list("abcd")).dataset_drift
    cur["b"] += 1.0
    report = drift_report(ref, cur, list("abcd"))
    assert report.n_drifted == 2
    assert report.dataset_drift


def test_a_published_feature_set_never_changes() -> None:
    """Models are bound to a set's exact ordered list; new features go in a new version."""
    import hashlib

    digest = hashlib.sha256("|".join(POINTS_V1.features).encode()).hexdigest()[:12]
    assert len(POINTS_V1.features) == 42
    assert digest == POINTS_V1_DIGEST
    v2 = get_feature_set("points_v2")
    assert v2.features[: len(POINTS_V1.features)] == POINTS_V1.features


def test_state_definitions_are_part_of_the_state_fingerprint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import duckdb

    from nbaprops.features import state
    from nbaprops.warehouse.migrate import migrate

    con = duckdb.connect()
    migrate(con)
    state.refresh_state(con)
    assert state.state_is_fresh(con)
    monkeypatch.setattr(state, "STATE_DEFINITION_HASH", "changed-definition")
    assert not state.state_is_fresh(con)
    assert state.refresh_state(con)
    assert state.state_is_fresh(con)


def test_a_state_is_rebuilt_only_when_a_core_table_it_reads_was() -> None:
    """New quotes rebuild the line record alone; a box-score rebuild every state that reads
    box scores; a core table no state reads (game lines) none."""
    import duckdb

    from nbaprops.features import state
    from nbaprops.warehouse.migrate import migrate

    con = duckdb.connect()
    migrate(con)
    assert state.stale_states(con) == list(state.STATE_TABLES)
    assert state.refresh_state(con)
    assert state.stale_states(con) == []
    assert not state.refresh_state(con)

    def built(table: str, when: str) -> None:
        con.execute("INSERT INTO core.build_log VALUES (?, ?, 0, 0.0)", [table, when])

    built("core.game_line", "2030-01-01 00:00:00+00")
    assert state.state_is_fresh(con)
    built("core.prop_line", "2030-01-02 00:00:00+00")
    assert state.stale_states(con) == ["features.lined_state"]
    con.execute("INSERT INTO features.lined_state VALUES (1, DATE '2024-01-01', 1, 1, 1)")
    con.execute("INSERT INTO features.team_state (team) VALUES ('XXX')")
    assert state.refresh_state(con)
    assert state.state_is_fresh(con)
    # the line record was rebuilt (the stray row gone), the team histories were not
    assert con.execute("SELECT count(*) FROM features.lined_state").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM features.team_state").fetchone() == (1,)
    built("core.player_game", "2030-01-03 00:00:00+00")
    assert state.stale_states(con) == [
        "features.player_state",
        "features.team_absence",
        "features.lined_state",
    ]
    assert state.refresh_state(con, force=True)
    assert con.execute("SELECT count(*) FROM features.team_state").fetchone() == (0,)
