"""Monitoring from the command line: ``drift`` and ``compare-production``, each of one
market (``--market``, default points)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from nbaprops.cli.common import (
    DbOpt,
    JsonOpt,
    MarketOpt,
    console,
    emit_json,
    parse_period,
    parse_range,
    rich_progress,
    settings_for,
    writable_folder,
)
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError

if TYPE_CHECKING:
    from nbaprops.monitoring.compare import Comparison
    from nbaprops.monitoring.drift import DriftResult

SystemOpt = Annotated[str, typer.Option("--system", help="System id, e.g. catboost_full.")]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, spec: str = ".3f") -> str:
    return "—" if value is None else format(value, spec)


def _existing_warehouse(db: Path | None) -> Path:
    settings = settings_for(db)
    if not settings.paths.db.exists():
        raise NbapropsError(f"no warehouse at {settings.paths.db}; run `nbaprops ingest` first")
    return settings.paths.db


def _png_path(png: Path | None, default: Path) -> Path:
    """Where the plot goes, refused before any work if it cannot be written there."""
    path = png or default
    if path.is_dir():
        raise NbapropsError(f"--png {path} is a folder; give a file name, e.g. {path / 'd.png'}")
    if path.suffix.lower() != ".png":
        raise NbapropsError(f"--png {path}: the file name must end in .png")
    writable_folder(path.parent, f"--png {path}")
    return path


def drift(
    reference: Annotated[str, typer.Option(help="Reference period START:END.")],
    current: Annotated[str, typer.Option(help="Current period START:END.")],
    system: Annotated[
        str | None,
        typer.Option(
            help="System whose stored predictions to test (default: every system "
            "with predictions in both periods)."
        ),
    ] = None,
    feature_set: Annotated[
        str | None,
        typer.Option(
            "--feature-set",
            help="Feature set, e.g. points_v1 (default: the market's, e.g. rebounds_v1).",
        ),
    ] = None,
    market: MarketOpt = "points",
    png: Annotated[
        Path | None,
        typer.Option(help="Write the plot here (default: $NBAPROPS_RUNS_DIR/drift/...png)."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Feature and prediction drift between two periods: a ranked table and a PNG."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.monitoring.drift import (
        Period,
        check_system,
        drift_between,
        market_feature_set,
        plot_drift,
    )
    from nbaprops.read.params import check_market

    chosen = check_market(market)  # an unknown market: one error line, before anything
    ref_range, cur_range = parse_range(reference, "--reference"), parse_range(current, "--current")
    chosen, fs = market_feature_set(
        chosen, None if feature_set is None else get_feature_set(feature_set)
    )
    if system is not None:
        check_system(system)
    ref, cur = Period(*ref_range), Period(*cur_range)
    settings = settings_for(db)
    path = _png_path(
        png,
        settings.paths.runs_dir
        / "drift"
        / f"drift_{ref.start}_{ref.end}_vs_{cur.start}_{cur.end}_{fs.key}.png",
    )
    warehouse = _existing_warehouse(db)
    with connect(warehouse, read_only=True) as con, rich_progress(not as_json) as progress:
        progress.begin("drift", 5)
        result = drift_between(
            con, ref, cur, fs, system=system, market=chosen, on_step=progress.step
        )
        plot_drift(result, path)
        progress.step("plot")
    if as_json:
        emit_json({**result.to_dict(), "png": str(path)})
        return
    print_drift(result, path)


def _test(method: str, statistic: float, p_value: float | None) -> str:
    """The feature store's test in one cell: W (normalised Wasserstein) or KS (p)."""
    if method == "ks":
        return f"KS {statistic:.3f} (p {p_value:.2g})"
    return f"W {statistic:.3f}"


def print_drift(result: DriftResult, path: Path, limit: int = 40) -> None:
    t = Table(
        title=f"Drift of {result.market} {result.reference.label} -> {result.current.label} "
        f"({result.feature_set}; {result.n_reference_rows:,} vs {result.n_current_rows:,} "
        "player-games), most drifted first"
    )
    for col in (
        "rank",
        "quantity",
        "N ref",
        "N cur",
        "mean ref",
        "mean cur",
        "diff",
        "test",
        "KS (p)",
        "PSI",
        "level",
        "drift",
    ):
        t.add_column(
            col,
            justify="left" if col in ("quantity", "test", "level") else "right",
            no_wrap=col == "quantity",
        )
    for r in result.rows[:limit]:
        name = r.name if r.kind == "feature" else f"{r.system}.{r.name} (prediction)"
        t.add_row(
            str(r.rank),
            name,
            f"{r.n_reference:,}",
            f"{r.n_current:,}",
            _num(r.mean_reference),
            _num(r.mean_current),
            _num(r.difference, "+.3f"),
            _test(r.method, r.statistic, r.p_value),
            "" if r.ks_statistic is None else f"{r.ks_statistic:.3f} ({r.ks_p_value:.2g})",
            f"{r.psi:.3f}",
            r.psi_level,
            "DRIFT" if r.drifted else "",
        )
    console.print(t)
    if len(result.rows) > limit:
        console.print(f"... {len(result.rows) - limit} more rows (all of them in --json)")
    if result.over_shares:
        s = Table(title="Share of OVER among bets (OVER or UNDER calls), 95% interval")
        for col in ("system", "reference", "current", "diff", "p-value", "drift"):
            s.add_column(col, justify="left" if col == "system" else "right")
        for o in result.over_shares:
            s.add_row(
                o.system,
                f"{_pct(o.share_reference)} [{_pct(o.ci_reference[0])}, "
                f"{_pct(o.ci_reference[1])}] of {o.n_bets_reference:,}",
                f"{_pct(o.share_current)} [{_pct(o.ci_current[0])}, "
                f"{_pct(o.ci_current[1])}] of {o.n_bets_current:,}",
                "—" if o.difference is None else f"{100 * o.difference:+.1f} pts",
                _num(o.p_value, ".3g"),
                "DRIFT" if o.drifted else "",
            )
        console.print(s)
    n = len(result.features)
    console.print(
        f"{result.n_features_drifted}/{n} features drifted "
        f"({100 * result.share_features_drifted:.0f}%); dataset drift: "
        f"{'YES' if result.dataset_drift else 'no'}"
    )
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"plot: {path}", highlight=False, soft_wrap=True)


def compare_production(
    start: Annotated[str, typer.Option(help="First game date.")],
    end: Annotated[str, typer.Option(help="Last game date.")],
    system: SystemOpt,
    market: MarketOpt = "points",
    experiment: Annotated[
        str | None,
        typer.Option(help="Backtest run id or prefix (default: the latest covering the range)."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Backtest vs production on exactly the same player-games, and what each lacks."""
    from nbaprops.monitoring.compare import compare_production as compare
    from nbaprops.monitoring.drift import check_system
    from nbaprops.read.params import check_market

    chosen = check_market(market)  # an unknown market: one error line, before anything
    first, last = parse_period(start, end)
    check_system(system)
    warehouse = _existing_warehouse(db)
    with connect(warehouse, read_only=True) as con, rich_progress(not as_json) as progress:
        progress.begin("compare", 3)
        result = compare(
            con,
            system,
            first,
            last,
            experiment=experiment,
            market=chosen,
            on_step=progress.step,
        )
    if as_json:
        emit_json(result.to_dict())
        return
    print_comparison(result)


def _figures_table(title: str, rows: list[dict[str, Any]], population: bool = False) -> Table:
    t = Table(title=title)
    cols = ["population"] if population else []
    cols += [
        "side",
        "lines",
        "N",
        "model MAE",
        "line MAE",
        "bets",
        "hit rate [95% CI]",
        "ROI consensus",
        "ROI best",
        "pushes",
        "voids",
    ]
    for col in cols:
        t.add_column(col, justify="left" if col in ("population", "side", "lines") else "right")
    for r in rows:
        cells = [r["population"]] if population else []
        cells += [
            r["side"],
            r["line_kind"],
            f"{r['n']:,}",
            _num(r["model_mae"]),
            _num(r["line_mae"]),
            f"{r['bets']:,}",
            f"{_pct(r['hit_rate'])} [{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]",
            _pct(r["roi_consensus"]),
            _pct(r["roi_best"]),
            str(r["pushes"]),
            str(r["voids"]),
        ]
        t.add_row(*cells)
    return t


def print_comparison(result: Comparison) -> None:
    from nbaprops.monitoring.compare import BACKTEST, PRODUCTION, sides_table

    run = result.run
    if run is not None:
        console.print(
            f"backtest: experiment {run.experiment_id} ({run.name}, {run.status}, evaluated "
            f"{run.eval_start}..{run.eval_end}); production: graded active predictions",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"{result.system} ({result.market}) {result.start}..{result.end}: "
        f"backtest {result.n_backtest:,} player-games, production {result.n_production:,}, "
        f"shared {result.n_shared:,} "
        f"({result.n_shared_lined:,} with a real line of the same kind on both sides)",
        highlight=False,
        soft_wrap=True,
    )
    agreement = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.line_agreement.items())
    console.print(f"lines on the shared player-games: {agreement}", highlight=False, soft_wrap=True)
    shared = result.shared[BACKTEST] + result.shared[PRODUCTION]
    console.print(_figures_table("Same player-games (shared, real line on both sides)", shared))
    for kind, paired in result.paired.items():
        p = Table(title=f"Backtest - production on the same rows ({kind} lines), paired 95% CI")
        for col in ("figure", "rows", "N", "backtest", "production", "diff [95% CI]"):
            p.add_column(col, justify="left" if col in ("figure", "rows") else "right")
        for f in paired["figures"]:
            pct = f["figure"] in ("hit_rate", "roi_actual")
            show = _pct if pct else _num
            p.add_row(
                f["figure"],
                f["rows"],
                f"{f['n']:,}",
                show(f["a"]),
                show(f["b"]),
                f"{show(f['diff'])} [{show(f['ci_low'])}, {show(f['ci_high'])}]",
            )
        console.print(p)
    for lacking, other in (
        (result.backtest_only, PRODUCTION),
        (result.production_only, BACKTEST),
    ):
        r = Table(title=f"In the {lacking.has} only ({lacking.n:,} player-games {other} lacks)")
        for col in ("reason", "N", "with a real line", "voids"):
            r.add_column(col, justify="left" if col == "reason" else "right")
        for reason in lacking.reasons:
            r.add_row(reason.reason, f"{reason.n:,}", f"{reason.lined:,}", f"{reason.voids:,}")
        console.print(r)
    rest = [r for r in sides_table(result) if r["population"] != "shared"]
    console.print(
        _figures_table("Rows only one side has, and each side as it reports itself", rest, True)
    )
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
