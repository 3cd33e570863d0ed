"""The feature catalog: every feature declared once, and the named, versioned sets.

A feature's ``sql`` is an expression over the as-of joined history aliases that
``nbaprops.features.frame`` assembles for each spine row:

- ``s``  the spine row (player_id, game_date, team, opponent, home, season, season_type)
- ``ps`` the player's state after his last game before the date
- ``p7`` the player's state after his last game before date - 7 days
- ``pw`` the player's state before the first of his team's last 10 games
- ``ts`` / ``os`` his team's / the opponent's state after their last game before the date
- ``ta`` rotation players missing from his team's previous game
- ``ls`` his record against his points lines after his last lined game before the date
- ``h2h`` his games against this opponent in the 365 days before the date
- ``gl`` the game's closing line; ``pl`` his consensus line for the game (pre-tip) in the
  frame's market (points unless the frame is built for another market)
- ``av`` / ``bd`` / ``lm`` the injury report, the board and his quotes as published by the
  row's decision time (``nbaprops.features.availability``)

It yields NULL when the history it needs does not exist; the frame then uses
``fallback`` (another expression) or the constant ``default`` and counts the row's
defaulted features. Required features are those that need only the player's and
teams' history to exist (the predict step gates on them); season-to-date features
are optional because every player lacks them on a season's opening night.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

from nbaprops.core.markets import MARKET_CATALOG, Market
from nbaprops.features.state import (
    allowed_column,
    market_state_column,
    state_markets,
)

GROUPS = (
    "player_history",
    "usage",
    "rest",
    "team_context",
    "opponent",
    "game_context",
    "market",
    "breakout",
    "availability",
    "board",
    "line_moves",
)

# Same-season guard: season-to-date state only counts within the spine's season.
_SAME_SEASON = "ps.season = s.season"
_DAYS_REST = "datediff('day', ps.game_date, s.game_date)"


@dataclass(frozen=True)
class Feature:
    name: str
    group: str
    sql: str
    default: float
    description: str
    required: bool = True
    fallback: str | None = None


CATALOG: tuple[Feature, ...] = (
    # -- player history -----------------------------------------------------------------
    Feature(
        "points_avg_last_3",
        "player_history",
        "ps.pts_avg_3",
        8.0,
        "Mean points over his last 3 games (any season).",
    ),
    Feature(
        "points_avg_last_5",
        "player_history",
        "ps.pts_avg_5",
        8.0,
        "Mean points over his last 5 games (any season).",
    ),
    Feature(
        "points_avg_last_10",
        "player_history",
        "ps.pts_avg_10",
        8.0,
        "Mean points over his last 10 games (any season).",
    ),
    Feature(
        "points_avg_season",
        "player_history",
        f"CASE WHEN {_SAME_SEASON} THEN ps.season_pts_avg END",
        8.0,
        "Season-to-date mean points; in a season's first game it falls back to his last-10 "
        "mean from earlier games (counted as defaulted), else the default.",
        required=False,
        fallback="ps.pts_avg_10",
    ),
    Feature(
        "points_std_last_10",
        "player_history",
        "ps.pts_std_10",
        5.0,
        "Standard deviation of points over his last 10 games.",
    ),
    Feature(
        "points_max_last_5",
        "player_history",
        "ps.pts_max_5",
        12.0,
        "Most points in his last 5 games.",
    ),
    Feature(
        "minutes_avg_last_10",
        "player_history",
        "ps.min_avg_10",
        18.0,
        "Mean minutes over his last 10 games.",
    ),
    Feature(
        "minutes_std_last_10",
        "player_history",
        "ps.min_std_10",
        6.0,
        "Standard deviation of minutes over his last 10 games.",
    ),
    Feature(
        "points_per_minute_last_10",
        "player_history",
        "ps.pts_per_min_10",
        0.42,
        "Points per minute over his last 10 games (sum over sum).",
    ),
    Feature(
        "points_trend_slope_last_10",
        "player_history",
        "ps.pts_slope_10",
        0.0,
        "Least-squares slope of points per game over his last 10 games.",
    ),
    Feature(
        "pts_vs_season_zscore",
        "breakout",
        f"CASE WHEN {_SAME_SEASON} AND ps.season_games >= 5 AND ps.season_pts_std > 0 "
        "THEN (ps.pts_avg_5 - ps.season_pts_avg) / ps.season_pts_std END",
        0.0,
        "Last-5 mean minus season mean, in season standard deviations (>= 5 games this "
        "season; before that, against his last 10 games).",
        required=False,
        fallback="(ps.pts_avg_5 - ps.pts_avg_10) / nullif(ps.pts_std_10, 0)",
    ),
    Feature(
        "season_games_played",
        "player_history",
        f"CASE WHEN {_SAME_SEASON} THEN ps.season_games ELSE 0 END",
        0.0,
        "Games he has played this season before this one.",
    ),
    Feature(
        "career_games",
        "player_history",
        "ps.career_games",
        0.0,
        "Games in the warehouse before this one (2015-16 on).",
    ),
    # -- usage ---------------------------------------------------------------------------
    Feature(
        "usage_proxy_last_10",
        "usage",
        "ps.usage_10",
        0.18,
        "(FGA + 0.44 FTA + TOV) share of the team's while on court, mean of last 10 games.",
    ),
    Feature(
        "fga_per_minute_last_10",
        "usage",
        "ps.fga_per_min_10",
        0.35,
        "Field-goal attempts per minute over his last 10 games.",
    ),
    Feature(
        "fta_per_minute_last_10",
        "usage",
        "ps.fta_per_min_10",
        0.09,
        "Free-throw attempts per minute over his last 10 games.",
    ),
    Feature(
        "fg3a_per_minute_last_10",
        "usage",
        "ps.fg3a_per_min_10",
        0.12,
        "Three-point attempts per minute over his last 10 games.",
    ),
    # -- rest ----------------------------------------------------------------------------
    Feature(
        "days_rest",
        "rest",
        f"least({_DAYS_REST}, 10)",
        3.0,
        "Days since his last game, capped at 10.",
    ),
    Feature(
        "back_to_back",
        "rest",
        f"CASE WHEN {_DAYS_REST} = 1 THEN 1 ELSE 0 END",
        0.0,
        "1 when he played yesterday.",
    ),
    Feature(
        "games_last_7_days",
        "rest",
        "CASE WHEN ps.player_id IS NOT NULL THEN ps.career_games - coalesce(p7.career_games, 0) "
        "END",
        0.0,
        "Games he played in the 7 days before the date.",
    ),
    Feature(
        "minutes_last_7_days",
        "rest",
        "CASE WHEN ps.player_id IS NOT NULL THEN ps.career_minutes - coalesce(p7.career_minutes, 0)"
        " END",
        0.0,
        "Minutes he played in the 7 days before the date.",
    ),
    Feature(
        "rest_advantage",
        "rest",
        "least(datediff('day', ts.game_date, s.game_date), 5) "
        "- least(datediff('day', os.game_date, s.game_date), 5)",
        0.0,
        "His team's days of rest minus the opponent's (each capped at 5).",
    ),
    # -- team context ----------------------------------------------------------------------
    Feature(
        "team_pace_last_10",
        "team_context",
        "ts.pace_10",
        99.0,
        "His team's possessions per 48 minutes over its last 10 games.",
    ),
    Feature(
        "team_off_rating_last_10",
        "team_context",
        "ts.off_rtg_10",
        112.0,
        "His team's points per 100 possessions over its last 10 games.",
    ),
    Feature(
        "team_win_pct",
        "team_context",
        "CASE WHEN ts.season = s.season THEN ts.win_pct_season END",
        0.5,
        "His team's season-to-date win share (0.5 before its first game).",
        required=False,
    ),
    Feature(
        "games_since_team_change",
        "team_context",
        f"CASE WHEN ps.team = s.team AND {_DAYS_REST} <= 14 THEN least(ps.stint_games, 82) "
        "ELSE 0 END",
        0.0,
        "Games since he joined this team or came back from a gap of more than 14 days "
        "(capped at 82).",
    ),
    Feature(
        "dnp_rate_last_10",
        "team_context",
        "CASE WHEN ts.n_games_10 > 0 AND ps.player_id IS NOT NULL THEN greatest(0.0, "
        "ts.n_games_10 - (ps.career_games - coalesce(pw.career_games, 0))) / ts.n_games_10 END",
        0.0,
        "Share of his team's last 10 games he did not play.",
    ),
    Feature(
        "teammates_out_minutes",
        "team_context",
        "ta.rotation_minutes_out",
        0.0,
        "Usual minutes of rotation teammates missing from his team's previous game.",
    ),
    # -- opponent --------------------------------------------------------------------------
    Feature(
        "opponent_def_rating",
        "opponent",
        "os.def_rtg_10",
        112.0,
        "Opponent points allowed per 100 possessions over its last 10 games.",
    ),
    Feature(
        "opponent_def_rating_last_15",
        "opponent",
        "os.def_rtg_15",
        112.0,
        "Opponent points allowed per 100 possessions over its last 15 games.",
    ),
    Feature(
        "opponent_pace_last_10",
        "opponent",
        "os.pace_10",
        99.0,
        "Opponent possessions per 48 minutes over its last 10 games.",
    ),
    Feature(
        "h2h_points_avg_365",
        "opponent",
        "h2h.pts_avg",
        8.0,
        "His mean points against this opponent in the last 365 days (falls back to his "
        "last-10 mean).",
        required=False,
        fallback="ps.pts_avg_10",
    ),
    Feature(
        "h2h_games_365",
        "opponent",
        "coalesce(h2h.n_games, 0)",
        0.0,
        "His games against this opponent in the last 365 days.",
    ),
    # -- game context ----------------------------------------------------------------------
    Feature(
        "home_away", "game_context", "CASE WHEN s.home THEN 1 ELSE 0 END", 0.0, "1 at home, 0 away."
    ),
    Feature(
        "playoff_game",
        "game_context",
        "CASE WHEN s.season_type = 'playoffs' THEN 1 ELSE 0 END",
        0.0,
        "1 in the playoffs.",
    ),
    Feature(
        "game_total",
        "game_context",
        "gl.total",
        224.0,
        "Closing game total (points, both teams).",
        required=False,
    ),
    Feature(
        "team_spread",
        "game_context",
        "CASE WHEN s.home THEN gl.spread_home ELSE -gl.spread_home END",
        0.0,
        "Closing spread from his team's side (negative = favoured).",
        required=False,
    ),
    Feature(
        "implied_team_total",
        "game_context",
        "CASE WHEN s.home THEN gl.implied_home_total ELSE gl.implied_away_total END",
        112.0,
        "His team's implied points: total / 2 minus its spread / 2.",
        required=False,
    ),
    # -- market ----------------------------------------------------------------------------
    Feature(
        "points_line",
        "market",
        "pl.line",
        8.0,
        "Consensus main points line from quotes before tip-off (falls back to his season mean).",
        required=False,
        fallback=f"coalesce(CASE WHEN {_SAME_SEASON} THEN ps.season_pts_avg END, ps.pts_avg_10)",
    ),
    Feature(
        "has_line",
        "market",
        "CASE WHEN pl.line IS NOT NULL THEN 1 ELSE 0 END",
        0.0,
        "1 when a real points line was quoted before tip-off.",
    ),
    Feature(
        "line_minus_season_avg",
        "market",
        f"pl.line - CASE WHEN {_SAME_SEASON} THEN ps.season_pts_avg END",
        0.0,
        "Points line minus his season mean.",
        required=False,
    ),
    Feature(
        "over_rate_last_10_lined",
        "market",
        "ls.over_rate_10",
        0.5,
        "Share of his last 10 lined games that went over (pushes ignored).",
        required=False,
    ),
    Feature(
        "mean_actual_minus_line_last_5",
        "market",
        "ls.actual_minus_line_5",
        0.0,
        "Mean of points minus line over his last 5 lined games.",
        required=False,
    ),
    # -- breakout --------------------------------------------------------------------------
    Feature(
        "explosion_ratio",
        "breakout",
        f"CASE WHEN {_SAME_SEASON} AND ps.season_pts_avg > 0 "
        "THEN ps.pts_max_5 / ps.season_pts_avg END",
        1.5,
        "Most points in his last 5 games over his season mean (before his first game of the "
        "season, over his last-10 mean).",
        required=False,
        fallback="ps.pts_max_5 / nullif(ps.pts_avg_10, 0)",
    ),
    Feature(
        "days_since_breakout",
        "breakout",
        "least(datediff('day', ps.last_breakout, s.game_date), 365)",
        365.0,
        "Days since he scored 10+ above his season mean (capped at 365).",
    ),
)

CATALOG_V2_ADDITIONS: tuple[Feature, ...] = (
    Feature(
        "minutes_avg_last_3",
        "player_history",
        "ps.min_avg_3",
        18.0,
        "Mean minutes over his last 3 games (role changes show here first).",
    ),
    Feature(
        "last_game_minutes",
        "player_history",
        "ps.minutes",
        18.0,
        "Minutes in his previous game.",
    ),
    Feature(
        "last_game_points",
        "player_history",
        "ps.points",
        8.0,
        "Points in his previous game.",
    ),
    Feature(
        "points_avg_last_20",
        "player_history",
        "ps.pts_avg_20",
        8.0,
        "Mean points over his last 20 games (any season).",
    ),
    Feature(
        "minutes_avg_last_20",
        "player_history",
        "ps.min_avg_20",
        18.0,
        "Mean minutes over his last 20 games (any season).",
    ),
    Feature(
        "points_per_minute_last_20",
        "player_history",
        "ps.pts_per_min_20",
        0.42,
        "Points per minute over his last 20 games (sum over sum).",
    ),
    Feature(
        "minutes_trend_3_vs_10",
        "player_history",
        "ps.min_avg_3 - ps.min_avg_10",
        0.0,
        "Mean minutes of his last 3 games minus his last 10.",
    ),
)

# Breakout research features: in the catalog for ``mode: experimental`` runs (``type:
# breakout``); no registered set uses them (``breakout_v1`` is frozen).
_BREAKOUT_SIGNALS = (
    "ps.pts_std_10 / nullif(ps.pts_avg_10, 0) >= 0.5",
    "ps.min_avg_3 - ps.min_avg_10 >= 2",
    "ps.usage_5 > ps.usage_10",
    f"{_SAME_SEASON} AND ps.pts_max_5 >= 1.75 * ps.season_pts_avg",
    "ta.rotation_minutes_out >= 20",
)
CATALOG_BREAKOUT_RESEARCH: tuple[Feature, ...] = (
    Feature(
        "cv_ratio",
        "breakout",
        "ps.pts_std_10 / nullif(ps.pts_avg_10, 0)",
        0.6,
        "Coefficient of variation of points over his last 10 games (std / mean).",
        required=False,
    ),
    Feature(
        "cold_streak_indicator",
        "breakout",
        "CASE WHEN ps.pts_avg_10 IS NOT NULL THEN "
        "CASE WHEN ps.pts_avg_5 < 0.8 * ps.pts_avg_10 THEN 1 ELSE 0 END END",
        0.0,
        "1 when his last-5 mean is below 0.8 x his last-10 mean.",
        required=False,
    ),
    Feature(
        "usage_rate_trend",
        "breakout",
        "ps.usage_5 - ps.usage_10",
        0.0,
        "Usage proxy over his last 5 games minus over his last 10.",
        required=False,
    ),
    Feature(
        "minutes_trend",
        "breakout",
        "ps.min_slope_10",
        0.0,
        "Least-squares slope of minutes per game over his last 10 games (>= 3 games).",
        required=False,
    ),
    Feature(
        "games_since_dnp",
        "breakout",
        "CASE WHEN ps.player_id IS NOT NULL AND ps.team = s.team AND ps.game_date = ts.game_date "
        "THEN least(ps.consec_games, 82) ELSE 0 END",
        0.0,
        "His team's games in a row he has played up to its last one (0 when he missed its last "
        "game; restarts on a team change; capped at 82).",
        required=False,
    ),
    Feature(
        "breakout_signal",
        "breakout",
        "CASE WHEN ps.player_id IS NOT NULL THEN "
        + " + ".join(f"CAST(coalesce({c}, false) AS INTEGER)" for c in _BREAKOUT_SIGNALS)
        + " END",
        0.0,
        "Composite 0-5, one point each: volatile scorer (last-10 CV >= 0.5), rising minutes "
        "(last-3 mean >= last-10 mean + 2), rising usage (last 5 above last 10), a recent "
        "explosion (last-5 max >= 1.75 x season mean), >= 20 rotation minutes out.",
        required=False,
    ),
)

# Availability and market moves (issue 24): what the line knows and the models did not.
# Rows before the reports (2022-23) or without quotes get the defaults, counted as
# defaulted; ``availability_report_known`` tells a booster which is which.
_KNOWN = "CASE WHEN av.has_report THEN {} END"
CATALOG_AVAILABILITY: tuple[Feature, ...] = (
    Feature(
        "availability_report_known",
        "availability",
        "CASE WHEN av.has_report THEN 1 END",
        0.0,
        "1 when an injury report listing his game was published by decision time (else 0, "
        "counted as defaulted).",
        required=False,
    ),
    Feature(
        "own_status_rank",
        "availability",
        _KNOWN.format("coalesce(av.own_rank, 0)"),
        0.0,
        "His status at decision time: Available 0, Probable 1, Questionable 2, Doubtful 3, "
        "Out 4 (0 when not listed).",
        required=False,
    ),
    Feature(
        "own_not_listed",
        "availability",
        _KNOWN.format("CASE WHEN av.own_rank IS NULL THEN 1 ELSE 0 END"),
        0.0,
        "1 when the report used does not list him (not listed is not 'Available').",
        required=False,
    ),
    Feature(
        "own_out_last_game",
        "availability",
        "CASE WHEN av.prev_has_report THEN CASE WHEN av.prev_rank = 4 THEN 1 ELSE 0 END END",
        0.0,
        "1 when he was listed OUT for his team's previous game (last report before its tip).",
        required=False,
    ),
    Feature(
        "vacated_minutes",
        "availability",
        _KNOWN.format("coalesce(av.out_min, 0)"),
        0.0,
        "Recent minutes (last-10 mean) of teammates listed OUT or DOUBTFUL at decision time.",
        required=False,
    ),
    Feature(
        "vacated_usage_share",
        "availability",
        _KNOWN.format("coalesce(av.out_used, 0)"),
        0.0,
        "Their share of the team's FGA + 0.44 FTA + TOV over their last 10 games, summed.",
        required=False,
    ),
    Feature(
        "vacated_points_share",
        "availability",
        _KNOWN.format("coalesce(av.out_pts, 0)"),
        0.0,
        "Their share of the team's points over their last 10 games, summed.",
        required=False,
    ),
    Feature(
        "questionable_minutes",
        "availability",
        _KNOWN.format("coalesce(av.q_min, 0)"),
        0.0,
        "Recent minutes of teammates listed QUESTIONABLE at decision time.",
        required=False,
    ),
    Feature(
        "questionable_usage_share",
        "availability",
        _KNOWN.format("coalesce(av.q_used, 0)"),
        0.0,
        "Usage share of teammates listed QUESTIONABLE, summed.",
        required=False,
    ),
    Feature(
        "questionable_points_share",
        "availability",
        _KNOWN.format("coalesce(av.q_pts, 0)"),
        0.0,
        "Points share of teammates listed QUESTIONABLE, summed.",
        required=False,
    ),
    Feature(
        "opponent_vacated_minutes",
        "availability",
        _KNOWN.format("coalesce(av.opp_out_min, 0)"),
        0.0,
        "Recent minutes of the opponent's players listed OUT or DOUBTFUL.",
        required=False,
    ),
    Feature(
        "opponent_vacated_usage_share",
        "availability",
        _KNOWN.format("coalesce(av.opp_out_used, 0)"),
        0.0,
        "Usage share of the opponent's players listed OUT or DOUBTFUL, summed.",
        required=False,
    ),
    Feature(
        "opponent_vacated_points_share",
        "availability",
        _KNOWN.format("coalesce(av.opp_out_pts, 0)"),
        0.0,
        "Points share of the opponent's players listed OUT or DOUBTFUL, summed.",
        required=False,
    ),
    Feature(
        "opponent_rim_protector_out",
        "availability",
        _KNOWN.format("coalesce(av.opp_rim_out, 0)"),
        0.0,
        "1 when an opponent averaging >= 1.5 blocks over his last 10 games is OUT or DOUBTFUL.",
        required=False,
    ),
    Feature(
        "board_missing_team",
        "board",
        "bd.team_missing",
        0.0,
        "Teammates who usually have a points line (>= 3 of the team's last 5 lined games) "
        "with none tonight by decision time; default when the game has no lines.",
        required=False,
    ),
    Feature(
        "board_missing_opponent",
        "board",
        "bd.opp_missing",
        0.0,
        "The same count for the opponent.",
        required=False,
    ),
    Feature(
        "line_move_since_open",
        "line_moves",
        "lm.move",
        0.0,
        "His books' median points line at decision time minus at the first quote seen.",
        required=False,
    ),
    Feature(
        "book_line_spread",
        "line_moves",
        "lm.spread",
        0.0,
        "Highest minus lowest book line at decision time (book disagreement).",
        required=False,
    ),
    Feature(
        "n_books_quoting",
        "line_moves",
        "lm.n_books",
        0.0,
        "Books quoting his points line by decision time.",
        required=False,
    ),
)

# Vacated rebounds and assists for the other markets (the same rule as the points share).
CATALOG_AVAILABILITY_MARKETS: tuple[Feature, ...] = (
    Feature(
        "vacated_rebounds_share",
        "availability",
        _KNOWN.format("coalesce(av.out_reb, 0)"),
        0.0,
        "Share of the team's rebounds over their last 10 games of teammates listed OUT or "
        "DOUBTFUL at decision time, summed.",
        required=False,
    ),
    Feature(
        "vacated_assists_share",
        "availability",
        _KNOWN.format("coalesce(av.out_ast, 0)"),
        0.0,
        "Share of the team's assists over their last 10 games of teammates listed OUT or "
        "DOUBTFUL at decision time, summed.",
        required=False,
    ),
)


# -- every other market (issue 26): its own history, generated from the market catalog ---
#
# Defaults per box-score stat for a player without the history (a debut): about three
# quarters of the league mean per player-game (2021-22 on), as 8.0 is for points; a combo
# sums its stats' (its spread adds in quadrature). ``allowed`` is a team game's league mean.


@dataclass(frozen=True)
class _StatDefaults:
    avg: float  # per game
    std: float  # standard deviation over 10 games
    per_minute: float
    allowed: float  # what a team's opponent puts up per game


_STAT_DEFAULTS: dict[str, _StatDefaults] = {
    "points": _StatDefaults(8.0, 5.0, 0.42, 112.0),
    "reb": _StatDefaults(3.0, 2.0, 0.18, 44.0),
    "ast": _StatDefaults(2.0, 1.5, 0.10, 25.5),
    "fg3m": _StatDefaults(1.0, 1.0, 0.05, 12.7),
}


def _market_defaults(market: Market) -> _StatDefaults:
    parts = [_STAT_DEFAULTS[s] for s in market.stats]
    return _StatDefaults(
        avg=round(sum(p.avg for p in parts), 2),
        std=round(math.sqrt(sum(p.std**2 for p in parts)), 2),
        per_minute=round(sum(p.per_minute for p in parts), 3),
        allowed=round(sum(p.allowed for p in parts), 1),
    )


def market_features(market: Market) -> tuple[Feature, ...]:
    """A market's own history and line features (``<market>_avg_last_10``, ...)."""
    m, title, d = market.prefix, market.title.lower(), _market_defaults(market)

    def col(kind: str) -> str:
        return f"ps.{market_state_column(market, kind)}"

    season = f"CASE WHEN {_SAME_SEASON} THEN {col('season_avg')} END"
    allowed = " + ".join(f"os.{allowed_column(s)}" for s in market.stats)
    windows = tuple(
        Feature(
            f"{m}_avg_last_{n}",
            "player_history",
            col(f"avg_{n}"),
            d.avg,
            f"Mean {title} over his last {n} games (any season).",
        )
        for n in (3, 5, 10, 20)
    )
    return (
        *windows,
        Feature(
            market.season_avg_feature,
            "player_history",
            season,
            d.avg,
            f"Season-to-date mean {title}; in a season's first game it falls back to his "
            "last-10 mean from earlier games (counted as defaulted), else the default.",
            required=False,
            fallback=col("avg_10"),
        ),
        Feature(
            market.std_feature,
            "player_history",
            col("std_10"),
            d.std,
            f"Standard deviation of {title} over his last 10 games.",
        ),
        Feature(
            f"{m}_per_minute_last_10",
            "player_history",
            col("per_min_10"),
            d.per_minute,
            f"{market.title} per minute over his last 10 games (sum over sum).",
        ),
        Feature(
            f"opponent_{m}_allowed_last_10",
            "opponent",
            allowed,
            d.allowed,
            f"{market.title} the opponent's opponents put up per game over its last 10 games.",
        ),
        Feature(
            f"{m}_line",
            "market",
            "pl.line",
            d.avg,
            f"Consensus main {title} line from quotes before tip-off (falls back to his "
            "season mean).",
            required=False,
            fallback=f"coalesce({season}, {col('avg_10')})",
        ),
        Feature(
            f"has_{m}_line",
            "market",
            "CASE WHEN pl.line IS NULL THEN 0 ELSE 1 END",
            0.0,
            f"1 when a real {title} line was quoted before tip-off.",
        ),
        Feature(
            f"{m}_line_minus_season_avg",
            "market",
            f"pl.line - {season}",
            0.0,
            f"{market.title} line minus his season mean.",
            required=False,
        ),
    )


# Market-specific detail beyond the generated history, keyed by market name.
CATALOG_MARKET_EXTRAS: dict[str, tuple[Feature, ...]] = {
    "rebounds": (
        Feature(
            "oreb_avg_last_10",
            "player_history",
            "ps.oreb_avg_10",
            0.75,
            "Mean offensive rebounds over his last 10 games.",
        ),
        Feature(
            "dreb_avg_last_10",
            "player_history",
            "ps.dreb_avg_10",
            2.25,
            "Mean defensive rebounds over his last 10 games.",
        ),
    ),
    "threes": (
        Feature(
            "fg3a_avg_last_10",
            "player_history",
            "ps.fg3a_avg_10",
            2.5,
            "Mean three-point attempts over his last 10 games.",
        ),
        Feature(
            "fg3_pct_last_20",
            "player_history",
            "ps.fg3_pct_20",
            0.35,
            "Three-point percentage over his last 20 games (made over attempted; the league "
            "rate, 0.35, when he attempted none).",
            required=False,
        ),
    ),
}

CATALOG_MARKETS: tuple[Feature, ...] = tuple(
    f for m in state_markets() for f in market_features(m)
) + tuple(f for extras in CATALOG_MARKET_EXTRAS.values() for f in extras)

CATALOG = (
    CATALOG
    + CATALOG_V2_ADDITIONS
    + CATALOG_BREAKOUT_RESEARCH
    + CATALOG_AVAILABILITY
    + CATALOG_AVAILABILITY_MARKETS
    + CATALOG_MARKETS
)

FEATURES = {f.name: f for f in CATALOG}


@dataclass(frozen=True)
class FeatureSet:
    """A named, versioned, ordered list of features a model is bound to."""

    name: str
    version: int
    features: tuple[str, ...]
    description: str
    market: str = "points"  # the market whose outcome its models predict (core.markets)

    @property
    def key(self) -> str:
        return f"{self.name}_v{self.version}"

    def definitions(self) -> list[Feature]:
        return [FEATURES[n] for n in self.features]


POINTS_V1 = FeatureSet(
    "points",
    1,
    (
        "points_avg_last_3",
        "points_avg_last_5",
        "points_avg_last_10",
        "points_avg_season",
        "points_std_last_10",
        "minutes_avg_last_10",
        "minutes_std_last_10",
        "points_per_minute_last_10",
        "points_trend_slope_last_10",
        "pts_vs_season_zscore",
        "season_games_played",
        "career_games",
        "usage_proxy_last_10",
        "fga_per_minute_last_10",
        "fta_per_minute_last_10",
        "fg3a_per_minute_last_10",
        "days_rest",
        "back_to_back",
        "games_last_7_days",
        "minutes_last_7_days",
        "rest_advantage",
        "team_pace_last_10",
        "team_off_rating_last_10",
        "team_win_pct",
        "games_since_team_change",
        "dnp_rate_last_10",
        "teammates_out_minutes",
        "opponent_def_rating",
        "opponent_def_rating_last_15",
        "opponent_pace_last_10",
        "h2h_points_avg_365",
        "h2h_games_365",
        "home_away",
        "playoff_game",
        "game_total",
        "team_spread",
        "implied_team_total",
        "points_line",
        "has_line",
        "line_minus_season_avg",
        "over_rate_last_10_lined",
        "mean_actual_minus_line_last_5",
    ),
    "Every player-history, usage, rest, team, opponent, game and market feature.",
)

BREAKOUT_V1 = FeatureSet(
    "breakout",
    1,
    (
        "pts_vs_season_zscore",
        "points_std_last_10",
        "explosion_ratio",
        "days_since_breakout",
        "opponent_def_rating",
        "home_away",
        "back_to_back",
        "points_avg_last_5",
        "points_avg_season",
        "minutes_avg_last_10",
    ),
    "The role-player breakout classifier's 10 inputs, in fixed order.",
)

# Frozen: a model is bound to a set's exact, ordered feature list.
POINTS_V2 = FeatureSet(
    "points",
    2,
    POINTS_V1.features + tuple(f.name for f in CATALOG_V2_ADDITIONS),
    "points_v1 plus minutes-role and longer-form features (last 3 / last game / last 20).",
)

# points_v2 was taken (frozen) before availability existed, so the availability set is v3.
POINTS_V3 = FeatureSet(
    "points",
    3,
    POINTS_V2.features + tuple(f.name for f in CATALOG_AVAILABILITY),
    "points_v2 plus availability at decision time (own status, vacated and questionable "
    "roles of teammates and opponents), the board, and line movement and book disagreement.",
)

# What every other market's set shares with points_v3: the context that reads neither
# points history nor the points lines (minutes, usage, rest, team, opponent, game,
# experience and availability at decision time; not the points board or line moves).
MARKET_CONTEXT: tuple[str, ...] = (
    "minutes_avg_last_3",
    "minutes_avg_last_10",
    "minutes_avg_last_20",
    "minutes_std_last_10",
    "minutes_trend_3_vs_10",
    "last_game_minutes",
    "season_games_played",
    "career_games",
    "usage_proxy_last_10",
    "fga_per_minute_last_10",
    "fta_per_minute_last_10",
    "fg3a_per_minute_last_10",
    "days_rest",
    "back_to_back",
    "games_last_7_days",
    "minutes_last_7_days",
    "rest_advantage",
    "team_pace_last_10",
    "team_off_rating_last_10",
    "team_win_pct",
    "games_since_team_change",
    "dnp_rate_last_10",
    "teammates_out_minutes",
    "opponent_def_rating",
    "opponent_def_rating_last_15",
    "opponent_pace_last_10",
    "home_away",
    "playoff_game",
    "game_total",
    "team_spread",
    "implied_team_total",
    *(f.name for f in CATALOG_AVAILABILITY if f.group == "availability"),
    *(f.name for f in CATALOG_AVAILABILITY_MARKETS),
)


def market_feature_set(market: Market) -> FeatureSet:
    """``<market>_v1``: its own history and line, each component's recent and season form
    (a combo), its market-specific detail, then the shared context."""
    own = tuple(f.name for f in market_features(market))
    parts = tuple(
        name
        for c in market.components
        for name in (f"{c}_avg_last_10", MARKET_CATALOG[c].season_avg_feature)
    )
    extras = tuple(f.name for f in CATALOG_MARKET_EXTRAS.get(market.name, ()))
    return FeatureSet(
        market.name,
        1,
        own + parts + extras + MARKET_CONTEXT,
        f"{market.title}: its own history and line, "
        + ("each component's last-10 and season means, " if parts else "")
        + "and the context points_v3 has that reads neither points history nor points lines.",
        market=market.name,
    )


MARKET_FEATURE_SETS: tuple[FeatureSet, ...] = tuple(market_feature_set(m) for m in state_markets())

FEATURE_SETS = {
    fs.key: fs for fs in (POINTS_V1, POINTS_V2, POINTS_V3, BREAKOUT_V1, *MARKET_FEATURE_SETS)
}


def experimental_feature_set(
    features: tuple[str, ...], description: str, market: str = "points"
) -> FeatureSet:
    """A set over custom catalog features, keyed on the feature list alone (and its market,
    when not points): experiments over the same list share frames, and a version trained
    on it is served with it."""
    digest = hashlib.sha256(json.dumps(list(features)).encode()).hexdigest()[:8]
    name = f"experimental_{digest}" if market == "points" else f"experimental_{market}_{digest}"
    return FeatureSet(
        name=name, version=0, features=tuple(features), description=description, market=market
    )


def market_of_key(key: str) -> str:
    """The market a feature set key predicts: a registered set's, an experimental set's
    (keyed ``experimental_<market>_<digest>_v0``), else points."""
    known = FEATURE_SETS.get(key)
    if known is not None:
        return known.market
    parts = key.split("_")  # experimental_<market>_<digest>_v0
    if len(parts) == 4 and parts[0] == "experimental":
        return parts[1]
    return "points"


def get_feature_set(key: str) -> FeatureSet:
    from nbaprops.core.errors import NbapropsError

    try:
        return FEATURE_SETS[key]
    except KeyError:
        raise NbapropsError(
            f"unknown feature set {key!r}: use one of {', '.join(FEATURE_SETS)}"
        ) from None
