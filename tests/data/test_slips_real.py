"""DFS pick'em slips on the real 2024-25 DFS lines (points, rebounds, assists): legs
priced from each player's earlier over-rate against the very line, suggested slips
keep one leg per player, and slips grade from the box scores leg by leg."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from nbaprops.core.markets import get_market
from nbaprops.core.slips import (
    DEFAULT_GAME_CORRELATION,
    PUSH,
    VOID,
    WIN,
    break_even,
    grade_leg,
    grade_slip,
    latent_correlation,
    standard_payout_table,
    suggest_legs,
)

pytestmark = [pytest.mark.data]

START, END = "2024-12-01", "2024-12-03"
MARKETS = ("points", "rebounds", "assists")


def _stat(market: str, alias: str) -> str:
    return " + ".join(f"CAST({alias}.{s} AS DOUBLE)" for s in get_market(market).stats)


def real_dfs_rows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each DFS line of the dates with P(over) = (earlier games over the line + 1) /
    (earlier games + 2) this season, and the box-score outcome (NULL: did not play)."""
    parts = []
    for market in MARKETS:
        parts.append(
            f"""
            SELECT l.player_id, l.game_id, l.game_date, l.market, l.line, l.line_kind,
                   (SELECT count(*) FILTER (WHERE {_stat(market, "h")} > l.line)
                      FROM core.player_game h
                     WHERE h.player_id = l.player_id AND h.season = '2024-25'
                       AND h.game_date < l.game_date AND h.minutes > 0) AS overs,
                   (SELECT count(*)
                      FROM core.player_game h
                     WHERE h.player_id = l.player_id AND h.season = '2024-25'
                       AND h.game_date < l.game_date AND h.minutes > 0) AS games,
                   (SELECT {_stat(market, "g")}
                      FROM core.player_game g
                     WHERE g.player_id = l.player_id AND g.game_id = l.game_id
                       AND g.minutes > 0) AS actual
              FROM core.prop_line l
             WHERE l.line_kind = 'dfs' AND l.market = '{market}'
               AND l.game_date BETWEEN DATE '{START}' AND DATE '{END}'
               AND l.player_id IS NOT NULL AND l.game_id IS NOT NULL
            """
        )
    rows = con.sql(" UNION ALL ".join(parts)).df()
    rows["p_over"] = (rows["overs"] + 1) / (rows["games"] + 2)
    rows["p_under"] = 1 - rows["p_over"]
    return rows


def test_real_dfs_slips_keep_one_leg_per_player_and_grade_from_the_box_scores(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    rows = real_dfs_rows(real_con)
    assert len(rows) > 400  # three dates of real DFS lines, three markets
    assert rows.groupby(["game_date", "player_id"]).size().max() > 1  # players with 2+ markets
    outcome = {(str(r.player_id), r.market, float(r.line)): r.actual for r in rows.itertuples()}
    table = standard_payout_table()
    n_slips = reduced = 0
    for name in ("prizepicks_power_2", "prizepicks_flex_6", "underdog_power_3"):
        slip_type = table.get(name)
        be = break_even(slip_type)
        by_day = suggest_legs(rows, slip_type, margin=0.0, max_slips=4)
        assert set(by_day) == {"2024-12-01", "2024-12-02", "2024-12-03"}
        for day, suggested in by_day.items():
            players = [leg.player_id for leg in suggested.candidates]
            assert len(players) == len(set(players)), (name, day)
            for slip in suggested.slips:
                n_slips += 1
                ids = [leg.player_id for leg in slip.legs]
                assert len(ids) == len(set(ids)) == slip_type.legs, (name, day, ids)
                assert all(leg.p_win >= be for leg in slip.legs)
                assert all(leg.line_kind == "dfs" and leg.game_date == day for leg in slip.legs)
                assert slip.ev > 0
                assert sum(slip.hits) == pytest.approx(1.0, abs=1e-9)
                # each leg graded alone from its box score, then the slip as a whole
                legs_out = []
                for leg in slip.legs:
                    actual = outcome[(leg.player_id, leg.market, leg.line)]
                    assert leg.line is not None
                    legs_out.append(
                        grade_leg(None if pd.isna(actual) else float(actual), leg.line, leg.side)
                    )
                wins = sum(
                    not pd.isna(a) and a != leg.line and ((a > leg.line) == (leg.side == "over"))
                    for leg, a in (
                        (leg, outcome[(leg.player_id, leg.market, leg.line)]) for leg in slip.legs
                    )
                )
                graded = grade_slip(legs_out, slip_type, table)
                assert graded.hits == wins == sum(o == WIN for o in legs_out)
                if not any(o in (PUSH, VOID) for o in legs_out):
                    assert graded.paid_as == slip_type.name
                    assert graded.payout == slip_type.payout(wins)
                else:  # a push or a void (did not play) drops it to a smaller slip
                    reduced += 1
                    assert graded.graded_legs == sum(o not in (PUSH, VOID) for o in legs_out)
                    assert graded.paid_as != slip_type.name
                assert graded.profit == pytest.approx(graded.payout - 1.0)
    assert n_slips >= 6
    assert reduced >= 1  # the real lines include pushes (integer lines) and players who sat


def test_the_default_within_game_correlation_is_the_one_measured_on_the_real_dfs_lines(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    """Every pair of 2024-25 DFS legs of different players of one game (points, rebounds,
    assists; pushes and players who sat left out): the latent correlation of their
    over-hits is small, and the default sits on it."""
    stat = " ".join(f"WHEN '{m}' THEN {_stat(m, 'g')}" for m in MARKETS)
    pairs = real_con.sql(
        f"""
        WITH legs AS (
            SELECT l.game_id, l.player_id, l.line, CASE l.market {stat} END AS actual
              FROM core.prop_line l
              JOIN core.player_game g
                ON g.player_id = l.player_id AND g.game_id = l.game_id AND g.minutes > 0
             WHERE l.line_kind = 'dfs' AND l.market IN ('points', 'rebounds', 'assists')
        ), hits AS (
            SELECT game_id, player_id, actual > line AS over FROM legs WHERE actual <> line
        )
        SELECT a.over AS a_over, b.over AS b_over
          FROM hits a JOIN hits b ON a.game_id = b.game_id AND a.player_id < b.player_id
        """
    ).df()
    assert len(pairs) > 100_000
    rho = latent_correlation(pairs["a_over"].to_numpy(), pairs["b_over"].to_numpy())
    assert 0.0 < rho < 0.05, rho  # measured 0.014
    assert abs(rho - DEFAULT_GAME_CORRELATION) < 0.02
