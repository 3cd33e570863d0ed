"""Settings read from the environment (prefix ``NBAPROPS_``) and CLI options, in groups.

Every setting keeps its flat name: the variable ``NBAPROPS_<NAME>`` sets it and
``Settings(name=...)`` overrides it, but code reads it through its group, e.g.
``settings.betting.kelly_fraction`` or ``settings.paths.db``.  The groups are frozen
models; the environment is read in one place, :class:`Settings`'s constructor (and
:func:`get_settings`), which only the entry points (CLI, API app factory, scripts)
call.  Domain code receives the settings, or one group, as a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, create_model
from pydantic_settings import BaseSettings, SettingsConfigDict

# A prediction's decision time: tip-off minus this many minutes (settings and specs).
DEFAULT_DECISION_MINUTES = 30


class _Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Paths(_Group):
    """Where data, runs and artefacts live."""

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
    aliases_file: Path | None = Field(
        default=None, description="Extra player aliases CSV (book_name,nba_name) merged in."
    )
    runs_dir: Path = Field(
        default=Path("runs"), description="Where backtest / experiment run folders go."
    )
    artifacts_dir: Path | None = Field(
        default=None,
        description="Where registered model artefacts go (default: beside the db, artifacts/).",
    )

    def resolved_artifacts_dir(self) -> Path:
        return self.artifacts_dir or self.db.parent / "artifacts"

    def resolved_archive_dir(self) -> Path:
        return self.archive_dir or self.db.parent / "archive"

    def resolved_live_dir(self) -> Path:
        return self.live_dir or self.db.parent / "live"


class Http(_Group):
    """How live sources (The Odds API, nba_api, the NBA's schedule) are reached."""

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


class Ingest(_Group):
    """What the loader lets in (nbaprops.ingest.limits.IngestLimits, the quote floor)."""

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
    quote_min_two_way: float = Field(
        default=0.95,
        gt=0,
        le=1.0,
        description=(
            "Floor on a prop quote's two implied probabilities summed (vig included): a "
            "pair under it is quarantined (no real book pays out more than it takes in)."
        ),
    )


class Models(_Group):
    """How systems are timed, fitted, tracked and promoted."""

    decision_minutes_before_tip: int = Field(
        default=DEFAULT_DECISION_MINUTES,
        ge=0,
        description="A prediction uses only quotes seen this many minutes before tip-off.",
    )
    fit_workers: int = Field(
        default=2,
        ge=1,
        description="Systems a walk-forward fold fits side by side (same predictions, "
        "less wall time; 1 fits them one after another).",
    )
    market_workers: int = Field(
        default=2,
        ge=1,
        description="Markets a backtest of several markets walks side by side, each in its "
        "own process (same figures, less wall time; 1 walks them one after another).",
    )
    sweep_workers: int = Field(default=2, ge=1, description="Local Dask workers of a sweep.")
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


class Freshness(_Group):
    """Freshness gates: predict refuses a date whose data is stale (issue 23)."""

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


class Betting(_Group):
    """When a side is bet, and the size of a stake (the Kelly fraction, one unit)."""

    ev_margin: float = Field(
        default=0.02,
        ge=0,
        lt=1,
        description="Call a side only when its expected value per unit exceeds this; bet "
        "it only when its calibrated expected value does too.",
    )
    kelly_fraction: float = Field(
        default=0.25, gt=0, le=1, description="Fraction of the Kelly stake a pick shows."
    )
    unit_share: float = Field(
        default=0.01, gt=0, le=1, description="One unit (a flat stake), share of bankroll."
    )


class Picks(_Group):
    """The slate signal (per system per date), which bets become best bets, and the caps on
    their stakes."""

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
    picks_max_per_team: int = Field(default=2, ge=1, description="Most best bets per team.")
    picks_max_per_game: int = Field(default=2, ge=1, description="Most bets per game.")
    picks_max_markets_per_player: int = Field(
        default=1,
        ge=1,
        description="Most bets on one player on one date across markets (a PRA bet and a "
        "points bet on the same night are one correlated bet).",
    )
    picks_min_edge: float = Field(
        default=1.0, ge=0, description="Least |median - line| for a best bet."
    )
    picks_min_record_bets: int = Field(
        default=100,
        ge=0,
        description="Comparable graded bets (same line kind, side, calibrated-EV bucket) a "
        "pick needs before it is staked, and their ROI at the prices taken must be above "
        "zero (a record that lost backs no bet); fewer, or a loss: watchlist. 0 requires "
        "no record at all.",
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
    picks_red_multiplier: float = Field(
        default=0.5, ge=0, le=1, description="Stakes on a RED slate are multiplied by this."
    )
    availability_block_statuses: tuple[str, ...] = Field(
        default=("Out", "Doubtful", "Questionable"),
        description="Injury-report statuses at decision time that are never bet (the gate); "
        'env as JSON, e.g. \'["Out", "Doubtful"]\'.',
    )


class Slips(_Group):
    """DFS pick'em slips (PrizePicks, Underdog): their payouts and how legs are priced
    (nbaprops.core.slips)."""

    slips_payouts_file: Path | None = Field(
        default=None,
        description="A JSON or YAML payout table replacing the built-in one (published "
        "payouts as of 2025; docs/slips.md gives its shape).",
    )
    slips_default_type: str = Field(
        default="prizepicks_flex_6",
        description="The slip type `nbaprops slips` prices when --type is not given.",
    )
    slips_same_game: Literal["price", "refuse"] = Field(
        default="price",
        description="Legs of one game: price them through the within-game correlation, "
        "or refuse them.",
    )
    slips_game_correlation: float = Field(
        default=0.02,
        ge=0,
        lt=1,
        description="Latent correlation of two legs of one game (Gaussian copula; an over "
        "with an under gets its negative); measured 0.014 on the real 2024-25 DFS lines.",
    )
    slips_min_margin: float = Field(
        default=0.02,
        ge=0,
        lt=1,
        description="A leg is suggested only when its calibrated P clears the slip type's "
        "break-even by this much.",
    )
    slips_max_per_date: int = Field(default=3, ge=1, description="Most slips suggested per date.")


class Breakout(_Group):
    """The breakout classifier (shadow)."""

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


class Alerts(_Group):
    """Diagnostics and alerts (nbaprops diagnose, the daily run's diagnose phase) and the
    webhooks that carry alerts and picks out."""

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


class Api(_Group):
    """The HTTP API (nbaprops serve)."""

    api_token: SecretStr | None = Field(
        default=None,
        description="Bearer token every API request must carry; required to bind a "
        "non-loopback address.",
    )


# Each group's attribute on Settings, in the order the groups are documented.
GROUPS: dict[str, type[_Group]] = {
    "paths": Paths,
    "http": Http,
    "ingest": Ingest,
    "models": Models,
    "freshness": Freshness,
    "betting": Betting,
    "picks": Picks,
    "slips": Slips,
    "breakout": Breakout,
    "alerts": Alerts,
    "api": Api,
}

# Flat setting name (NBAPROPS_<NAME> upper-cased) -> the group that holds it.
GROUP_OF: dict[str, str] = {
    name: group for group, model in GROUPS.items() for name in model.model_fields
}


def _flat_fields() -> dict[str, Any]:
    return {
        name: (info.annotation, info)
        for model in GROUPS.values()
        for name, info in model.model_fields.items()
    }


class _FlatBase(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NBAPROPS_", extra="ignore")


# Every setting in one flat model: the environment is read and each value validated here,
# so a validation error names the setting, and so its variable NBAPROPS_<NAME>.  It is
# called "Settings" because that is the name its errors show a user.
_Environment: type[BaseSettings] = create_model(
    "Settings", __base__=_FlatBase, __module__=__name__, **_flat_fields()
)


def _refuse_unknown(flat: dict[str, Any]) -> None:
    unknown = sorted(set(flat) - GROUP_OF.keys())
    if unknown:
        raise TypeError(f"unknown setting(s) {', '.join(unknown)}")


def _groups_of(flat: dict[str, Any]) -> dict[str, _Group]:
    """Each group built (and validated) from its flat values."""
    return {
        group: model.model_validate({name: flat[name] for name in model.model_fields})
        for group, model in GROUPS.items()
    }


class Settings(BaseModel):
    """Where data lives, how live sources are reached, and the betting, picks, alert and
    breakout rules: one frozen group each (see :data:`GROUPS`).

    ``Settings(**flat)`` reads every ``NBAPROPS_<NAME>`` environment variable; keyword
    values by flat name (``db=...``, ``kelly_fraction=0.1``) win over them, and the CLI's
    ``--db`` and ``--data-dir`` options win over both.  :meth:`replace` returns a copy with
    some flat values changed without reading the environment again.
    """

    model_config = ConfigDict(frozen=True)

    paths: Paths
    http: Http
    ingest: Ingest
    models: Models
    freshness: Freshness
    betting: Betting
    picks: Picks
    slips: Slips
    breakout: Breakout
    alerts: Alerts
    api: Api

    def __init__(self, **values: Any) -> None:
        if values and values.keys() <= GROUPS.keys():  # whole groups (replace, validation)
            super().__init__(**values)
            return
        _refuse_unknown(values)
        super().__init__(**_groups_of(_Environment(**values).model_dump()))

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name (what the constructor takes)."""
        return {name: value for group in GROUPS for name, value in getattr(self, group)}

    def replace(self, **flat: Any) -> Self:
        """A copy with these flat settings changed (validated; the environment is not read)."""
        _refuse_unknown(flat)
        return type(self)(**_groups_of({**self.flat(), **flat}))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        unknown = sorted(set(update or ()) - GROUPS.keys())
        if unknown:
            raise TypeError(
                f"Settings.model_copy cannot set {', '.join(unknown)}: use "
                "Settings.replace(name=value) for a flat setting"
            )
        return super().model_copy(update=update, deep=deep)


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with non-None overrides applied (entry points only)."""
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)
