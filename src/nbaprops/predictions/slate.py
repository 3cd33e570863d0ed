"""A date's slate as a prediction sees it: serving rows, features, decision-time lines.

The daily job builds one date; the backtest builds every date of its evaluation at
once. Both take the serving spine (the players expected that day), the feature
frame over it, and the lines and book quotes seen at the decision time. Nothing
dated on or after the day is read except the schedule and those quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from nbaprops.core.markets import get_market
from nbaprops.features.catalog import FeatureSet
from nbaprops.features.frame import build_frame, serving_spine
from nbaprops.warehouse.availability import player_statuses, statuses_at
from nbaprops.warehouse.lines import lines_at_decision


@dataclass(frozen=True)
class Slate:
    """Serving rows of one or more dates with their decision-time lines and quotes."""

    frame: pd.DataFrame
    books: pd.DataFrame
    minutes_before_tip: int
    as_of: datetime | None

    @property
    def complete_share(self) -> float:
        """Share of rows whose required features all have values (the completeness gate)."""
        if self.frame.empty:
            return float("nan")
        return float((self.frame["n_required_defaulted"] == 0).mean())

    def on(self, day: date) -> Slate:
        return Slate(
            self.frame[self.frame["game_date"] == day],
            self.books[self.books["game_date"] == day],
            self.minutes_before_tip,
            self.as_of,
        )


def with_lines(frame: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Serving rows with their decision-time line, its kind, books, prices and time."""
    keep = [c for c in points.columns if c != "game_id"]
    return frame.merge(points[keep], on=["player_id", "game_date"], how="left")


def with_availability(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    *,
    minutes_before_tip: int,
    as_of: datetime | None,
) -> pd.DataFrame:
    """Serving rows with each player's injury-report status at decision time (the gate
    reads it whatever the feature set) and when that report was published."""
    if frame.empty:
        return frame.assign(availability_status=None, availability_report_utc=None)
    days = frame["game_date"]
    entries = statuses_at(
        con, min(days), max(days), minutes_before_tip=minutes_before_tip, as_of=as_of
    )
    found = player_statuses(entries, frame)
    frame = frame.copy()
    frame["availability_status"] = found["availability_status"].to_numpy()
    frame["availability_report_utc"] = found["availability_report_utc"].to_numpy()
    return frame


def build_slate(
    con: duckdb.DuckDBPyConnection,
    dates: list[date],
    feature_set: FeatureSet,
    *,
    minutes_before_tip: int,
    as_of: datetime | None = None,
) -> Slate:
    """The slates of ``dates`` (one per date, concatenated) for one feature set, in its
    market: that market's lines. A market that declares no estimated line (every market
    but points) keeps only its lined rows: a threes row without a threes line is no row."""
    market = get_market(feature_set.market)
    lines = lines_at_decision(
        con,
        min(dates),
        max(dates),
        minutes_before_tip=minutes_before_tip,
        as_of=as_of,
        market=market.name,
    )
    spines = [serving_spine(con, d, lines=lines.on(d).points) for d in dates]
    spines = [s for s in spines if not s.empty]
    if not spines:
        empty = pd.DataFrame(columns=["player_id", "game_date", "line", "n_required_defaulted"])
        return Slate(empty, lines.books, minutes_before_tip, as_of)
    spine = pd.concat(spines, ignore_index=True)
    frame = build_frame(
        con,
        spine,
        feature_set,
        lines=lines.points,
        minutes_before_tip=minutes_before_tip,
        as_of=as_of,
    )
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    frame = with_lines(frame, lines.points)
    if not market.estimated_line:
        frame = frame[frame["line"].notna().to_numpy()].reset_index(drop=True)
    frame = with_availability(con, frame, minutes_before_tip=minutes_before_tip, as_of=as_of)
    return Slate(frame, lines.books, minutes_before_tip, as_of)
