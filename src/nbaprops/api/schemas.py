"""The JSON API's response models: every field documented, with its unit.

These models are the OpenAPI schema (``/openapi.json``) and validate every answer;
``ERRORS`` documents the one-line error answers each endpoint may give.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    """A row with its documented fields first; further columns pass through as they are."""

    model_config = ConfigDict(extra="allow")


def _f(description: str, default: Any = ...) -> Any:
    """A documented field (every field of the schema says what it is, with its unit)."""
    return Field(default, description=description)


class PhaseRecord(_Open):
    run_date: date | None = _f("Date the daily run predicted, YYYY-MM-DD.")
    phase: str = _f(
        "Phase: start (a run that could not open the warehouse), ingest, grade, diagnose, "
        "predict, breakout_shadow, signal, publish."
    )
    status: str = _f(
        "EXPECTED, RUNNING, COMPLETE, FAILED or ABANDONED (its run died; noticed by the next)."
    )
    rows: int | None = _f("Rows the phase wrote.")
    error: str | None = _f("The error of a FAILED phase (one line).")


class AliasRecord(_Open):
    system_id: str = _f("System, e.g. xgboost.")
    alias: str = _f("champion, challenger or shadow.")
    version: int = _f("Registered version behind the alias.")
    market: str = _f("The market the alias is of (a system has its aliases per market).")


class SourceFreshness(BaseModel):
    source: str = _f("box_scores, schedule, prop_lines or game_lines.")
    state: str = _f("ok, stale or missing, for the date judged (freshness.as_of).")
    latest: str | None = _f("The source's newest date (or UTC instant, ISO).")
    detail: str = _f("One line: what was found and, when not ok, how to fix it.")


class Freshness(BaseModel):
    last_box_score_date: date | None = _f("Latest game date with box scores.")
    last_line_snapshot: datetime | None = _f("Latest prop-line quote seen (UTC).")
    last_prediction_date: date | None = _f("Latest date with active predictions.")
    last_graded_date: date | None = _f("Latest date with graded predictions.")
    as_of: date | None = _f(
        "The date the sources are judged for: the latest predicted date, else today "
        "(US/Eastern); box scores before it, its lines."
    )
    state: str | None = _f("stale when `predict` would refuse as_of (the gates), else ok.")
    sources: list[SourceFreshness] = _f("Each source's freshness for as_of.", [])


class Health(BaseModel):
    status: str = _f(
        "ok when the warehouse could be read and its data is fresh for the latest predicted "
        "date; stale when `predict` would refuse that date (see freshness.sources)."
    )
    warehouse: str = _f("The warehouse file's name (never a path).")
    source: str = _f("snapshot: the published read-only copy (the API never opens the live file).")
    schema_version: int = _f("Migrations applied.")
    freshness: Freshness = _f("How fresh the warehouse is: its latest data of each kind.")
    phases: list[PhaseRecord] = _f("Phase records of the last 14 run dates.")
    models: list[AliasRecord] = _f("The version behind each alias.")


class Prediction(BaseModel):
    player_id: int = _f("NBA player id.")
    player_name: str = _f("Player name.")
    team: str = _f("Team tricode.")
    game_id: str = _f("NBA game id.")
    system_id: str = _f("System that predicted, e.g. xgboost.")
    model_version: int = _f("Registered version that predicted.")
    alias: str | None = _f("champion, challenger or shadow; null for a backfill fit.")
    line_source: str = _f("ACTUAL (a real consensus line), ESTIMATED or NO_LINE.")
    line_kind: str | None = _f("sportsbook or dfs (ACTUAL lines only).")
    line: float | None = _f("Consensus points line at decision time (points).")
    n_books: int | None = _f("Books in the consensus.")
    over_price: float | None = _f("Consensus over price, American odds.")
    under_price: float | None = _f("Consensus under price, American odds.")
    estimated_line: float | None = _f("Season average rounded to .5 (error only, never a bet).")
    median: float = _f("Predicted median points.")
    mean: float = _f("Predicted mean points.")
    p_over: float | None = _f("Calibrated P(points over the consensus line), 0-1.")
    p_under: float | None = _f("Calibrated P(under the consensus line), 0-1.")
    p_push: float | None = _f("P(exactly the line) on a whole-number line, 0-1.")
    edge_points: float | None = _f("Median minus the consensus line, in points.")
    ev_pct: float | None = _f(
        "Expected value of the call as the model claims it, percent per unit."
    )
    ev_calibrated_pct: float | None = _f(
        "Expected value of the call after EV calibration (what such calls returned out of "
        "sample, shrunk toward zero), percent per unit."
    )
    recommendation: str = _f(
        "The model's call on its raw EV: OVER, UNDER, PASS or NO_LINE (not a bet; see decision)."
    )
    decision: str = _f("The call where its calibrated EV beats the margin, else PASS.")
    confidence: str = _f("HIGH, MEDIUM, LOW or NONE by claimed EV (a label, not a probability).")
    bet_book: str | None = _f("Book line shopping chose for the call.")
    bet_line: float | None = _f("Line at that book (points).")
    bet_price: float | None = _f("Price at that book, American odds.")
    p_win: float | None = _f("The model's P(win) of the side called at the line taken, 0-1.")
    in_sample: bool = _f("Predicted inside the model's training window (research only).")
    direction_vs_consensus: str | None = _f(
        "Once graded: right, wrong, push, void or pass: the call against the consensus line "
        "(a direction, not a bet's result)."
    )
    pick_status: str | None = _f("BET or WATCHLIST when the call was a pick.")
    bet_result: str | None = _f("WIN, LOSS, PUSH or VOID of the bet at its own line and price.")
    bet_profit_units: float | None = _f("The bet's profit in units at the flat stake.")


class Predictions(BaseModel):
    date: dt.date = _f("Game date, YYYY-MM-DD.")
    market: str = _f("The market of every row (the market parameter; default points).")
    system: str | None = _f("The system filter, if any.")
    alias: str | None = _f("The alias filter, if any.")
    n: int = _f("Rows returned.")
    predictions: list[Prediction] = _f(
        "The date's active predictions, by system, alias and player."
    )


class AvailabilityEntry(BaseModel):
    team: str | None = _f("Team tricode (null when the printed name is unknown).")
    team_name: str = _f("Team name as printed on the report.")
    player: str | None = _f("Player as printed, natural order (null: team not yet reported).")
    player_id: int | None = _f("NBA player id (null when the name did not match).")
    status: str = _f(
        "Out, Doubtful, Questionable, Probable, Available or NOT_YET_SUBMITTED, as printed."
    )
    reason: str | None = _f("Reason as printed.")
    blocked: bool = _f("The gate blocks this status: no bet on the player.")


class AvailabilityGame(BaseModel):
    game_id: str = _f("NBA game id.")
    matchup: str = _f("away@home, tricodes.")
    tip_off_utc: str | None = _f("Tip-off, ISO-8601 UTC.")
    tip_source: str = _f(
        "Where the tip-off comes from: schedule, injury_report, prop_feed or assumed_7pm_et."
    )
    judged_at_utc: str | None = _f(
        "The time the statuses are judged at: decision time (tip-off minus the decision "
        "minutes) or the as-of time, ISO-8601 UTC."
    )
    report_time_utc: str | None = _f(
        "Publication time of the report used: the latest published by then that lists the "
        "game (null: none had)."
    )
    entries: list[AvailabilityEntry] = _f("The report's entries for the game (or the team).")


class Availability(BaseModel):
    date: dt.date = _f("Game date, YYYY-MM-DD.")
    as_of_utc: str | None = _f("The as-of time asked for, ISO-8601 UTC (null: decision time).")
    decision_minutes_before_tip: int = _f("Minutes before tip-off a prediction is decided.")
    blocked_statuses: list[str] = _f("Statuses never bet (NBAPROPS_AVAILABILITY_BLOCK_STATUSES).")
    games: list[AvailabilityGame] = _f("The date's games, by tip-off.")


class PickRecord(BaseModel):
    n: int = _f("Comparable graded bets: same line kind, side and calibrated-EV bucket.")
    wins: int = _f("Of those, won.")
    hit_rate: float | None = _f("Wins / n, 0-1.")
    ci_low: float | None = _f("Wilson 95% interval, low.")
    ci_high: float | None = _f("Wilson 95% interval, high.")
    roi_pct: float | None = _f("Profit per unit at the prices taken, percent.")


class Pick(BaseModel):
    rank: int = _f("Order on the slate: bets by calibrated EV, then the watchlist.")
    status: str = _f("BET (staked) or WATCHLIST (the record does not back it; no stake).")
    reason: str | None = _f("Why a watchlist pick is not staked.")
    system_id: str = _f("System whose pick it is.")
    market: str = _f("The market the pick prices (points, rebounds, ...).")
    model_version: int = _f("Registered version.")
    alias: str | None = _f("champion, challenger, shadow; null for a backfill fit.")
    game_date: date = _f("Game date, YYYY-MM-DD.")
    game_id: str = _f("NBA game id.")
    player_id: int = _f("NBA player id.")
    player_name: str = _f("Player name.")
    team: str = _f("Team tricode.")
    availability_status: str | None = _f(
        "His injury-report status at decision time (Out, Doubtful, Questionable, Probable, "
        "Available, Not listed; null: no report listed the game). Out, Doubtful and "
        "Questionable are never bet."
    )
    line_kind: str = _f("sportsbook or dfs.")
    side: str = _f("OVER or UNDER.")
    line: float | None = _f("Consensus line at decision time (points).")
    bet_book: str | None = _f("Book the bet is placed at.")
    bet_line: float | None = _f("Line the bet is placed at (points).")
    bet_price: float | None = _f("Price the bet is placed at, American odds (-110 nominal on DFS).")
    priced: bool = _f("A real book price (false: a DFS board priced at a nominal -110).")
    p_win: float | None = _f("The model's P(win) of the side at the line taken, 0-1.")
    edge_points: float | None = _f("Median minus the consensus line, in points.")
    ev_pct: float | None = _f("Expected value as the model claims it, percent per unit.")
    ev_calibrated_pct: float | None = _f("Expected value after EV calibration, percent per unit.")
    ev_bucket: str | None = _f("Bucket of the calibrated EV: <=2%, 2-5%, 5-10%, >10%.")
    record: PickRecord = _f(
        "The record of comparable graded bets that backs the pick (or does not)."
    )
    slate_signal: str | None = _f("The slate's signal for this system: RED, YELLOW, GREEN.")
    flat_units: float = _f("Flat stake in units (1 for a bet, 0 on the watchlist).")
    stake_before_pct: float = _f("Fractional-Kelly stake before the caps, percent of bankroll.")
    stake_before_units: float = _f("The same in units.")
    stake_pct: float = _f("Recommended stake after the caps, percent of bankroll.")
    stake_units: float = _f("The same in units (1 unit = unit_pct of the bankroll).")
    capped_by: str | None = _f("Caps that bound: RED slate, per-bet cap, slate cap.")
    observation: str | None = _f("A shadow's note (never changes the pick).")
    result: str | None = _f("Once graded: WIN, LOSS, PUSH or VOID at the bet's own line and price.")
    actual_points: float | None = _f("Points scored, once graded.")
    profit_units: float | None = _f("Profit in units at the flat stake, once graded.")
    profit_pct: float | None = _f("Profit at the recommended stake, percent of bankroll.")


class ChampionRecord(BaseModel):
    system: str = _f("The champion's system.")
    market: str = _f("The market of the champion and its record.")
    version: int = _f("The champion's version.")
    source: str = _f("Which out-of-sample calls the record counts.")
    n: int = _f("Graded calls (wins + losses).")
    wins: int = _f("Of those, won.")
    hit_rate: float | None = _f("0-1.")
    ci_low: float | None = _f("Wilson 95% interval, low.")
    ci_high: float | None = _f("Wilson 95% interval, high.")
    roi_pct: float | None = _f("Profit per unit at the prices taken, percent.")
    break_even: float = _f("Hit rate that breaks even at -110, 0-1.")
    beats_break_even: bool = _f("ROI at the prices taken above zero.")
    statement: str = _f("The record in one sentence.")


class Caps(BaseModel):
    bet_pct: float = _f("Largest stake of one bet, percent of bankroll.")
    slate_pct: float = _f("Largest total stake of a slate, percent of bankroll.")
    red_multiplier: float = _f("Stakes on a RED slate are multiplied by this.")
    per_game: int = _f("Most bets per game.")
    per_team: int = _f("Most bets per team.")
    per_day: int = _f("Most bets per date.")
    min_record: int = _f("Comparable graded bets a pick needs to be staked.")
    ev_margin_pct: float = _f("Calibrated EV a bet must beat, percent.")


class Picks(BaseModel):
    date: dt.date = _f("Game date, YYYY-MM-DD.")
    market: str = _f("The market of the picks (the market parameter; default points).")
    system: str | None = _f("System whose champion drives picks.")
    model_version: int | None = _f("The champion version that picked.")
    record: ChampionRecord | None = _f("The champion's record and whether it beats break-even.")
    verdict: str = _f("The slate in one line ('no bets today' is a valid answer).")
    n_bets: int = _f("Picks staked.")
    n_watchlist: int = _f("Picks not staked.")
    exposure_pct: float = _f("The slate's total recommended stake, percent of bankroll.")
    kelly_fraction: float = _f("Fraction of the Kelly stake.")
    unit_pct: float = _f("One unit, percent of bankroll.")
    caps: Caps = _f("The caps that bound the stakes and the number of bets.")
    picks: list[Pick] = _f("The picks: bets by calibrated EV, then the watchlist.")


class Signal(BaseModel):
    system_id: str = _f("System.")
    model_version: int = _f("Version.")
    n_games: int = _f("Games on the slate.")
    n_bets: int = _f("Calls (OVER / UNDER) on real lines.")
    over_share: float | None = _f("Share of calls that are OVER, 0-1.")
    n_high_edge: int = _f("Calls with |edge| at or above the high-edge threshold.")
    skew: str = _f("BALANCED, UNDER_HEAVY or OVER_HEAVY.")
    signal: str = _f("RED, YELLOW or GREEN.")
    reasons: str = _f("Why.")


class Signals(BaseModel):
    date: dt.date = _f("Game date, YYYY-MM-DD.")
    market: str = _f("The market of the models signalled (the market parameter; default points).")
    signals: dict[str, Signal] = _f(
        "The slate signal of every model that predicted the date, keyed system@alias "
        "(system@vN for a version without an alias)."
    )


class PlayerGame(_Open):
    game_id: str = _f("NBA game id.")
    game_date: date = _f("Game date, YYYY-MM-DD.")
    team: str = _f("Team tricode.")
    opponent: str | None = _f("Opponent tricode.")
    minutes: float | None = _f("Minutes played.")
    points: int | None = _f("Points scored.")
    actual: int | None = _f(
        "The market's outcome: its box-score stat, a combo's sum (pra: points + rebounds "
        "+ assists); the points for points."
    )
    line: float | None = _f("Pre-tip consensus line of the market (sportsbook first).")


class PlayerPrediction(_Open):
    game_date: date = _f("Game date, YYYY-MM-DD.")
    system_id: str = _f("System.")
    model_version: int = _f("Version.")
    line_source: str = _f("ACTUAL, ESTIMATED or NO_LINE.")
    line: float | None = _f("Consensus line (points).")
    median: float = _f("Predicted median points.")
    recommendation: str = _f("The model's call on its raw EV (not a bet).")
    direction_vs_consensus: str | None = _f(
        "right, wrong, push, void or pass: the call against the consensus line."
    )
    actual_points: float | None = _f("Points scored, once graded.")
    pick_status: str | None = _f("BET when the call was staked.")
    bet_result: str | None = _f("WIN, LOSS, PUSH or VOID of the bet at its own line and price.")
    bet_profit_units: float | None = _f("The bet's profit in units at the flat stake.")


class Player(BaseModel):
    until: date | None = _f("Games on or before this date.")
    market: str = _f("The market of the predictions (the market parameter; default points).")
    player_id: int = _f("NBA player id.")
    player_name: str = _f("Player name.")
    games: list[PlayerGame] = _f("The player's last 20 games (on or before until), newest first.")
    predictions: list[PlayerPrediction] = _f(
        "Active predictions of the player's last 20 predicted dates (on or before until), "
        "with their grades, newest first."
    )


class LedgerSummary(BaseModel):
    n_bets: int = _f("Graded bets.")
    pending: int = _f("Bets not graded yet.")
    wins: int = _f("Won.")
    losses: int = _f("Lost.")
    pushes: int = _f("Pushed (stake returned).")
    voids: int = _f("Void: the player did not play (stake returned).")
    hit_rate: float | None = _f("Wins / (wins + losses), 0-1.")
    ci_low: float | None = _f("Wilson 95% interval, low.")
    ci_high: float | None = _f("Wilson 95% interval, high.")
    roi_pct: float | None = _f("Profit per unit at the prices taken, percent.")
    units: float | None = _f("Units won at the flat stakes.")
    start: float = _f("Bankroll at the start, units.")
    final_flat: float = _f("Bankroll at the end at flat stakes, units.")
    final_kelly: float = _f("Bankroll at the end at the recommended stakes, units.")
    max_drawdown_flat: float = _f("Largest fall from a peak at flat stakes, 0-1.")
    max_drawdown_kelly: float = _f("Largest fall from a peak at the recommended stakes, 0-1.")
    n_dates: int = _f("Dates with bets.")


class LedgerLine(Pick):
    running_units: float | None = _f("Units won so far at flat stakes.")
    bankroll_flat: float | None = _f("Bankroll after this bet at flat stakes, units.")
    bankroll_kelly: float | None = _f("Bankroll after this bet at the recommended stakes, units.")


class SystemLedger(BaseModel):
    system: str = _f("System.")
    summary: LedgerSummary = _f("The system's graded bets of the period in figures.")
    bets: list[LedgerLine] = _f(
        "Every bet of the system as placed, in date and rank order, graded or pending."
    )


class Bets(BaseModel):
    start: date = _f("First date, YYYY-MM-DD.")
    end: date = _f("Last date, YYYY-MM-DD.")
    market: str = _f("The market of the ledger (the market parameter; default points).")
    system: str | None = _f("The system filter, if any.")
    systems: list[SystemLedger] = _f("The ledger of each system with bets, by system.")


class SideFigures(BaseModel):
    side: str = _f("OVER or UNDER.")
    bets: int = _f(
        "The model's calls on this side (OVER / UNDER on its raw expected value) decided at "
        "the consensus line (wins + losses); calls, not bets placed."
    )
    hit_rate: float | None = _f("Wins / bets, 0-1; null without decided calls.")
    ci_low: float | None = _f("Wilson 95% interval of the hit rate, low, 0-1.")
    ci_high: float | None = _f("Wilson 95% interval of the hit rate, high, 0-1.")
    roi_consensus: float | None = _f(
        "Profit per unit staked on these calls at the consensus line, a fraction (0.05 = 5%): "
        "at the consensus price of the side called on sportsbook lines (priced calls "
        "only), at -110 on DFS boards."
    )
    roi_best: float | None = _f(
        "The same at the line and price line shopping chose (the consensus where it chose "
        "none), a fraction per unit staked."
    )
    clv_line: float | None = _f(
        "Mean closing line value of these calls where the player played, in points: how much "
        "better the line taken (shopped, else consensus) was than the closing consensus "
        "line on the side called (positive: beat the close); null without closing lines."
    )
    clv_n: int = _f("Calls with a closing line value (the N of clv_line).")


class EvBucketOut(BaseModel):
    label: str = _f("EV bucket: <=2%, 2-5%, 5-10%, >10% (per unit).")
    n: int = _f("Decided calls (wins + losses).")
    wins: int = _f("Won.")
    losses: int = _f("Lost.")
    pushes: int = _f("Pushed.")
    hit_rate: float | None = _f("0-1.")
    ci_low: float | None = _f("Wilson 95% interval, low.")
    ci_high: float | None = _f("Wilson 95% interval, high.")
    mean_ev: float | None = _f("Mean EV claimed, per unit (0.05 = 5%).")
    roi: float | None = _f("Realised profit per unit at the price taken (0.05 = 5%).")
    roi_low: float | None = _f("95% interval of the ROI, dates resampled, low.")
    roi_high: float | None = _f("95% interval of the ROI, dates resampled, high.")
    n_dates: int = _f("Dates with calls in the bucket.")


class VersusMarketOut(BaseModel):
    """``metrics.VersusMarket``: the system's P(over) against the market's on the same rows."""

    n: int = _f(
        "Rows scored, the same for both: played, decided (no push), priced on both sides, "
        "with the system's P(over)."
    )
    n_dates: int = _f("Dates among those rows (the interval resamples whole dates).")
    method: str = _f(
        "De-vig method that turned the consensus prices into the market's P(over), e.g. "
        "multiplicative (a DFS pick'em board is 0.5)."
    )
    brier: float = _f("Brier score of the system's P(over), 0-1 (lower is better).")
    brier_market: float = _f("Brier score of the market's de-vigged P(over), 0-1.")
    brier_diff: float = _f(
        "Brier score of the system minus the market's (negative: the system is better)."
    )
    brier_diff_low: float | None = _f(
        "95% interval of brier_diff, dates resampled, low (null: fewer than two dates)."
    )
    brier_diff_high: float | None = _f(
        "95% interval of brier_diff, dates resampled, high (null: fewer than two dates)."
    )
    log_loss: float = _f("Log loss of the system's P(over), natural log (lower is better).")
    log_loss_market: float = _f("Log loss of the market's P(over), natural log.")
    ece: float = _f(
        "Expected calibration error of the system's P(over), 0-1 (10 equal-width bins, "
        "row-weighted mean of |mean P - observed rate|)."
    )
    ece_market: float = _f("Expected calibration error of the market's P(over), 0-1.")
    worse_than_market: bool = _f(
        "brier_diff above zero: the system's P(over) scored worse than the market's "
        "(a point estimate; see the interval)."
    )


class SystemFigures(BaseModel):
    system: str = _f("System, e.g. xgboost.")
    line_kind: str = _f("sportsbook or dfs (real lines; the kinds are never mixed).")
    n: int = _f(
        "Played predictions on these lines where the model and the line are both scored "
        "(like for like)."
    )
    model_mae: float | None = _f(
        "Mean absolute error of the model's median against points scored, in points."
    )
    line_mae: float | None = _f(
        "Mean absolute error of the consensus line against points scored on the same rows, "
        "in points."
    )
    bets: int = _f(
        "The model's calls (OVER / UNDER on its raw expected value) decided at the consensus "
        "line (wins + losses); calls, not bets placed (see bets_ledger)."
    )
    hit_rate: float | None = _f("Wins / bets, 0-1; null without decided calls.")
    ci_low: float | None = _f("Wilson 95% interval of the hit rate, low, 0-1.")
    ci_high: float | None = _f("Wilson 95% interval of the hit rate, high, 0-1.")
    pushes: int = _f("Calls that landed exactly on the consensus line (stake returned).")
    voids: int = _f("Predictions on these lines whose player did not play.")
    roi_consensus: float | None = _f(
        "Profit per unit staked on these calls at the consensus line, a fraction (0.05 = 5%): "
        "at the consensus price of the side called on sportsbook lines (priced calls "
        "only), at -110 on DFS boards."
    )
    roi_best: float | None = _f(
        "The same at the line and price line shopping chose (the consensus where it chose "
        "none), a fraction per unit staked."
    )
    clv_line: float | None = _f(
        "Mean closing line value of these calls where the player played, in points: how much "
        "better the line taken (shopped, else consensus) was than the closing consensus "
        "line on the side called (positive: beat the close); null without closing lines."
    )
    clv_n: int = _f("Calls with a closing line value (the N of clv_line).")
    graded_share: float | None = _f(
        "Share of the system's predictions of the period (every line source) graded or "
        "void rather than missing, 0-1; null without completeness records."
    )
    market: VersusMarketOut | None = _f(
        "The system's P(over) against the market's (de-vigged consensus prices at decision "
        "time) on the same rows; null when no row is priced and decided.",
        None,
    )
    by_side: list[SideFigures] = _f(
        "The same figures for OVER and UNDER calls apart (an edge may live on one side).", []
    )
    ev_reliability: dict[str, dict[str, list[EvBucketOut]]] = _f(
        "Claimed EV against realised ROI: 'claimed' (raw EV) and 'calibrated', each for "
        "'all' calls and by side, bucket by bucket.",
        {},
    )
    bets_ledger: dict[str, Any] | None = _f(
        "The bets placed (picks with status BET) of this system on these lines, as a ledger.",
        None,
    )


class EstimatedFigures(BaseModel):
    system: str = _f("System, e.g. xgboost.")
    n: int = _f("Played predictions of players without a real line (an estimated line).")
    model_mae: float | None = _f(
        "Mean absolute error of the model's median against points scored, in points."
    )
    estimated_line_mae: float | None = _f(
        "Mean absolute error of the estimated line (season average rounded to .5) on the "
        "same rows, in points (error only: never a bet, never a hit rate)."
    )


class Completeness(BaseModel):
    system_id: str = _f("System, e.g. xgboost.")
    predicted: int = _f("Active out-of-sample predictions of the period's graded dates.")
    graded: int = _f("Of those, graded (the player played).")
    void: int = _f("Of those, void: the player did not play.")
    missing: int = _f("Of those, without a grade.")


class Grading(BaseModel):
    start: date = _f("First date, YYYY-MM-DD.")
    end: date = _f("Last date, YYYY-MM-DD.")
    market: str = _f(
        "The market of every figure (the market parameter; default points; markets are "
        "never mixed)."
    )
    system: str | None = _f("The system filter, if any.")
    systems: list[SystemFigures] = _f(
        "Figures per system and real line kind (sportsbook and DFS apart)."
    )
    estimated_lines: list[EstimatedFigures] = _f(
        "Per system: the model's MAE against the estimated line's, for players without a real line."
    )
    completeness: list[Completeness] = _f(
        "Per system: predictions graded, void and missing over the period."
    )


class ExperimentRow(_Open):
    experiment_id: str = _f("Run id (a uuid4).")
    name: str = _f("Run name.")
    type: str = _f("walk_forward, ablation, hyperparameter, feature or breakout.")
    mode: str = _f("shared or experimental (experimental versions are never promoted).")
    status: str = _f("pending, running, completed, failed, promoted or archived.")
    primary_system: str | None = _f("The system the headline figures are of.")
    n_systems: int | None = _f(
        "How many systems the run fitted, the primary one included (a backfill of every "
        "system is one run)."
    )
    eval_window: str | None = _f(
        "Evaluation window, START:END (YYYY-MM-DD:YYYY-MM-DD); only runs on one window compete."
    )
    mae: float | None = _f(
        "The primary system's mean absolute error of its median against points scored, over "
        "all evaluated played rows, in points."
    )
    n: int | None = _f("Rows behind mae.")
    hit_rate: float | None = _f(
        "The primary system's hit rate of its calls on sportsbook lines, 0-1."
    )
    n_bets: int | None = _f("Decided calls (wins + losses) behind hit_rate.")


class Experiments(BaseModel):
    runs: list[ExperimentRow] = _f("Recorded runs, newest first (at most limit).")


class Experiment(_Open):
    experiment_id: str = _f("Run id (a uuid4).")
    name: str = _f("Run name.")
    status: str = _f("pending, running, completed, failed, promoted or archived.")
    artefacts: list[str] = _f("Names of the run's artefacts (never paths).")
    figures: list[dict[str, Any]] = _f(
        "Every figure the run recorded: system, rows (all or a line kind), metric, value, n; "
        "hit rates and ROIs as fractions (0-1), MAE in points."
    )
    events: list[dict[str, Any]] = _f(
        "The run's status changes, oldest first: status, at (timestamp), detail."
    )


class ModelVersionOut(_Open):
    system_id: str = _f("System, e.g. xgboost.")
    version: int = _f("Registered version (1, 2, ...).")
    ref: str = _f("Reference to the version, system@vN.")
    aliases: list[str] = _f("Aliases it holds now: champion, challenger, shadow (or none).")
    feature_set: str = _f("Feature set name, e.g. points.")
    market: str = _f("The market it predicts (its feature set's): points, rebounds, ...", "points")
    train_start: str | None = _f("First training date, YYYY-MM-DD; null: all history.")
    train_end: str = _f("Last training date, YYYY-MM-DD.")
    train_rows: int = _f("Rows it was trained on.")
    eval_window: str = _f(
        "Evaluation window of the run that registered it, START:END (YYYY-MM-DD:YYYY-MM-DD)."
    )
    metrics: dict[str, Any] = _f(
        "Headline figures of the run that registered it, keyed rows.metric (e.g. "
        "sportsbook.hit_rate): hit rates and ROIs as fractions (0-1), MAE in points."
    )
    created_at: str = _f("When it was registered (timestamp with time zone, as text).")


class Models(BaseModel):
    versions: list[ModelVersionOut] = _f(
        "Every registered version, by system, newest first (no artefact paths)."
    )
    history: dict[str, list[dict[str, Any]]] = _f(
        "Per system with an alias: every alias change and refusal, oldest first (alias, "
        "version, previous_version, action, actor, at, reason, gate)."
    )


class DiagnosticRow(_Open):
    system_id: str = _f("System diagnosed.")
    market: str = _f("The market diagnosed (the market parameter; default points).")
    model_version: int | None = _f("The version that predicted the date; null if none.")
    primary_cause: str = _f(
        "Attributed cause: none, market_sharpness, model_drift, data_quality or sample_size."
    )
    confidence: float = _f("Confidence in the primary cause, 0-1.")
    conditions: list[str] = _f("Codes of the alert conditions active on the date.")
    factors: list[Any] = _f("The factors behind the cause, each with its numbers.")


class Diagnostics(BaseModel):
    date: dt.date = _f("Date diagnosed, YYYY-MM-DD.")
    market: str = _f("The market of every row (the market parameter; default points).")
    diagnostics: list[DiagnosticRow] = _f(
        "The stored diagnosis of each system in the market on that date."
    )


class AlertRow(_Open):
    raised_at: str = _f("When it was raised (timestamp with time zone, as text).")
    game_date: str | None = _f("Game date it concerns, YYYY-MM-DD; null if none.")
    severity: str = _f("CRITICAL, WARNING or INFO.")
    source: str = _f("What raised it: diagnose:<condition>, diagnose:change or grading.")
    system_id: str | None = _f("System it concerns; null if none.")
    message: str = _f("The alert in one line.")


class Alerts(BaseModel):
    since: date = _f("Alerts raised on or after this date, YYYY-MM-DD.")
    alerts: list[AlertRow] = _f("The alerts, oldest first.")


class ErrorOut(BaseModel):
    detail: str = _f("What was wrong, in one line.")


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad input (one line)"},
    404: {"model": ErrorOut, "description": "Not found (one line)"},
    422: {"model": ErrorOut, "description": "Invalid parameter (one line)"},
    503: {"model": ErrorOut, "description": "Nothing readable yet (one line)"},
}
