"""Prop markets: every feed's market key mapped to one name (one place for the list)."""

from __future__ import annotations

from dataclasses import dataclass

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


# -- the market catalog: what a market *is*, declared once -------------------------------
#
# Every stage reads a market from here: the box-score columns its outcome sums, the
# family of its predictive distribution, whether a line may be estimated when no book
# posted one, the feature set its models are trained on, and the features that play the
# roles a system needs (its season average, its recent spread).

CONTINUOUS = "continuous"  # many distinct values: residual quantiles around a point
COUNT = "count"  # small counts: a discrete (negative binomial) distribution


@dataclass(frozen=True)
class Market:
    """One prop market as data (``MARKET_CATALOG``); nothing else is per market."""

    name: str
    title: str
    stats: tuple[str, ...]  # core.player_game columns whose sum is the outcome
    family: str  # CONTINUOUS or COUNT
    feature_set: str  # the default feature set key its models train on
    estimated_line: bool = False  # a row without a posted line gets an estimated one
    zero_inflated: bool = False  # COUNT: a zero-inflated negative binomial
    max_count: int = 0  # COUNT: the support is 0 .. max_count (the rest of the mass on it)
    # Diagnostics' scale (monitoring.diagnostics): thresholds in outcome units are set on
    # points and multiplied by ``error_scale``, the market's typical line miss over points'
    # (mean |actual - line| of every played, lined player-game of the shared data, all
    # line kinds: points 5.17, rebounds 2.15, assists 1.70, threes 1.17, PRA 6.15, P+R
    # 6.05, P+A 5.54, R+A 2.84). ``line_tiers`` split its lines into low | mid | high at
    # about the 41st and 77th percentiles of its posted lines, as 12 and 20 do for points.
    # tests/data/test_markets_real.py re-measures both on the real data.
    error_scale: float = 1.0
    line_tiers: tuple[float, float] = (12.0, 20.0)

    @property
    def label(self) -> str:
        """The frame column holding the outcome (the market's name)."""
        return self.name

    @property
    def label_sql(self) -> str:
        """SQL over core.player_game giving the outcome (a sum of box-score columns)."""
        return " + ".join(f"CAST({s} AS DOUBLE)" for s in self.stats)

    @property
    def prefix(self) -> str:
        """How its own history features are named (``<prefix>_avg_season``, …)."""
        return self.name

    @property
    def season_avg_feature(self) -> str:
        return f"{self.prefix}_avg_season"

    @property
    def std_feature(self) -> str:
        return f"{self.prefix}_std_last_10"

    @property
    def is_count(self) -> bool:
        return self.family == COUNT

    @property
    def components(self) -> tuple[str, ...]:
        """The single-stat markets a combo sums (empty for a single-stat market)."""
        if len(self.stats) < 2:
            return ()
        by_stat = {m.stats[0]: m.name for m in MARKET_CATALOG.values() if len(m.stats) == 1}
        return tuple(by_stat[s] for s in self.stats)


MARKET_CATALOG: dict[str, Market] = {
    m.name: m
    for m in (
        Market("points", "Points", ("points",), CONTINUOUS, "points_v1", estimated_line=True),
        Market(
            "rebounds",
            "Rebounds",
            ("reb",),
            COUNT,
            "rebounds_v1",
            max_count=40,
            error_scale=0.42,
            line_tiers=(5.0, 8.0),
        ),
        Market(
            "assists",
            "Assists",
            ("ast",),
            COUNT,
            "assists_v1",
            max_count=35,
            error_scale=0.33,
            line_tiers=(3.0, 6.0),
        ),
        Market(
            "threes",
            "Threes made",
            ("fg3m",),
            COUNT,
            "threes_v1",
            zero_inflated=True,
            max_count=20,
            error_scale=0.23,
            line_tiers=(2.0, 3.0),
        ),
        Market(
            "pra",
            "Points + rebounds + assists",
            ("points", "reb", "ast"),
            CONTINUOUS,
            "pra_v1",
            error_scale=1.19,
            line_tiers=(18.0, 29.0),
        ),
        Market(
            "pr",
            "Points + rebounds",
            ("points", "reb"),
            CONTINUOUS,
            "pr_v1",
            error_scale=1.17,
            line_tiers=(18.0, 28.0),
        ),
        Market(
            "pa",
            "Points + assists",
            ("points", "ast"),
            CONTINUOUS,
            "pa_v1",
            error_scale=1.07,
            line_tiers=(16.0, 26.0),
        ),
        Market(
            "ra",
            "Rebounds + assists",
            ("reb", "ast"),
            COUNT,
            "ra_v1",
            max_count=60,
            error_scale=0.55,
            line_tiers=(8.0, 12.0),
        ),
    )
}
MARKET_NAMES: tuple[str, ...] = tuple(MARKET_CATALOG)
DEFAULT_MARKET = "points"


def get_market(name: str) -> Market:
    """The market called ``name`` (or a feed key for it); one clear error listing the known."""
    from nbaprops.core.errors import NbapropsError

    key = MARKETS.get(str(name).strip().lower(), str(name).strip().lower())
    try:
        return MARKET_CATALOG[key]
    except KeyError:
        raise NbapropsError(
            f"unknown market {name!r}: use one of {', '.join(MARKET_NAMES)} (or all)"
        ) from None


def parse_markets(text: str | None) -> tuple[Market, ...]:
    """``all``, one market, or a comma-separated list, in catalog order, without repeats."""
    if text is None or not str(text).strip():
        return (MARKET_CATALOG[DEFAULT_MARKET],)
    if str(text).strip().lower() == "all":
        return tuple(MARKET_CATALOG.values())
    wanted = {get_market(part).name for part in str(text).split(",") if part.strip()}
    return tuple(m for m in MARKET_CATALOG.values() if m.name in wanted)


def outcome_sql(market_column: str, table: str) -> str:
    """SQL giving each row's outcome in its own market: ``market_column`` names the row's
    market, ``table`` the core.player_game alias (``CAST(pg.points AS DOUBLE)`` for points,
    exactly as before markets). Both are code constants, never user input."""
    cases = " ".join(
        f"WHEN '{m.name}' THEN " + " + ".join(f"CAST({table}.{s} AS DOUBLE)" for s in m.stats)
        for m in MARKET_CATALOG.values()
    )
    return f"CASE {market_column} {cases} END"
