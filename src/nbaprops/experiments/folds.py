"""Date-grouped walk-forward folds: every test date lies after its whole training window."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Fold:
    """Fit on [train_start, train_end], predict every date in [test_start, test_end]."""

    index: int
    train_start: date | None  # None: all history
    train_end: date
    test_start: date
    test_end: date
    warmup: bool = False  # predictions feed calibration / ensemble weights, not the report

    def validate(self, gap_days: int = 0) -> None:
        if self.test_start > self.test_end:
            raise ValueError(f"fold {self.index}: test range is empty")
        if self.train_start is not None and self.train_start > self.train_end:
            raise ValueError(f"fold {self.index}: training window is empty")
        if self.train_end >= self.test_start - timedelta(days=gap_days):
            raise ValueError(
                f"fold {self.index}: training ends {self.train_end}, not before test start "
                f"{self.test_start} minus a {gap_days}-day gap"
            )

    def to_dict(self) -> dict:
        return {k: str(v) if isinstance(v, date) else v for k, v in asdict(self).items()}


def season_start(day: date) -> date:
    """Sep 1 of the season ``day`` belongs to (seasons run Sep..Aug; the 2020 bubble's
    Sep-Oct 2020 games are the one exception, counted here with 2020-21)."""
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def window_start(
    window: str, window_days: int | None, train_end: date, serve_from: date
) -> date | None:
    """First training date of a model trained up to ``train_end`` that serves from
    ``serve_from`` (None: all history). One rule for every fold and the final model."""
    if window == "rolling" and window_days:
        return train_end - timedelta(days=window_days - 1)
    if window == "current_season":
        start = season_start(serve_from)
        if start > train_end:
            raise ValueError(
                f"a model serving from {serve_from} has no current-season history before it; "
                "start the evaluation later in the season or use another window"
            )
        return start
    return None


@dataclass(frozen=True)
class FoldPlan:
    folds: tuple[Fold, ...]
    window: str  # expanding, rolling or current_season
    window_days: int | None
    retrain_every: int
    gap_days: int

    def validate(self) -> None:
        last_end: date | None = None
        for fold in self.folds:
            fold.validate(self.gap_days)
            if last_end is not None and fold.test_start <= last_end:
                raise ValueError(f"fold {fold.index}: test range overlaps the previous fold")
            last_end = fold.test_end

    @property
    def reported(self) -> list[Fold]:
        return [f for f in self.folds if not f.warmup]

    def describe(self) -> list[dict]:
        return [f.to_dict() for f in self.folds]


def plan_folds(
    game_dates: list[date],
    start: date,
    end: date,
    *,
    retrain_every: int = 7,
    gap_days: int = 0,
    window: str = "expanding",
    window_days: int | None = None,
    warmup_days: int = 0,
) -> FoldPlan:
    """Walk forward over the game dates in [start - warmup_days, end].

    Each fold's test range covers ``retrain_every`` calendar days starting at its
    first game date; the model is refitted on everything up to the day before it
    (minus ``gap_days``), on the last ``window_days`` for a rolling window, or on the
    test date's season so far for ``current_season``.
    """
    if retrain_every < 1:
        raise ValueError("retrain_every must be at least 1 day")
    if gap_days < 0:
        raise ValueError("gap_days cannot be negative")
    if window not in ("expanding", "rolling", "current_season"):
        raise ValueError("window must be 'expanding', 'rolling' or 'current_season'")
    if window == "rolling" and not window_days:
        raise ValueError("a rolling window needs window_days")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    first = start - timedelta(days=warmup_days)
    dates = sorted({d for d in game_dates if first <= d <= end})
    folds: list[Fold] = []
    i = 0
    while i < len(dates):
        test_start = dates[i]
        limit = test_start + timedelta(days=retrain_every - 1)
        warm = test_start < start
        if warm:
            limit = min(limit, start - timedelta(days=1))
        j = i
        while j + 1 < len(dates) and dates[j + 1] <= limit:
            j += 1
        train_end = test_start - timedelta(days=1 + gap_days)
        train_start = window_start(window, window_days, train_end, test_start)
        folds.append(Fold(len(folds), train_start, train_end, test_start, dates[j], warm))
        i = j + 1
    plan = FoldPlan(tuple(folds), window, window_days, retrain_every, gap_days)
    plan.validate()
    return plan
