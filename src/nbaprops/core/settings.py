"""Settings read from the environment (prefix ``NBAPROPS_``) and CLI options."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# A prediction's decision time: tip-off minus this many minutes (settings and specs).
DEFAULT_DECISION_MINUTES = 30


class Settings(BaseSettings):
    """Where data lives and how live sources are reached.

    Every value can be overridden by an environment variable ``NBAPROPS_<NAME>``;
    the CLI's ``--db`` and ``--data-dir`` options win over both.
    """

    model_config = SettingsConfigDict(env_prefix="NBAPROPS_", extra="ignore")

    data_dir: Path = Field(
        default=Path("../shared/data"),
        description="Folder of source files in their public formats (nba_api, Odds API, ...).",
    )
    db: Path = Field(default=Path("data/nbaprops.duckdb"), description="DuckDB warehouse file.")
    archive_dir: Path | None = Field(
        default=None,
        description="Where raw files are archived by content hash (default: beside the db).",
    )
    live_dir: Path | None = Field(
        default=None,
        description="Where live fetches write their raw files (default: beside the db, live/).",
    )
    odds_api_key_env: str = Field(
        default="ODDS_API_KEY", description="Name of the env variable holding The Odds API key."
    )
    odds_api_base_url: str = "https://api.the-odds-api.com"
    odds_api_regions: str = "us"
    nba_api_delay_s: float = Field(default=0.7, description="Pause between nba_api requests.")
    nba_schedule_url: str = Field(
        default="https://cdn.nba.com/static/json/staticData/scheduleLeagueV2.json",
        description="The NBA's public season schedule JSON (tip-off times) `fetch` reads.",
    )
    http_retries: int = 3
    http_timeout_s: float = 30.0
    aliases_file: Path | None = Field(
        default=None, description="Extra player aliases CSV (book_name,nba_name) merged in."
    )
    # --- what the loader lets in (nbaprops.ingest.limits.IngestLimits) -------------------
    ingest_price_min: float = Field(
        default=-10000.0,
        lt=-100,
        allow_inf_nan=False,
        description="Lowest sane American price; a quote below it is quarantined.",
    )
    ingest_price_max: float = Field(
        default=10000.0,
        gt=100,
        allow_inf_nan=False,
        description="Highest sane American price; a quote above it is quarantined.",
    )
    ingest_max_decompressed_bytes: int = Field(
        default=2 * 1024**3,
        gt=0,
        description="A file larger than this once decompressed is refused before it is "
        "held in memory.",
    )
    ingest_max_compression_ratio: float = Field(
        default=200.0,
        gt=1,
        allow_inf_nan=False,
        description="A gzip decompressing to more than this x its size is refused (judged "
        "past 16 MiB; the real data's largest ratio is about 33).",
    )
    ingest_max_replace_loss: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="A changed file may drop at most this share of its earlier rows (and "
        "keep their season) unless ingest is given --replace.",
    )

    runs_dir: Path = Field(
        default=Path("runs"), description="Where backtest / experiment run folders go."
    )

    artifacts_dir: Path | None = Field(
        default=None,
        description="Where registered model artefacts go (default: beside the db, artifacts/).",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="When set, every experiment run is also logged to this MLflow tracking URI.",
    )
    promotion_min_rows: int = Field(
        default=300,
        ge=1,
        description="Graded lined rows a candidate needs before it may become champion.",
    )
    promotion_max_ece: float = Field(
        default=0.03, gt=0, description="Largest ECE of P(over) a champion may have."
    )
    sweep_workers: int = Field(default=2, ge=1, description="Local Dask workers of a sweep.")
    fit_workers: int = Field(
        default=2,
        ge=1,
        description="Systems a walk-forward fold fits side by side (same predictions, "
        "less wall time; 1 fits them one after another).",
    )
    decision_minutes_before_tip: int = Field(
        default=DEFAULT_DECISION_MINUTES,
        ge=0,
        description="A prediction uses only quotes seen this many minutes before tip-off.",
    )
    # --- freshness gates: predict refuses a date whose data is stale (issue 23) ---------
    freshness_max_box_score_age_days: int = Field(
        default=3,
        ge=0,
        description="predict refuses a date when league games more than this many days "
        "before it have no box scores (the newest box score is older than the schedule "
        "says it should be; a season's first days and breaks such as the All-Star break, "
        "when no team played, never count).",
    )
    freshness_max_line_age_hours: float = Field(
        default=6.0,
        gt=0,
        description="predict refuses a live date (today or later, US/Eastern) whose newest "
        "prop-line snapshot is older than this many hours, or whose slate has no real line.",
    )

    default_date: date = Field(
        default=date(2024, 4, 12),
        description="The date `run daily` predicts without --date: 15 games with real "
        "sportsbook lines in the shared data, so the main job works on a fresh machine.",
    )
    ev_margin: float = Field(
        default=0.02,
        ge=0,
        lt=1,
        description="Call a side only when its expected value per unit exceeds this; bet "
        "it only when its calibrated expected value does too.",
    )
    # --- the slate signal (per system per date) and best bets --------------------------
    signal_min_games: int = Field(
        default=4, ge=0, description="RED when the slate has this many games or fewer."
    )
    signal_red_over_share: float = Field(
        default=0.25, ge=0, le=1, description="RED when fewer than this share of bets are OVER."
    )
    signal_yellow_over_share: float = Field(
        default=0.45, ge=0, le=1, description="YELLOW when more than this share are OVER."
    )
    signal_min_high_edge: int = Field(
        default=3, ge=0, description="YELLOW with fewer high-edge bets than this."
    )
    high_edge_points: float = Field(
        default=3.0, gt=0, description="A bet is high-edge when |median - line| >= this."
    )
    skew_under_share: float = Field(
        default=0.35, ge=0, le=1, description="UNDER_HEAVY below this share of OVER bets."
    )
    skew_over_share: float = Field(
        default=0.65, ge=0, le=1, description="OVER_HEAVY above this share of OVER bets."
    )
    picks_system: str | None = Field(
        default=None,
        description="The system whose champion drives picks (default: the latest champion).",
    )
    picks_max_per_day: int = Field(default=10, ge=1, description="Most best bets per date.")
    availability_block_statuses: tuple[str, ...] = Field(
        default=("Out", "Doubtful", "Questionable"),
        description="Injury-report statuses at decision time that are never bet (the gate); "
        'env as JSON, e.g. \'["Out", "Doubtful"]\'.',
    )
    picks_max_per_team: int = Field(default=2, ge=1, description="Most best bets per team.")
    picks_min_edge: float = Field(
        default=1.0, ge=0, description="Least |median - line| for a best bet."
    )
    picks_max_per_game: int = Field(default=2, ge=1, description="Most bets per game.")
    picks_min_record_bets: int = Field(
        default=100,
        ge=0,
        description="Comparable graded bets (same line kind, side, calibrated-EV bucket) a "
        "pick needs before it is staked; fewer: watchlist.",
    )
    kelly_fraction: float = Field(
        default=0.25, gt=0, le=1, description="Fraction of the Kelly stake a pick shows."
    )
    picks_max_bet_share: float = Field(
        default=0.02, gt=0, le=1, description="Largest stake of one bet, share of bankroll."
    )
    picks_max_slate_share: float = Field(
        default=0.06,
        gt=0,
        le=1,
        description="Largest total stake of one slate, share of bankroll (scaled down).",
    )
    quote_min_two_way: float = Field(
        default=0.95,
        gt=0,
        le=1.0,
        description=(
            "Floor on a prop quote's two implied probabilities summed (vig included): a "
            "pair under it is quarantined (no real book pays out more than it takes in)."
        ),
    )
    picks_red_multiplier: float = Field(
        default=0.5, ge=0, le=1, description="Stakes on a RED slate are multiplied by this."
    )
    unit_share: float = Field(
        default=0.01, gt=0, le=1, description="One unit (a flat stake), share of bankroll."
    )
    # --- the breakout classifier (shadow) ---------------------------------------------
    breakout_min_season_avg: float = Field(
        default=6.0, ge=0, description="Role players: pre-game season average at least this."
    )
    breakout_max_season_avg: float = Field(
        default=20.0, gt=0, description="Role players: pre-game season average at most this."
    )
    breakout_min_season_games: int = Field(
        default=5, ge=1, description="Games this season before one counts for the breakout scope."
    )
    breakout_multiplier: float = Field(
        default=1.75, gt=1, description="A breakout: points >= this x the pre-game season average."
    )
    breakout_high: float = Field(
        default=0.769, gt=0, lt=1, description="Breakout risk score of a HIGH-risk player."
    )
    breakout_medium: float = Field(
        default=0.5, gt=0, lt=1, description="Breakout risk score of a MEDIUM-risk player."
    )

    # --- diagnostics and alerts (nbaprops diagnose, the daily run's diagnose phase) -------
    retrain_cadence_days: int = Field(
        default=7, ge=1, description="How often the champion is meant to be retrained."
    )
    alert_stale_factor: float = Field(
        default=2.0, gt=0, description="WARNING when the champion is older than this x cadence."
    )
    alert_critical_beat_share: float = Field(
        default=0.42, ge=0, le=1, description="CRITICAL below this share of games beating the line"
    )
    alert_critical_hit_rate: float = Field(
        default=0.50, ge=0, le=1, description="... and a 7-day hit rate below this."
    )
    alert_warn_beat_share: float = Field(
        default=0.45, ge=0, le=1, description="WARNING below this share beating the line."
    )
    alert_warn_hit_rate: float = Field(
        default=0.524, ge=0, le=1, description="WARNING below this 7-day hit rate (-110 even)."
    )
    alert_warn_drift: float = Field(
        default=40.0, ge=0, le=100, description="WARNING at or above this drift score."
    )
    alert_min_graded_share: float = Field(
        default=0.80, ge=0, le=1, description="WARNING below this graded share of a date."
    )
    alert_min_bets: int = Field(
        default=30, ge=1, description="Fewer 7-day bets than this: the cause is sample size."
    )
    alert_min_graded_bets: int = Field(
        default=100,
        ge=1,
        description="A model-performance alert (hit rate, beating the line, drift) resting "
        "on fewer graded bets than this is raised as INFO, never WARNING or CRITICAL.",
    )
    alert_webhook_url: str | None = Field(
        default=None, description="When set, new alerts are also POSTed here as JSON."
    )
    alert_webhook_timeout_s: float = Field(default=5.0, gt=0)
    picks_webhook_url: str | None = Field(
        default=None,
        description="When set, each predicted slate's champion picks (or 'no bets today') "
        "are POSTed here after `predict` and the daily run's predict phase.",
    )
    picks_webhook_format: Literal["json", "slack"] = Field(
        default="json", description="json: the picks as data; slack: text + blocks."
    )
    picks_webhook_timeout_s: float = Field(default=5.0, gt=0)

    # --- the HTTP API (nbaprops serve) ------------------------------------------------
    api_token: SecretStr | None = Field(
        default=None,
        description="Bearer token every API request must carry; required to bind a "
        "non-loopback address.",
    )

    def resolved_artifacts_dir(self) -> Path:
        return self.artifacts_dir or self.db.parent / "artifacts"

    def resolved_archive_dir(self) -> Path:
        return self.archive_dir or self.db.parent / "archive"

    def resolved_live_dir(self) -> Path:
        return self.live_dir or self.db.parent / "live"


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with non-None overrides applied."""
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)  # type: ignore[arg-type]
