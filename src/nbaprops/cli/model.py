"""`nbaprops model ...`: the model registry (versions, aliases, gated promotion, history)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import duckdb
import typer
from rich.table import Table

from nbaprops.cli.common import (
    DbOpt,
    JsonOpt,
    console,
    emit_json,
    print_error,
    query_and_print,
    settings_for,
    user_errors,
)
from nbaprops.core.db import connect

if TYPE_CHECKING:
    from nbaprops.models.registry import ModelVersion

model_app = typer.Typer(
    help="Registered model versions, their aliases and promotions.", no_args_is_help=True
)


@model_app.command("list")
@user_errors
def model_list(
    system: Annotated[str | None, typer.Option(help="Only this system's versions.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every registered version with its aliases, provenance and walk-forward figures."""
    from nbaprops.models.registry import list_versions
    from nbaprops.read.params import check_system

    settings = settings_for(db)

    def compute(con: duckdb.DuckDBPyConnection) -> list[ModelVersion]:
        check_system(con, system)
        return list_versions(con, system, artifacts_dir=settings.paths.artifacts_dir)

    query_and_print(
        settings,
        compute,
        _print_versions,
        as_json=as_json,
        payload=lambda versions: {"versions": [v.to_dict() for v in versions]},
    )


def _print_versions(versions: list[ModelVersion]) -> None:
    t = Table(title=f"Model registry ({len(versions)} versions)")
    for col in (
        "model",
        "market",
        "aliases",
        "mode",
        "features",
        "trained",
        "rows",
        "eval window",
        "MAE",
        "hit rate (bets)",
        "experiment",
        "commit",
    ):
        t.add_column(col, overflow="fold")
    for v in versions:
        fig = v.metrics
        hit = fig.get("sportsbook.hit_rate")
        t.add_row(
            v.ref,
            v.market,
            ", ".join(v.aliases) or "—",
            v.mode,
            v.feature_set_key,
            f"{v.train_start or 'all'}..{v.train_end}",
            f"{v.train_rows:,}",
            v.eval_window,
            "—" if fig.get("all.mae") is None else f"{fig['all.mae']:.3f}",
            "—"
            if hit is None
            else f"{100 * hit:.1f}% ({int(fig.get('sportsbook.n_bets') or 0):,})",
            v.experiment_id[:8],
            (v.code_commit or "—")[:8] + ("+dirty" if v.code_dirty else ""),
        )
    console.print(t)


@model_app.command("promote")
@user_errors
def model_promote(
    system: Annotated[str, typer.Argument(help="System id, e.g. catboost_full.")],
    version: Annotated[str, typer.Argument(help="Version number (3 or v3).")],
    alias: Annotated[str, typer.Option(help="champion, challenger or shadow.")] = "champion",
    force: Annotated[
        bool, typer.Option("--force", help="Override a failed gate (needs --reason).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why; recorded with the change.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Point an alias at a version; champion must pass the gate (or --force --reason)."""
    from nbaprops.experiments.registry import set_status
    from nbaprops.models.registry import get_version, promote
    from nbaprops.pipeline.jobs import audit
    from nbaprops.read.params import check_alias, check_system

    number = version.removeprefix("v")
    if not number.isdigit():
        print_error(f"version {version!r}: give a number such as 3 or v3")
        raise typer.Exit(1)
    settings = settings_for(db)
    with connect(settings.paths.db) as con:
        check_system(con, system)
        check_alias(alias)
        # A refusal is recorded, then raised as one error line (exit 1).
        change = promote(
            con,
            system,
            int(number),
            alias,
            min_rows=settings.models.promotion_min_rows,
            max_ece=settings.models.promotion_max_ece,
            force=force,
            reason=reason,
            artifacts_dir=settings.paths.artifacts_dir,
        )
        audit(
            con,
            "model",
            f"promote_{change.action}",
            f"{system}@v{change.version} -> {alias} (was v{change.previous_version})"
            + (f"; reason: {reason}" if reason else ""),
        )
        if alias == "champion":
            ref = f"{system}@v{change.version}"
            artifacts = settings.paths.artifacts_dir
            set_status(
                con,
                get_version(con, system, change.version, artifacts_dir=artifacts).experiment_id,
                "promoted",
                f"{ref} is champion ({change.action})",
            )
            if change.previous_version is not None:
                old = get_version(
                    con, system, change.previous_version, artifacts_dir=artifacts
                ).experiment_id
                set_status(con, old, "completed", f"no longer champion: {ref} is")
    gate = None if change.gate is None else change.gate.to_dict()
    if as_json:
        emit_json(
            {
                "system": system,
                "alias": alias,
                "version": change.version,
                "previous_version": change.previous_version,
                "action": change.action,
                "gate": gate,
            }
        )
        return
    if change.gate is not None:
        for check in change.gate.checks:
            mark = "[green]pass[/green]" if check.passed else "[red]FAIL[/red]"
            console.print(f"  {mark} {check.name}: {check.detail}", highlight=False)
    was = "none" if change.previous_version is None else f"v{change.previous_version}"
    console.print(
        f"{system}@{alias} is now v{change.version} (was {was}; {change.action})",
        highlight=False,
    )


@model_app.command("history")
@user_errors
def model_history(
    system: Annotated[str, typer.Argument(help="System id.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every alias change and refused promotion of a system: who, when, why."""
    from nbaprops.models.registry import alias_history
    from nbaprops.read.params import check_system

    def compute(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
        check_system(con, system)
        return alias_history(con, system)

    query_and_print(
        settings_for(db),
        compute,
        lambda events: _print_history(system, events),
        as_json=as_json,
        payload=lambda events: {"system": system, "events": events},
    )


def _print_history(system: str, events: list[dict[str, Any]]) -> None:
    t = Table(title=f"{system}: alias history ({len(events)} events)")
    for col in ("when", "market", "alias", "version", "was", "action", "who", "reason", "gate"):
        t.add_column(col, overflow="fold")
    for e in events:
        gate = e["gate"]
        failed = [c["name"] for c in gate["checks"] if not c["passed"]] if gate else []
        t.add_row(
            e["at"][:19],
            e.get("market") or "points",
            e["alias"],
            f"v{e['version']}",
            "—" if e["previous_version"] is None else f"v{e['previous_version']}",
            e["action"],
            e["actor"],
            e["reason"] or "",
            "—" if gate is None else ("passed" if not failed else "failed: " + ", ".join(failed)),
        )
    console.print(t)
