"""Distribution recalibration fitted on earlier folds only.

A system's raw predictive CDF is recalibrated through the empirical distribution of
its probability-integral-transform values u = F_raw(actual) on earlier folds:
P(points <= x) = G(F_raw(x)), with G the ECDF of those u. It needs no lines (every
graded player-game counts), and because points are integers it is exact for the
half-point and whole-number lines books post.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from nbaprops.core.devig import market_p_over
from nbaprops.core.metrics import (
    LOSS,
    PUSH,
    SIDES,
    WIN,
    calls_as_placed,
    decided_p_over,
    ev_bucket,
    wilson_interval,
)


@dataclass(frozen=True)
class PitCalibrator:
    """ECDF of earlier folds' PIT values; identity when there is no history."""

    pit: np.ndarray  # sorted PIT values from earlier folds

    @classmethod
    def fit(cls, pit_values: np.ndarray) -> PitCalibrator:
        values = np.asarray(pit_values, dtype=float)
        values = values[np.isfinite(values)]
        return cls(np.sort(np.clip(values, 0.0, 1.0)))

    @property
    def n(self) -> int:
        return len(self.pit)

    def __call__(self, raw_cdf: np.ndarray) -> np.ndarray:
        raw = np.clip(np.asarray(raw_cdf, dtype=float), 0.0, 1.0)
        if self.n == 0:
            return raw
        # Share of earlier PIT values at or below the raw CDF, with a small prior toward
        # the raw value so extreme tails are not forced to exactly 0 or 1.
        below = np.searchsorted(self.pit, raw, side="right")
        prior = 10.0
        return (below + prior * raw) / (self.n + prior)


def prob_over_under_push(
    cdf_at: Callable[[np.ndarray], np.ndarray],
    lines: np.ndarray,
    calibrator: PitCalibrator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibrated P(over), P(under), P(push) for each line (push only on whole lines)."""
    lines = np.asarray(lines, dtype=float)
    whole = np.isclose(lines, np.round(lines))
    at_line = calibrator(cdf_at(lines))
    below_line = calibrator(cdf_at(np.where(whole, lines - 0.5, lines)))
    p_push = np.where(whole, np.clip(at_line - below_line, 0.0, 1.0), 0.0)
    p_under = np.where(whole, below_line, at_line)
    p_over = np.clip(1.0 - at_line, 0.0, 1.0)
    return p_over, p_under, p_push


# Fewest earlier graded lined rows before the line-aware stage is fitted.
MIN_LINED_ROWS = 150


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class PlattCalibrator:
    """P(over | line) = sigmoid(a + b * logit(p)), fitted on earlier folds' graded lines.

    The distribution calibration above is learned on every player-game; against a
    line, which already carries most of the information, a model's disagreement is
    worth less than its own spread says. This stage learns how much less (b < 1
    shrinks toward the market) from lined outcomes of earlier folds only.
    """

    a: float
    b: float
    n: int

    @classmethod
    def identity(cls) -> PlattCalibrator:
        return cls(0.0, 1.0, 0)

    @classmethod
    def fit(cls, p_over: np.ndarray, went_over: np.ndarray) -> PlattCalibrator:
        p = np.asarray(p_over, dtype=float)
        y = np.asarray(went_over, dtype=float)
        ok = np.isfinite(p) & np.isfinite(y)
        p, y = p[ok], y[ok]
        if len(p) < MIN_LINED_ROWS:
            return cls.identity()
        x = _logit(p)
        a, b = 0.0, 1.0
        for _ in range(50):  # Newton steps on the logistic log-likelihood, lightly ridged
            z = np.clip(a + b * x, -30, 30)
            q = 1 / (1 + np.exp(-z))
            w = q * (1 - q)
            g = np.array([np.sum(q - y), np.sum((q - y) * x) + 1.0 * (b - 1.0)])
            h = np.array(
                [[np.sum(w) + 1e-6, np.sum(w * x)], [np.sum(w * x), np.sum(w * x * x) + 1.0]]
            )
            step = np.linalg.solve(h, g)
            a, b = a - step[0], b - step[1]
            if np.max(np.abs(step)) < 1e-8:
                break
        return cls(float(a), float(b), len(p))

    def __call__(self, p_over: np.ndarray) -> np.ndarray:
        if self.n == 0:
            return np.asarray(p_over, dtype=float)
        z = self.a + self.b * _logit(np.asarray(p_over, dtype=float))
        return 1 / (1 + np.exp(-z))


# How a system's P(over) meets the line: "distribution" (PIT, then the one-input
# line-aware stage), "anchored" (PIT, then the market anchor fitted on earlier folds),
# "market" (the market's own de-vigged price; nothing is fitted).
CALIBRATION_KINDS = ("distribution", "anchored", "market")
# Prior strength of the market anchor: lined rows of evidence before the model's point
# gets half its fitted weight, and the ridge (in rows' worth of log-likelihood curvature)
# holding the log-odds combination at the market's until the model has earned a say.
ANCHOR_PRIOR_ROWS = 400
ANCHOR_RIDGE = 50.0
_WEIGHT_GRID = np.linspace(0.0, 1.0, 41)


@dataclass(frozen=True)
class MarketAnchor:
    """Start from the market; let the model move it only as far as it has earned.

    Point: ``line + weight * (model median - line)``, the weight minimising the MAE of
    earlier folds' lined rows, shrunk toward 0 (the line) by ``ANCHOR_PRIOR_ROWS``.
    Probability: ``sigmoid(a + b * logit(p_model) + c * logit(p_market))``, a logistic
    on earlier folds' decided lined rows with a ridge toward (a, b, c) = (0, 0, 1): with
    no lined history it *is* the market, and the model's log-odds count only as far as
    the outcomes support them. ``p_market`` is the de-vigged consensus (0.5 on a DFS
    line); at a book's own line it moves with the model's slope between the two lines.
    """

    weight: float
    a: float
    b: float
    c: float
    n: int  # decided lined rows the logistic was fitted on
    n_point: int = 0  # played lined rows the point weight was fitted on
    method: str = "multiplicative"

    @classmethod
    def market(cls, method: str = "multiplicative") -> MarketAnchor:
        """The market itself: the line as the point, the de-vigged price as P(over)."""
        return cls(0.0, 0.0, 0.0, 1.0, 0, 0, method)

    @classmethod
    def fit(cls, rows: pd.DataFrame, method: str = "multiplicative") -> MarketAnchor:
        """Fit on out-of-sample rows with ``median_model``, ``line``, ``actual``, ``played``,
        ``p_over_dist`` and the consensus ``over_price`` / ``under_price``."""
        lined = rows[rows["played"].astype(bool) & rows["line"].notna()]
        if "median_model" in lined.columns:
            lined = lined[lined["median_model"].notna()]
        weight, n_point = 0.0, 0
        if len(lined):
            y = lined["actual"].to_numpy(dtype=float)
            line = lined["line"].to_numpy(dtype=float)
            gap = lined["median_model"].to_numpy(dtype=float) - line
            mae = np.abs(y[:, None] - line[:, None] - gap[:, None] * _WEIGHT_GRID).mean(axis=0)
            n_point = len(lined)
            best = float(_WEIGHT_GRID[int(np.argmin(mae))])
            weight = best * n_point / (n_point + ANCHOR_PRIOR_ROWS)
        decided = lined[lined["actual"] != lined["line"]]
        decided = decided[decided["p_over_dist"].notna()]
        p_market = market_p_over(decided["over_price"], decided["under_price"], method)
        a, b, c = _ridge_logistic(
            _logit(decided_p_over(decided["p_over_dist"], decided.get("p_push"))),
            _logit(p_market),
            (decided["actual"] > decided["line"]).to_numpy(dtype=float),
        )
        return cls(weight, a, b, c, len(decided), n_point, method)

    def point(self, median_model: np.ndarray, line: np.ndarray) -> np.ndarray:
        return line + self.weight * (median_model - line)

    def p_over(
        self,
        p_model: np.ndarray,
        p_market: np.ndarray,
        p_model_at_consensus: np.ndarray | None = None,
    ) -> np.ndarray:
        """P(over) from the model's (PIT-calibrated) P(over) at the line being priced and
        the market's at the consensus line; at another line the market's log-odds move
        by the model's between the two lines (None: the same line)."""
        market = _logit(p_market)
        if p_model_at_consensus is not None:
            market = market + _logit(p_model) - _logit(p_model_at_consensus)
        z = np.clip(self.a + self.b * _logit(p_model) + self.c * market, -30, 30)
        return 1 / (1 + np.exp(-z))

    def to_dict(self) -> dict[str, Any]:
        return {
            "weight": self.weight,
            "a": self.a,
            "b": self.b,
            "c": self.c,
            "n": self.n,
            "n_point": self.n_point,
            "method": self.method,
        }


def _ridge_logistic(x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(a, b, c) maximising the log-likelihood of sigmoid(a + b x1 + c x2) minus
    ANCHOR_RIDGE / 2 * (a^2 + b^2 + (c - 1)^2): Newton steps from the market's (0, 0, 1)."""
    prior = np.array([0.0, 0.0, 1.0])
    theta = prior.copy()
    if len(y) == 0:
        return 0.0, 0.0, 1.0
    design = np.column_stack([np.ones(len(y)), x1, x2])
    for _ in range(50):
        z = np.clip(design @ theta, -30, 30)
        q = 1 / (1 + np.exp(-z))
        grad = design.T @ (q - y) + ANCHOR_RIDGE * (theta - prior)
        hess = (design * (q * (1 - q))[:, None]).T @ design + ANCHOR_RIDGE * np.eye(3)
        step = np.linalg.solve(hess, grad)
        theta = theta - step
        if np.max(np.abs(step)) < 1e-9:
            break
    return float(theta[0]), float(theta[1]), float(theta[2])


# Expected value is calibrated like a probability: a claim cell's realised return per
# unit, shrunk toward zero edge. Prior on a cell's true return: mean 0, sd EV_PRIOR_SD
# (honest long-run edges on player props are a few percent at most); the shrinkage
# weight is n / (n + var / sd^2), var the cell's own variance of returns per unit.
EV_PRIOR_SD = 0.04
# Variance of one bet's return per unit before a cell has two bets (a -110 bet near evens).
EV_DEFAULT_VARIANCE = 0.91
# Columns a history needs for EV calibration (the scored rows of earlier folds).
EV_COLUMNS = ("side", "ev", "bet_line", "bet_price", "line_kind", "actual", "played")


@dataclass(frozen=True)
class ClaimCell:
    """Earlier graded claims of one (line kind, side, EV bucket): decided bets (wins +
    losses; pushes apart), their realised profit per unit at the price each was placed
    at, its sum of squares, and the sum of the EV they claimed."""

    line_kind: str
    side: str
    bucket: str
    n: int
    wins: int
    pushes: int
    profit: float
    profit_sq: float
    claimed: float

    @property
    def roi(self) -> float:
        return self.profit / self.n if self.n else float("nan")

    @property
    def variance(self) -> float:
        if self.n < 2:
            return EV_DEFAULT_VARIANCE
        mean = self.profit / self.n
        return max((self.profit_sq - self.n * mean * mean) / (self.n - 1), 1e-6)

    def shrunk(self, prior_sd: float) -> float:
        """The posterior mean return per unit: realised, shrunk toward 0 (no edge)."""
        return self.profit / (self.n + self.variance / prior_sd**2)

    def to_list(self) -> list[Any]:
        return [
            self.line_kind,
            self.side,
            self.bucket,
            self.n,
            self.wins,
            self.pushes,
            self.profit,
            self.profit_sq,
            self.claimed,
        ]

    @classmethod
    def from_list(cls, v: list[Any]) -> ClaimCell:
        return cls(
            str(v[0]),
            str(v[1]),
            str(v[2]),
            int(v[3]),
            int(v[4]),
            int(v[5]),
            float(v[6]),
            float(v[7]),
            float(v[8]),
        )


def _claim_cells(rows: pd.DataFrame, ev_column: str) -> tuple[ClaimCell, ...]:
    """Claims (OVER / UNDER calls on real lines) graded at their own line and price,
    grouped by line kind, side and the bucket of ``ev_column``."""
    if rows.empty or any(c not in rows.columns for c in (*EV_COLUMNS, ev_column)):
        return ()
    claims = calls_as_placed(rows[rows[ev_column].notna()])
    if claims.empty:
        return ()
    outcome, profit = claims["outcome"].to_numpy(), claims["profit"].to_numpy()
    frame = pd.DataFrame(
        {
            "line_kind": claims["line_kind"].astype(str).to_numpy(),
            "side": claims["side"].astype(str).to_numpy(),
            "bucket": ev_bucket(claims[ev_column]),
            "win": outcome == WIN,
            "decided": (outcome == WIN) | (outcome == LOSS),
            "push": outcome == PUSH,
            "profit": profit,
            "claimed": claims[ev_column].to_numpy(dtype=float),
        }
    )
    frame["profit_sq"] = frame["profit"] ** 2
    decided = frame[frame["decided"]]
    pushes = frame.groupby(["line_kind", "side", "bucket"])["push"].sum()
    cells = []
    for (kind, side, bucket), g in decided.groupby(["line_kind", "side", "bucket"], sort=True):
        cells.append(
            ClaimCell(
                str(kind),
                str(side),
                str(bucket),
                len(g),
                int(g["win"].sum()),
                int(pushes.get((kind, side, bucket), 0)),
                float(g["profit"].sum()),
                float(g["profit_sq"].sum()),
                float(g["claimed"].sum()),
            )
        )
    return tuple(cells)


@dataclass(frozen=True)
class EvCalibration:
    """What a system's claims of expected value have actually returned, out of sample.

    ``cells``: earlier graded claims by (line kind, side, bucket of the EV claimed); a
    claim's calibrated EV is its cell's realised return per unit shrunk toward zero edge
    (``ClaimCell.shrunk``), never above the EV claimed. With no history every calibrated
    EV is at most 0: a system earns a say by its record, exactly as P(over) does.
    ``record``: the same claims by the bucket of the calibrated EV they were scored with,
    the record a pick shows beside it (comparable bets: same line kind, side and
    calibrated-EV bucket). Fitted only on rows graded before the date scored.
    """

    cells: tuple[ClaimCell, ...] = ()
    record: tuple[ClaimCell, ...] = ()
    prior_sd: float = EV_PRIOR_SD

    @classmethod
    def fit(cls, rows: pd.DataFrame) -> EvCalibration:
        return cls(_claim_cells(rows, "ev"), _claim_cells(rows, "ev_calibrated"))

    def _lookup(
        self, cells: tuple[ClaimCell, ...], kind: Any, side: Any, ev: Any
    ) -> list[ClaimCell | None]:
        by_key = {(c.line_kind, c.side, c.bucket): c for c in cells}
        buckets = ev_bucket(ev)
        kinds = np.asarray(kind, dtype=object).reshape(-1)
        sides = np.asarray(side, dtype=object).reshape(-1)
        return [
            by_key.get((str(k), str(s), b)) if b is not None else None
            for k, s, b in zip(kinds, sides, buckets, strict=True)
        ]

    def calibrate(self, kind: Any, side: Any, ev: Any) -> np.ndarray:
        """Calibrated EV of each claim (NaN where nothing is claimed: no side or no EV)."""
        claimed = np.asarray(ev, dtype=float).reshape(-1)
        sides = np.asarray(side, dtype=object).reshape(-1)
        cells = self._lookup(self.cells, kind, side, claimed)
        shrunk = np.array(
            [0.0 if c is None else c.shrunk(self.prior_sd) for c in cells], dtype=float
        )
        out = np.minimum(claimed, shrunk)
        return np.where(np.isin(sides, SIDES) & np.isfinite(claimed), out, np.nan)

    def record_of(self, kind: Any, side: Any, ev_calibrated: Any) -> dict[str, np.ndarray]:
        """The record of comparable earlier claims for each claim: N (decided), wins,
        hit rate with its 95% interval, ROI per unit at the prices taken (columns)."""
        cells = self._lookup(self.record, kind, side, ev_calibrated)
        figures: dict[ClaimCell | None, tuple[float, ...]] = {}
        for c in set(cells):  # a slate's claims share a few cells
            if c is None or not c.n:
                figures[c] = (0, 0, np.nan, np.nan, np.nan, np.nan)
            else:
                low, high = wilson_interval(c.wins, c.n)
                figures[c] = (c.n, c.wins, c.wins / c.n, low, high, c.roi)
        rows = np.array([figures[c] for c in cells], dtype=float).reshape(len(cells), 6)
        return {
            "record_n": rows[:, 0].astype(int),
            "record_wins": rows[:, 1].astype(int),
            "record_hit_rate": rows[:, 2],
            "record_ci_low": rows[:, 3],
            "record_ci_high": rows[:, 4],
            "record_roi": rows[:, 5],
        }

    def totals(self) -> ClaimCell | None:
        """Every earlier claim together (the system's whole out-of-sample record)."""
        if not self.cells:
            return None
        return ClaimCell(
            "all",
            "all",
            "all",
            sum(c.n for c in self.cells),
            sum(c.wins for c in self.cells),
            sum(c.pushes for c in self.cells),
            sum(c.profit for c in self.cells),
            sum(c.profit_sq for c in self.cells),
            sum(c.claimed for c in self.cells),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "prior_sd": self.prior_sd,
            "cells": [c.to_list() for c in self.cells],
            "record": [c.to_list() for c in self.record],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> EvCalibration:
        if not data:
            return cls()
        return cls(
            tuple(ClaimCell.from_list(v) for v in data.get("cells", [])),
            tuple(ClaimCell.from_list(v) for v in data.get("record", [])),
            float(data.get("prior_sd", EV_PRIOR_SD)),
        )


@dataclass(frozen=True)
class Calibration:
    """The stages together: what a registered version carries and the backtest applies.

    Fitted from out-of-sample rows only (a walk-forward's earlier folds), so the daily
    job, loading a version, prices a line exactly as the backtest priced it. With an
    ``anchor`` the market anchor replaces the one-input line-aware stage.
    """

    pit: PitCalibrator
    platt: PlattCalibrator
    anchor: MarketAnchor | None = None
    ev: EvCalibration = EvCalibration()

    @property
    def kind(self) -> str:
        if self.anchor is None:
            return "distribution"
        fixed = self.anchor == MarketAnchor.market(self.anchor.method)
        return "market" if fixed and self.pit.n == 0 else "anchored"

    @classmethod
    def identity(cls) -> Calibration:
        return cls(PitCalibrator.fit(np.array([])), PlattCalibrator.identity())

    @classmethod
    def market(cls, method: str = "multiplicative") -> Calibration:
        """The market's own price, nothing fitted (the ``market`` system)."""
        return cls(
            PitCalibrator.fit(np.array([])), PlattCalibrator.identity(), MarketAnchor.market(method)
        )

    @classmethod
    def from_history(
        cls, rows: pd.DataFrame, kind: str = "distribution", method: str = "multiplicative"
    ) -> Calibration:
        """Fit on out-of-sample rows with ``pit``, ``played``, ``line``, ``actual`` and
        ``p_over_dist`` (the PIT-calibrated P(over) those rows were priced with); an
        anchored calibration also reads ``median_model`` and the consensus prices. With
        the claims' columns (``side``, ``ev``, ``ev_calibrated``, the bet's line and
        price) the expected value is calibrated too (``EvCalibration``)."""
        if kind not in CALIBRATION_KINDS:
            raise ValueError(f"unknown calibration kind {kind!r}: use one of {CALIBRATION_KINDS}")
        ev = EvCalibration.fit(rows)
        if kind == "market":
            return replace(cls.market(method), ev=ev)
        if rows.empty:
            if kind == "anchored":  # no history yet: it is the market until it earns a say
                return cls.market(method)
            return cls.identity()
        pit = PitCalibrator.fit(rows["pit"].to_numpy(dtype=float))
        if kind == "anchored":
            return cls(pit, PlattCalibrator.identity(), MarketAnchor.fit(rows, method), ev)
        lined = rows[rows["played"] & rows["line"].notna() & (rows["actual"] != rows["line"])]
        platt = PlattCalibrator.fit(
            decided_p_over(lined["p_over_dist"], lined.get("p_push")),
            (lined["actual"] > lined["line"]).to_numpy(dtype=float),
        )
        return cls(pit, platt, None, ev)

    @property
    def line_stage_n(self) -> int:
        """Earlier decided lined rows the line-aware stage (or the anchor) learned from."""
        return self.platt.n if self.anchor is None else self.anchor.n

    @property
    def line_stage_slope(self) -> float:
        """The weight of the model's own log-odds against the line (1: taken as is)."""
        return self.platt.b if self.anchor is None else self.anchor.b

    def probabilities(
        self,
        cdf_at: Callable[[np.ndarray], np.ndarray],
        lines: np.ndarray,
        p_market: np.ndarray | None = None,
        consensus_line: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(P(over) after the PIT stage, P(over), P(under), P(push)) at each line.

        ``p_market`` is the market's P(over) at ``consensus_line`` (the anchor's input;
        None: 0.5); a line other than the consensus is priced from it along the model's
        slope (line shopping)."""
        p_over_dist, _, p_push = prob_over_under_push(cdf_at, lines, self.pit)
        # The line-aware stage (Platt or the anchor) is fitted on decided rows, as a book's
        # de-vigged price is (a push is refunded): it maps the distribution's P(over |
        # decided) to a calibrated P(over | decided). On a whole line the push then takes
        # its share from both sides (never from the under alone, which made every whole
        # line an over). A half line has no push: everything is as it was, bit for bit.
        p_model = decided_p_over(p_over_dist, p_push)
        if self.anchor is None:
            decided = self.platt(p_model)
        else:
            market = np.full(len(p_over_dist), 0.5) if p_market is None else p_market
            at_consensus = None
            if consensus_line is not None:
                over_c, _, push_c = prob_over_under_push(cdf_at, consensus_line, self.pit)
                same = np.isclose(np.asarray(lines, dtype=float), consensus_line)
                at_consensus = np.where(same, p_model, decided_p_over(over_c, push_c))
            decided = self.anchor.p_over(p_model, market, at_consensus)
        p_over = decided * (1.0 - p_push)
        p_under = (1.0 - decided) * (1.0 - p_push)
        return p_over_dist, p_over, p_under, p_push

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pit": [float(v) for v in self.pit.pit],
            "platt": {"a": self.platt.a, "b": self.platt.b, "n": self.platt.n},
        }
        if self.anchor is not None:
            out["anchor"] = self.anchor.to_dict()
        out["ev"] = self.ev.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        platt = data["platt"]
        anchor = data.get("anchor")
        return cls(
            PitCalibrator(np.asarray(data["pit"], dtype=float)),
            PlattCalibrator(float(platt["a"]), float(platt["b"]), int(platt["n"])),
            None
            if anchor is None
            else MarketAnchor(
                float(anchor["weight"]),
                float(anchor["a"]),
                float(anchor["b"]),
                float(anchor["c"]),
                int(anchor["n"]),
                int(anchor.get("n_point", 0)),
                str(anchor.get("method", "multiplicative")),
            ),
            EvCalibration.from_dict(data.get("ev")),
        )
