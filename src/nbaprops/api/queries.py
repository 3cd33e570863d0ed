"""The read services: one function per question, called by the HTTP API and the CLI alike.

Every function takes an open (read-only is enough) connection and returns plain data
(dicts, lists, dates, numbers). Nothing here writes, and every value a client sends
reaches SQL as a bound parameter. Bad input raises ``BadRequestError`` (the API
answers 400) or ``NotFoundError`` (404) with one readable line.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from nbaprops.core.db import records
from nbaprops.core.errors import NbapropsError
from nbaprops.core.metrics import (
    BETTING_COLUMNS,
    BREAK_EVEN_110,
    betting_summary,
    probability_metrics,
    wilson_interval,
)
from nbaprops.core.settings import Settings
from nbaprops.core.time import DATE_WORDS, resolve_date
from nbaprops.experiments.registry import get_run, list_runs
from nbaprops.grading.report import (
    best_price_frame,
    bet_rows,
    estimated_figures,
    graded_rows,
    graded_summary,
    ledger_of,
    system_figures,
)
from nbaprops.models.registry import ALIASES, alias_history, list_versions
from nbaprops.monitoring.alerts import alerts_since
from nbaprops.monitoring.diagnostics import stored_diagnostics
from nbaprops.pipeline.daily import champion_picks, date_signals, phase_history, picks_system
from nbaprops.systems.breakout import SYSTEM_ID as BREAKOUT_SYSTEM
from nbaprops.systems.factory import SYSTEM_IDS
from nbaprops.warehouse.freshness import missing_predictions_message
from nbaprops.warehouse.freshness import report as freshness_report
from nbaprops.warehouse.migrate import current_version

MAX_RANGE_DAYS = 366  # the longest /grading period
PLAYER_GAMES = 20  # games (and prediction dates) a player page shows
ALERTS_DEFAULT_DAYS = 7  # alerts since this many days ago when no date is given
LINE_KINDS_REAL = ("sportsbook", "dfs")  # real lines; estimated ones never enter a record


class BadRequestError(NbapropsError):
    """The request itself is wrong (malformed date, unknown system, range too long)."""


class NotFoundError(NbapropsError):
    """What the request names does not exist (player, experiment, a date's predictions)."""


# --- input ------------------------------------------------------------------------------


def parse_day(text: str, what: str = "date") -> date:
    """YYYY-MM-DD, or today / yesterday / tomorrow in US/Eastern (``core.time``); the
    answers echo the date it resolved to."""
    try:
        return resolve_date(text).day
    except ValueError as exc:
        raise BadRequestError(f"{what}: {exc}") from None


def resolved_text(text: str | None) -> str | None:
    """A date word as the YYYY-MM-DD it means now (so a cached answer is keyed by the
    day, never by "today"); any other text as it came."""
    if text is None or text.strip().lower() not in DATE_WORDS:
        return text
    return resolve_date(text).day.isoformat()


def optional_day(text: str | None, what: str = "date") -> date | None:
    return None if text is None else parse_day(text, what)


def check_period(first: date, last: date, max_days: int = MAX_RANGE_DAYS) -> None:
    if first > last:
        raise BadRequestError(f"start {first} is after end {last}")
    if (last - first).days + 1 > max_days:
        raise BadRequestError(
            f"{first}..{last} spans {(last - first).days + 1} days; at most {max_days}"
        )


def known_systems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every system id the code defines, plus any the warehouse holds predictions or
    registered versions of."""
    stored = [
        str(r[0])
        for r in con.execute(
            "SELECT system_id FROM predictions.prediction "
            "UNION SELECT system_id FROM models.version"
        ).fetchall()
    ]
    return sorted({*SYSTEM_IDS, BREAKOUT_SYSTEM, *stored})


def _did_you_mean(given: str, known: list[str]) -> str:
    close = difflib.get_close_matches(given.lower(), known, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def check_system(con: duckdb.DuckDBPyConnection, system: str | None) -> None:
    """An unknown system is an error naming the known ones (the CLI and the API alike:
    a typo must never read as "nothing found")."""
    if system is None:
        return
    known = known_systems(con)
    if system not in known:
        raise BadRequestError(
            f"unknown system {system!r}{_did_you_mean(system, known)} (known: {', '.join(known)})"
        )


def check_alias(alias: str | None) -> None:
    if alias is not None and alias not in ALIASES:
        raise BadRequestError(
            f"unknown alias {alias!r}{_did_you_mean(alias, list(ALIASES))} "
            f"(one of: {', '.join(ALIASES)})"
        )


# --- echoed input stays short ------------------------------------------------------------

# An error's detail quotes at most this many characters of any value the client sent.
ECHO_LIMIT = 100
_LONG_RUN = re.compile(r"\S{" + str(ECHO_LIMIT + 20) + ",}")


def clip_echoes(detail: str, sent: list[str] | None = None) -> str:
    """``detail`` with every long value the client ``sent`` (and any other run of more
    than ~120 non-blank characters) cut to ``ECHO_LIMIT`` characters and its length."""

    def cut(value: str) -> str:
        return f"{value[:ECHO_LIMIT]}… ({len(value):,} characters)"

    for value in sorted({v for v in sent or [] if len(v) > ECHO_LIMIT}, key=len, reverse=True):
        detail = detail.replace(value, cut(value))
        detail = detail.replace(repr(value)[1:-1], cut(value))
    return _LONG_RUN.sub(lambda m: cut(m.group(0)), detail)


# --- paths never leave the process -----------------------------------------------------

_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"(),;:]+/)+([^\s/'\"(),;:]*)")


def scrub(value: Any) -> Any:
    """Replace every absolute filesystem path inside strings with its last component."""
    if isinstance(value, str):
        return _PATH.sub(lambda m: m.group(1) or "…", value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


# --- services ---------------------------------------------------------------------------


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return None if row is None else row[0]


def health(
    con: duckdb.DuckDBPyConnection,
    warehouse: str,
    source: str,
    settings: Settings,
) -> dict[str, Any]:
    """The warehouse's name (never its path), how fresh it is, the last phase records
    and the model version behind each alias. ``status`` is ``stale`` when ``predict``
    would refuse the latest predicted date (``warehouse.freshness``), else ``ok``."""
    version = current_version(con)
    freshness = {
        "last_box_score_date": _scalar(con, "SELECT max(game_date) FROM core.player_game"),
        "last_line_snapshot": _scalar(
            con, "SELECT max(snapshot_time) FROM core.prop_line_snapshot"
        ),
        "last_prediction_date": None,
        "last_graded_date": None,
    }
    phases: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    if version >= 7:
        freshness["last_prediction_date"] = _scalar(
            con, "SELECT max(game_date) FROM predictions.prediction WHERE is_active"
        )
        freshness["last_graded_date"] = _scalar(con, "SELECT max(game_date) FROM grading.grade")
        phases = scrub(phase_history(con))
    if version >= 5:
        models = records(
            con.execute(
                "SELECT system_id, alias, version, set_at FROM models.alias "
                "ORDER BY system_id, alias"
            ).df()
        )
    status = "ok"
    if version >= 3:  # the core tables exist
        fresh = freshness_report(con, settings)
        freshness["as_of"] = fresh.day
        freshness["state"] = fresh.state
        freshness["sources"] = [
            {"source": s.source, "state": s.state, "latest": s.latest, "detail": s.detail}
            for s in fresh.sources
        ]
        status = fresh.state
    return {
        "status": status,
        "warehouse": warehouse,
        "source": source,
        "schema_version": version,
        "freshness": freshness,
        "phases": phases,
        "models": models,
    }


def latest_prediction_date(con: duckdb.DuckDBPyConnection) -> date:
    day = _scalar(con, "SELECT max(game_date) FROM predictions.prediction WHERE is_active")
    if day is None:
        raise NotFoundError("no predictions yet; run `nbaprops run daily`")
    return day


PREDICTION_COLUMNS = (
    "player_id",
    "player_name",
    "team",
    "game_id",
    "system_id",
    "model_version",
    "alias",
    "line_source",
    "line_kind",
    "line",
    "n_books",
    "over_price",
    "under_price",
    "estimated_line",
    "median",
    "mean",
    "p_over",
    "p_under",
    "p_push",
    "edge_points",
    "ev_pct",
    "ev_calibrated_pct",
    "recommendation",
    "decision",
    "confidence",
    "bet_book",
    "bet_line",
    "bet_price",
    "p_win",
    "in_sample",
    "direction_vs_consensus",
    "pick_status",
    "bet_result",
    "bet_profit_units",
)


def predictions(
    con: duckdb.DuckDBPyConnection,
    day: date | None = None,
    system: str | None = None,
    alias: str | None = None,
) -> dict[str, Any]:
    """A date's active predictions (default: the latest predicted date), with names; once
    graded, the call's direction against the consensus line and, where the call was
    picked, the pick's status and the bet's result at its own line and price."""
    check_system(con, system)
    check_alias(alias)
    day = day or latest_prediction_date(con)
    frame = con.execute(
        """
        SELECT p.player_id, coalesce(pl.player_name, CAST(p.player_id AS VARCHAR))
                   AS player_name,
               p.team, p.game_id, p.system_id, p.model_version, p.alias, p.line_source,
               p.line_kind, p.line, p.n_books, p.over_price, p.under_price, p.estimated_line,
               p.median, p.mean, p.p_over, p.p_under, p.p_push, p.edge, 100 * p.ev,
               100 * p.ev_calibrated, p.recommendation, coalesce(p.decision, 'PASS'),
               p.confidence, p.bet_book, p.bet_line, p.bet_price, p.p_win, p.in_sample,
               g.direction_vs_consensus, k.status, bg.result, bg.profit_units
        FROM predictions.prediction p
        LEFT JOIN core.player pl USING (player_id)
        LEFT JOIN grading.grade g USING (prediction_id)
        LEFT JOIN predictions.pick k ON k.prediction_id = p.prediction_id AND k.is_active
        LEFT JOIN grading.bet_grade bg ON bg.pick_id = k.pick_id
        WHERE p.game_date = $day AND p.is_active
          AND ($system IS NULL OR p.system_id = $system)
          AND ($alias IS NULL OR p.alias = $alias)
        ORDER BY p.system_id, p.alias, p.player_id
        """,
        {"day": day, "system": system, "alias": alias},
    ).fetchall()
    rows = [dict(zip(PREDICTION_COLUMNS, r, strict=True)) for r in frame]
    return {"date": day, "system": system, "alias": alias, "n": len(rows), "predictions": rows}


def picks_frame(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> pd.DataFrame:
    """The champion's stored picks of a date; no champion predictions is NotFoundError."""
    found = con.execute(
        "SELECT count(*) FROM predictions.prediction "
        "WHERE game_date = ? AND is_active AND alias = 'champion'",
        [day],
    ).fetchone()
    if not found or not found[0]:
        raise NotFoundError(missing_predictions_message(con, day, "champion predictions"))
    return champion_picks(con, settings, day)


def _pct(value: Any) -> float | None:
    value = _num(value)
    return None if value is None else 100.0 * value


def pick_out(row: dict[str, Any], unit_share: float) -> dict[str, Any]:
    """One pick in the product's units: EV in percent, edge in points, stakes in units
    and in percent of the bankroll, P(win) of the side taken; its record; its result."""
    return {
        "rank": int(row["rank"]),
        "status": row["status"],
        "reason": row["reason"] or None,
        "system_id": row["system_id"],
        "model_version": int(row["model_version"]),
        "alias": row.get("alias"),
        "game_date": day_of(row["game_date"]),
        "game_id": row["game_id"],
        "player_id": int(row["player_id"]),
        "player_name": row.get("player_name") or str(row["player_id"]),
        "team": row["team"],
        # his injury-report status at decision time ('Not listed', or None: no report)
        "availability_status": row.get("availability_status") or None,
        "line_kind": row["line_kind"],
        "side": row["side"],
        "line": _num(row["line"]),
        "bet_book": row.get("bet_book"),
        "bet_line": _num(row["bet_line"]),
        "bet_price": _num(row["bet_price"]),
        "priced": bool(row["priced"]),
        "p_win": _num(row.get("p_win")),
        "edge_points": _num(row.get("edge")),
        "ev_pct": _pct(row.get("ev_raw")),
        "ev_calibrated_pct": _pct(row.get("ev_calibrated")),
        "ev_bucket": row.get("ev_bucket"),
        "record": {
            "n": int(row["record_n"]),
            "wins": int(row["record_wins"]),
            "hit_rate": _num(row.get("record_hit_rate")),
            "ci_low": _num(row.get("record_ci_low")),
            "ci_high": _num(row.get("record_ci_high")),
            "roi_pct": _pct(row.get("record_roi")),
        },
        "slate_signal": row.get("slate_signal"),
        "flat_units": float(row["stake_flat"]),
        "stake_before_pct": 100.0 * float(row["stake_kelly_before"]),
        "stake_before_units": float(row["stake_kelly_before"]) / unit_share,
        "stake_pct": 100.0 * float(row["stake_kelly"]),
        "stake_units": float(row["stake_kelly"]) / unit_share,
        "capped_by": row.get("capped_by") or None,
        "observation": row.get("observation") or None,
        "result": row.get("result"),
        "actual_points": _num(row.get("actual_points")),
        "profit_units": _num(row.get("profit_units")),
        "profit_pct": _pct(row.get("profit_share")),
    }


def day_of(value: Any) -> date | None:
    """A DATE read back through pandas as a date (never a datetime)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return pd.Timestamp(value).date()


def champion_record(con: duckdb.DuckDBPyConnection, system: str | None) -> dict[str, Any] | None:
    """The champion's out-of-sample record at the prices taken, and whether it beats the
    break-even: the calls its version's walk-forward graded (what calibrates its EV and
    backs its picks), else the calls of the system graded in this warehouse."""
    if system is None:
        return None
    row = con.execute(
        """
        SELECT v.version, v.calibration FROM models.alias a
        JOIN models.version v ON v.system_id = a.system_id AND v.version = a.version
        WHERE a.system_id = ? AND a.alias = 'champion'
        """,
        [system],
    ).fetchone()
    if row is None:
        return None
    version, meta = int(row[0]), json.loads(row[1] or "{}")
    claims = meta.get("claims")
    if claims:
        n, wins, profit = int(claims["n"]), int(claims["wins"]), float(claims["profit"])
        span = f"{meta.get('first_date')}..{meta.get('last_date')}"
        source = f"walk-forward of {system}@v{version}, {span} (out of sample)"
    else:
        graded = con.execute(
            """
            SELECT count(*) FILTER (g.direction_vs_consensus IN ('right', 'wrong')),
                   count(*) FILTER (g.direction_vs_consensus = 'right'),
                   coalesce(sum(g.profit_best)
                            FILTER (g.direction_vs_consensus IN ('right', 'wrong')), 0)
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.system_id = ? AND p.is_active AND NOT p.in_sample
              AND p.line_source = 'ACTUAL' AND p.recommendation IN ('OVER', 'UNDER')
            """,
            [system],
        ).fetchone()
        n, wins, profit = (
            (int(graded[0]), int(graded[1]), float(graded[2])) if graded else (0, 0, 0.0)
        )
        source = f"calls of {system} graded in this warehouse"
    low, high = wilson_interval(wins, n)
    roi = profit / n if n else None
    beats = roi is not None and roi > 0
    if not n:
        statement = f"{system}@champion has no graded record yet: nothing backs a bet."
    else:
        statement = (
            f"{system}@champion's record ({source}): {wins / n:.1%} of {n:,} calls won "
            f"[{low:.1%}, {high:.1%}], ROI {roi:+.1%} at the prices taken; "
            + (
                "it beats the break-even"
                + (" (not significantly)" if low <= BREAK_EVEN_110 else "")
                if beats
                else f"it does not beat the break-even ({BREAK_EVEN_110:.1%} at -110)"
            )
            + "."
        )
    return {
        "system": system,
        "version": version,
        "source": source,
        "n": n,
        "wins": wins,
        "hit_rate": wins / n if n else None,
        "ci_low": _num(low),
        "ci_high": _num(high),
        "roi_pct": None if roi is None else 100.0 * roi,
        "break_even": BREAK_EVEN_110,
        "beats_break_even": beats,
        "statement": statement,
    }


def _caps(settings: Settings) -> dict[str, Any]:
    return {
        "bet_pct": 100.0 * settings.picks.picks_max_bet_share,
        "slate_pct": 100.0 * settings.picks.picks_max_slate_share,
        "red_multiplier": settings.picks.picks_red_multiplier,
        "per_game": settings.picks.picks_max_per_game,
        "per_team": settings.picks.picks_max_per_team,
        "per_day": settings.picks.picks_max_per_day,
        "min_record": settings.picks.picks_min_record_bets,
        "ev_margin_pct": 100.0 * settings.betting.ev_margin,
    }


def _no_calls_verdict(con: duckdb.DuckDBPyConnection, day: date) -> str:
    """Why a slate with champion predictions has no call: only estimated lines (never
    bet; name the fetch), or no call beat the margin."""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (line_source = 'ACTUAL') "
        "FROM predictions.prediction WHERE game_date = ? AND is_active AND alias = 'champion'",
        [day],
    ).fetchone()
    n, actual = (int(row[0]), int(row[1])) if row else (0, 0)
    if n and not actual:
        return (
            f"no real prop lines on {day}: all {n} champion predictions use estimated lines, "
            f"which are never bet; fetch lines with `nbaprops fetch --date {day}` "
            f"and predict again (`nbaprops predict --date {day} --force`)"
        )
    return "no calls on this slate: no bets today"


def no_picks(settings: Settings, day: date, why: str | None = None) -> dict[str, Any]:
    """The picks payload of a date without champion predictions (the dashboard's);
    ``why`` is the real reason (``NotFoundError``'s line)."""
    return {
        "date": day,
        "system": None,
        "model_version": None,
        "record": None,
        "verdict": f"{why or 'no champion predictions on this date'}: no picks",
        "n_bets": 0,
        "n_watchlist": 0,
        "exposure_pct": 0.0,
        "kelly_fraction": settings.betting.kelly_fraction,
        "unit_pct": 100.0 * settings.betting.unit_share,
        "caps": _caps(settings),
        "picks": [],
    }


def picks(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date | None = None
) -> dict[str, Any]:
    """The champion's picks of a date as recommended (bets first, then the watchlist with
    each reason), with the champion's record, the caps and the slate's exposure; a past
    date's bets carry their result."""
    day = day or latest_prediction_date(con)
    chosen = picks_frame(con, settings, day)
    system = picks_system(con, settings)
    rows = [pick_out(r, settings.betting.unit_share) for r in records(chosen)]
    bets = [r for r in rows if r["status"] == "BET"]
    exposure = sum(r["stake_pct"] for r in bets)
    if not rows:
        verdict = _no_calls_verdict(con, day)
    elif not bets:
        verdict = f"no bets today: the record backs none of the {len(rows)} calls"
    else:
        verdict = (
            f"{len(bets)} bet{'s' * (len(bets) > 1)}, {exposure:.2f}% of the bankroll staked "
            f"(slate cap {100 * settings.picks.picks_max_slate_share:g}%)"
        )
    return {
        "date": day,
        "system": system,
        "model_version": rows[0]["model_version"] if rows else None,
        "record": champion_record(con, system),
        "verdict": verdict,
        "n_bets": len(bets),
        "n_watchlist": len(rows) - len(bets),
        "exposure_pct": exposure,
        "kelly_fraction": settings.betting.kelly_fraction,
        "unit_pct": 100.0 * settings.betting.unit_share,
        "caps": _caps(settings),
        "picks": rows,
    }


def bets(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    system: str | None = None,
    max_days: int = MAX_RANGE_DAYS,
    unit_share: float = 0.01,
) -> dict[str, Any]:
    """The ledger of [first, last]: every bet as placed with its result and, per system,
    running units and bankrolls at flat and recommended stakes, and a summary (N, hit
    rate with its interval, ROI at the prices taken, final bankrolls, drawdowns)."""
    check_period(first, last, max_days)
    check_system(con, system)
    rows = bet_rows(con, first, last, system)
    if rows.empty:
        scope = f" of {system}" if system else ""
        raise NotFoundError(f"no bets{scope} in {first}..{last}")
    systems = []
    for system_id, mine in rows.groupby("system_id", sort=True):
        lines, summary = ledger_of(mine)
        systems.append(
            {
                "system": str(system_id),
                "summary": {
                    **{
                        k: _num(v) if isinstance(v, float) else v
                        for k, v in summary.items()
                        if k != "roi"
                    },
                    "roi_pct": _pct(summary["roi"]),
                    "units": _num(summary["units"]),
                },
                "bets": [
                    {
                        **pick_out(r, unit_share),
                        "running_units": _num(r["running_units"]),
                        "bankroll_flat": _num(r["bankroll_flat"]),
                        "bankroll_kelly": _num(r["bankroll_kelly"]),
                    }
                    for r in records(lines)
                ],
            }
        )
    return {"start": first, "end": last, "system": system, "systems": systems}


def signals(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date | None = None
) -> dict[str, Any]:
    """The slate signal of every model that predicted a date (computed, not stored)."""
    day = day or latest_prediction_date(con)
    computed = date_signals(con, settings, day)
    if not computed:
        raise NotFoundError(missing_predictions_message(con, day))
    return {
        "date": day,
        "signals": {
            label: {"system_id": system_id, "model_version": version, **sig.to_dict()}
            for label, (system_id, version, sig) in computed.items()
        },
    }


def player(
    con: duckdb.DuckDBPyConnection,
    player_id: int,
    until: date | None = None,
    n_games: int = PLAYER_GAMES,
) -> dict[str, Any]:
    """A player's last games up to ``until`` (default: all; points, minutes, the
    pre-tip line) and the active predictions of their last predicted dates up to it,
    with their grades."""
    row = con.execute(
        "SELECT player_id, player_name FROM core.player WHERE player_id = ?", [player_id]
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no player with id {player_id}")
    games = records(
        con.execute(
            """
            WITH g AS (
                SELECT game_id, game_date, season, season_type, team, opponent, home, starter,
                       minutes, points
                FROM core.player_game
                WHERE player_id = $player AND ($until IS NULL OR game_date <= $until)
                ORDER BY game_date DESC LIMIT $n
            ),
            l AS (
                SELECT game_id, line_kind, line, n_books
                FROM core.points_line
                WHERE player_id = $player AND game_id IN (SELECT game_id FROM g)
                QUALIFY row_number() OVER (
                    PARTITION BY game_id ORDER BY line_kind = 'sportsbook' DESC) = 1
            )
            SELECT g.*, l.line_kind, l.line, l.n_books
            FROM g LEFT JOIN l USING (game_id) ORDER BY g.game_date DESC
            """,
            {"player": player_id, "n": n_games, "until": until},
        ).df()
    )
    preds = records(
        con.execute(
            """
            SELECT p.game_date, p.game_id, p.system_id, p.model_version, p.alias,
                   p.line_source, p.line_kind, p.line, p.estimated_line, p.median, p.p_over,
                   p.edge AS edge_points, p.recommendation, p.bet_book, p.bet_line,
                   p.bet_price, g.actual_points, g.direction_vs_consensus, g.clv_line,
                   k.status AS pick_status, k.side AS bet_side, k.bet_book AS bet_placed_book,
                   k.bet_line AS bet_placed_line, k.bet_price AS bet_placed_price,
                   bg.result AS bet_result, bg.profit_units AS bet_profit_units
            FROM predictions.prediction p
            LEFT JOIN grading.grade g USING (prediction_id)
            LEFT JOIN predictions.pick k
              ON k.prediction_id = p.prediction_id AND k.is_active AND k.status = 'BET'
            LEFT JOIN grading.bet_grade bg ON bg.pick_id = k.pick_id
            WHERE p.player_id = $player AND p.is_active
              AND p.game_date IN (
                  SELECT DISTINCT game_date FROM predictions.prediction
                  WHERE player_id = $player AND is_active
                    AND ($until IS NULL OR game_date <= $until)
                  ORDER BY game_date DESC LIMIT $n)
            ORDER BY p.game_date DESC, p.system_id, p.alias
            """,
            {"player": player_id, "n": n_games, "until": until},
        ).df()
    )
    return {
        "until": until,
        "player_id": int(row[0]),
        "player_name": str(row[1]),
        "games": games,
        "predictions": preds,
    }


def grading(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    system: str | None = None,
    max_days: int = MAX_RANGE_DAYS,
) -> dict[str, Any]:
    """Graded figures of a period per system and line kind (``graded_summary``): hit
    rate with N and interval, MAE against the line's, ROI at consensus and best
    price, closing line value. Real and estimated lines are reported apart."""
    check_period(first, last, max_days)
    check_system(con, system)
    summary = graded_summary(con, first, last)
    if system is not None:
        for key in ("systems", "estimated_lines"):
            summary[key] = [r for r in summary[key] if r["system"] == system]
        summary["completeness"] = [r for r in summary["completeness"] if r["system_id"] == system]
    summary["completeness"] = [
        {k: (int(v) if k != "system_id" else v) for k, v in r.items()}
        for r in summary["completeness"]
    ]
    summary["system"] = system
    return summary


def experiments(
    con: duckdb.DuckDBPyConnection,
    status: str | None = None,
    tag: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    try:
        return scrub(list_runs(con, status=status, tag=tag, limit=limit))
    except NbapropsError as exc:
        raise BadRequestError(str(exc)) from None


def experiment(con: duckdb.DuckDBPyConnection, ref: str) -> dict[str, Any]:
    """One run: config, figures, events; artefacts by name only (never a path)."""
    ref = ref.strip()
    if len(ref) < 4:
        raise BadRequestError(f"experiment id {ref!r} is too short; give at least 4 characters")
    found = con.execute(
        "SELECT count(*) FROM experiments.run WHERE starts_with(experiment_id, ?)", [ref]
    ).fetchone()
    if not found or not found[0]:
        raise NotFoundError(f"no experiment run {ref!r}")
    try:
        run = get_run(con, ref)
    except NbapropsError as exc:
        raise BadRequestError(str(exc)) from None
    run["artefacts"] = sorted((run.get("artefacts") or {}).keys())
    return scrub(run)


def models(con: duckdb.DuckDBPyConnection, system: str | None = None) -> dict[str, Any]:
    """The registry: every version with its aliases and figures, and each aliased
    system's promotion history (no artefact paths, no calibration internals)."""
    versions = []
    for v in list_versions(con, system):
        out = v.to_dict()
        for key in ("artefact_dir", "calibration", "feature_columns"):
            out.pop(key, None)
        out["n_features"] = len(v.feature_columns)
        versions.append(out)
    aliased = sorted({v["system_id"] for v in versions if v["aliases"]})
    return scrub(
        {
            "versions": versions,
            "history": {s: alias_history(con, s) for s in aliased},
        }
    )


def diagnostics(con: duckdb.DuckDBPyConnection, day: date | None = None) -> dict[str, Any]:
    """The stored diagnostics of a date (default: the latest diagnosed), per system."""
    if day is None:
        day = _scalar(con, "SELECT max(game_date) FROM monitoring.diagnostic")
        if day is None:
            raise NotFoundError("no diagnostics yet; run `nbaprops diagnose`")
    rows = records(stored_diagnostics(con, day, day))
    details = dict(
        con.execute(
            "SELECT system_id, details FROM monitoring.diagnostic WHERE game_date = ?", [day]
        ).fetchall()
    )
    for r in rows:
        detail = json.loads(details.get(r["system_id"]) or "{}")
        r["factors"] = detail.get("factors", [])
    return scrub({"date": day, "diagnostics": rows})


def alerts(
    con: duckdb.DuckDBPyConnection, since: date | None = None, today: date | None = None
) -> dict[str, Any]:
    """Stored alerts raised on or after ``since`` (default: a week before today)."""
    first = since or (today or date.today()) - timedelta(days=ALERTS_DEFAULT_DAYS)
    return {"since": first, "alerts": scrub(alerts_since(con, first))}


# --- track record -----------------------------------------------------------------------


def _kinds(con: duckdb.DuckDBPyConnection, system: str) -> list[str]:
    """The real line kinds a system has graded rows on (sportsbook first)."""
    return [
        str(r[0])
        for r in con.execute(
            """
            SELECT DISTINCT p.line_kind
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.system_id = ? AND p.is_active AND NOT p.in_sample
              AND p.line_source = 'ACTUAL' AND p.line_kind IS NOT NULL
            ORDER BY p.line_kind <> 'sportsbook', p.line_kind
            """,
            [system],
        ).fetchall()
    ]


def graded_systems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Systems with graded out-of-sample predictions, the champion's system first."""
    return [
        str(r[0])
        for r in con.execute(
            """
            SELECT p.system_id
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND NOT p.in_sample
            GROUP BY 1
            ORDER BY bool_or(p.alias = 'champion') DESC, 1
            """
        ).fetchall()
    ]


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def daily_record(
    con: duckdb.DuckDBPyConnection, system: str, kind: str, first: date, last: date
) -> list[dict[str, Any]]:
    """Per date: decided bets (wins + losses) on real ``kind`` lines, wins, profit at
    consensus and at the best price, and mean closing line value with its N."""
    rows = con.execute(
        """
        SELECT p.game_date, count(*) AS bets,
               count(*) FILTER (g.direction_vs_consensus = 'right') AS wins,
               sum(g.profit_consensus) AS profit_consensus, sum(g.profit_best) AS profit_best,
               avg(g.clv_line) AS clv_line, count(g.clv_line) AS clv_n
        FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
        WHERE p.system_id = $system AND p.is_active AND NOT p.in_sample
          AND p.line_source = 'ACTUAL' AND p.line_kind = $kind
          AND p.game_date BETWEEN $first AND $last
          AND g.direction_vs_consensus IN ('right', 'wrong')
        GROUP BY 1 ORDER BY 1
        """,
        {"system": system, "kind": kind, "first": first, "last": last},
    ).fetchall()
    return [
        {
            "date": d,
            "bets": int(n),
            "wins": int(w),
            "profit_consensus": float(pc or 0.0),
            "profit_best": float(pb or 0.0),
            "clv_line": _num(clv),
            "clv_n": int(clv_n),
        }
        for d, n, w, pc, pb, clv, clv_n in rows
    ]


def track_record(
    con: duckdb.DuckDBPyConnection,
    system: str,
    kind: str | None = None,
    first: date | None = None,
    last: date | None = None,
    max_days: int = MAX_RANGE_DAYS,
) -> dict[str, Any]:
    """A system's graded record on one kind of real line (never mixed with another):
    daily bets, wins and profit at consensus and at the best price (for cumulative
    ROI), the bets in order (rolling hit rate), model and line MAE by month, P(over)
    against the outcome (reliability), hit rate by |edge| bucket with intervals, and
    closing line value by date. Estimated-line rows are reported apart, MAE only.

    The period defaults to the ``max_days`` ending at the system's last graded date."""
    check_system(con, system)
    if first is not None and last is not None:
        check_period(first, last, max_days)
    kinds = _kinds(con, system)
    if kind is not None and kind not in LINE_KINDS_REAL:
        raise BadRequestError(f"unknown line kind {kind!r} (one of: {', '.join(LINE_KINDS_REAL)})")
    kind = kind or (kinds[0] if kinds else "sportsbook")
    bounds = con.execute(
        """
        SELECT min(p.game_date), max(p.game_date)
        FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
        WHERE p.system_id = ? AND p.is_active AND NOT p.in_sample
        """,
        [system],
    ).fetchone()
    graded_first, graded_last = (bounds or (None, None))[0], (bounds or (None, None))[1]
    if last is None:
        last = graded_last or first or date.today()
    if first is None:
        first = max(graded_first or last, last - timedelta(days=max_days - 1))
    check_period(first, last, max_days)
    rows = graded_rows(con, first, last, system)
    real = rows[(rows["line_source"] == "ACTUAL") & (rows["line_kind"] == kind)]
    base: dict[str, Any] = {
        "system": system,
        "line_kind": kind,
        "line_kinds": kinds,
        "start": first,
        "end": last,
        "graded_first": graded_first,
        "graded_last": graded_last,
        "n_rows": len(real),
    }
    summary = system_figures(real) if len(real) else []
    base["summary"] = summary[0] if summary else None
    est = estimated_figures(rows) if len(rows) else []
    base["estimated_lines"] = est[0] if est else None
    if real.empty:
        return {
            **base,
            "daily": [],
            "bets": [],
            "monthly": [],
            "reliability": [],
            "by_edge": [],
            "by_side": [],
        }

    played = real[real["played"]]
    decided = real[real["direction_vs_consensus"].isin(["right", "wrong"])]
    daily = daily_record(con, system, kind, first, last)
    bets = [
        {"date": d.date() if hasattr(d, "date") else d, "won": bool(res == "right")}
        for d, res in zip(decided["game_date"], decided["direction_vs_consensus"], strict=True)
    ]
    monthly = []
    if len(played):
        month = pd.to_datetime(played["game_date"]).dt.strftime("%Y-%m")
        err = played.assign(
            month=month,
            model_err=(played["actual"] - played["median"]).abs(),
            line_err=(played["actual"] - played["line"]).abs(),
        )
        for m_, g in err.groupby("month", sort=True):
            monthly.append(
                {
                    "month": str(m_),
                    "n": len(g),
                    "model_mae": float(g["model_err"].mean()),
                    "line_mae": float(g["line_err"].mean()),
                }
            )
    scored = played[played["p_over"].notna() & (played["actual"] != played["line"])]
    reliability = (
        [
            b.to_dict()
            for b in probability_metrics(
                scored["p_over"].to_numpy(float),
                (scored["actual"] > scored["line"]).to_numpy(int),
            ).reliability
        ]
        if len(scored)
        else []
    )
    summary_at_consensus = betting_summary(real[list(BETTING_COLUMNS)])
    by_edge = [
        {
            "label": s.label,
            "n": s.n,
            "hit_rate": _num(s.hit_rate),
            "ci_low": _num(s.ci_low),
            "ci_high": _num(s.ci_high),
        }
        for s in summary_at_consensus.by_edge
    ]
    roi = "roi_actual" if kind == "sportsbook" else "roi_flat"
    at_best = {g.label: g for g in betting_summary(best_price_frame(real)).by_direction}
    by_side = [
        {
            "side": s.label,
            "n": s.n,
            "hit_rate": _num(s.hit_rate),
            "ci_low": _num(s.ci_low),
            "ci_high": _num(s.ci_high),
            "roi_consensus": _num(getattr(s, roi)),
            "roi_best": _num(getattr(at_best[s.label], roi)) if s.label in at_best else None,
        }
        for s in summary_at_consensus.by_direction
    ]
    return {
        **base,
        "daily": daily,
        "bets": bets,
        "monthly": monthly,
        "reliability": reliability,
        "by_edge": by_edge,
        "by_side": by_side,
    }


def availability(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    *,
    team: str | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Each game of ``day`` with its injury-report statuses at decision time (tip-off
    minus the decision minutes), or as of ``as_of``, and the report's publication time
    (``warehouse.availability``: the latest report at or before then listing the game)."""
    from nbaprops.warehouse.availability import statuses_at

    entries = statuses_at(
        con,
        day,
        day,
        minutes_before_tip=settings.models.decision_minutes_before_tip,
        at=as_of,
    )
    games = records(
        con.execute(
            "SELECT g.game_id, g.away_team || '@' || g.home_team AS matchup, g.away_team, "
            "g.home_team, gt.tip_off_utc, gt.tip_source FROM core.game g "
            "JOIN core.game_tip gt USING (game_id) WHERE g.game_date = ? "
            "ORDER BY gt.tip_off_utc, g.game_id",
            [day],
        ).df()
    )
    blocked = set(settings.picks.availability_block_statuses)
    wanted = team.upper() if team else None
    if wanted is not None:
        teams = [r[0] for r in con.execute("SELECT tricode FROM core.team ORDER BY 1").fetchall()]
        if wanted not in teams:
            raise BadRequestError(
                f"unknown team {team!r}{_did_you_mean(wanted, teams)} (a tricode, e.g. NYK)"
            )
        games = [g for g in games if wanted in (g["away_team"], g["home_team"])]
        if not games:
            raise NotFoundError(f"{wanted} does not play on {day}")
    out = []
    for game in games:
        rows = entries[entries["game_id"] == game["game_id"]]
        judged = records(rows[["decided", "report_time_utc"]].head(1))
        listed = rows.dropna(subset=["status"])
        if wanted:
            listed = listed[listed["team"] == wanted]
        columns = ["team", "team_name", "player", "player_id", "status", "reason"]
        out.append(
            {
                "game_id": game["game_id"],
                "matchup": game["matchup"],
                "tip_off_utc": game["tip_off_utc"],
                "tip_source": game["tip_source"],
                "judged_at_utc": judged[0]["decided"] if judged else None,
                "report_time_utc": judged[0]["report_time_utc"] if judged else None,
                "entries": [
                    {
                        **e,
                        "player_id": _int_or_none(e["player_id"]),
                        "blocked": e["status"] in blocked,
                    }
                    for e in records(listed[columns])
                ],
            }
        )
    return {
        "date": day.isoformat(),
        "as_of_utc": as_of.astimezone(UTC).isoformat() if as_of else None,
        "decision_minutes_before_tip": settings.models.decision_minutes_before_tip,
        "blocked_statuses": sorted(blocked),
        "games": out,
    }


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
