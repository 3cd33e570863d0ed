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

# The lines a book may plausibly post per market (inclusive), declared once: a quote
# outside its market's band is quarantined at ingest. Every real line in the shared data
# sits well inside (points 0.5-42.5, rebounds 0.5-16.5, assists 0.5-15.5, threes
# 0.5-6.5, PRA 4.5-61.5); the ceilings sit far below the league's single-game records.
LINE_BANDS: dict[str, tuple[float, float]] = {
    "points": (0.5, 75.0),
    "rebounds": (0.5, 35.0),
    "assists": (0.5, 25.0),
    "threes": (0.5, 12.0),
    "pra": (0.5, 110.0),
    "pr": (0.5, 95.0),
    "pa": (0.5, 90.0),
    "ra": (0.5, 50.0),
}

# A book's price is an outlier when its implied probability sits this far from the
# median of at least three books pricing the same side of the same line. On the shared
# data the largest such gap for points is 0.07 (99.99th percentile 0.06).
QUOTE_OUTLIER_GAP = 0.15


def line_band_checks(market_expr: str, line_expr: str) -> tuple[tuple[str, str], ...]:
    """(SQL predicate, reason) per market: a line of that market lies in its band.

    ``market_expr`` is SQL naming the market by a feed key or our name (a quoted literal
    for a single-market feed); a market no band names passes (its own check refuses it).
    """
    checks = []
    for name, (low, high) in LINE_BANDS.items():
        keys = sorted({k for k, v in MARKETS.items() if v == name} | {name})
        listed = ", ".join(f"'{k}'" for k in keys)
        checks.append(
            (
                f"lower(trim({market_expr})) NOT IN ({listed}) "
                f"OR {line_expr} BETWEEN {low} AND {high}",
                f"line outside the plausible {name} band {low:g}-{high:g}",
            )
        )
    return tuple(checks)
