"""The predictions table: written a date at a time, superseded, never deleted.

A batch is one scoring of one date by one model (a ``predict`` run, or one date of a
backfill). Writing a batch where active rows of the same model and alias exist for
the date either changes nothing (the default) or supersedes them (``force``): the
old rows stay, ``is_active = false`` and ``superseded_by`` pointing at the new row of
the same player (or at the new batch when the player left the slate).
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from nbaprops.core.db import registered, transaction
from nbaprops.core.markets import DEFAULT_MARKET
from nbaprops.predictions.picks import PICK_COLUMNS
from nbaprops.predictions.scoring import ESTIMATE_METHOD, ESTIMATED, NO_LINE, PASS_SIDE

# Columns of predictions.prediction (migrations 007, 011, 015, 018 and 020).
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
    "ev_calibrated",
    "decision",
    "p_win",
    "stale_override",
    "freshness_flag",
    "availability_status",
    "availability_report_utc",
    "market",
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
    batch_id: str | None = None  # the rows written (None: nothing written)
    ids: tuple[str, ...] = ()  # the ids of the rows written, in the order given
    market: str = DEFAULT_MARKET


def active_count(
    con: duckdb.DuckDBPyConnection,
    day: date,
    system_id: str,
    alias: str | None,
    table: str = "predictions.prediction",
    market: str = DEFAULT_MARKET,
) -> int:
    """Active rows of one model, alias and market on ``day`` in ``table`` (predictions or
    picks; a constant, never user input)."""
    row = con.execute(
        # ``table`` is one of the two constants (a table name cannot be bound)
        f"SELECT count(*) FROM {table} WHERE game_date = ? AND system_id = ? "  # noqa: S608
        "AND alias IS NOT DISTINCT FROM ? AND market = ? AND is_active",
        [day, system_id, alias, market],
    ).fetchall()  # whole: a half-read result blocks a later register on this connection
    return int(row[0][0]) if row else 0


def to_table_rows(
    scored: pd.DataFrame,
    *,
    as_of: datetime | None,
    minutes_before_tip: int,
    in_sample: bool,
    completeness_skipped: bool,
    market: str = DEFAULT_MARKET,
) -> pd.DataFrame:
    """``score_date(..., keep_quantiles=True)`` rows of one model of ``market`` as
    predictions.prediction rows (ids and bookkeeping unset)."""
    out = pd.DataFrame(index=scored.index)
    out["system_id"] = scored["system"]
    out["market"] = market
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
    # numpy's stubs take no None as a value; at run time it makes the object column wanted
    out["estimate_method"] = np.where(  # type: ignore[call-overload]
        scored["line_source"] == ESTIMATED, ESTIMATE_METHOD, None
    )
    # tip-off minus the decision minutes, or the live run's moment when earlier
    tip = pd.to_datetime(scored["commence_time"], utc=True)
    cutoff = tip - pd.Timedelta(minutes=minutes_before_tip)
    if as_of is not None:
        cutoff = cutoff.where(cutoff.isna() | (cutoff < pd.Timestamp(as_of)), pd.Timestamp(as_of))
        cutoff = cutoff.fillna(pd.Timestamp(as_of))
    out["decision_time"] = cutoff
    for col in ("median", "mean", "p_over", "p_under", "p_push", "p_over_dist", "edge", "ev"):
        out[col] = scored[col]
    out["ev_calibrated"] = scored["ev_calibrated"]
    out["decision"] = np.where(actual, scored["decision"].fillna(PASS_SIDE), NO_LINE)
    out["p_win"] = scored["p_win"]
    out["recommendation"] = np.where(actual, scored["side"].fillna(PASS_SIDE), NO_LINE)
    for col in ("confidence", "bet_book", "bet_line", "bet_price", "n_defaulted"):
        out[col] = scored[col]
    out["quantiles"] = scored["quantiles"]
    out["in_sample"] = in_sample
    out["completeness_skipped"] = completeness_skipped
    # what --allow-stale overrode, and a player's team-change flag (warehouse.freshness)
    for col in ("stale_override", "freshness_flag"):
        out[col] = scored[col].astype(object) if col in scored else None
    # the player's injury-report status at decision time and that report's time (the gate)
    out["availability_status"] = (
        scored["availability_status"].astype(object) if "availability_status" in scored else None
    )
    out["availability_report_utc"] = (
        pd.to_datetime(scored["availability_report_utc"], utc=True)
        if "availability_report_utc" in scored
        else pd.NaT
    )
    return out


def supersede(
    con: duckdb.DuckDBPyConnection,
    table: str,
    id_column: str,
    day: date,
    batches: list[tuple[str, str | None, str, str]],
) -> None:
    """Retire the active rows of ``day`` that each new batch (system, alias, batch id,
    market) replaces: ``is_active = false`` and ``superseded_by`` the new row of the same
    player, else the new batch. Nothing is deleted. ``table`` and ``id_column`` are
    constants."""
    keys = pa.table(
        {
            "system_id": pa.array([b[0] for b in batches], pa.string()),
            "alias": pa.array([b[1] for b in batches], pa.string()),
            "batch_id": pa.array([b[2] for b in batches], pa.string()),
            "market": pa.array([b[3] for b in batches], pa.string()),
        }
    )
    # the caller's table and id column constants and a generated name; the date is bound
    with registered(con, "_superseding", keys) as superseding:
        con.execute(
            f"""
            UPDATE {table} AS old
            SET is_active = false,
                superseded_by = coalesce(
                    (SELECT n.{id_column} FROM {table} n
                     WHERE n.batch_id = k.batch_id AND n.player_id = old.player_id),
                    k.batch_id)
            FROM {superseding} k
            WHERE old.game_date = $day AND old.system_id = k.system_id
              AND old.alias IS NOT DISTINCT FROM k.alias AND old.market = k.market
              AND old.is_active
              AND old.batch_id <> k.batch_id
            """,  # noqa: S608
            {"day": day},
        )


def write_batch(
    con: duckdb.DuckDBPyConnection,
    rows: pd.DataFrame,
    *,
    system_id: str,
    model_version: int,
    alias: str | None,
    day: date,
    force: bool,
    within: bool = False,
    market: str = DEFAULT_MARKET,
) -> BatchWrite:
    """Insert one model's rows of one market for one date in one transaction, superseding
    when forced (``within``: the caller already holds the transaction)."""
    existing = active_count(con, day, system_id, alias, market=market)
    if existing and not force:
        return BatchWrite(system_id, model_version, alias, day, 0, 0, True, market=market)
    batch_id = str(uuid.uuid4())
    frame = rows.copy()
    frame["prediction_id"] = [str(uuid.uuid4()) for _ in range(len(frame))]
    frame["batch_id"] = batch_id
    frame["market"] = market
    frame["created_at"] = pd.Timestamp.now(tz="UTC")
    frame["is_active"] = True
    frame["superseded_by"] = None
    frame["n_books"] = frame["n_books"].astype("Int64")
    frame["n_defaulted"] = frame["n_defaulted"].astype("int64")
    # rows built before migrations 015 (freshness) and 018 (availability)
    for col in ("stale_override", "freshness_flag", "availability_status"):
        if col not in frame:
            frame[col] = None
    if "availability_report_utc" not in frame:
        frame["availability_report_utc"] = pd.NaT
    frame = frame[list(PREDICTION_COLUMNS)]
    with nullcontext() if within else transaction(con):
        with registered(con, "_new_predictions", frame) as new:
            con.execute(
                # the column constants and a generated name (identifiers cannot be bound)
                f"INSERT INTO predictions.prediction ({', '.join(PREDICTION_COLUMNS)}) "  # noqa: S608
                f"SELECT {', '.join(PREDICTION_COLUMNS)} FROM {new}"
            )
        superseded = 0
        if existing:
            supersede(
                con,
                "predictions.prediction",
                "prediction_id",
                day,
                [(system_id, alias, batch_id, market)],
            )
            superseded = existing
    return BatchWrite(
        system_id,
        model_version,
        alias,
        day,
        len(frame),
        superseded,
        False,
        batch_id,
        tuple(frame["prediction_id"]),
        market,
    )


def active_predictions(
    con: duckdb.DuckDBPyConnection,
    day: date,
    *,
    system_id: str | None = None,
    alias: str | None = None,
    market: str | None = None,
) -> pd.DataFrame:
    """The active predictions of a date (optionally of one system, alias and market)."""
    return con.execute(
        """
        SELECT * EXCLUDE (quantiles) FROM predictions.prediction
        WHERE game_date = $day AND is_active
          AND ($system IS NULL OR system_id = $system)
          AND ($alias IS NULL OR alias = $alias)
          AND ($market IS NULL OR market = $market)
        ORDER BY system_id, alias, market, player_id
        """,
        {"day": day, "system": system_id, "alias": alias, "market": market},
    ).df()


# Columns of predictions.pick (migration 011): a pick as ``select_picks`` gives it, under
# the table's names, with its bookkeeping.
PICK_TABLE_COLUMNS = (
    "pick_id",
    "batch_id",
    "system_id",
    "market",
    *(c for c in PICK_COLUMNS if c not in ("system", "decision_time", "market")),
    "decided_at",
    "created_at",
    "is_active",
    "superseded_by",
)


def active_pick_count(
    con: duckdb.DuckDBPyConnection,
    day: date,
    system_id: str,
    alias: str | None,
    market: str = DEFAULT_MARKET,
) -> int:
    return active_count(con, day, system_id, alias, "predictions.pick", market)


@dataclass(frozen=True)
class PickBatch:
    """One model's picks of one date to write (``select_picks`` rows)."""

    system_id: str
    model_version: int
    alias: str | None
    picks: pd.DataFrame
    force: bool
    market: str = DEFAULT_MARKET


def _pick_columns(batch: PickBatch, batch_id: str) -> dict[str, npt.NDArray[np.generic] | pa.Array]:
    """A batch's rows as typed columns (Arrow where pandas would hand DuckDB objects)."""
    picks, n = batch.picks, len(batch.picks)
    given = {c: picks[c].to_numpy() for c in picks.columns if c in PICK_TABLE_COLUMNS}
    decided = pd.to_datetime(picks["decision_time"], utc=True) if n else pd.Series(dtype=object)
    columns = {
        **given,
        "pick_id": np.array([str(uuid.uuid4()) for _ in range(n)], dtype=object),
        "batch_id": np.full(n, batch_id, dtype=object),
        "system_id": np.full(n, batch.system_id, dtype=object),
        "market": np.full(n, batch.market, dtype=object),
        "model_version": np.full(n, int(batch.model_version), dtype="int64"),
        "alias": np.full(n, batch.alias, dtype=object),
        "decided_at": pa.array(decided, type=pa.timestamp("us", tz="UTC")),
        "game_date": pa.array(pd.to_datetime(picks["game_date"]).dt.date, type=pa.date32()),
        "is_active": np.full(n, True),
        "superseded_by": pa.nulls(n, pa.string()),
        "priced": np.asarray(given.get("priced", np.array([], dtype=bool))).astype(bool),
    }
    for col in ("record_n", "record_wins", "rank"):
        columns[col] = np.asarray(columns[col]).astype("int64")
    return columns


def write_pick_batches(
    con: duckdb.DuckDBPyConnection, day: date, batches: list[PickBatch], within: bool = False
) -> list[BatchWrite]:
    """Insert several models' picks of one date with one statement (``within``: the caller
    holds the transaction, e.g. with the predictions they come from).

    Like predictions: active picks of the same model, alias and date make a batch a no-op
    unless forced; forced, the new picks supersede them (kept, linked), never deleted."""
    existing = {
        (system, alias, market): int(count)
        for system, alias, market, count in con.execute(
            "SELECT system_id, alias, market, count(*) FROM predictions.pick "
            "WHERE game_date = ? AND is_active GROUP BY ALL",
            [day],
        ).fetchall()
    }
    now = pd.Timestamp.now(tz="UTC")
    out: list[BatchWrite] = []
    parts, batch_ids, superseding = [], [], []
    for b in batches:
        had = existing.get((b.system_id, b.alias, b.market), 0)
        if had and not b.force:
            out.append(
                BatchWrite(b.system_id, b.model_version, b.alias, day, 0, 0, True, market=b.market)
            )
            continue
        batch_id = str(uuid.uuid4())
        batch_ids.append(batch_id)
        if had:
            superseding.append((b.system_id, b.alias, batch_id, b.market))
        if len(b.picks):
            parts.append(_pick_columns(b, batch_id))
        out.append(
            BatchWrite(
                b.system_id,
                b.model_version,
                b.alias,
                day,
                len(b.picks),
                had,
                False,
                batch_id,
                market=b.market,
            )
        )
    with nullcontext() if within else transaction(con):
        if parts:
            n = sum(len(p["pick_id"]) for p in parts)
            table = pa.table(
                {
                    c: pa.concat_arrays(
                        [
                            p[c] if isinstance(p[c], pa.Array) else pa.array(p[c], from_pandas=True)
                            for p in parts
                        ]
                    )
                    if c != "created_at"
                    else pa.array(np.full(n, now), type=pa.timestamp("us", tz="UTC"))
                    for c in PICK_TABLE_COLUMNS
                }
            )
            with registered(con, "_new_picks", table) as new:
                con.execute(
                    # the column constants and a generated name (identifiers cannot be bound)
                    f"INSERT INTO predictions.pick ({', '.join(PICK_TABLE_COLUMNS)}) "  # noqa: S608
                    f"SELECT {', '.join(PICK_TABLE_COLUMNS)} FROM {new}"
                )
        if superseding:
            supersede(con, "predictions.pick", "pick_id", day, superseding)
    return out


def write_picks(
    con: duckdb.DuckDBPyConnection,
    picks: pd.DataFrame,
    *,
    system_id: str,
    model_version: int,
    alias: str | None,
    day: date,
    force: bool,
    within: bool = False,
    market: str = DEFAULT_MARKET,
) -> BatchWrite:
    """One model's picks of one date (``write_pick_batches`` with one batch)."""
    batch = PickBatch(system_id, model_version, alias, picks, force, market)
    return write_pick_batches(con, day, [batch], within)[0]
