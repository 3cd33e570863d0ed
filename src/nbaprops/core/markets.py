"""Prop markets: every feed's market key mapped to one name (one place for the list)."""

from __future__ import annotations

# Feed market keys (The Odds API keys and short names) -> our market names.
MARKETS: dict[str, str] = {
    "player_points": "points",
    "points": "points",
    "player_rebounds": "rebounds",
    "rebounds": "rebounds",
    "player_assists": "assists",
    "assists": "assists",
    "player_threes": "threes",
    "threes": "threes",
    "player_points_rebounds_assists": "pra",
    "pra": "pra",
    "player_points_rebounds": "pr",
    "pr": "pr",
    "player_points_assists": "pa",
    "pa": "pa",
    "player_rebounds_assists": "ra",
    "ra": "ra",
}

# The market names a feed may use, as accepted in the generic prop-line CSV.
KNOWN_MARKET_KEYS: tuple[str, ...] = tuple(MARKETS)
