"""`nbaprops features ...`: the point-in-time feature store from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from nbaprops.cli.common import (
    DbOpt,
    JsonOpt,
    SetOpt,
    console,
    emit_json,
    os_reason,
    parse_day,
    parse_optional_period,
    parse_period,
    parse_range,
    rich_progress,
    settings_for,
    user_errors,
    writable_folder,
)
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError

features_app = typer.Typer(help="Point-in-time feature store.", no_args_is_help=True)


@features_app.command("list")
@user_errors
def features_list(
    feature_set: Annotated[
        str | None, typer.Option("--set", help="Only this feature set's features.")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every feature: name, group, default, required, description (and the sets)."""
    from nbaprops.features.catalog import CATALOG, FEATURE_SETS, get_feature_set

    rows = get_feature_set(feature_set).definitions() if feature_set else list(CATALOG)
    if as_json:
        emit_json(
            {
                "features": [
                    {
                        "name": f.name,
                        "group": f.group,
                        "default": f.default,
                        "required": f.required,
                        "description": f.description,
                        "sql": f.sql,
                    }
                    for f in rows
                ],
                "feature_sets": {k: list(v.features) for k, v in FEATURE_SETS.items()},
            }
        )
        return
    t = Table(title="Feature catalog")
    for col in ("name", "group", "default", "required", "description"):
        t.add_column(col, overflow="fold")
    for f in rows:
        t.add_row(f.name, f.group, f"{f.default:g}", "yes" if f.required else "no", f.description)
    console.print(t)
    for key, fs in FEATURE_SETS.items():
        console.print(f"[bold]{key}[/bold] ({len(fs.features)} features): {fs.description}")


@features_app.command("show")
@user_errors
def features_show(
    player: Annotated[str, typer.Option(help="Player name as nba.com or a book writes it.")],
    date: Annotated[str, typer.Option(help="Game date, YYYY-MM-DD (US/Eastern).")],
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One player's feature row for a date: every value and whether it was defaulted."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.frame import build_frame, serving_spine, training_spine
    from nbaprops.warehouse.queries import find_player

    fs = get_feature_set(feature_set)
    day = parse_day(date, "--date")
    settings = settings_for(db)
    with connect(settings.paths.db, read_only=True) as con:
        player_id, name = find_player(con, player)
        spine = serving_spine(con, day)
        spine = spine[spine["player_id"] == player_id]
        source = "serving spine"
        if spine.empty:
            spine = training_spine(con, day, day)
            spine = spine[spine["player_id"] == player_id]
            source = "training spine (not in the serving spine)"
        if spine.empty:
            raise NbapropsError(f"{name} has no game on {day}")
        frame = build_frame(con, spine, fs, with_flags=True)
    row = frame.iloc[0]
    values = [
        {"feature": f, "value": float(row[f]), "defaulted": bool(row[f"{f}__defaulted"])}
        for f in fs.features
    ]
    head = {
        "player": name,
        "player_id": int(player_id),
        "date": str(day),
        "spine": source,
        "team": row["team"],
        "opponent": row["opponent"],
        "home": bool(row["home"]),
        "game_id": row["game_id"],
        "n_defaulted": int(row["n_defaulted"]),
        "n_required_defaulted": int(row["n_required_defaulted"]),
    }
    if as_json:
        emit_json({**head, "feature_set": fs.key, "features": values})
        return
    console.print(
        f"[bold]{name}[/bold] {day} {head['team']} {'vs' if head['home'] else '@'} "
        f"{head['opponent']} ({source}); {head['n_defaulted']} defaulted, "
        f"{head['n_required_defaulted']} required defaulted"
    )
    t = Table(title=fs.key)
    t.add_column("feature")
    t.add_column("value", justify="right")
    t.add_column("defaulted")
    for v in values:
        t.add_row(v["feature"], f"{v['value']:.4g}", "DEFAULT" if v["defaulted"] else "")
    console.print(t)


@features_app.command("validate")
@user_errors
def features_validate(
    reference: Annotated[str, typer.Option(help="Reference period START:END.")],
    current: Annotated[str, typer.Option(help="Current period START:END.")],
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare feature distributions of two periods (KS / Wasserstein, PSI, dataset drift)."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.checks import drift_report, period_frame

    fs = get_feature_set(feature_set)
    ref_range, cur_range = parse_range(reference, "--reference"), parse_range(current, "--current")
    settings = settings_for(db)
    with connect(settings.paths.db, read_only=True) as con:
        ref = period_frame(con, *ref_range, fs, "--reference")
        cur = period_frame(con, *cur_range, fs, "--current")
    report = drift_report(ref, cur, fs.features)
    if as_json:
        emit_json({"reference": reference, "current": current, **report.to_dict()})
        return
    t = Table(title=f"Drift {reference} -> {current} ({len(ref):,} vs {len(cur):,} rows)")
    for col in ("feature", "method", "statistic", "p-value", "PSI", "drift"):
        t.add_column(col, justify="left" if col in ("feature", "method") else "right")
    for r in report.features:
        t.add_row(
            r.feature,
            r.method,
            f"{r.statistic:.3f}",
            "" if r.p_value is None else f"{r.p_value:.3g}",
            f"{r.psi:.3f}",
            "DRIFT" if r.drifted else "",
        )
    console.print(t)
    console.print(
        f"{report.n_drifted}/{len(report.features)} features drifted "
        f"({100 * report.share_drifted:.0f}%); dataset drift: "
        f"{'YES' if report.dataset_drift else 'no'}"
    )


@features_app.command("build")
@user_errors
def features_build(
    start: Annotated[str | None, typer.Option(help="First game date (default: all).")] = None,
    end: Annotated[str | None, typer.Option(help="Last game date (default: all).")] = None,
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Materialise the training frame for a date range into the features schema."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.pipeline.jobs import materialize_job

    fs = get_feature_set(feature_set)
    first, last = parse_optional_period(start, end)
    settings = settings_for(db)
    with connect(settings.paths.db) as con, rich_progress(not as_json) as progress:
        result = materialize_job(con, fs, first, last, progress)
    if as_json:
        emit_json(vars(result))
    else:
        console.print(
            f"{result.table}: {result.rows_written:,} rows written for {result.dates_built} "
            f"dates; {result.dates_skipped} dates already up to date"
        )


@features_app.command("coverage")
@user_errors
def features_coverage(
    season: Annotated[str, typer.Option(help="Season label, e.g. 2023-24.")],
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Share of a season's player-games with zero defaulted required features."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.frame import build_frame, training_spine

    fs = get_feature_set(feature_set)
    settings = settings_for(db)
    with connect(settings.paths.db, read_only=True) as con:
        spine = training_spine(con)
        seasons = sorted(spine["season"].dropna().unique())
        spine = spine[spine["season"] == season]
        if spine.empty:
            known = f"{seasons[0]} to {seasons[-1]}" if seasons else "none"
            raise NbapropsError(f"no player-games in season {season!r} (seasons: {known})")
        frame = build_frame(con, spine, fs, with_flags=True)
    required = [f.name for f in fs.definitions() if f.required]
    result = {
        "season": season,
        "feature_set": fs.key,
        "player_games": len(frame),
        "zero_required_defaulted": int((frame["n_required_defaulted"] == 0).sum()),
        "share_zero_required_defaulted": float((frame["n_required_defaulted"] == 0).mean()),
        "share_zero_defaulted": float((frame["n_defaulted"] == 0).mean()),
        "defaulted_share_by_required_feature": {
            f: float(frame[f"{f}__defaulted"].mean()) for f in required
        },
        "defaulted_share_by_optional_feature": {
            f.name: float(frame[f"{f.name}__defaulted"].mean())
            for f in fs.definitions()
            if not f.required
        },
        # per catalog group, the share of rows with a real value in any of its features
        # (availability: a report listed the game by decision time; board and line moves:
        # lines were quoted), the coverage of what those groups know
        "coverage_by_group": {
            group: float((~frame[[f"{f.name}__defaulted" for f in feats]].all(axis=1)).mean())
            for group, feats in _by_group(fs).items()
        },
    }
    if as_json:
        emit_json(result)
        return
    console.print(
        f"{season} {fs.key}: {result['zero_required_defaulted']:,}/{len(frame):,} player-games "
        f"({100 * result['share_zero_required_defaulted']:.1f}%) with zero defaulted required "
        f"features; {100 * result['share_zero_defaulted']:.1f}% with none defaulted at all"
    )
    worst = sorted(result["defaulted_share_by_required_feature"].items(), key=lambda kv: -kv[1])[:5]
    console.print("most defaulted: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in worst))
    console.print(
        "coverage by group (rows with a real value): "
        + ", ".join(f"{k} {100 * v:.1f}%" for k, v in result["coverage_by_group"].items())
    )


def _by_group(fs: Any) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for f in fs.definitions():
        groups.setdefault(f.group, []).append(f)
    return groups


@features_app.command("importance")
@user_errors
def features_importance(
    end: Annotated[str, typer.Option(help="Last training date (e.g. a fold's train end).")],
    start: Annotated[
        str | None, typer.Option(help="First training date (default: all of the history).")
    ] = None,
    feature_set: SetOpt = "points_v3",
    system: Annotated[str, typer.Option(help="A boosted system.")] = "catboost_full",
    top: Annotated[int, typer.Option(help="Rows to print.")] = 25,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit a boosted system on every player-game up to ``--end`` (from ``--start``, if
    given) and print its feature importance (CatBoost's PredictionValuesChange, percent;
    XGBoost's gain share), each feature with its catalog group, so a new group's worth
    can be read off."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.frame import build_frame, training_spine
    from nbaprops.systems.factory import make_system

    last = parse_day(end, "--end")
    first = parse_day(start, "--start") if start else None
    if first is not None and first > last:
        raise NbapropsError(f"--start {first} is after --end {last}")
    fs = get_feature_set(feature_set)
    settings = settings_for(db)
    model = make_system(system, random_state=seed)
    with connect(settings.paths.db, read_only=True) as con:
        spine = training_spine(con, first, last)
        if spine.empty:
            since = f" from {first}" if first else ""
            raise NbapropsError(f"no player-games{since} up to {last}")
        frame = build_frame(con, spine, fs)
    # the set's market's outcome (rebounds for rebounds_v1): the one the set's models learn
    model.fit(frame, frame[fs.market].to_numpy(dtype=float))
    fitted = getattr(model, "model_", None)
    if fitted is None:
        raise NbapropsError(f"{system} is not a boosted system: it has no feature importance")
    if hasattr(fitted, "get_feature_importance"):
        values = [float(v) for v in fitted.get_feature_importance()]
    else:
        values = [float(v) for v in getattr(fitted, "feature_importances_", [])]
    total = sum(values) or 1.0
    groups = {f.name: f.group for f in fs.definitions()}
    ranked = sorted(zip(model.feature_columns_, values, strict=True), key=lambda p: -p[1])
    by_group: dict[str, float] = {}
    for name, value in ranked:
        by_group[groups.get(name, "?")] = by_group.get(groups.get(name, "?"), 0.0) + value
    result: dict[str, Any] = {
        "system": system,
        "feature_set": fs.key,
        "train_start": first.isoformat() if first else None,
        "train_end": last.isoformat(),
        "rows": len(frame),
        "features": [
            {"rank": i + 1, "feature": n, "group": groups.get(n), "share": v / total}
            for i, (n, v) in enumerate(ranked)
        ],
        "share_by_group": {g: v / total for g, v in sorted(by_group.items(), key=lambda p: -p[1])},
    }
    if as_json:
        emit_json(result)
        return
    t = Table(title=f"{system} on {fs.key}, {len(frame):,} player-games to {last}")
    for col in ("#", "feature", "group", "share"):
        t.add_column(col)
    for row in result["features"][:top]:
        t.add_row(
            str(row["rank"]), row["feature"], row["group"] or "", f"{100 * row['share']:.2f}%"
        )
    console.print(t)
    console.print(
        "by group: " + ", ".join(f"{g} {100 * v:.1f}%" for g, v in result["share_by_group"].items())
    )


@features_app.command("frame")
@user_errors
def features_frame(
    start: Annotated[str, typer.Option(help="First game date.")],
    end: Annotated[str, typer.Option(help="Last game date.")],
    out: Annotated[
        Path, typer.Option(help="Write the frame to this file (.csv, .csv.gz or .parquet).")
    ],
    feature_set: SetOpt = "points_v1",
    min_season_avg: Annotated[
        float | None, typer.Option(help="Keep rows whose points_avg_season >= this.")
    ] = None,
    max_season_avg: Annotated[
        float | None, typer.Option(help="Keep rows whose points_avg_season <= this.")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export a training frame (e.g. breakout_v1 for role players averaging 6-20)."""
    from nbaprops.features.catalog import FEATURES, get_feature_set
    from nbaprops.features.frame import build_frame, training_spine

    fs = get_feature_set(feature_set)
    first, last = parse_period(start, end)
    if (
        min_season_avg is not None
        and max_season_avg is not None
        and min_season_avg > max_season_avg
    ):
        raise NbapropsError(
            f"--min-season-avg {min_season_avg:g} is above --max-season-avg {max_season_avg:g}"
        )
    _check_frame_out(out)
    settings = settings_for(db)
    with connect(settings.paths.db, read_only=True) as con:
        spine = training_spine(con, first, last)
        if spine.empty:
            raise NbapropsError(f"no player-games between {first} and {last}; nothing written")
        frame = build_frame(con, spine, fs)
        if min_season_avg is not None or max_season_avg is not None:
            season_avg = frame.get("points_avg_season")
            if season_avg is None:
                extra = build_frame(
                    con, frame[list(frame.columns[:8])], get_feature_set("points_v1")
                )
                season_avg = extra["points_avg_season"]
            keep = season_avg.between(
                min_season_avg if min_season_avg is not None else -1e9,
                max_season_avg if max_season_avg is not None else 1e9,
            )
            frame = frame[keep.to_numpy()]
            if frame.empty:
                raise NbapropsError(
                    "no player-games left after --min-season-avg/--max-season-avg; nothing written"
                )
    try:
        if out.suffix == ".parquet":
            frame.to_parquet(out, index=False)
        else:
            frame.to_csv(out, index=False)
    except OSError as exc:
        raise NbapropsError(f"cannot write --out {out}: {os_reason(exc)}") from None
    features = [c for c in frame.columns if c in FEATURES]
    summary = {
        "rows": len(frame),
        "players": int(frame["player_id"].nunique()),
        "features": features,
        "out": str(out),
        "mean": {f: float(frame[f].mean()) for f in features},
        "share_defaulted_any": float((frame["n_defaulted"] > 0).mean()) if len(frame) else 0.0,
    }
    if as_json:
        emit_json(summary)
        return
    console.print(f"{fs.key}: {summary['rows']:,} rows, {summary['players']} players -> {out}")
    t = Table()
    t.add_column("feature")
    t.add_column("mean", justify="right")
    for f in features:
        t.add_row(f, f"{summary['mean'][f]:.3f}")
    console.print(t)


FRAME_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def _check_frame_out(out: Path) -> None:
    """Refuse an --out that cannot take the frame before building it (its folder is created)."""
    if out.is_dir():
        raise NbapropsError(
            f"--out {out} is a folder; give a file name, e.g. {out / 'frame.parquet'}"
        )
    if not out.name.endswith(FRAME_SUFFIXES):
        raise NbapropsError(f"--out {out}: the file name must end in {', '.join(FRAME_SUFFIXES)}")
    writable_folder(out.parent, f"--out {out}")


@features_app.command("completeness")
@user_errors
def features_completeness(
    date: Annotated[str, typer.Option(help="Date, YYYY-MM-DD.")],
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Share of the date's serving spine with every required feature (gate: 90%).

    Exit code 0 in all three outcomes; scripts using it as a gate read ``status`` from
    --json: "pass", "fail", or "no_games" (no regular-season or playoff game that day:
    nothing to check, so ``passes_gate`` is null rather than false).
    """
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.checks import completeness
    from nbaprops.features.state import STATE_SEASON_TYPES
    from nbaprops.warehouse.queries import schedule_span

    fs = get_feature_set(feature_set)
    day = parse_day(date, "--date")
    settings = settings_for(db)
    with connect(settings.paths.db, read_only=True) as con:
        n_games, first_game, last_game = schedule_span(con, day, STATE_SEASON_TYPES)
        result = completeness(con, day, fs)
    if n_games == 0:
        span = (
            f" (the warehouse's schedule runs {first_game} to {last_game})"
            if first_game and last_game and not first_game <= day <= last_game
            else ""
        )
        if as_json:
            emit_json({**result.to_dict(), "passes_gate": None, "status": "no_games"})
        else:
            console.print(f"{day}: no games on this date{span}; nothing to check", highlight=False)
        return
    if as_json:
        emit_json({**result.to_dict(), "status": "pass" if result.passes_gate else "fail"})
        return
    console.print(
        f"{day}: {result.n_complete}/{result.n_rows} rows complete "
        f"({100 * result.share_complete:.1f}%) -> gate {'PASS' if result.passes_gate else 'FAIL'}"
    )
