"""Settings read from the environment (prefix ``NBAPROPS_``) and CLI options."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
    http_retries: int = 3
    http_timeout_s: float = 30.0
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
    decision_minutes_before_tip: int = Field(
        default=30,
        ge=0,
        description="A prediction uses only quotes seen this many minutes before tip-off.",
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
