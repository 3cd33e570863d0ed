"""Materialised training frames in the ``features`` schema, built incrementally.

A date is rebuilt only when it was never built for the feature set, or when the
core tables changed since it was built (the state fingerprint differs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from nbaprops.core.db import registered, transaction
from nbaprops.features.catalog import FeatureSet
from nbaprops.features.frame import build_frame, ensure_state, training_spine
from nbaprops.features.state import STATE_SEASON_TYPES, state_fingerprint


def feature_set_hash(feature_set: FeatureSet) -> str:
    """Changes when any definition (SQL, fallback, default) of the set's features changes."""
    text = "\n".join(
        f"{f.name}|{f.sql}|{f.fallback}|{f.default}|{f.required}" for f in feature_set.definitions()
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def frame_table(feature_set: FeatureSet) -> str:
    return f"features.frame_{feature_set.key}"


@dataclass(frozen=True)
class MaterializeResult:
    feature_set: str
    table: str
    dates_total: int
    dates_built: int
    dates_skipped: int
    rows_written: int


def _ensure_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS features.frame_build (feature_set VARCHAR NOT NULL, "
        "game_date DATE NOT NULL, fingerprint VARCHAR NOT NULL, n_rows BIGINT NOT NULL, "
        "built_at TIMESTAMPTZ NOT NULL)"
    )


def materialize(
    con: duckdb.DuckDBPyConnection,
    feature_set: FeatureSet,
    start: date | None = None,
    end: date | None = None,
    *,
    on_chunk: Callable[[str], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
) -> MaterializeResult:
    """Write the training frame for [start, end] into ``features.frame_<set>``."""
    ensure_state(con)
    _ensure_log(con)
    fingerprint = f"{state_fingerprint(con)}|{feature_set_hash(feature_set)}"
    table = frame_table(feature_set)
    dates = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT game_date FROM core.player_game "
            "WHERE season_type IN (SELECT unnest(?)) "
            "AND (CAST(? AS DATE) IS NULL OR game_date >= ?) "
            "AND (CAST(? AS DATE) IS NULL OR game_date <= ?) ORDER BY 1",
            [list(STATE_SEASON_TYPES), start, start, end, end],
        ).fetchall()
    ]
    fresh = {
        r[0]
        for r in con.execute(
            "SELECT game_date FROM features.frame_build WHERE feature_set = ? "
            "GROUP BY game_date HAVING arg_max(fingerprint, built_at) = ?",
            [feature_set.key, fingerprint],
        ).fetchall()
    }
    todo = [d for d in dates if d not in fresh]
    chunks: dict[str, list[date]] = {}
    for d in todo:
        chunks.setdefault(f"{d.year}-{d.month:02d}" if len(todo) < 400 else str(d.year), []).append(
            d
        )
    if on_plan:
        on_plan(len(chunks))
    written = 0
    for label, days in chunks.items():
        spine = training_spine(con, min(days), max(days))
        spine = spine[pd.to_datetime(spine["game_date"]).dt.date.isin(set(days))]
        frame = build_frame(con, spine, feature_set)
        written += _write(con, table, feature_set, frame, days, fingerprint)
        if on_chunk:
            on_chunk(label)
    return MaterializeResult(
        feature_set.key, table, len(dates), len(todo), len(dates) - len(todo), written
    )


def _write(
    con: duckdb.DuckDBPyConnection,
    table: str,
    feature_set: FeatureSet,
    frame: pd.DataFrame,
    days: list[date],
    fingerprint: str,
) -> int:
    # ``table`` is frame_table(feature_set) (a catalog key), ``view`` a generated name:
    # identifiers cannot be bound; the dates are.
    with registered(con, "_frame_df", frame) as view, transaction(con):
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {view} LIMIT 0")  # noqa: S608
        con.execute(f"DELETE FROM {table} WHERE game_date IN (SELECT unnest(?))", [days])  # noqa: S608
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")  # noqa: S608
        counts = frame.groupby(pd.to_datetime(frame["game_date"]).dt.date).size()
        con.executemany(
            "INSERT INTO features.frame_build VALUES (?, ?, ?, ?, now())",
            [[feature_set.key, d, fingerprint, int(counts.get(d, 0))] for d in days],
        )
    return len(frame)


def load_frame(
    con: duckdb.DuckDBPyConnection,
    feature_set: FeatureSet,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """The materialised training frame for [start, end] (build it first)."""
    return con.execute(
        # the catalog's own table name (cannot be bound); the dates are bound
        f"SELECT * FROM {frame_table(feature_set)} "  # noqa: S608
        "WHERE (CAST(? AS DATE) IS NULL OR game_date >= ?) "
        "AND (CAST(? AS DATE) IS NULL OR game_date <= ?) "
        "ORDER BY game_date, game_id, player_id",
        [start, start, end, end],
    ).df()
