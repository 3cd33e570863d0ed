"""ResidualShape.fit (vectorised by bin and by level) against the plain per-bin loop."""

from __future__ import annotations

import numpy as np
import pytest

from nbaprops.systems.base import MEDIAN_INDEX, QUANTILES
from nbaprops.systems.fitting import ResidualShape, pinball_loss

_LEVELS = np.asarray(QUANTILES)


def _reference_bins(
    pred: np.ndarray,
    y: np.ndarray,
    player_std: np.ndarray | None,
    spread: float,
    weight: float,
    n_bins: int,
) -> ResidualShape:
    """The per-bin loop ResidualShape._fit_bins replaced (np.quantile, np.median per bin)."""
    probe = ResidualShape(np.zeros(1), np.zeros((1, len(QUANTILES))), spread, weight)
    r = (y - pred) / probe.scale(pred, player_std)
    edges = np.unique(np.quantile(pred, np.linspace(0, 1, n_bins + 1)))
    which = np.clip(np.searchsorted(edges, pred, side="right") - 1, 0, len(edges) - 2)
    rows, centres = [], []
    for b in range(max(len(edges) - 1, 1)):
        in_bin = which == b
        if in_bin.sum() < 20:
            continue
        rows.append(np.quantile(r[in_bin], _LEVELS))
        centres.append(float(np.median(pred[in_bin])))
    z = np.asarray(rows) if rows else np.quantile(r, _LEVELS)[None, :]
    z = np.sort(z, axis=1)
    z = z - z[:, [MEDIAN_INDEX]]
    return ResidualShape(np.asarray(centres) if rows else np.zeros(1), z, spread, weight)


def _reference_fit(pred: np.ndarray, y: np.ndarray, player_std: np.ndarray | None) -> ResidualShape:
    """The selection ResidualShape.fit makes, through the public quantiles()."""
    root = np.sqrt(pred + 1.0)
    if player_std is not None:
        own = np.clip(np.nan_to_num(player_std, nan=0.0), 0.5, None)
        spread = float(np.median(own / root))
    else:
        spread = float(np.median(np.abs(y - pred) / root)) * 1.5
    best, best_loss = None, np.inf
    for w in (0.0, 0.2, 0.4, 0.6) if player_std is not None else (0.0,):
        shape = _reference_bins(pred, y, player_std, spread, w, 8)
        loss = pinball_loss(y, np.clip(shape.quantiles(pred, player_std), 0.0, None))
        if loss < best_loss - 1e-9:
            best, best_loss = shape, loss
    assert best is not None
    return best


def _case(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(seed)
    pred = rng.gamma(2.0, 6.0, n)
    if kind == "ties":
        pred = np.round(pred)
    elif kind == "zeros":
        pred = np.where(rng.random(n) < 0.5, 0.0, pred)
    elif kind == "constant":
        pred = np.full(n, 7.0)
    y = np.clip(pred + rng.normal(0.0, 5.0, n), 0.0, None).round()
    std = rng.gamma(3.0, 2.0, n)
    if kind == "nan_std":
        std[rng.random(n) < 0.2] = np.nan
    return pred, y, None if kind == "no_std" else std


@pytest.mark.parametrize("kind", ["plain", "ties", "zeros", "constant", "nan_std", "no_std"])
@pytest.mark.parametrize("n", [60, 170, 3_000, 20_000])
def test_fit_matches_the_per_bin_loop(kind: str, n: int) -> None:
    pred, y, std = _case(kind, n, seed=n)
    got = ResidualShape.fit(pred, y, std)
    want = _reference_fit(pred, y, std)
    assert got.player_weight == want.player_weight
    assert got.league_spread == want.league_spread
    np.testing.assert_allclose(got.centres, want.centres, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.z, want.z, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        got.quantiles(pred, std), want.quantiles(pred, std), rtol=0, atol=1e-12
    )
