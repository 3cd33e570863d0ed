"""Backtest vs production on exactly the same player-games.

A walk-forward backtest and the graded production predictions of the same dates rarely
hold the same rows: production may have skipped dates, lacked a line at decision time,
left rows ungraded, or voided some. Their headline figures would let that population
difference pass for a model difference (the reference system once saw 49% in backtest
against 57% live when the backtest simply held 60% more player-games). So the figures
side by side are computed on the intersection only (keyed on player_id and game_date,
and game_id when both sides carry it), restricted to the rows where both had a real
line of the same kind; what each side has that the other lacks is listed separately,
by reason, with its own figures. Every figure comes from ``grading.report.system_figures``
and the paired differences from ``experiments.compare.compare_predictions``.

A comparison is of one market (``market``, default points): production is read in that
market only (``market = ?``, bound), and the backtest run must be of a feature set of
that market (``features.catalog.market_of_key``): a rebounds backtest is compared with
rebounds production, never with points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET
from nbaprops.experiments.compare import compare_predictions
from nbaprops.experiments.registry import FINISHED, resolve_id, run_predictions
from nbaprops.grading.report import graded_rows, system_figures
from nbaprops.monitoring.drift import check_system

KEY = ["player_id", "game_date"]
BACKTEST, PRODUCTION = "backtest", "production"
# Which production row stands for a player-game several active versions predicted.
ALIAS_ORDER = {"champion": 0, None: 1, "challenger": 2, "shadow": 3}

# Why the other side lacks a row (a row is explained by the first reason that applies).
NOT_PREDICTED_DATE = "date not predicted"
IN_SAMPLE = "in-sample in production (never in a figure)"
NOT_GRADED = "predicted, not graded yet"
OTHER_GAME = "another game_id"
NOT_ON_SLATE = "date predicted, player not on its slate"


@dataclass(frozen=True)
class BacktestRun:
    experiment_id: str
    name: str
    status: str
    eval_start: date
    eval_end: date
    created_at: str
    feature_set: str = ""


@dataclass(frozen=True)
class Reason:
    reason: str
    n: int
    lined: int  # with a real line on the side that has the row
    voids: int  # did not play


@dataclass(frozen=True)
class Lacking:
    """Rows ``has`` holds that the other side lacks."""

    has: str
    n: int
    reasons: list[Reason]
    figures: list[dict[str, Any]]


@dataclass(frozen=True)
class Comparison:
    system: str
    start: date
    end: date
    run: BacktestRun | None
    n_backtest: int
    n_production: int
    n_shared: int
    line_agreement: dict[str, int]  # on the shared player-games
    n_shared_lined: int  # shared, a real line of the same kind on both sides
    shared: dict[str, list[dict[str, Any]]]  # side -> system_figures rows
    # shared player-games whose real line only one side had: that side's figures
    line_one_side: dict[str, list[dict[str, Any]]]
    paired: dict[str, dict[str, Any]]  # line kind -> compare_predictions (backtest - prod.)
    backtest_only: Lacking
    production_only: Lacking
    as_reported: dict[str, list[dict[str, Any]]]  # each side's own population
    notes: list[str]
    market: str = DEFAULT_MARKET

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- reading both sides -----------------------------------------------------------------


def _run_row(con: duckdb.DuckDBPyConnection, run_id: str) -> BacktestRun:
    row = con.execute(
        "SELECT experiment_id, name, status, eval_start, eval_end, created_at, feature_set "
        "FROM experiments.run WHERE experiment_id = ?",
        [run_id],
    ).fetchone()
    assert row is not None
    return BacktestRun(
        str(row[0]), str(row[1]), str(row[2]), row[3], row[4], str(row[5]), str(row[6])
    )


def run_market(run: BacktestRun) -> str:
    """The market a backtest run predicts: its feature set's."""
    from nbaprops.features.catalog import market_of_key

    return market_of_key(run.feature_set)


def _n_backtest_rows(
    con: duckdb.DuckDBPyConnection, run_id: str, system: str, start: date, end: date
) -> int:
    row = con.execute(
        "SELECT count(*) FROM experiments.prediction WHERE experiment_id = ? AND system = ? "
        "AND NOT warmup AND game_date BETWEEN ? AND ?",
        [run_id, system, start, end],
    ).fetchone()
    return int(row[0]) if row else 0


def _hint(system: str, start: date, end: date, market: str = DEFAULT_MARKET) -> str:
    spec = f"`systems: [{system}]`"
    if market != DEFAULT_MARKET:
        spec += f" and a {market} feature set (e.g. `feature_set: {market}_v1`)"
    return (
        f"run one: `nbaprops experiment run SPEC.yaml --eval-start {start} --eval-end {end}` "
        f"with {spec} in the spec (see experiments/)"
    )


def find_backtest_run(
    con: duckdb.DuckDBPyConnection,
    system: str,
    start: date,
    end: date,
    experiment: str | None = None,
    market: str = DEFAULT_MARKET,
) -> BacktestRun:
    """The given run, or the latest finished run of ``market`` (its feature set's) whose
    evaluation covers [start, end] and whose out-of-sample predictions include ``system``
    (a backfill keeps none)."""
    from nbaprops.features.catalog import market_of_key

    if experiment is None:
        rows = con.execute(
            """
            SELECT r.experiment_id, r.feature_set
            FROM experiments.run r
            WHERE r.status IN (SELECT unnest(?)) AND list_contains(r.systems, ?)
              AND r.eval_start <= ? AND r.eval_end >= ?
              AND EXISTS (SELECT 1 FROM experiments.prediction p
                          WHERE p.experiment_id = r.experiment_id AND p.system = ?
                            AND NOT p.warmup AND p.game_date BETWEEN ? AND ?)
            ORDER BY r.created_at DESC, r.experiment_id
            """,
            [list(FINISHED), system, start, end, system, start, end],
        ).fetchall()
        ids = [str(r[0]) for r in rows if market_of_key(str(r[1])) == market]
        if not ids:
            of = "" if market == DEFAULT_MARKET else f" in the {market} market"
            raise NbapropsError(
                f"no completed backtest of {system}{of} covers {start}..{end}; "
                + _hint(system, start, end, market)
            )
        return _run_row(con, ids[0])
    run = _run_row(con, resolve_id(con, experiment))
    short = run.experiment_id[:8]
    if run.status not in FINISHED:
        raise NbapropsError(f"experiment {short} is {run.status}; only a finished run compares")
    if run_market(run) != market:
        raise NbapropsError(
            f"experiment {short} predicts {run_market(run)} (feature set {run.feature_set}), "
            f"not {market}; give --market {run_market(run)} or a {market} run"
        )
    if not (run.eval_start <= start and run.eval_end >= end):
        raise NbapropsError(
            f"experiment {short} evaluated {run.eval_start}..{run.eval_end}, which does not "
            f"cover {start}..{end}; " + _hint(system, start, end)
        )
    if not _n_backtest_rows(con, run.experiment_id, system, start, end):
        raise NbapropsError(
            f"experiment {short} kept no out-of-sample predictions of {system} in "
            f"{start}..{end} (a backfill run keeps its predictions in production); "
            + _hint(system, start, end)
        )
    return run


def backtest_rows(
    con: duckdb.DuckDBPyConnection, run: BacktestRun, system: str, start: date, end: date
) -> pd.DataFrame:
    """The run's reported rows of ``system`` in [start, end], in scoring vocabulary.

    The registry keeps no edge or shopped line and price: edge stays empty (no figure
    here buckets by it) and best-price ROI equals consensus ROI, so it is not reported.
    """
    rows = run_predictions(con, run.experiment_id, system)
    rows = rows[(rows["game_date"] >= start) & (rows["game_date"] <= end)].copy()
    for column in ("edge", "bet_line", "bet_price"):
        rows[column] = np.nan
    return rows.reset_index(drop=True)


def production_rows(
    con: duckdb.DuckDBPyConnection,
    system: str,
    start: date,
    end: date,
    market: str = DEFAULT_MARKET,
) -> tuple[pd.DataFrame, int]:
    """Graded, active, out-of-sample predictions of ``system`` in ``market`` (one per
    player-game: the champion's, else a backfill's, else the newest version's) and how many
    were set aside."""
    rows = graded_rows(con, start, end, market=market)  # the backtest's market only
    rows = rows[rows["system"] == system].copy()
    rows["game_date"] = pd.to_datetime(rows["game_date"]).dt.date
    rows["_order"] = [ALIAS_ORDER.get(a if isinstance(a, str) else None, 4) for a in rows["alias"]]
    rows = rows.sort_values([*KEY, "_order", "model_version"], ascending=[True, True, True, False])
    unique = rows.drop_duplicates(KEY).drop(columns="_order").reset_index(drop=True)
    return unique, len(rows) - len(unique)


def production_context(
    con: duckdb.DuckDBPyConnection,
    system: str,
    start: date,
    end: date,
    market: str = DEFAULT_MARKET,
) -> pd.DataFrame:
    """Every active production prediction of ``system`` in ``market``, graded or not (to
    explain why a backtest row has no graded production twin)."""
    frame = con.execute(
        """
        SELECT p.player_id, p.game_date, p.game_id, bool_or(p.in_sample) AS in_sample,
               bool_or(g.prediction_id IS NOT NULL) AS graded
        FROM predictions.prediction p LEFT JOIN grading.grade g USING (prediction_id)
        WHERE p.is_active AND p.system_id = ? AND p.game_date BETWEEN ? AND ?
          AND p.market = ?
        GROUP BY ALL
        """,
        [system, start, end, market],
    ).df()
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


# --- the comparison (pure) ------------------------------------------------------------


def _lined(rows: pd.DataFrame) -> pd.Series:
    return rows["line"].notna() & rows["line_kind"].notna()


def _reasons(rows: pd.DataFrame, reason: pd.Series) -> list[Reason]:
    out = []
    for name, group in rows.groupby(reason, sort=False):
        out.append(
            Reason(
                str(name),
                len(group),
                int(_lined(group).sum()),
                int((~group["played"].astype(bool)).sum()),
            )
        )
    return sorted(out, key=lambda r: -r.n)


def _figures(rows: pd.DataFrame, side: str) -> list[dict[str, Any]]:
    if rows.empty:
        return []
    figures = system_figures(rows)
    if side == BACKTEST:
        for entry in figures:
            entry["roi_best"] = None  # the registry keeps no shopped price
    return [{"side": side, **entry} for entry in figures]


def _with_key(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.copy()
    out["game_date"] = pd.to_datetime(out["game_date"]).dt.date
    out["player_id"] = out["player_id"].astype("int64")
    if "game_id" not in out.columns:
        out["game_id"] = None
    return out.reset_index(drop=True)


def compare_rows(
    backtest: pd.DataFrame,
    production: pd.DataFrame,
    context: pd.DataFrame | None = None,
    *,
    system: str,
    start: date,
    end: date,
    run: BacktestRun | None = None,
    n_boot: int = 1000,
    market: str = DEFAULT_MARKET,
) -> Comparison:
    """Both sides' figures on the player-games both hold, and what each lacks, by reason.

    ``backtest`` and ``production`` are rows in scoring vocabulary (one per player-game);
    ``context`` is every active production prediction, graded or not (player_id,
    game_date, in_sample, graded), which tells apart a date production never predicted,
    an ungraded row and an in-sample row.
    """
    bt, pr = _with_key(backtest), _with_key(production)
    for name, rows in ((BACKTEST, bt), (PRODUCTION, pr)):
        if rows.duplicated(KEY).any():
            raise ValueError(f"{name} rows are not one per player-game")
    bt["row_b"], pr["row_p"] = np.arange(len(bt)), np.arange(len(pr))
    pairs = bt[[*KEY, "game_id", "row_b"]].merge(
        pr[[*KEY, "game_id", "row_p"]], on=KEY, how="inner", suffixes=("_b", "_p")
    )
    gid_b, gid_p = pairs["game_id_b"], pairs["game_id_p"]
    other_game = gid_b.notna() & gid_p.notna() & (gid_b.astype(str) != gid_p.astype(str))
    same = pairs[~other_game]
    shared_b = bt.iloc[same["row_b"].to_numpy()].reset_index(drop=True)
    shared_p = pr.iloc[same["row_p"].to_numpy()].reset_index(drop=True)

    # Lines on the shared player-games: figures need a real line of one kind on both.
    lb, lp = _lined(shared_b), _lined(shared_p)
    same_kind = lb & lp & (shared_b["line_kind"] == shared_p["line_kind"])
    same_line = same_kind & np.isclose(
        shared_b["line"].astype(float), shared_p["line"].astype(float)
    )
    agreement = {
        "same_line": int(same_line.sum()),
        "different_line": int((same_kind & ~same_line).sum()),
        "different_line_kind": int((lb & lp & ~same_kind).sum()),
        "line_in_backtest_only": int((lb & ~lp).sum()),
        "line_in_production_only": int((~lb & lp).sum()),
        "no_line_either": int((~lb & ~lp).sum()),
    }
    both_b, both_p = shared_b[same_kind.to_numpy()], shared_p[same_kind.to_numpy()]
    paired = {}
    for kind in sorted(both_b["line_kind"].dropna().unique()):
        paired[str(kind)] = compare_predictions(both_b, both_p, lines=str(kind), n_boot=n_boot)

    # What each side lacks, by the first reason that explains it.
    only_b = bt[~bt["row_b"].isin(same["row_b"])].reset_index(drop=True)
    only_p = pr[~pr["row_p"].isin(same["row_p"])].reset_index(drop=True)
    mismatched_b = set(pairs.loc[other_game, "row_b"])
    mismatched_p = set(pairs.loc[other_game, "row_p"])
    ctx = (
        _with_key(context)
        if context is not None
        else pr[[*KEY]].assign(in_sample=False, graded=True)
    )
    ctx_dates = set(ctx["game_date"])
    ctx_keyed = ctx.drop_duplicates(KEY).set_index(KEY)
    reason_b = []
    for row in only_b.itertuples(index=False):
        key = (row.player_id, row.game_date)
        if row.row_b in mismatched_b:
            reason_b.append(OTHER_GAME)
        elif row.game_date not in ctx_dates:
            reason_b.append(NOT_PREDICTED_DATE)
        elif key in ctx_keyed.index and bool(ctx_keyed.loc[key, "in_sample"]):
            reason_b.append(IN_SAMPLE)
        elif key in ctx_keyed.index and not bool(ctx_keyed.loc[key, "graded"]):
            reason_b.append(NOT_GRADED)
        else:
            reason_b.append(NOT_ON_SLATE)
    bt_dates = set(bt["game_date"])
    reason_p = [
        OTHER_GAME
        if row.row_p in mismatched_p
        else NOT_PREDICTED_DATE
        if row.game_date not in bt_dates
        else NOT_ON_SLATE
        for row in only_p.itertuples(index=False)
    ]
    notes = []
    if run is not None:
        notes.append(
            f"backtest: experiment {run.experiment_id[:8]} ({run.name}, evaluated "
            f"{run.eval_start}..{run.eval_end})"
        )
    if bt.empty or pr.empty:
        notes.append(f"{BACKTEST if bt.empty else PRODUCTION} has no rows in {start}..{end}")
    return Comparison(
        system=system,
        start=start,
        end=end,
        run=run,
        n_backtest=len(bt),
        n_production=len(pr),
        n_shared=len(shared_b),
        line_agreement=agreement,
        n_shared_lined=int(same_kind.sum()),
        shared={
            BACKTEST: _figures(both_b.drop(columns="row_b"), BACKTEST),
            PRODUCTION: _figures(both_p.drop(columns="row_p"), PRODUCTION),
        },
        line_one_side={
            BACKTEST: _figures(shared_b[(lb & ~lp).to_numpy()].drop(columns="row_b"), BACKTEST),
            PRODUCTION: _figures(shared_p[(lp & ~lb).to_numpy()].drop(columns="row_p"), PRODUCTION),
        },
        paired=paired,
        backtest_only=Lacking(
            BACKTEST,
            len(only_b),
            _reasons(only_b, pd.Series(reason_b, dtype=object)),
            _figures(only_b.drop(columns="row_b"), BACKTEST),
        ),
        production_only=Lacking(
            PRODUCTION,
            len(only_p),
            _reasons(only_p, pd.Series(reason_p, dtype=object)),
            _figures(only_p.drop(columns="row_p"), PRODUCTION),
        ),
        as_reported={
            BACKTEST: _figures(bt.drop(columns="row_b"), BACKTEST),
            PRODUCTION: _figures(pr.drop(columns="row_p"), PRODUCTION),
        },
        notes=notes,
        market=market,
    )


def compare_production(
    con: duckdb.DuckDBPyConnection,
    system: str,
    start: date,
    end: date,
    *,
    experiment: str | None = None,
    n_boot: int = 1000,
    market: str = DEFAULT_MARKET,
    on_step: Callable[[str], None] | None = None,
) -> Comparison:
    """The backtest run's rows and production's graded rows of [start, end] in ``market``
    (default points), compared."""
    from nbaprops.core.markets import get_market

    step = on_step or (lambda _label: None)
    market = get_market(market).name
    check_system(system)
    if start > end:
        raise NbapropsError(f"--start {start} is after --end {end}")
    run = find_backtest_run(con, system, start, end, experiment, market)
    backtest = backtest_rows(con, run, system, start, end)
    step("backtest rows")
    production, set_aside = production_rows(con, system, start, end, market)
    if production.empty:
        of = "" if market == DEFAULT_MARKET else f"{market} "
        raise NbapropsError(
            f"no graded {of}production predictions of {system} in {start}..{end}; "
            "predict and "
            f"grade them first (`nbaprops backfill predictions --start {start} --end {end}`, "
            f"`nbaprops backfill grading --start {start} --end {end}`)"
        )
    context = production_context(con, system, start, end, market)
    step("production rows")
    result = compare_rows(
        backtest,
        production,
        context,
        system=system,
        start=start,
        end=end,
        run=run,
        n_boot=n_boot,
        market=market,
    )
    step("figures")
    if set_aside:
        result.notes.append(
            f"production: {set_aside} graded rows of other active versions of {system} set "
            "aside (one row per player-game: the champion's, else a backfill's, else the newest)"
        )
    return result


def sides_table(result: Comparison) -> list[dict[str, Any]]:
    """Flat rows for a table: population, side, line kind and the figures."""
    out = []
    blocks = (
        ("shared", result.shared[BACKTEST] + result.shared[PRODUCTION]),
        ("shared, line in backtest only", result.line_one_side[BACKTEST]),
        ("shared, line in production only", result.line_one_side[PRODUCTION]),
        ("backtest only", result.backtest_only.figures),
        ("production only", result.production_only.figures),
        ("as reported", result.as_reported[BACKTEST] + result.as_reported[PRODUCTION]),
    )
    for population, rows in blocks:
        for r in rows:
            out.append({"population": population, **r})
    return out
