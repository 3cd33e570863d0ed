"""DFS pick'em slips (PrizePicks, Underdog): payouts, break-evens, a slip's expected
value from its legs' probabilities, suggested legs, and grading (issue 26 §5).

Pure: no I/O. A payout table is data (:data:`STANDARD_PAYOUTS`, or one read by the CLI
from ``NBAPROPS_SLIPS_PAYOUTS_FILE`` and parsed by :func:`payout_table_from_mapping`).

The maths, for a slip of ``n`` legs paying ``m_k`` times the stake when ``k`` legs hit:

* expected payout ``E = sum_k P(k hits) * m_k``; expected value per unit staked
  ``EV = E - 1`` (a DFS slip has no American price: never -110);
* ``P(k hits)`` is the Poisson-binomial distribution of the legs' own probabilities
  (exact, by convolution) when the legs are independent;
* legs of one game share a one-factor Gaussian copula: a leg's latent stat is
  ``sqrt(rho) * G + sqrt(1 - rho) * e`` with ``G`` the game's factor (how high the game
  runs), so two overs (or two unders) of one game have latent correlation ``rho`` and an
  over with an under ``-rho``. Conditional on ``G`` the legs are independent; the
  integral over ``G`` is Gauss-Hermite quadrature (deterministic, no Monte Carlo seed;
  with ``rho = 0`` it is exactly the independent distribution);
* two legs of one player are refused: their dependence (one stat line drives both) is
  far stronger than a game's and no single ``rho`` prices it;
* the break-even of a slip type is the ``p`` with ``EV = 0`` when every leg hits with
  probability ``p`` independently (``scipy.optimize.brentq`` on the payout polynomial).

Grading follows PrizePicks' published rule for a push or a void leg (a tie with the line,
a player who did not play): the leg is removed and the slip is paid as the next smaller
slip of the same kind (a flex reduced below the smallest flex is paid as the power slip of
its size); a slip left with one leg or none is refunded. The same rule is applied to
Underdog slips here (Underdog re-prices such a slip instead; check its rules).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import brentq
from scipy.stats import multivariate_normal, norm

POWER = "power"
FLEX = "flex"
KINDS = (POWER, FLEX)
OVER, UNDER = "over", "under"
WIN, LOSS, PUSH, VOID = "win", "loss", "push", "void"
LEG_OUTCOMES = (WIN, LOSS, PUSH, VOID)
SameGame = Literal["price", "refuse"]

# Gauss-Hermite (probabilists') nodes integrating over one game's factor G ~ N(0, 1).
_NODES, _WEIGHTS = hermegauss(64)
_WEIGHTS = _WEIGHTS / math.sqrt(2.0 * math.pi)

# The standard payouts, multiplier of the stake by legs that hit, as commonly published
# by each operator for standard (non-promotional, non-"demon/goblin") lines. They change
# and vary by state: CHECK THEM BEFORE USE, and override them with
# NBAPROPS_SLIPS_PAYOUTS_FILE. PrizePicks' 3-leg power has also been 6x in some periods
# (5x here); Underdog's 6-leg standard has been 35x or 40x (35x here). Neither operator
# offers a 2-leg flex.
STANDARD_PAYOUTS_AS_OF = "published payouts as of 2025; check before use"
STANDARD_PAYOUTS_SOURCE = (
    "PrizePicks 'Power Play' / 'Flex Play' and Underdog 'Standard' / 'Insured' payout "
    "charts as published in their apps and help pages, 2024-25"
)
STANDARD_PAYOUTS: dict[str, dict[str, dict[int, dict[int, float]]]] = {
    "prizepicks": {
        POWER: {2: {2: 3.0}, 3: {3: 5.0}, 4: {4: 10.0}, 5: {5: 20.0}, 6: {6: 37.5}},
        FLEX: {
            3: {3: 3.0, 2: 1.0},
            4: {4: 6.0, 3: 1.5},
            5: {5: 10.0, 4: 2.0, 3: 0.4},
            6: {6: 25.0, 5: 2.0, 4: 0.4},
        },
    },
    "underdog": {
        POWER: {2: {2: 3.0}, 3: {3: 6.0}, 4: {4: 10.0}, 5: {5: 20.0}, 6: {6: 35.0}},
        FLEX: {
            3: {3: 3.0, 2: 1.0},
            4: {4: 6.0, 3: 1.5},
            5: {5: 10.0, 4: 2.5},
            6: {6: 25.0, 5: 2.6},
        },
    },
}
MIN_LEGS, MAX_LEGS = 2, 8

# The within-game latent correlation of two legs (NBAPROPS_SLIPS_GAME_CORRELATION's
# default). Measured on the real 2024-25 DFS lines (points, rebounds, assists; 123,050
# pairs of legs of different players of one game, pushes left out) with
# :func:`latent_correlation` of their over-hits: 0.014 overall, 0.024 between opponents,
# 0.002 between teammates (teammates' points -0.05, a scorer's points with a teammate's
# assists +0.11); tests/data/test_slips_real.py keeps it measured.
DEFAULT_GAME_CORRELATION = 0.02


@dataclass(frozen=True)
class SlipType:
    """One slip type: an operator's power or flex slip of ``legs`` legs."""

    book: str
    kind: str  # POWER or FLEX
    legs: int
    payouts: tuple[float, ...]  # multiplier of the stake by legs hit, 0 .. legs

    @property
    def name(self) -> str:
        return f"{self.book}_{self.kind}_{self.legs}"

    def payout(self, hits: int) -> float:
        return self.payouts[hits]

    def expected_payout(self, hits: Sequence[float] | np.ndarray) -> float:
        """Sum over k of P(k hits) * the multiplier of k hits."""
        return float(np.dot(np.asarray(hits, dtype=float), np.asarray(self.payouts)))

    def describe(self) -> str:
        """``3/3 3x · 2/3 1x``: what each number of hits pays (paying ones only)."""
        return " · ".join(
            f"{k}/{self.legs} {m:g}x" for k, m in reversed(list(enumerate(self.payouts))) if m > 0
        )


@dataclass(frozen=True)
class PayoutTable:
    """Every slip type known, with the date its payouts were published and their source."""

    as_of: str
    source: str
    types: tuple[SlipType, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.types)

    def get(self, name: str) -> SlipType:
        """The slip type ``name`` (``prizepicks_power_3``); an unknown one lists the known."""
        for t in self.types:
            if t.name == name:
                return t
        raise ValueError(f"unknown slip type {name!r}; known: {', '.join(self.names)}")

    def find(self, book: str, kind: str, legs: int) -> SlipType | None:
        for t in self.types:
            if (t.book, t.kind, t.legs) == (book, kind, legs):
                return t
        return None


def payout_table_from_mapping(data: Mapping[str, Any]) -> PayoutTable:
    """A payout table from ``{as_of, source, payouts: {book: {kind: {legs: {hits: x}}}}}``
    (the shape of :data:`STANDARD_PAYOUTS`; keys may be strings, as JSON and YAML give
    them). Every number is checked: legs 2..8, hits 0..legs, multipliers finite >= 0,
    and a slip whose every leg hits must pay more than the stake."""
    if not isinstance(data, Mapping):
        raise ValueError("a payout table is a mapping with as_of, source and payouts")
    missing = [k for k in ("as_of", "source", "payouts") if k not in data]
    if missing:
        raise ValueError(f"payout table lacks {', '.join(missing)}")
    payouts = data["payouts"]
    if not isinstance(payouts, Mapping) or not payouts:
        raise ValueError("payouts must map book -> kind -> legs -> hits -> multiplier")
    types: list[SlipType] = []
    for book, kinds in payouts.items():
        if not isinstance(kinds, Mapping):
            raise ValueError(f"payouts of {book!r} must map kind -> legs -> hits -> multiplier")
        for kind, by_legs in kinds.items():
            if kind not in KINDS:
                raise ValueError(f"{book}: kind {kind!r} is not one of {', '.join(KINDS)}")
            if not isinstance(by_legs, Mapping):
                raise ValueError(f"{book} {kind}: must map legs -> hits -> multiplier")
            for legs_key, by_hits in by_legs.items():
                types.append(_slip_type(str(book), str(kind), legs_key, by_hits))
    names = [t.name for t in types]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"slip type(s) declared twice: {', '.join(dupes)}")
    return PayoutTable(str(data["as_of"]), str(data["source"]), tuple(types))


def _slip_type(book: str, kind: str, legs_key: object, by_hits: object) -> SlipType:
    where = f"{book} {kind} {legs_key}"
    legs = _as_int(legs_key, where)
    if not MIN_LEGS <= legs <= MAX_LEGS:
        raise ValueError(f"{where}: a slip has {MIN_LEGS} to {MAX_LEGS} legs")
    if not isinstance(by_hits, Mapping):
        raise ValueError(f"{where}: must map hits -> multiplier")
    payouts = [0.0] * (legs + 1)
    for hits_key, multiplier in by_hits.items():
        hits = _as_int(hits_key, where)
        if not 0 <= hits <= legs:
            raise ValueError(f"{where}: {hits} hits is not 0..{legs}")
        value = float(multiplier)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{where}: multiplier {multiplier!r} is not a finite number >= 0")
        payouts[hits] = value
    if payouts[legs] <= 1.0:
        raise ValueError(f"{where}: all {legs} legs hitting must pay more than the stake")
    return SlipType(book, kind, legs, tuple(payouts))


def _as_int(value: object, where: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a whole number") from None
    return number


def standard_payout_table() -> PayoutTable:
    """The built-in table (:data:`STANDARD_PAYOUTS`)."""
    return payout_table_from_mapping(
        {
            "as_of": STANDARD_PAYOUTS_AS_OF,
            "source": STANDARD_PAYOUTS_SOURCE,
            "payouts": STANDARD_PAYOUTS,
        }
    )


# -- hit distributions ---------------------------------------------------------------------


def poisson_binomial(ps: Sequence[float]) -> np.ndarray:
    """P(k of the legs hit), k = 0..n, for independent legs (exact convolution)."""
    dist = np.array([1.0])
    for p in ps:
        dist = np.convolve(dist, np.array([1.0 - p, p]))
    return dist


def _game_hits(ps: Sequence[float], signs: Sequence[float], rho: float) -> np.ndarray:
    """P(k hits) of one game's legs under the one-factor Gaussian copula."""
    if rho <= 0.0 or len(ps) < 2:
        return poisson_binomial(ps)
    z = norm.ppf(np.asarray(ps, dtype=float))
    s = np.asarray(signs, dtype=float)
    scale = math.sqrt(1.0 - rho)
    load = math.sqrt(rho)
    dist = np.zeros(len(ps) + 1)
    for g, w in zip(_NODES, _WEIGHTS, strict=True):
        conditional = norm.cdf((z + s * load * g) / scale)
        dist += w * poisson_binomial([float(p) for p in conditional])
    normalised: np.ndarray = dist / float(dist.sum())
    return normalised


def hit_distribution(
    ps: Sequence[float],
    games: Sequence[object | None],
    signs: Sequence[float],
    rho: float,
) -> np.ndarray:
    """P(k of the legs hit): legs of one game (same non-None ``games`` key) share that
    game's copula factor; games are independent of each other."""
    groups: dict[object, list[int]] = {}
    for i, g in enumerate(games):
        groups.setdefault(("game", g) if g is not None else ("leg", i), []).append(i)
    dist = np.array([1.0])
    for members in groups.values():
        dist = np.convolve(
            dist,
            _game_hits([ps[i] for i in members], [signs[i] for i in members], rho),
        )
    return dist


def latent_correlation(a: Sequence[bool] | np.ndarray, b: Sequence[bool] | np.ndarray) -> float:
    """The Gaussian copula's correlation of two paired hit indicators (the tetrachoric
    correlation): the rho whose bivariate normal gives the observed P(both hit) at the
    observed marginal hit rates."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("latent_correlation needs two paired indicator arrays")
    px, py, pxy = float(x.mean()), float(y.mean()), float((x * y).mean())
    if not (0.0 < px < 1.0 and 0.0 < py < 1.0):
        raise ValueError("latent_correlation needs both outcomes in each indicator")
    zx, zy = float(norm.ppf(px)), float(norm.ppf(py))

    def gap(rho: float) -> float:
        cov = np.array([[1.0, rho], [rho, 1.0]])
        return float(multivariate_normal(mean=np.zeros(2), cov=cov).cdf(np.array([zx, zy]))) - pxy

    return float(brentq(gap, -0.999, 0.999, xtol=1e-8))


def break_even(slip_type: SlipType) -> float:
    """The per-leg probability p at which the slip's EV is 0, every leg independent with
    the same p (the root of ``sum_k C(n,k) p^k (1-p)^(n-k) m_k - 1`` on (0, 1))."""
    n = slip_type.legs

    def ev(p: float) -> float:
        return slip_type.expected_payout(poisson_binomial([p] * n)) - 1.0

    return float(brentq(ev, 1e-12, 1.0 - 1e-12, xtol=1e-14))


# -- legs and slips ------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    """One pick of a slip: a player's side of a line, and its calibrated P(win)."""

    player_id: str
    game_id: str | None
    p_win: float
    side: str = OVER
    market: str | None = None
    line: float | None = None
    line_kind: str | None = None
    game_date: str | None = None

    @property
    def label(self) -> str:
        what = " ".join(
            str(x) for x in (self.market, self.side, self.line) if x is not None and x != ""
        )
        return f"{self.player_id} {what}".strip()


@dataclass(frozen=True)
class Refusal:
    """Why a leg (``leg`` its 1-based position; None: the slip as a whole) was refused."""

    leg: int | None
    label: str
    reason: str

    def __str__(self) -> str:
        return self.reason if self.leg is None else f"leg {self.leg} ({self.label}): {self.reason}"


@dataclass(frozen=True)
class SlipPrice:
    """A slip's price: EV per unit staked (payout - 1), P(every leg hits), P(k hits) for
    k = 0..n, each leg's margin over the slip type's break-even, and what was refused (a
    refused slip is not priced: its figures are NaN)."""

    slip_type: str
    legs: tuple[Leg, ...]
    ev: float
    expected_payout: float
    p_all_hit: float
    hits: tuple[float, ...]
    break_even: float
    leg_margins: tuple[float, ...]
    refusals: tuple[Refusal, ...]
    correlation: float
    same_game_pairs: int

    @property
    def priced(self) -> bool:
        return not self.refusals

    def to_dict(self) -> dict[str, Any]:
        return {
            "slip_type": self.slip_type,
            "priced": self.priced,
            "ev": _finite(self.ev),
            "expected_payout": _finite(self.expected_payout),
            "p_all_hit": _finite(self.p_all_hit),
            "hits": [_finite(h) for h in self.hits],
            "break_even": self.break_even,
            "legs": [
                {
                    "player_id": leg.player_id,
                    "game_id": leg.game_id,
                    "game_date": leg.game_date,
                    "market": leg.market,
                    "side": leg.side,
                    "line": leg.line,
                    "line_kind": leg.line_kind,
                    "p_win": _finite(leg.p_win),
                    "margin": _finite(m),
                }
                for leg, m in zip(self.legs, self.leg_margins, strict=True)
            ],
            "refusals": [
                {"leg": r.leg, "label": r.label, "reason": r.reason} for r in self.refusals
            ],
            "correlation": self.correlation,
            "same_game_pairs": self.same_game_pairs,
        }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def leg_refusal(leg: Leg, *, require_dfs: bool = True) -> str | None:
    """Why this leg alone cannot be priced, or None."""
    p = leg.p_win
    if not isinstance(p, (int, float)) or math.isnan(p):
        return "no probability (NaN): the leg cannot be priced"
    if not 0.0 < p < 1.0:
        return f"P(win) {p:g} is not a probability strictly between 0 and 1"
    if leg.line is not None and not math.isfinite(leg.line):
        return "no line: the leg cannot be priced"
    if leg.side not in (OVER, UNDER):
        return f"side {leg.side!r} is not over or under"
    if require_dfs and leg.line_kind is not None and leg.line_kind != "dfs":
        return (
            f"line kind {leg.line_kind!r} is not a DFS pick'em line (a sportsbook line is "
            "bet at its own price, not in a slip)"
        )
    return None


def slip_refusals(
    legs: Sequence[Leg],
    slip_type: SlipType,
    *,
    same_game: SameGame = "price",
    require_dfs: bool = True,
) -> tuple[Refusal, ...]:
    """Every reason the slip cannot be priced: a wrong number of legs, an unpriceable leg,
    a second leg of one player, a second leg of one game when same-game legs are refused."""
    out: list[Refusal] = []
    if len(legs) != slip_type.legs:
        out.append(
            Refusal(
                None,
                slip_type.name,
                f"a {slip_type.name} slip takes {slip_type.legs} legs, got {len(legs)}",
            )
        )
    players: dict[str, int] = {}
    games: dict[str, int] = {}
    for i, leg in enumerate(legs, start=1):
        reason = leg_refusal(leg, require_dfs=require_dfs)
        if reason is None and leg.player_id in players:
            reason = (
                f"same player as leg {players[leg.player_id]}: two legs of one player are "
                "refused (one stat line drives both)"
            )
        if reason is None and same_game == "refuse" and leg.game_id in games:
            reason = (
                f"same game as leg {games[leg.game_id]}: same-game legs are refused "
                "(NBAPROPS_SLIPS_SAME_GAME=refuse)"
            )
        if reason is not None:
            out.append(Refusal(i, leg.label, reason))
            continue
        players.setdefault(leg.player_id, i)
        if leg.game_id is not None:
            games.setdefault(leg.game_id, i)
    return tuple(out)


def slip_ev(
    legs: Sequence[Leg],
    slip_type: SlipType,
    *,
    same_game: SameGame = "price",
    correlation: float = DEFAULT_GAME_CORRELATION,
    require_dfs: bool = True,
) -> SlipPrice:
    """The slip's expected value per unit staked from each leg's calibrated P(win), the
    hit distribution exact (Poisson-binomial; legs of one game through the Gaussian
    copula of within-game correlation ``correlation``). Refused legs are listed with their
    reason and leave the figures NaN."""
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"within-game correlation {correlation} is not in [0, 1)")
    legs = tuple(legs)
    be = break_even(slip_type)
    margins = tuple(
        (leg.p_win - be) if isinstance(leg.p_win, (int, float)) else math.nan for leg in legs
    )
    refusals = slip_refusals(legs, slip_type, same_game=same_game, require_dfs=require_dfs)
    games = [leg.game_id for leg in legs]
    pairs = sum(
        1
        for i in range(len(legs))
        for j in range(i)
        if games[i] is not None and games[i] == games[j]
    )
    if refusals:
        nan = math.nan
        return SlipPrice(
            slip_type.name, legs, nan, nan, nan, (), be, margins, refusals, correlation, pairs
        )
    dist = hit_distribution(
        [leg.p_win for leg in legs],
        games,
        [1.0 if leg.side == OVER else -1.0 for leg in legs],
        correlation,
    )
    expected = slip_type.expected_payout(dist)
    return SlipPrice(
        slip_type.name,
        legs,
        expected - 1.0,
        expected,
        float(dist[-1]),
        tuple(float(x) for x in dist),
        be,
        margins,
        (),
        correlation,
        pairs,
    )


# -- suggesting legs -----------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestedSlips:
    """The candidate legs of scored rows (one per player per date, clearing the
    break-even plus the margin) and the slips built from them, best EV first."""

    slip_type: str
    break_even: float
    margin: float
    candidates: tuple[Leg, ...]
    slips: tuple[SlipPrice, ...]
    refused_rows: int = 0
    notes: tuple[str, ...] = field(default=())


def legs_from_rows(rows: pd.DataFrame) -> list[Leg]:
    """One leg per scored row, on the side with the larger calibrated probability.

    With ``p_over``/``p_under`` (predictions.scoring's columns) the side is the one whose
    P is larger (a DFS row has no price, so scoring's price-based ``side`` is not used);
    otherwise ``side`` and ``p_win`` are taken as given. A row without a usable
    probability keeps NaN (and is refused later with its reason)."""
    need = ("player_id", "game_id")
    missing = [c for c in need if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack {', '.join(missing)}")
    has_pair = "p_over" in rows.columns and "p_under" in rows.columns
    if not has_pair and not ("p_win" in rows.columns and "side" in rows.columns):
        raise ValueError("rows need p_over and p_under, or side and p_win")
    legs = []
    for r in rows.to_dict("records"):
        if has_pair:
            p_over, p_under = _num(r.get("p_over")), _num(r.get("p_under"))
            if math.isnan(p_over) or math.isnan(p_under):
                side, p = OVER, math.nan
            elif p_over >= p_under:
                side, p = OVER, p_over
            else:
                side, p = UNDER, p_under
        else:
            side, p = str(r.get("side")), _num(r.get("p_win"))
        legs.append(
            Leg(
                player_id=str(r["player_id"]),
                game_id=None if _missing(r["game_id"]) else str(r["game_id"]),
                p_win=p,
                side=side,
                market=None if _missing(r.get("market")) else str(r.get("market")),
                line=_num(r.get("line")) if "line" in r else None,
                line_kind=None if _missing(r.get("line_kind")) else str(r.get("line_kind")),
                game_date=None if _missing(r.get("game_date")) else str(r.get("game_date"))[:10],
            )
        )
    return legs


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT


def _num(v: object) -> float:
    if _missing(v):
        return math.nan
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def suggest_legs(
    rows: pd.DataFrame,
    slip_type: SlipType,
    *,
    margin: float = 0.02,
    same_game: SameGame = "price",
    correlation: float = DEFAULT_GAME_CORRELATION,
    max_slips: int = 3,
    require_dfs: bool = True,
) -> dict[str, SuggestedSlips]:
    """Slips per game date from scored rows (:func:`legs_from_rows`).

    A leg is a candidate when it can be priced (:func:`leg_refusal`) and its calibrated P
    clears the slip type's break-even plus ``margin``; a player keeps only his best leg of
    the date (across markets: at most one leg per player). Slips are built greedily: the
    candidates sorted by P (best first) fill one slip after another, a leg skipped when
    it would be a second leg of its game and same-game legs are refused; each candidate
    is used once, at most ``max_slips`` slips per date, and a slip is kept only if its
    priced EV (same-game legs through the copula) is positive. With independent legs the
    top-P legs maximise a slip's EV (it increases in every leg's P); with same-game legs
    the greedy order is not guaranteed optimal."""
    be = break_even(slip_type)
    out: dict[str, SuggestedSlips] = {}
    legs = legs_from_rows(rows)
    by_date: dict[str, list[Leg]] = {}
    for leg in legs:
        by_date.setdefault(leg.game_date or "", []).append(leg)
    for day, day_legs in sorted(by_date.items()):
        refused = 0
        best: dict[str, Leg] = {}
        for leg in day_legs:
            if leg_refusal(leg, require_dfs=require_dfs) is not None:
                refused += 1
                continue
            if leg.p_win < be + margin:
                continue
            kept = best.get(leg.player_id)
            if kept is None or leg.p_win > kept.p_win:
                best[leg.player_id] = leg
        candidates = sorted(best.values(), key=lambda g: (-g.p_win, g.player_id, g.label))
        slips = _greedy_slips(candidates, slip_type, same_game, correlation, max_slips)
        out[day] = SuggestedSlips(
            slip_type.name,
            be,
            margin,
            tuple(candidates),
            tuple(sorted(slips, key=lambda s: -s.ev)),
            refused,
        )
    return out


def _greedy_slips(
    candidates: Sequence[Leg],
    slip_type: SlipType,
    same_game: SameGame,
    correlation: float,
    max_slips: int,
) -> list[SlipPrice]:
    pool = list(candidates)
    slips: list[SlipPrice] = []
    while pool and len(slips) < max_slips:
        chosen: list[Leg] = []
        for leg in pool:
            if len(chosen) == slip_type.legs:
                break
            if any(c.player_id == leg.player_id for c in chosen):
                continue
            if (
                same_game == "refuse"
                and leg.game_id is not None
                and any(c.game_id == leg.game_id for c in chosen)
            ):
                continue
            chosen.append(leg)
        if len(chosen) < slip_type.legs:
            break
        for leg in chosen:
            pool.remove(leg)
        price = slip_ev(chosen, slip_type, same_game=same_game, correlation=correlation)
        if price.priced and price.ev > 0:
            slips.append(price)
    return slips


# -- grading -------------------------------------------------------------------------------


def grade_leg(actual: float | None, line: float, side: str) -> str:
    """A leg graded alone: ``void`` when the player did not play (no outcome), ``push``
    on the line, else ``win``/``loss`` for its side."""
    if actual is None or not math.isfinite(actual):
        return VOID
    if actual == line:
        return PUSH
    if side not in (OVER, UNDER):
        raise ValueError(f"side {side!r} is not over or under")
    return WIN if (actual > line) == (side == OVER) else LOSS


@dataclass(frozen=True)
class SlipGrade:
    """A slip graded as a whole: the slip type it was paid as after push/void legs were
    removed (None: refunded), its hits, the multiplier paid and the profit per unit."""

    slip_type: str
    paid_as: str | None
    outcomes: tuple[str, ...]
    hits: int
    graded_legs: int
    payout: float
    profit: float
    result: str  # win (paid more than the stake), even, partial, loss, refund


def grade_slip(
    outcomes: Iterable[str], slip_type: SlipType, table: PayoutTable | None = None
) -> SlipGrade:
    """Grade a slip from its legs' outcomes (``win``/``loss``/``push``/``void``).

    A push or void leg is removed and the slip paid as the next smaller slip of its kind
    (PrizePicks' rule; a flex left below the smallest flex in ``table`` is paid as the
    power slip of its size); one leg or none left: refunded (profit 0)."""
    table = table or standard_payout_table()
    outcomes = tuple(outcomes)
    bad = [o for o in outcomes if o not in LEG_OUTCOMES]
    if bad:
        raise ValueError(f"leg outcome(s) {', '.join(map(repr, bad))} not in {LEG_OUTCOMES}")
    if len(outcomes) != slip_type.legs:
        raise ValueError(f"a {slip_type.name} slip has {slip_type.legs} legs, got {len(outcomes)}")
    hits = sum(o == WIN for o in outcomes)
    graded = sum(o in (WIN, LOSS) for o in outcomes)
    if graded <= 1 and graded < slip_type.legs:
        return SlipGrade(slip_type.name, None, outcomes, hits, graded, 1.0, 0.0, "refund")
    paid_as = slip_type
    if graded < slip_type.legs:
        found = table.find(slip_type.book, slip_type.kind, graded) or table.find(
            slip_type.book, POWER, graded
        )
        if found is None:
            raise ValueError(
                f"no {slip_type.book} slip of {graded} legs in the payout table to pay a "
                f"reduced {slip_type.name}"
            )
        paid_as = found
    payout = paid_as.payout(hits)
    result = "win" if payout > 1 else "even" if payout == 1 else "partial" if payout > 0 else "loss"
    return SlipGrade(
        slip_type.name, paid_as.name, outcomes, hits, graded, payout, payout - 1.0, result
    )
