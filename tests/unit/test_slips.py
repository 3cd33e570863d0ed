"""DFS pick'em slips: break-evens, slip EV (independent and same-game legs), refusals,
suggested legs, grading, and the ``nbaprops slips`` command."""

from __future__ import annotations

import json
import math
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal, norm
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.slips import (
    Leg,
    break_even,
    grade_leg,
    grade_slip,
    latent_correlation,
    payout_table_from_mapping,
    slip_ev,
    standard_payout_table,
    suggest_legs,
)

TABLE = standard_payout_table()
runner = CliRunner()


def legs(*ps: float, games: tuple[str, ...] | None = None) -> list[Leg]:
    return [
        Leg(player_id=f"p{i}", game_id=(games[i] if games else f"g{i}"), p_win=p)
        for i, p in enumerate(ps)
    ]


# -- break-evens ---------------------------------------------------------------------------


def test_a_two_leg_power_at_3x_breaks_even_at_the_square_root_of_a_third() -> None:
    assert break_even(TABLE.get("prizepicks_power_2")) == pytest.approx(math.sqrt(1 / 3), abs=1e-9)
    assert break_even(TABLE.get("prizepicks_power_2")) == pytest.approx(0.57735, abs=1e-5)


def test_the_prizepicks_six_leg_flex_breaks_even_near_54_2_percent() -> None:
    # 25x for 6/6, 2x for 5/6, 0.4x for 4/6: the "about 54.2%"
    assert break_even(TABLE.get("prizepicks_flex_6")) == pytest.approx(0.54206, abs=1e-5)


@pytest.mark.parametrize("name", TABLE.names)
def test_the_ev_at_the_break_even_is_zero(name: str) -> None:
    slip_type = TABLE.get(name)
    p = break_even(slip_type)
    priced = slip_ev(legs(*[p] * slip_type.legs), slip_type)
    assert priced.priced
    assert priced.ev == pytest.approx(0.0, abs=1e-10)
    assert slip_ev(legs(*[p + 0.01] * slip_type.legs), slip_type).ev > 0


# -- slip EV -------------------------------------------------------------------------------


def test_a_two_leg_power_at_60_percent_returns_3_times_0_36_minus_1() -> None:
    priced = slip_ev(legs(0.6, 0.6), TABLE.get("prizepicks_power_2"))
    assert priced.ev == pytest.approx(3 * 0.36 - 1, abs=1e-12)
    assert priced.p_all_hit == pytest.approx(0.36, abs=1e-12)
    assert priced.hits == pytest.approx((0.16, 0.48, 0.36), abs=1e-12)
    assert priced.leg_margins == pytest.approx((0.6 - math.sqrt(1 / 3),) * 2, abs=1e-9)


def test_a_flex_ev_is_the_hand_enumeration_of_every_outcome() -> None:
    slip_type = TABLE.get("prizepicks_flex_5")  # 10x 5/5, 2x 4/5, 0.4x 3/5
    ps = (0.55, 0.6, 0.52, 0.7, 0.58)
    expected = 0.0
    for outcome in product((0, 1), repeat=5):
        prob = math.prod(p if hit else 1 - p for p, hit in zip(ps, outcome, strict=True))
        expected += prob * {5: 10.0, 4: 2.0, 3: 0.4}.get(sum(outcome), 0.0)
    priced = slip_ev(legs(*ps), slip_type)
    assert priced.expected_payout == pytest.approx(expected, abs=1e-12)
    assert priced.ev == pytest.approx(expected - 1, abs=1e-12)
    assert sum(priced.hits) == pytest.approx(1.0, abs=1e-12)
    assert priced.p_all_hit == pytest.approx(math.prod(ps), abs=1e-12)


def test_same_game_legs_at_correlation_zero_are_priced_as_independent() -> None:
    slip_type = TABLE.get("prizepicks_flex_4")
    same = legs(0.6, 0.55, 0.62, 0.58, games=("g", "g", "g", "h"))
    apart = legs(0.6, 0.55, 0.62, 0.58)
    a = slip_ev(same, slip_type, correlation=0.0)
    b = slip_ev(apart, slip_type, correlation=0.0)
    assert a.hits == pytest.approx(b.hits, abs=1e-12)
    assert a.same_game_pairs == 3
    assert b.same_game_pairs == 0


def test_positive_within_game_correlation_raises_p_all_hit_as_the_bivariate_normal() -> None:
    slip_type = TABLE.get("prizepicks_power_2")
    two = legs(0.6, 0.6, games=("g", "g"))
    independent = slip_ev(two, slip_type, correlation=0.0).p_all_hit
    correlated = slip_ev(two, slip_type, correlation=0.3)
    assert correlated.p_all_hit > independent + 0.02
    z = norm.ppf(0.6)
    exact = multivariate_normal(mean=[0, 0], cov=[[1, 0.3], [0.3, 1]]).cdf([z, z])
    assert correlated.p_all_hit == pytest.approx(exact, abs=1e-6)
    # an over with an under of one game: negatively correlated, P(both) falls
    mixed = [two[0], Leg("p1", "g", 0.6, side="under")]
    assert slip_ev(mixed, slip_type, correlation=0.3).p_all_hit < independent - 0.02


def test_the_latent_correlation_of_two_hit_indicators_recovers_the_copula_rho() -> None:
    rng = np.random.default_rng(7)
    z = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=200_000)
    hits_a, hits_b = z[:, 0] < norm.ppf(0.6), z[:, 1] < norm.ppf(0.55)
    assert latent_correlation(hits_a, hits_b) == pytest.approx(0.3, abs=0.01)
    assert latent_correlation(hits_a, rng.random(200_000) < 0.5) == pytest.approx(0.0, abs=0.01)
    with pytest.raises(ValueError, match="both outcomes"):
        latent_correlation([True, True], [True, False])


# -- refusals ------------------------------------------------------------------------------


def test_two_legs_of_one_player_are_refused_with_the_reason() -> None:
    slip = [Leg("23", "g1", 0.6, market="points"), Leg("23", "g1", 0.6, market="rebounds")]
    priced = slip_ev(slip, TABLE.get("prizepicks_power_2"))
    assert not priced.priced
    assert math.isnan(priced.ev)
    assert [r.leg for r in priced.refusals] == [2]
    assert "same player as leg 1" in priced.refusals[0].reason


@pytest.mark.parametrize(
    ("leg", "fragment"),
    [
        (Leg("b", "g2", float("nan")), "no probability"),
        (Leg("b", "g2", 1.0), "not a probability"),
        (Leg("b", "g2", -0.2), "not a probability"),
        (Leg("b", "g2", 0.6, line=float("nan")), "no line"),
        (Leg("b", "g2", 0.6, line_kind="sportsbook"), "not a DFS pick'em line"),
        (Leg("b", "g2", 0.6, side="pass"), "not over or under"),
    ],
)
def test_a_leg_that_cannot_be_priced_is_refused_with_its_reason(leg: Leg, fragment: str) -> None:
    priced = slip_ev([Leg("a", "g1", 0.6), leg], TABLE.get("prizepicks_power_2"))
    assert not priced.priced
    assert len(priced.refusals) == 1
    assert priced.refusals[0].leg == 2
    assert fragment in priced.refusals[0].reason


def test_same_game_legs_are_refused_when_the_policy_says_so() -> None:
    two = legs(0.6, 0.6, games=("g", "g"))
    refused = slip_ev(two, TABLE.get("prizepicks_power_2"), same_game="refuse")
    assert "same game as leg 1" in refused.refusals[0].reason
    assert slip_ev(two, TABLE.get("prizepicks_power_2"), same_game="price").priced


def test_a_wrong_number_of_legs_is_refused() -> None:
    priced = slip_ev(legs(0.6, 0.6), TABLE.get("prizepicks_power_3"))
    assert priced.refusals[0].leg is None
    assert "takes 3 legs, got 2" in priced.refusals[0].reason


def test_an_unknown_slip_type_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown slip type 'x'; known: prizepicks_power_2"):
        TABLE.get("x")


def test_a_payout_table_with_a_bad_number_is_refused() -> None:
    with pytest.raises(ValueError, match="must pay more than the stake"):
        payout_table_from_mapping(
            {"as_of": "x", "source": "y", "payouts": {"b": {"power": {2: {2: 1}}}}}
        )
    with pytest.raises(ValueError, match="not one of power, flex"):
        payout_table_from_mapping({"as_of": "x", "source": "y", "payouts": {"b": {"boost": {}}}})


# -- suggestions ---------------------------------------------------------------------------


def test_suggested_slips_clear_the_break_even_and_keep_one_leg_per_player() -> None:
    rows = pd.DataFrame(
        {
            "player_id": [1, 1, 2, 3, 4, 5, 6],
            "game_id": ["a", "a", "a", "b", "c", "d", "d"],
            "game_date": ["2024-12-01"] * 7,
            "market": ["points", "rebounds", "points", "assists", "points", "points", "points"],
            "line": [20.5, 8.5, 15.5, 6.5, 10.5, 12.5, 9.5],
            "line_kind": ["dfs", "dfs", "dfs", "dfs", "sportsbook", "dfs", "dfs"],
            "p_over": [0.70, 0.75, 0.30, 0.66, 0.90, 0.50, np.nan],
            "p_under": [0.30, 0.25, 0.70, 0.34, 0.10, 0.50, np.nan],
        }
    )
    slip_type = TABLE.get("prizepicks_power_2")
    out = suggest_legs(rows, slip_type, margin=0.02, max_slips=5)["2024-12-01"]
    # player 1 keeps his best leg (rebounds over 0.75); player 4's sportsbook row and
    # player 6's NaN row are refused; player 5 does not clear the break-even
    assert [(c.player_id, c.market, c.side) for c in out.candidates] == [
        ("1", "rebounds", "over"),
        ("2", "points", "under"),
        ("3", "assists", "over"),
    ]
    assert out.refused_rows == 2
    assert len(out.slips) == 1
    slip = out.slips[0]
    assert [leg.player_id for leg in slip.legs] == ["1", "2"]  # the two best P
    assert slip.same_game_pairs == 1
    assert slip.ev > 0
    refused = suggest_legs(rows, slip_type, same_game="refuse")["2024-12-01"]
    assert [leg.player_id for leg in refused.slips[0].legs] == ["1", "3"]


# -- grading -------------------------------------------------------------------------------


def test_legs_are_graded_alone() -> None:
    assert grade_leg(21, 20.5, "over") == "win"
    assert grade_leg(20, 20.5, "over") == "loss"
    assert grade_leg(20, 20.5, "under") == "win"
    assert grade_leg(20.0, 20.0, "over") == "push"
    assert grade_leg(None, 20.5, "over") == "void"
    assert grade_leg(float("nan"), 20.5, "under") == "void"


def test_a_slip_is_graded_as_a_whole_with_flex_partial_payouts() -> None:
    flex6 = TABLE.get("prizepicks_flex_6")
    g = grade_slip(["win"] * 5 + ["loss"], flex6)
    assert (g.hits, g.payout, g.profit, g.result, g.paid_as) == (5, 2.0, 1.0, "win", flex6.name)
    g = grade_slip(["win"] * 4 + ["loss"] * 2, flex6)
    assert (g.payout, g.profit, g.result) == (0.4, pytest.approx(-0.6), "partial")
    assert grade_slip(["loss", "win"], TABLE.get("prizepicks_power_2")).profit == -1.0
    assert grade_slip(["win", "win"], TABLE.get("prizepicks_power_2")).profit == 2.0


def test_a_void_leg_drops_the_slip_to_the_next_smaller_one() -> None:
    g = grade_slip(["win", "void", "win", "win"], TABLE.get("prizepicks_power_4"))
    assert (g.paid_as, g.hits, g.graded_legs, g.payout) == ("prizepicks_power_3", 3, 3, 5.0)
    # a 3-leg flex with a push is paid as the 2-leg power (no 2-leg flex exists)
    g = grade_slip(["win", "push", "win"], TABLE.get("prizepicks_flex_3"))
    assert (g.paid_as, g.payout, g.profit) == ("prizepicks_power_2", 3.0, 2.0)
    # one leg left: refunded
    g = grade_slip(["void", "win"], TABLE.get("underdog_power_2"))
    assert (g.result, g.paid_as, g.profit) == ("refund", None, 0.0)


# -- the command ---------------------------------------------------------------------------


def test_slips_payouts_json_gives_each_type_its_break_even() -> None:
    result = runner.invoke(app, ["slips", "payouts", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    by_type = {t["slip_type"]: t for t in payload["types"]}
    assert by_type["prizepicks_power_2"]["break_even"] == pytest.approx(0.57735, abs=1e-5)
    assert by_type["prizepicks_flex_6"]["payouts"] == {"4": 0.4, "5": 2.0, "6": 25.0}
    assert "2025" in payload["as_of"]


def test_slips_price_prices_a_slip_from_its_legs() -> None:
    result = runner.invoke(
        app,
        [
            "slips",
            "price",
            "--type",
            "prizepicks_power_2",
            "--leg",
            "1:g1:0.6",
            "--leg",
            "2:g2:0.6",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ev"] == pytest.approx(0.08, abs=1e-12)
    assert payload["hits"] == pytest.approx([0.16, 0.48, 0.36], abs=1e-12)
    text = runner.invoke(
        app,
        [
            "slips",
            "price",
            "--type",
            "prizepicks_power_2",
            "--leg",
            "1:g1:0.6",
            "--leg",
            "2:g2:0.6",
        ],
    )
    assert text.exit_code == 0
    assert "EV per unit staked: +0.0800" in text.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--type", "nope", "--leg", "1:g:0.6"], "known: prizepicks_power_2"),
        (["--type", "prizepicks_power_2", "--leg", "1:g:0.6", "--leg", "1:g:0.7"], "same player"),
        (["--type", "prizepicks_power_2", "--leg", "1:g:0.6", "--leg", "2:h:1.2"], "leg 2"),
        (["--type", "prizepicks_power_2", "--leg", "1:g:0.6", "--leg", "2-h-0.6"], "player:game:p"),
        (
            [
                "--type",
                "prizepicks_power_2",
                "--same-game",
                "refuse",
                "--leg",
                "1:g:0.6",
                "--leg",
                "2:g:0.6",
            ],
            "same game",
        ),
    ],
)
def test_slips_price_refuses_with_one_error_line(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["slips", "price", *args])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def test_a_payout_file_replaces_the_table(tmp_path: Path) -> None:
    path = tmp_path / "payouts.yaml"
    path.write_text(
        "as_of: '2026-01-01'\nsource: test\n"
        "payouts:\n  prizepicks:\n    power:\n      2: {2: 3.5}\n"
    )
    result = runner.invoke(
        app, ["slips", "payouts", "--json"], env={"NBAPROPS_SLIPS_PAYOUTS_FILE": str(path)}
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [t["slip_type"] for t in payload["types"]] == ["prizepicks_power_2"]
    assert payload["types"][0]["break_even"] == pytest.approx(math.sqrt(1 / 3.5), abs=1e-9)
    path.write_text("{not: [valid")
    bad = runner.invoke(app, ["slips", "payouts"], env={"NBAPROPS_SLIPS_PAYOUTS_FILE": str(path)})
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: payout table")
