"""The predictions table: written a date at a time, superseded, never deleted.

A batch is one scoring of one date by one model (a ``predict`` run, or one date of a
backfill). Writing a batch where active rows of the same model and alias exist for
the date either changes nothing (the default) or supersedes them (``force``): the
old rows stay, ``is_active = false`` and ``superseded_by`` pointing at the new row of
the same player (or at the new batch when the player left the slate).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core.db import transaction
from nbaprops.predictions.scoring import ESTIMATE_METHOD, ESTIMATED, NO_LINE, PASS_SIDE

# Column order of predictions.prediction (migration 007).
PREDICTION_COLUMNS = (
    "prediction_id",
    "batch_id",
    "system_id",
    "model_version",
    "alias",
    "player_id",
    "game_id",
    "game_date",
    "team",
    "line_source",
    "line_kind",
    "line",
    "n_books",
    "quote_time",
    "over_price",
    "under_price",
    "estimated_line",
    "estimate_method",
    "decision_time",
    "median",
    "mean",
    "p_over",
    "p_under",
    "p_push",
    "p_over_dist",
    "edge",
    "ev",
    "recommendation",
    "confidence",
    "bet_book",
    "bet_line",
    "bet_price",
    "n_defaulted",
    "quantiles",
    "in_sample",
    "completeness_skipped",
    "created_at",
    "is_active",
    "superseded_by",
)


@dataclass(frozen=True)
class BatchWrite:
    system_id: str
    model_version: int
    alias: str | None
    game_date: date
    written: int
    superseded: int
    unchanged: bool  # active rows existed and nothing was forced: nothing written


def active_count(
    con: duckdb.DuckDBPyConnection, day: date, system_id: str, alias: str | None
) -> int:
    row = con.execute(
        "SELECT count(*) FROM predictions.prediction WHERE game_date = ? AND system_id = ? "
        "AND alias IS NOT DISTINCT FROM ? AND is_active",
        [day, system_id, alias],
    ).fetchone()
    return int(row[0]) if row else 0


def to_table_rows(
    scored: pd.DataFrame,
    *,
    as_of: datetime | None,
    minutes_before_tip: int,
    in_sample: bool,
    completeness_skipped: bool,
) -> pd.DataFrame:
    """``score_date(..., keep_quantiles=True)`` rows of one model as
    predictions.prediction rows (ids and bookkeeping unset)."""
    out = pd.DataFrame(index=scored.index)
    out["system_id"] = scored["system"]
    out["model_version"] = scored["model_version"].astype("int64")
    out["alias"] = scored["alias"]
    for col in ("player_id", "game_id", "game_date", "team", "line_source"):
        out[col] = scored[col]
    actual = scored["line_source"] == "ACTUAL"
    out["line_kind"] = scored["line_kind"].where(actual, None)
    out["line"] = scored["line"]
    out["n_books"] = scored["n_books"].where(actual)
    out["quote_time"] = scored["quote_time"]
    for col in ("over_price", "under_price"):
        out[col] = scored[col]
    out["estimated_line"] = scored["estimated_line"]
    out["estimate_method"] = np.where(scored["line_source"] == ESTIMATED, ESTIMATE_METHOD, None)
    # tip-off minus the decision minutes, or the live run's moment when earlier
    tip = pd.to_datetime(scored["commence_time"], utc=True)
    cutoff = tip - pd.Timedelta(minutes=minutes_before_tip)
    if as_of is not None:
        cutoff = cutoff.where(cutoff.isna() | (cutoff < pd.Timestamp(as_of)), pd.Timestamp(as_of))
        cutoff = cutoff.fillna(pd.Timestamp(as_of))
    out["decision_time"] = cutoff
    for col in ("median", "mean", "p_over", "p_under", "p_push", "p_over_dist", "edge", "ev"):
        out[col] = scored[col]
    out["recommendation"] = np.where(actual, scored["side"].fillna(PASS_SIDE), NO_LINE)
    for col in ("confidence", "bet_book", "bet_line", "bet_price", "n_defaulted"):
        out[col] = scored[col]
    out["quantiles"] = scored["quantiles"]
    out["in_sample"] = in_sample
    out["completeness_skipped"] = completeness_skipped
    return out


def write_batch(
    con: duckdb.DuckDBPyConnection,
    rows: pd.DataFrame,
    *,
    system_id: str,
    model_version: int,
    alias: str | None,
    day: date,
    force: bool,
) -> BatchWrite:
    """Insert one model's rows for one date in one transaction, superseding when forced."""
    existing = active_count(con, day, system_id, alias)
    if existing and not force:
        return BatchWrite(system_id, model_version, alias, day, 0, 0, True)
    batch_id = str(uuid.uuid4())
    frame = rows.copy()
    frame["prediction_id"] = [str(uuid.uuid4()) for _ in range(len(frame))]
    frame["batch_id"] = batch_id
    frame["created_at"] = pd.Timestamp.now(tz="UTC")
    frame["is_active"] = True
    frame["superseded_by"] = None
    frame["n_books"] = frame["n_books"].astype("Int64")
    frame["n_defaulted"] = frame["n_defaulted"].astype("int64")
    frame = frame[list(PREDICTION_COLUMNS)]
    with transaction(con):
        con.register("_new_predictions", frame)
        try:
            con.execute(
                f"INSERT INTO predictions.prediction SELECT {', '.join(PREDICTION_COLUMNS)} "
                "FROM _new_predictions"
            )
        finally:
            con.unregister("_new_predictions")
        superseded = 0
        if existing:
            con.execute(
                """
                UPDATE predictions.prediction AS old
                SET is_active = false,
                    superseded_by = coalesce(
                        (SELECT n.prediction_id FROM predictions.prediction n
                         WHERE n.batch_id = $batch AND n.player_id = old.player_id),
                        $batch)
                WHERE old.game_date = $day AND old.system_id = $system
                  AND old.alias IS NOT DISTINCT FROM $alias AND old.is_active
                  AND old.batch_id <> $batch
                """,
                {"batch": batch_id, "day": day, "system": system_id, "alias": alias},
            )
            superseded = existing
    return BatchWrite(system_id, model_version, alias, day, len(frame), superseded, False)


def active_predictions(
    con: duckdb.DuckDBPyConnection,
    day: date,
    *,
    system_id: str | None = None,
    alias: str | None = None,
) -> pd.DataFrame:
    """The active predictions of a date (optionally of one system and alias)."""
    return con.execute(
        """
        SELECT * EXCLUDE (quantiles) FROM predictions.prediction
        WHERE game_date = $day AND is_active
          AND ($system IS NULL OR system_id = $system)
          AND ($alias IS NULL OR alias = $alias)
        ORDER BY system_id, alias, player_id
        """,
        {"day": day, "system": system_id, "alias": alias},
    ).df()
