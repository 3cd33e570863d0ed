"""``nbaprops slips``: DFS pick'em slips (PrizePicks, Underdog): the payout table with each
slip type's break-even, and the price of a slip from its legs' probabilities."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from nbaprops.cli.common import DbOpt, JsonOpt, console, emit_json, settings_for, user_errors
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Slips
from nbaprops.core.slips import (
    FLEX,
    OVER,
    UNDER,
    Leg,
    PayoutTable,
    SlipType,
    break_even,
    payout_table_from_mapping,
    slip_ev,
    standard_payout_table,
)

slips_app = typer.Typer(
    help="DFS pick'em slips: payouts with break-evens, and a slip's expected value.",
    no_args_is_help=True,
)


def load_payout_table(settings: Slips) -> PayoutTable:
    """The built-in table, or the JSON/YAML file NBAPROPS_SLIPS_PAYOUTS_FILE names."""
    path = settings.slips_payouts_file
    if path is None:
        return standard_payout_table()
    return read_payout_file(path)


def read_payout_file(path: Path) -> PayoutTable:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NbapropsError(f"cannot read the payout table {path}: {exc.strerror}") from None
    try:
        data = (
            yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
        )
        return payout_table_from_mapping(data)
    except (ValueError, TypeError, yaml.YAMLError) as exc:
        raise NbapropsError(f"payout table {path}: {exc}") from None


def _slip_type(table: PayoutTable, name: str) -> SlipType:
    try:
        return table.get(name)
    except ValueError as exc:
        raise NbapropsError(str(exc)) from None


def parse_leg(text: str, position: int) -> Leg:
    """``player:game:p[:side]`` (side over or under, default over)."""
    parts = text.split(":")
    if len(parts) not in (3, 4) or not parts[0] or not parts[2]:
        raise NbapropsError(
            f"--leg {text!r} (leg {position}) is not player:game:p[:over|under], "
            "e.g. 2544:0022400061:0.58"
        )
    try:
        p = float(parts[2])
    except ValueError:
        raise NbapropsError(
            f"--leg {text!r} (leg {position}): P(win) {parts[2]!r} is not a number"
        ) from None
    side = parts[3].lower() if len(parts) == 4 else OVER
    if side not in (OVER, UNDER):
        raise NbapropsError(f"--leg {text!r} (leg {position}): side {side!r} is not over or under")
    return Leg(player_id=parts[0], game_id=parts[1] or None, p_win=p, side=side)


def payouts_payload(table: PayoutTable) -> dict[str, Any]:
    return {
        "as_of": table.as_of,
        "source": table.source,
        "types": [
            {
                "slip_type": t.name,
                "book": t.book,
                "kind": t.kind,
                "legs": t.legs,
                "payouts": {str(k): m for k, m in enumerate(t.payouts) if m > 0},
                "break_even": break_even(t),
            }
            for t in table.types
        ],
    }


@slips_app.command("payouts")
@user_errors
def payouts(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Each slip type's payouts and its break-even: the per-leg P at which the slip's EV is
    0 (legs independent, each with that P)."""
    table = load_payout_table(settings_for(db).slips)
    payload = payouts_payload(table)
    if as_json:
        emit_json(payload)
        return
    t = Table(title=f"DFS pick'em payouts ({table.as_of})", title_justify="left")
    for col in ("slip type", "legs", "pays (hits/legs multiplier)", "break-even P per leg"):
        t.add_column(col, justify="right" if col == "legs" else "left")
    for slip_type, row in zip(table.types, payload["types"], strict=True):
        t.add_row(
            slip_type.name,
            str(slip_type.legs),
            slip_type.describe(),
            f"{100 * row['break_even']:.2f}%",
        )
    console.print(t)
    console.print(f"source: {table.source}", highlight=False, soft_wrap=True)
    console.print(
        "A flex slip pays partially; a push or void leg drops the slip to the next smaller "
        f"one ({FLEX} below 3 legs is paid as power). DFS rows have real lines but no "
        "prices: these payouts, never -110.",
        highlight=False,
        soft_wrap=True,
    )


@slips_app.command("price")
@user_errors
def price(
    legs: Annotated[
        list[str],
        typer.Option(
            "--leg",
            help="A leg as player:game:p[:over|under] (p its calibrated P(win)); repeat "
            "once per leg.",
        ),
    ],
    slip_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="Slip type, e.g. prizepicks_power_3 (default NBAPROPS_SLIPS_DEFAULT_TYPE).",
        ),
    ] = None,
    same_game: Annotated[
        str | None,
        typer.Option(
            "--same-game",
            help="price (through the within-game correlation) or refuse legs of one game "
            "(default NBAPROPS_SLIPS_SAME_GAME).",
        ),
    ] = None,
    correlation: Annotated[
        float | None,
        typer.Option(
            "--correlation",
            help="Within-game latent correlation (default NBAPROPS_SLIPS_GAME_CORRELATION).",
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A slip's expected value per unit staked, P(every leg hits) and the distribution of
    hits, from its legs' probabilities. A leg that cannot be priced, two legs of one
    player, or (with --same-game refuse) two legs of one game: refused, exit 1."""
    settings = settings_for(db).slips
    table = load_payout_table(settings)
    the_type = _slip_type(table, slip_type or settings.slips_default_type)
    policy = same_game or settings.slips_same_game
    if policy not in ("price", "refuse"):
        raise NbapropsError(f"--same-game {policy!r} is not price or refuse")
    rho = settings.slips_game_correlation if correlation is None else correlation
    if not (math.isfinite(rho) and 0.0 <= rho < 1.0):
        raise NbapropsError(f"--correlation {rho} is not in [0, 1)")
    parsed = [parse_leg(text, i) for i, text in enumerate(legs, start=1)]
    result = slip_ev(
        parsed,
        the_type,
        same_game="refuse" if policy == "refuse" else "price",
        correlation=rho,
        require_dfs=False,
    )
    if result.refusals:
        raise NbapropsError(f"slip refused: {'; '.join(str(r) for r in result.refusals)}")
    if as_json:
        emit_json(result.to_dict())
        return
    t = Table(
        title=f"{the_type.name} ({the_type.describe()}), break-even {100 * result.break_even:.2f}%",
        title_justify="left",
    )
    for col in ("leg", "player", "game", "side", "P(win)", "margin over break-even"):
        t.add_column(col)
    for i, (leg, margin) in enumerate(zip(result.legs, result.leg_margins, strict=True), 1):
        t.add_row(
            str(i),
            leg.player_id,
            leg.game_id or "-",
            leg.side,
            f"{100 * leg.p_win:.2f}%",
            f"{100 * margin:+.2f} pts",
        )
    console.print(t)
    hits = ", ".join(f"{k}: {100 * p:.2f}%" for k, p in enumerate(result.hits))
    console.print(
        f"EV per unit staked: {result.ev:+.4f} (expected payout {result.expected_payout:.4f}x); "
        f"P(all {the_type.legs} hit) {100 * result.p_all_hit:.2f}%\nP(hits) {hits}\n"
        f"same-game leg pairs: {result.same_game_pairs} (priced at correlation {rho:g})",
        highlight=False,
        soft_wrap=True,
    )
