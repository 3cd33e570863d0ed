"""Picks: which of a slate's calls the record backs, and what to stake on them.

A system *calls* a side when its raw expected value at the best available price beats
the margin (``scoring``). A call becomes a **bet** only when the record backs it: its
calibrated EV (what such calls returned out of sample, shrunk toward zero edge) beats
the margin, enough comparable graded calls exist (same line kind, side and
calibrated-EV bucket) and they returned a profit at the prices taken (a record that lost
backs no bet, whatever EV the pick claims), its edge is large enough, and the slate's
limits leave room (one bet per player, per game, per team, per day). Every other call is a
**watchlist** pick: shown with its reason and its record, never staked. "No bets today"
is a valid answer.

Stakes are fractional Kelly on the calibrated EV at the price taken, then capped: a
RED slate multiplies them (the seed system's operators halved stakes on RED slates by
hand), no bet exceeds the per-bet cap, and a slate whose total exceeds the slate cap is
scaled down in proportion. Each pick keeps its stake before and after the caps.

The backtest, the backfill and the daily job call ``select_picks`` on the same scored
rows with the same calibration, so their bets are the same.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nbaprops.core import odds
from nbaprops.core.metrics import SIDES, as_placed, ev_bucket
from nbaprops.core.settings import Settings
from nbaprops.models.calibration import EvCalibration

BET, WATCHLIST = "BET", "WATCHLIST"
STATUSES = (BET, WATCHLIST)
RED = "RED"

# A pick as recommended: identity, the bet as placed, its value, its record, its stake.
PICK_COLUMNS = (
    "system",
    "model_version",
    "alias",
    "prediction_id",
    "game_date",
    "game_id",
    "player_id",
    "team",
    "availability_status",
    "line_kind",
    "side",
    "line",
    "bet_book",
    "bet_line",
    "bet_price",
    "priced",
    "p_win",
    "edge",
    "ev_raw",
    "ev_calibrated",
    "ev_bucket",
    "record_n",
    "record_wins",
    "record_hit_rate",
    "record_ci_low",
    "record_ci_high",
    "record_roi",
    "status",
    "reason",
    "slate_signal",
    "stake_flat",
    "stake_kelly_before",
    "stake_kelly",
    "capped_by",
    "rank",
    "decision_time",
)
# Identity columns taken from the scored rows when present.
_PASSTHROUGH = (
    "system",
    "model_version",
    "alias",
    "prediction_id",
    "decision_time",
    "availability_status",
)


@dataclass(frozen=True)
class PickPolicy:
    """The rule that turns calls into bets; ``calibrated=False`` is the rule before EV
    calibration (raw EV, no record check, uncapped stakes), kept to measure the change.

    Stakes are shares of the bankroll; ``unit`` is the bankroll share of one unit (the
    flat stake of every bet)."""

    margin: float = 0.02
    min_edge: float = 1.0
    min_record: int = 100
    kelly_fraction: float = 0.25
    max_bet: float = 0.02
    max_slate: float = 0.06
    red_multiplier: float = 0.5
    max_per_game: int = 2
    max_per_team: int = 2
    max_per_day: int = 10
    max_markets_per_player: int = 1
    unit: float = 0.01
    calibrated: bool = True
    # injury-report statuses at decision time never bet (the availability gate)
    blocked_statuses: tuple[str, ...] = ("Out", "Doubtful", "Questionable")

    @classmethod
    def from_settings(cls, settings: Settings) -> PickPolicy:
        return cls(
            margin=settings.betting.ev_margin,
            min_edge=settings.picks.picks_min_edge,
            min_record=settings.picks.picks_min_record_bets,
            kelly_fraction=settings.betting.kelly_fraction,
            max_bet=settings.picks.picks_max_bet_share,
            max_slate=settings.picks.picks_max_slate_share,
            red_multiplier=settings.picks.picks_red_multiplier,
            max_per_game=settings.picks.picks_max_per_game,
            max_per_team=settings.picks.picks_max_per_team,
            max_per_day=settings.picks.picks_max_per_day,
            max_markets_per_player=settings.picks.picks_max_markets_per_player,
            unit=settings.betting.unit_share,
            blocked_statuses=tuple(settings.picks.availability_block_statuses),
        )

    def before_calibration(self) -> PickPolicy:
        """The rule as it was: raw EV, no record, no per-game limit, no caps."""
        return PickPolicy(
            margin=self.margin,
            min_edge=self.min_edge,
            min_record=0,
            kelly_fraction=self.kelly_fraction,
            max_bet=1.0,
            max_slate=float("inf"),
            red_multiplier=1.0,
            max_per_game=10**6,
            max_per_team=self.max_per_team,
            max_per_day=self.max_per_day,
            unit=self.unit,
            calibrated=False,
        )


def empty_picks() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PICK_COLUMNS})


def _pct(value: float) -> str:
    return f"{100 * value:+.1f}%"


# What ``select_picks`` reads from a slate's rows (the scoring vocabulary).
_INPUTS = (
    "game_date",
    "game_id",
    "player_id",
    "team",
    "line_kind",
    "side",
    "line",
    "over_price",
    "under_price",
    "bet_book",
    "bet_line",
    "bet_price",
    "ev",
    "ev_calibrated",
    "edge",
)


# ... and what it passes through; a stored prediction row names two of them apart.
_STORED = {"side": "recommendation", "system": "system_id"}
_READ = (*_INPUTS, *_PASSTHROUGH, "p_win")


def select_picks(
    rows: pd.DataFrame,
    ev: EvCalibration,
    signal: str | None,
    policy: PickPolicy,
) -> pd.DataFrame:
    """The picks of one system's slate of one date (rows in the scoring vocabulary:
    ``side``, ``ev``, ``ev_calibrated``, ``bet_*``, ``edge``, ``p_win``, ...), bets first
    by calibrated EV, then the watchlist by claimed EV; ``signal`` is the slate's colour."""
    names = {c: _STORED.get(c, c) if c not in rows.columns else c for c in _READ}
    sides = rows[names["side"]].to_numpy(dtype=object)
    keep = np.isin(sides, SIDES) & ~np.isnan(rows["line"].to_numpy(dtype=float))
    if "in_sample" in rows.columns:
        keep &= ~rows["in_sample"].to_numpy(dtype=bool)
    if not keep.any():
        return empty_picks()
    col = {c: rows[names[c]].to_numpy()[keep] for c in _INPUTS}
    extra = {
        c: rows[names[c]].to_numpy()[keep]
        for c in (*_PASSTHROUGH, "p_win")
        if names[c] in rows.columns
    }
    n = int(keep.sum())
    kind = col["line_kind"].astype(str)
    side = col["side"].astype(str)
    bet_price = col["bet_price"].astype(float)
    line, price = as_placed(
        side, col["line"], col["over_price"], col["under_price"], col["bet_line"], bet_price
    )
    ev_raw = col["ev"].astype(float)
    ev_cal = col["ev_calibrated"].astype(float)
    value = ev_cal if policy.calibrated else ev_raw
    record = ev.record_of(kind, side, ev_cal)
    record_n = record["record_n"]
    edge = col["edge"].astype(float)
    reason = np.full(n, "", dtype=object)
    status = extra.get("availability_status", np.full(n, None, dtype=object))
    blocked = np.isin(status.astype(object), list(policy.blocked_statuses))
    reason[blocked] = [f"listed {s} at decision time (injury report)" for s in status[blocked]]
    if policy.calibrated:
        low = (reason == "") & ~(np.nan_to_num(ev_cal, nan=-np.inf) > policy.margin)
        reason[low] = [
            f"calibrated EV {_pct(c)} at or under the margin {_pct(policy.margin)} "
            f"(claimed {_pct(r)})"
            for c, r in zip(np.nan_to_num(ev_cal[low]), ev_raw[low], strict=True)
        ]
        few = (reason == "") & (record_n < policy.min_record)
        reason[few] = [
            f"{k} comparable graded bets (fewer than {policy.min_record})" for k in record_n[few]
        ]
        if policy.min_record > 0:  # a record is required: one that lost backs no bet
            roi = record["record_roi"]
            lost = (reason == "") & ~(roi > 0)  # the rows left have min_record or more
            reason[lost] = [
                f"comparable graded bets returned {_pct(r)} over {k} (a record that lost "
                "backs no bet)"
                for r, k in zip(roi[lost], record_n[lost], strict=True)
            ]
    small = (reason == "") & ~(np.abs(edge) >= policy.min_edge)
    reason[small] = [f"edge {e:+.1f} pts under {policy.min_edge:g}" for e in edge[small]]
    players, games, teams = col["player_id"], col["game_id"], col["team"]
    order = np.lexsort((players, -np.nan_to_num(value, nan=-np.inf)))
    per_player: dict[Hashable, int] = {}
    per_game: dict[Hashable, int] = {}
    per_team: dict[Hashable, int] = {}
    n_day = 0
    for i in order:
        if reason[i]:
            continue
        player, game, team = players[i], games[i], teams[i]
        if per_player.get(player, 0) >= 1:
            reason[i] = "one bet per player per date"
        elif per_game.get(game, 0) >= policy.max_per_game:
            reason[i] = f"{policy.max_per_game} bets on this game already"
        elif per_team.get(team, 0) >= policy.max_per_team:
            reason[i] = f"{policy.max_per_team} bets on this team already"
        elif n_day >= policy.max_per_day:
            reason[i] = f"{policy.max_per_day} bets on this date already"
        else:
            per_player[player] = per_player.get(player, 0) + 1
            per_game[game] = per_game.get(game, 0) + 1
            per_team[team] = per_team.get(team, 0) + 1
            n_day += 1
    is_bet = reason == ""
    before = np.where(
        is_bet,
        np.asarray(odds.kelly_from_ev(np.where(is_bet, value, 0.0), price), dtype=float)
        * policy.kelly_fraction,
        0.0,
    )
    after = before.copy()
    capped = np.full(n, "", dtype=object)
    if signal == RED and policy.red_multiplier != 1.0:
        after = after * policy.red_multiplier
        capped[is_bet] = f"RED slate x{policy.red_multiplier:g}"
    over_cap = after > policy.max_bet
    after = np.minimum(after, policy.max_bet)
    capped[over_cap] = [
        f"{c}; " * bool(c) + f"per-bet cap {policy.max_bet:.0%}" for c in capped[over_cap]
    ]
    total = float(after.sum())
    if total > policy.max_slate:
        after = after * (policy.max_slate / total)
        capped[is_bet] = [
            f"{c}; " * bool(c) + f"slate cap {policy.max_slate:.0%}" for c in capped[is_bet]
        ]
    secondary = -np.nan_to_num(np.where(is_bet, value, ev_raw), nan=-np.inf)
    ranked = np.lexsort((players, secondary, np.where(is_bet, 0, 1)))
    columns = {
        "game_date": col["game_date"],
        "game_id": games,
        "player_id": players,
        "team": teams,
        "line_kind": kind,
        "side": side,
        "line": col["line"].astype(float),
        "bet_book": col["bet_book"],
        "bet_line": line,
        "bet_price": price,
        "priced": np.isfinite(bet_price) & (kind == "sportsbook"),
        "p_win": extra.get("p_win", np.full(n, np.nan)).astype(float),
        "edge": edge,
        "ev_raw": ev_raw,
        "ev_calibrated": ev_cal,
        "ev_bucket": ev_bucket(ev_cal),
        **record,
        "status": np.where(is_bet, BET, WATCHLIST),
        "reason": reason,
        "slate_signal": np.full(n, signal, dtype=object),
        "stake_flat": np.where(is_bet, 1.0, 0.0),
        "stake_kelly_before": before,
        "stake_kelly": after,
        "capped_by": capped,
        "rank": np.empty(n, dtype=int),
        **{c: extra.get(c, np.full(n, None, dtype=object)) for c in _PASSTHROUGH},
    }
    out = pd.DataFrame({c: np.asarray(columns[c])[ranked] for c in PICK_COLUMNS})
    out["rank"] = np.arange(1, n + 1)
    return out


def cap_across_markets(
    picks: pd.DataFrame, policy: PickPolicy, by: tuple[str, ...] = ("system",)
) -> pd.DataFrame:
    """Picks of several markets (a ``market`` column) under the date's limits across them.

    ``select_picks`` applied each market's limits to that market's slate alone; a user
    following every market bets them all, so the same limits hold over their union, per
    ``by`` (the backtest: a system; the daily job: the alias whose bets are placed) and
    date, the highest calibrated EV first:

    * a player's bets in different markets are correlated (PRA holds his points): at most
      ``max_markets_per_player`` of them;
    * at most ``max_per_game`` bets on a game, ``max_per_team`` on a team and
      ``max_per_day`` on the date;
    * the stakes together stay under the slate cap ``max_slate`` (scaled down together).

    Bets past a limit join the watchlist with the reason and no stake."""
    if picks.empty:
        return picks
    out = picks.reset_index(drop=True).copy()
    bets = out[out["status"] == BET]
    if bets.empty:
        return out
    value = bets["ev_calibrated"].astype(float).fillna(-np.inf)
    ranked = bets.assign(_value=value).sort_values(
        ["_value", "market", "player_id"], ascending=[False, True, True], kind="stable"
    )
    limits = (
        ("player_id", policy.max_markets_per_player, "already a bet on this player tonight"),
        ("game_id", policy.max_per_game, f"{policy.max_per_game} bets on this game already"),
        ("team", policy.max_per_team, f"{policy.max_per_team} bets on this team already"),
        (None, policy.max_per_day, f"{policy.max_per_day} bets on this date already"),
    )
    counts: dict[tuple[object, ...], int] = {}
    kept_markets: dict[tuple[object, ...], list[str]] = {}
    dropped: dict[int, str] = {}
    for i, row in zip(ranked.index, ranked.to_dict("records"), strict=True):
        group = (*(row[c] for c in by), row["game_date"])
        keys = [(*group, key, None if key is None else row[key]) for key, _, _ in limits]
        for (key, limit, why), k in zip(limits, keys, strict=True):
            if counts.get(k, 0) >= limit:
                held = f" ({', '.join(kept_markets[k])})" if key == "player_id" else ""
                dropped[i] = f"{why}{held}: the date's limits hold across markets"
                break
        else:
            for k in keys:
                counts[k] = counts.get(k, 0) + 1
            kept_markets.setdefault(keys[0], []).append(str(row["market"]))
    if dropped:
        index = list(dropped)
        out.loc[index, "status"] = WATCHLIST
        out.loc[index, "reason"] = list(dropped.values())
        for col in ("stake_flat", "stake_kelly_before", "stake_kelly"):
            out.loc[index, col] = 0.0
    is_bet = out["status"] == BET
    groups = [*by, "game_date"]
    total = out["stake_kelly"].where(is_bet, 0.0).groupby([out[c] for c in groups]).transform("sum")
    over = is_bet & (total > policy.max_slate + 1e-12)
    if over.any():
        out.loc[over, "stake_kelly"] = out.loc[over, "stake_kelly"] * (
            policy.max_slate / total[over]
        )
        note = f"slate cap {policy.max_slate:.0%} across markets"
        out.loc[over, "capped_by"] = [
            f"{c}; {note}" if c else note for c in out.loc[over, "capped_by"]
        ]
    return out
