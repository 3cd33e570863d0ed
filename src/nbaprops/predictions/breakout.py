"""The breakout classifier's serving path: score a date's role players, store the scores.

One path for the daily shadow and the walk-forward: the serving spine of each date
(the players expected that day), ``breakout_frame`` over it, the scope filter, then
the classifier's risk score, its probability and its risk category. The shadow's rows
go to ``predictions.breakout``; they never change picks, they only flag them
(``flag_picks``: an UNDER on a player the shadow rates HIGH).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core.db import transaction
from nbaprops.core.metrics import UNDER
from nbaprops.features.catalog import FeatureSet
from nbaprops.features.frame import serving_spine
from nbaprops.models.registry import LoadedModel, alias_version, load_model
from nbaprops.systems.breakout import (
    HIGH,
    OBSERVATION_UNDER_HIGH,
    SYSTEM_ID,
    BreakoutClassifier,
    BreakoutRules,
    breakout_frame,
)

SHADOW_ALIAS = "shadow"
SCORE_COLUMNS = (
    "player_id",
    "game_id",
    "game_date",
    "team",
    "season_avg_before",
    "season_games_before",
    "breakout_threshold",
    "risk_score",
    "p_breakout",
    "risk",
    "n_defaulted",
)


def breakout_slate(
    con: duckdb.DuckDBPyConnection,
    dates: list[date],
    rules: BreakoutRules,
    feature_set: FeatureSet,
) -> pd.DataFrame:
    """The serving frames of ``dates`` (one serving spine per date), scope columns included."""
    spines = [serving_spine(con, d) for d in dates]
    spines = [s for s in spines if not s.empty]
    if not spines:
        return pd.DataFrame(columns=["player_id", "game_date", "in_scope", *feature_set.features])
    frame = breakout_frame(con, pd.concat(spines, ignore_index=True), rules, feature_set)
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


def score_breakout(
    frame: pd.DataFrame, classifier: BreakoutClassifier, rules: BreakoutRules
) -> pd.DataFrame:
    """The in-scope rows of a frame with their risk score, P(breakout) and category."""
    rows = frame[frame["in_scope"].astype(bool)].reset_index(drop=True)
    score = classifier.risk_score(rows)
    rows["risk_score"] = score
    rows["p_breakout"] = classifier.p_breakout(score) if len(rows) else np.empty(0)
    rows["risk"] = rules.category(score) if len(rows) else np.empty(0, dtype=object)
    return rows


def shadow_model(
    con: duckdb.DuckDBPyConnection, *, artifacts_dir: Path | None = None
) -> LoadedModel | None:
    """The breakout version under the ``shadow`` alias (skew guard and checksum), if any;
    ``artifacts_dir``: the configured artefact root (None: beside the warehouse)."""
    if alias_version(con, SYSTEM_ID, SHADOW_ALIAS) is None:
        return None
    return load_model(con, f"{SYSTEM_ID}@{SHADOW_ALIAS}", artifacts_dir=artifacts_dir)


@dataclass(frozen=True)
class BreakoutWrite:
    day: date
    model_version: int
    written: int
    superseded: int
    unchanged: bool
    n_high: int


def predict_breakout_date(
    con: duckdb.DuckDBPyConnection,
    day: date,
    loaded: LoadedModel,
    rules: BreakoutRules,
    feature_set: FeatureSet,
    *,
    alias: str | None = SHADOW_ALIAS,
    force: bool = False,
) -> BreakoutWrite:
    """Score ``day``'s role players with a loaded breakout version and store the rows.

    A date already scored by the same version is left as it is unless ``force``; a new
    score supersedes the date's active rows of that system (never deletes them).
    """
    version = loaded.version
    active = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE model_version = ?) FROM predictions.breakout "
        "WHERE game_date = ? AND system_id = ? AND is_active",
        [version.version, day, version.system_id],
    ).fetchone()
    n_active, n_same = (int(active[0]), int(active[1])) if active else (0, 0)
    if n_same and n_same == n_active and not force:
        return BreakoutWrite(day, version.version, 0, 0, True, 0)
    scored = score_breakout(breakout_slate(con, [day], rules, feature_set), loaded.system, rules)
    rows = scored[list(SCORE_COLUMNS)].copy()
    batch = str(uuid.uuid4())
    rows.insert(0, "prediction_id", [str(uuid.uuid4()) for _ in range(len(rows))])
    rows.insert(1, "batch_id", batch)
    rows.insert(2, "system_id", version.system_id)
    rows.insert(3, "model_version", version.version)
    rows.insert(4, "alias", alias)
    rows.insert(5, "feature_set", feature_set.key)
    rows["season_games_before"] = rows["season_games_before"].astype(int)
    rows["n_defaulted"] = rows["n_defaulted"].astype(int)
    rows["in_sample"] = version.train_end >= day
    con.register("_breakout_rows", rows)
    try:
        with transaction(con):
            con.execute(
                "UPDATE predictions.breakout SET is_active = false, superseded_by = ? "
                "WHERE game_date = ? AND system_id = ? AND is_active",
                [batch, day, version.system_id],
            )
            con.execute(
                "INSERT INTO predictions.breakout BY NAME SELECT *, now() AS created_at, "
                "true AS is_active, CAST(NULL AS VARCHAR) AS superseded_by FROM _breakout_rows"
            )
    finally:
        con.unregister("_breakout_rows")
    return BreakoutWrite(
        day, version.version, len(rows), n_active, False, int((rows["risk"] == HIGH).sum())
    )


def active_breakout(
    con: duckdb.DuckDBPyConnection, day: date, system_id: str = SYSTEM_ID
) -> pd.DataFrame:
    """The active shadow rows of a date (none on a warehouse without the shadow table)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'predictions' AND table_name = 'breakout'"
    ).fetchone()
    if not exists or not exists[0]:
        return pd.DataFrame(columns=["player_id", "risk"])
    frame = con.execute(
        "SELECT * FROM predictions.breakout WHERE game_date = ? AND system_id = ? AND is_active "
        "ORDER BY risk_score DESC, player_id",
        [day, system_id],
    ).df()
    if len(frame):
        frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


def flag_picks(picks: pd.DataFrame, breakout: pd.DataFrame) -> pd.DataFrame:
    """Picks with their ``observation``: an UNDER on a player the shadow rates HIGH.

    An observation only; the picks themselves (which, how many, stakes) never change.
    """
    out = picks.copy()
    high: set[int] = set()
    if len(breakout):
        high = set(breakout.loc[breakout["risk"] == HIGH, "player_id"].astype(int))
    side = out["side"] if "side" in out.columns else out["recommendation"]
    under_high = (side == UNDER) & out["player_id"].astype(int).isin(high)
    out["observation"] = np.where(under_high, OBSERVATION_UNDER_HIGH, "")
    return out
