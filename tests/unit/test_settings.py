"""Settings in groups: every ``NBAPROPS_<NAME>`` lands in its group's field of the same
name, every default is the documented one, a bad value is refused naming its variable,
and the groups are frozen."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from nbaprops.core.settings import GROUP_OF, GROUPS, Settings, get_settings

# Each group's settings and their documented defaults (README, docs/reference.md, deploy/).
DOCUMENTED: dict[str, dict[str, Any]] = {
    "paths": {
        "data_dir": Path("../shared/data"),
        "db": Path("data/nbaprops.duckdb"),
        "archive_dir": None,
        "live_dir": None,
        "aliases_file": None,
        "runs_dir": Path("runs"),
        "artifacts_dir": None,
    },
    "http": {
        "odds_api_key_env": "ODDS_API_KEY",
        "odds_api_base_url": "https://api.the-odds-api.com",
        "odds_api_regions": "us",
        "nba_api_delay_s": 0.7,
        "nba_schedule_url": "https://cdn.nba.com/static/json/staticData/scheduleLeagueV2.json",
        "http_retries": 3,
        "http_timeout_s": 30.0,
    },
    "ingest": {
        "ingest_price_min": -10000.0,
        "ingest_price_max": 10000.0,
        "ingest_max_decompressed_bytes": 2147483648,
        "ingest_max_compression_ratio": 200.0,
        "ingest_max_replace_loss": 0.2,
        "quote_min_two_way": 0.95,
    },
    "models": {
        "decision_minutes_before_tip": 30,
        "fit_workers": 2,
        "market_workers": 2,
        "sweep_workers": 2,
        "mlflow_tracking_uri": None,
        "promotion_min_rows": 300,
        "promotion_max_ece": 0.03,
    },
    "freshness": {
        "freshness_max_box_score_age_days": 3,
        "freshness_max_line_age_hours": 6.0,
    },
    "betting": {
        "ev_margin": 0.02,
        "kelly_fraction": 0.25,
        "unit_share": 0.01,
    },
    "picks": {
        "signal_min_games": 4,
        "signal_red_over_share": 0.25,
        "signal_yellow_over_share": 0.45,
        "signal_min_high_edge": 3,
        "high_edge_points": 3.0,
        "skew_under_share": 0.35,
        "skew_over_share": 0.65,
        "picks_system": None,
        "picks_max_per_day": 10,
        "picks_max_per_team": 2,
        "picks_max_per_game": 2,
        "picks_max_markets_per_player": 1,
        "picks_min_edge": 1.0,
        "picks_min_record_bets": 100,
        "picks_max_bet_share": 0.02,
        "picks_max_slate_share": 0.06,
        "picks_red_multiplier": 0.5,
        "availability_block_statuses": ("Out", "Doubtful", "Questionable"),
    },
    "slips": {
        "slips_payouts_file": None,
        "slips_default_type": "prizepicks_flex_6",
        "slips_same_game": "price",
        "slips_game_correlation": 0.02,
        "slips_min_margin": 0.02,
        "slips_max_per_date": 3,
    },
    "breakout": {
        "breakout_min_season_avg": 6.0,
        "breakout_max_season_avg": 20.0,
        "breakout_min_season_games": 5,
        "breakout_multiplier": 1.75,
        "breakout_high": 0.769,
        "breakout_medium": 0.5,
    },
    "alerts": {
        "retrain_cadence_days": 7,
        "alert_stale_factor": 2.0,
        "alert_critical_beat_share": 0.42,
        "alert_critical_hit_rate": 0.5,
        "alert_warn_beat_share": 0.45,
        "alert_warn_hit_rate": 0.524,
        "alert_warn_drift": 40.0,
        "alert_min_graded_share": 0.8,
        "alert_min_bets": 30,
        "alert_min_graded_bets": 100,
        "alert_webhook_url": None,
        "alert_webhook_timeout_s": 5.0,
        "picks_webhook_url": None,
        "picks_webhook_format": "json",
        "picks_webhook_timeout_s": 5.0,
    },
    "api": {"api_token": None},
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in GROUP_OF:
        monkeypatch.delenv(f"NBAPROPS_{name.upper()}", raising=False)
    return monkeypatch


def _other_value(name: str, default: Any) -> tuple[str, Any]:
    """A valid value unlike the default: (the variable's text, the value it parses to)."""
    if name == "picks_webhook_format":
        return "slack", "slack"
    if name == "slips_same_game":
        return "refuse", "refuse"
    if name == "availability_block_statuses":
        return '["Out"]', ("Out",)
    if name == "api_token":
        return "s3cret", "s3cret"
    if isinstance(default, bool):
        raise AssertionError(name)
    if isinstance(default, int):
        return str(default + 1), default + 1
    if isinstance(default, float):
        return str(default * 0.9), default * 0.9
    if name.endswith(("_dir", "_file")) or name == "db":
        return f"/elsewhere/{name}", Path(f"/elsewhere/{name}")
    return f"x-{name}", f"x-{name}"


def test_every_setting_has_one_group_and_the_groups_are_the_documented_ones() -> None:
    assert list(GROUPS) == list(DOCUMENTED)
    assert {name: group for group, names in DOCUMENTED.items() for name in names} == GROUP_OF
    assert "default_date" not in GROUP_OF  # the demo date is the CLI's (cli.common.DEMO_DATE)


def test_the_defaults_are_the_documented_ones(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    for group, defaults in DOCUMENTED.items():
        assert dict(getattr(settings, group)) == defaults, group


@pytest.mark.parametrize("name", sorted(GROUP_OF))
def test_each_variable_reaches_its_group_field(clean_env: pytest.MonkeyPatch, name: str) -> None:
    group = GROUP_OF[name]
    text, expected = _other_value(name, DOCUMENTED[group][name])
    clean_env.setenv(f"NBAPROPS_{name.upper()}", text)
    got = getattr(getattr(Settings(), group), name)
    got = got.get_secret_value() if isinstance(got, SecretStr) else got
    assert got == pytest.approx(expected) if isinstance(expected, float) else got == expected
    assert got != DOCUMENTED[group][name]
    # a keyword value wins over the variable (the CLI's --db and --data-dir use this)
    if name == "db":
        assert get_settings(db=Path("mine.duckdb")).paths.db == Path("mine.duckdb")


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("NBAPROPS_KELLY_FRACTION", "1.5"),
        ("NBAPROPS_HTTP_RETRIES", "many"),
        ("NBAPROPS_BREAKOUT_MULTIPLIER", "1"),
        ("NBAPROPS_PICKS_WEBHOOK_FORMAT", "xml"),
        ("NBAPROPS_INGEST_MAX_REPLACE_LOSS", "1.5"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(
    clean_env: pytest.MonkeyPatch, variable: str, text: str
) -> None:
    clean_env.setenv(variable, text)
    with pytest.raises(ValidationError) as err:
        Settings()
    name = variable.removeprefix("NBAPROPS_").lower()
    assert [e["loc"] for e in err.value.errors()] == [(name,)]
    assert err.value.title == "Settings"
    clean_env.delenv(variable)
    with pytest.raises(ValidationError) as again:  # the same name as a keyword value
        Settings(**{name: text})
    assert [e["loc"] for e in again.value.errors()] == [(name,)]


def test_replace_validates_and_keeps_the_rest(clean_env: pytest.MonkeyPatch) -> None:
    base = Settings(db=Path("w.duckdb"), kelly_fraction=0.1)
    changed = base.replace(picks_max_per_day=3)
    assert changed.picks.picks_max_per_day == 3
    assert changed.betting.kelly_fraction == 0.1
    assert changed.paths.db == Path("w.duckdb")
    assert base.picks.picks_max_per_day == 10
    clean_env.setenv("NBAPROPS_UNIT_SHARE", "0.5")  # replace does not read the environment
    assert base.replace(ev_margin=0.0).betting.unit_share == 0.01
    with pytest.raises(ValidationError) as err:
        base.replace(kelly_fraction=2)
    assert [e["loc"] for e in err.value.errors()] == [("kelly_fraction",)]


def test_unknown_names_and_flat_copies_are_refused(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(TypeError, match="unknown setting"):
        Settings(default_date="2024-04-12")
    with pytest.raises(TypeError, match="unknown setting"):
        Settings().replace(kely_fraction=0.1)
    with pytest.raises(TypeError, match=r"Settings\.replace"):
        Settings().model_copy(update={"kelly_fraction": 0.1})


def test_settings_and_groups_are_frozen_and_travel_to_workers(
    clean_env: pytest.MonkeyPatch,
) -> None:
    settings = Settings(kelly_fraction=0.1)
    with pytest.raises(ValidationError):
        settings.betting.kelly_fraction = 0.5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        settings.betting = settings.betting  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert settings.flat()["kelly_fraction"] == 0.1
    assert Settings(**settings.flat()) == settings
