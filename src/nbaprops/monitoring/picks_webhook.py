"""The picks webhook: a predicted slate's champion picks, POSTed where someone reads them.

``NBAPROPS_PICKS_WEBHOOK_URL`` set: after ``nbaprops predict`` and after the daily run's
predict phase, the champion's bets of the date are POSTed once, as JSON
(``{"source": "nbaprops", "kind": "picks", "date", "system", "no_bets", "n_bets",
"n_watchlist", "unchanged", "text", "picks": [...]}``) or, with the format ``slack``
(``NBAPROPS_PICKS_WEBHOOK_FORMAT=slack`` or ``--format slack``), as a Slack-compatible
message (``text`` + ``blocks``). A slate without a bet is posted too, as "No bets
today". Watchlist calls are counted, never listed (they carry no stake).

The failure rules are the alerts webhook's (``monitoring.alerts.post_alerts``): a
timeout per request, a failed delivery is returned (the caller logs and audits it),
never raised: the picks are already stored rows, and a receiver that is down must not
fail the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from nbaprops.core.markets import DEFAULT_MARKET, MARKET_NAMES
from nbaprops.core.values import json_safe
from nbaprops.monitoring.alerts import post_json

FORMATS = ("json", "slack")
# The fields of a bet the webhook sends (from the stored pick and its player's name).
BET_FIELDS = (
    "rank",
    "player_name",
    "team",
    "side",
    "line",
    "bet_line",
    "bet_book",
    "bet_price",
    "p_win",
    "ev_calibrated",
    "record_n",
    "record_hit_rate",
    "slate_signal",
    "market",
)


@dataclass(frozen=True)
class PicksDelivery:
    url: str
    n_bets: int
    format: str
    ok: bool
    status: int | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_bets": self.n_bets,
            "format": self.format,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
        }


def bet_rows(picks: pd.DataFrame, unit_share: float) -> list[dict[str, Any]]:
    """The bets among ``picks`` (stored champion picks), in rank order, as plain dicts
    with the stake in units."""
    if picks.empty or "status" not in picks:
        return []
    bets = picks[picks["status"] == "BET"]
    order = ["market", "rank"] if "market" in bets else ["rank"]
    bets = bets.sort_values(order, key=_market_order, kind="stable")
    out = []
    for row in bets.to_dict("records"):
        bet = {k: json_safe(row.get(k)) for k in BET_FIELDS}
        bet["market"] = bet["market"] or DEFAULT_MARKET
        stake = json_safe(row.get("stake_kelly"))
        bet["stake_units"] = None if stake is None else round(float(stake) / unit_share, 2)
        out.append(bet)
    return out


def _market_order(column: pd.Series) -> pd.Series:
    """Markets in catalog order (points first); other sort keys as they are."""
    if column.name != "market":
        return column
    return column.map({m: i for i, m in enumerate(MARKET_NAMES)})


def _bet_text(b: dict[str, Any]) -> str:
    price = "" if b["bet_price"] is None else f" {b['bet_price']:+.0f}"
    book = f" at {b['bet_book']}" if b["bet_book"] else ""
    ev = "" if b["ev_calibrated"] is None else f", EV {b['ev_calibrated']:+.1%}"
    p = "" if b["p_win"] is None else f", P(win) {b['p_win']:.1%}"
    stake = "" if b["stake_units"] is None else f", stake {b['stake_units']:.2f}u"
    market = b.get("market") or DEFAULT_MARKET
    what = "" if market == DEFAULT_MARKET else f" {market}"
    return (
        f"{b['rank']}. {b['player_name']} ({b['team']}) {b['side']} {b['bet_line']:g}{what}"
        f"{book}{price}{p}{ev}{stake}"
    )


def picks_payload(
    day: date,
    system: str | None,
    picks: pd.DataFrame,
    *,
    unit_share: float,
    unchanged: bool = False,
    fmt: str = "json",
) -> dict[str, Any]:
    """The message for the champion's picks of ``day`` in ``fmt`` (json or slack)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown picks webhook format {fmt!r} (expected one of {FORMATS})")
    bets = bet_rows(picks, unit_share)
    n_watch = 0 if picks.empty or "status" not in picks else int((picks["status"] != "BET").sum())
    # one system's champion, or several markets' ("x@champion (points), y@champion (...)")
    who = (system if "@" in system else f"{system}@champion") if system else "no champion"
    if bets:
        head = f"nbaprops picks {day} ({who}): {len(bets)} bet(s)"
    else:
        head = f"No bets today ({day}, {who}): {n_watch} call(s) on the watchlist, none staked"
    lines = [_bet_text(b) for b in bets]
    text = "\n".join([head, *lines])
    if fmt == "slack":
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": head}}
        ]
        if lines:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
        return {"text": text, "blocks": blocks}
    return {
        "source": "nbaprops",
        "kind": "picks",
        "date": str(day),
        "system": system,
        "no_bets": not bets,
        "n_bets": len(bets),
        "n_watchlist": n_watch,
        "unchanged": unchanged,
        "text": text,
        "picks": bets,
    }


def post_picks(
    url: str,
    payload: dict[str, Any],
    *,
    fmt: str,
    n_bets: int,
    timeout_s: float = 5.0,
    opener: Callable[..., Any] | None = None,
) -> PicksDelivery:
    """POST the message; a failure is returned (never raised), like the alerts'."""
    ok, status, error = post_json(url, payload, timeout_s, opener=opener)
    return PicksDelivery(url, n_bets, fmt, ok, status, error)
