"""File sources: what each public format looks like and how its columns are typed.

Sources only describe; `nbaprops.ingest.loader` reads files and
`nbaprops.ingest.transport` fetches live data. Staging only renames and casts
(plus row-level sanity checks that send bad rows to quarantine); every piece of
logic lives in the core transforms.
"""

from __future__ import annotations

from dataclasses import dataclass

from nbaprops.core.markets import KNOWN_MARKET_KEYS, line_band_checks

# Column types understood by the loader and their DuckDB casts.
SQL_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "double": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class Col:
    """One column of a source file.

    ``check`` is a SQL predicate over the typed value written as ``{v}``;
    rows failing it are quarantined as ``"<check_reason> <column>: <value>"``.
    """

    src: str
    dst: str
    type: str = "text"
    required: bool = False
    check: str | None = None
    optional_in_file: bool = False
    check_reason: str = "impossible"


@dataclass(frozen=True)
class Source:
    """A public file format: where files are found, their columns and their key."""

    name: str
    description: str
    patterns: tuple[str, ...]
    raw_table: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]
    example: str = ""
    # Header groups of which at least one column must be present.
    require_one_of: tuple[tuple[str, ...], ...] = ()
    # Row-level predicates over typed columns (SQL, True = keep) with their reason;
    # columns are written as ``{dst}`` placeholders, e.g. ``"{fgm} <= {fga}"``.
    row_checks: tuple[tuple[str, str], ...] = ()

    @property
    def required_columns(self) -> list[str]:
        return [c.src for c in self.columns if not c.optional_in_file]

    @property
    def value_columns(self) -> list[str]:
        return [c.dst for c in self.columns if c.dst not in self.key]


def _box(prefix_cols: tuple[Col, ...], max_points: int = 100) -> tuple[Col, ...]:
    """Box-score stat columns shared by the nba_api player and team logs.

    Counts are whole numbers between 0 and a cap far above any real game (a player's
    record is 100 points, a team's 186): anything else is a corrupt row.
    """
    cap = max_points * 2

    def count(src: str, dst: str, required: bool, top: int = cap) -> Col:
        return Col(src, dst, "int", required, f"{{v}} BETWEEN 0 AND {top}")

    stats = (
        count("PTS", "pts", True, max_points),
        count("FGM", "fgm", True),
        count("FGA", "fga", True),
        count("FG3M", "fg3m", True),
        count("FG3A", "fg3a", True),
        count("FTM", "ftm", True),
        count("FTA", "fta", True),
        count("OREB", "oreb", False),
        count("DREB", "dreb", False),
        count("REB", "reb", False),
        count("AST", "ast", False),
        count("STL", "stl", False),
        count("BLK", "blk", False),
        count("TOV", "tov", False),
        count("PF", "pf", False),
        Col("PLUS_MINUS", "plus_minus", "double", False, f"abs({{v}}) <= {cap}"),
    )
    return prefix_cols + stats


# An NBA game id: '00' + season type digit (1-6) + season start year (2 digits) + 5 digits.
_GAME_ID = "regexp_full_match({v}, '00[1-6][0-9]{7}')"
_GAME_ID_REASON = "not an NBA game id (00 + type + yy + 5 digits)"


def _season_start(game_id: str) -> str:
    """SQL for the season start year encoded in a game id (digits 4-5)."""
    return f"(2000 + CAST(substr({game_id}, 4, 2) AS INTEGER))"


# Every real game falls between Sep 1 of its season's start year and Oct 31 of the
# next (the 2020 bubble finals ended on Oct 11).
_IN_SEASON = (
    "{game_date} BETWEEN make_date(" + _season_start("{game_id}") + ", 9, 1) "
    "AND make_date(" + _season_start("{game_id}") + " + 1, 10, 31)",
    "GAME_DATE outside the season of GAME_ID",
)
# A box score is a game that was played: never dated after today in US/Eastern (the
# NBA's day) on the machine that loads it.
_NOT_FUTURE = (
    "{game_date} <= CAST(timezone('America/New_York', now()) AS DATE)",
    "GAME_DATE after today (US/Eastern): a box score cannot come from the future",
)
_SEASON_ID_AGREES = (
    "right({season_id}, 4) = CAST(" + _season_start("{game_id}") + " AS VARCHAR) "
    "AND left({season_id}, 1) = substr({game_id}, 3, 1)",
    "SEASON_ID disagrees with GAME_ID (season or season type)",
)
_BOX_ARITHMETIC = (
    (
        "{pts} = 2 * {fgm} + {fg3m} + {ftm}",
        "PTS is not 2 x FGM + FG3M + FTM",
    ),
    (
        "{fgm} <= {fga} AND {fg3m} <= {fg3a} AND {ftm} <= {fta} AND {fg3m} <= {fgm}",
        "more shots made than attempted",
    ),
)


NBA_PLAYER_LOGS = Source(
    name="nba_player_logs",
    description="nba_api LeagueGameLog, player mode (one row per player-game)",
    patterns=("nba_api/player_logs/*.csv", "nba_api/player_logs/*.csv.gz"),
    raw_table="raw.nba_player_log",
    columns=_box(
        (
            Col("SEASON_ID", "season_id", "text", True),
            Col("PLAYER_ID", "player_id", "int", True),
            Col("PLAYER_NAME", "player_name", "text", True),
            Col("TEAM_ID", "team_id", "int", True),
            Col("TEAM_ABBREVIATION", "team_abbreviation", "text", True),
            Col("GAME_ID", "game_id", "text", True, _GAME_ID, check_reason=_GAME_ID_REASON),
            Col("GAME_DATE", "game_date", "date", True),
            Col("MATCHUP", "matchup", "text", True),
            Col("WL", "wl", "text"),
            Col("MIN", "min", "double", True, "{v} BETWEEN 0 AND 70"),
        )
    ),
    key=("player_id", "game_id"),
    row_checks=(_IN_SEASON, _NOT_FUTURE, _SEASON_ID_AGREES, *_BOX_ARITHMETIC),
    example=(
        "22023,1628398,Kyle Kuzma,1610612764,WAS,Washington Wizards,0022300089,2023-10-28,"
        "WAS vs. MEM,W,36,21,9,23,0.391,1,10,0.1,2,3,0.667,3,10,13,2,1,0,0,2,-1,2023-24"
    ),
)

NBA_TEAM_LOGS = Source(
    name="nba_team_logs",
    description="nba_api LeagueGameLog, team mode (every team-game, all season types)",
    patterns=("nba_api/team_logs/*.csv", "nba_api/team_logs/*.csv.gz"),
    raw_table="raw.nba_team_log",
    columns=_box(
        (
            Col("SEASON_ID", "season_id", "text", True),
            Col("TEAM_ID", "team_id", "int", True),
            Col("TEAM_ABBREVIATION", "team_abbreviation", "text", True),
            Col("TEAM_NAME", "team_name", "text"),
            Col("GAME_ID", "game_id", "text", True, _GAME_ID, check_reason=_GAME_ID_REASON),
            Col("GAME_DATE", "game_date", "date", True),
            Col("MATCHUP", "matchup", "text", True),
            Col("WL", "wl", "text"),
            Col("MIN", "min", "double", False, "{v} BETWEEN 0 AND 400"),
        ),
        max_points=250,
    ),
    key=("team_id", "game_id"),
    row_checks=(_IN_SEASON, _NOT_FUTURE, _SEASON_ID_AGREES, *_BOX_ARITHMETIC),
    example=(
        "42023,1610612738,BOS,Boston Celtics,0042300405,2024-06-17,BOS vs. DAL,W,240,106,38,89,"
        "0.427,13,39,0.333,17,20,0.85,15,36,51,25,9,2,7,15,18.0,2023-24"
    ),
)

NBA_PLAYOFF_BOX = Source(
    name="nba_playoff_box",
    description="nba_api traditional + advanced playoff box scores (with START_POSITION)",
    patterns=("nba_api/playoff_box/*.csv", "nba_api/playoff_box/*.csv.gz"),
    raw_table="raw.nba_playoff_box",
    columns=(
        Col("PLAYER_ID", "player_id", "int", True),
        Col("PLAYER_NAME", "player_name", "text", True),
        Col("GAME_ID", "game_id", "text", True, _GAME_ID, check_reason=_GAME_ID_REASON),
        Col("GAME_DATE", "game_date", "date", True),
        Col("MATCHUP", "matchup", "text", True),
        Col("TEAM_ABBREVIATION", "team_abbreviation", "text", True),
        Col("TEAM_ID", "team_id", "int", True),
        Col("OPP_ABBREVIATION", "opp_abbreviation", "text", True),
        Col("HOME_GAME", "home_game", "int", True, "{v} IN (0, 1)"),
        Col("MIN", "min", "double", True, "{v} BETWEEN 0 AND 70"),
        *_box(())[:-1],
        Col("PLUS_MINUS", "plus_minus", "double"),
        Col("START_POSITION", "start_position", "text"),
        Col("USG_PCT", "usg_pct", "double", optional_in_file=True),
        Col("POSS", "poss", "double", optional_in_file=True),
    ),
    key=("player_id", "game_id"),
    row_checks=(_IN_SEASON, _NOT_FUTURE, *_BOX_ARITHMETIC),
    example=(
        "0,Darius Garland,1629636,CLE vs. ORL,CLE,1610612739,ORL,1,0042300131,2024-04-20,W,32,14,"
        "8,3,6,11,... START_POSITION=G ..."
    ),
)

GAME_LINES = Source(
    name="game_lines",
    description="closing spread and total per game (ESPN team codes)",
    patterns=("game_lines/*.csv", "game_lines/*.csv.gz"),
    raw_table="raw.game_line",
    columns=(
        Col("season", "season", "int", True),
        Col("date", "game_date", "date", True),
        Col("regular", "regular", "bool"),
        Col("playoffs", "playoffs", "bool"),
        Col("away", "away", "text", True),
        Col("home", "home", "text", True),
        Col("score_away", "score_away", "int", False, "{v} >= 0"),
        Col("score_home", "score_home", "int", False, "{v} >= 0"),
        Col("whos_favored", "whos_favored", "text", False, "{v} IN ('home', 'away')"),
        Col("spread", "spread", "double", False, "{v} BETWEEN 0 AND 40"),
        Col("total", "total", "double", False, "{v} BETWEEN 100 AND 350"),
        Col("moneyline_away", "moneyline_away", "double"),
        Col("moneyline_home", "moneyline_home", "double"),
    ),
    key=("game_date", "away", "home"),
    row_checks=(
        (
            "{game_date} BETWEEN make_date({season} - 1, 9, 1) AND make_date({season}, 10, 31)",
            "date outside its season (season is the end year)",
        ),
    ),
    example="2024,2024-03-10,True,False,mil,lac,...,home,2.5,226.5,,",
)

SCHEDULE = Source(
    name="schedule",
    description="league schedule with tip-off times (future games)",
    patterns=("schedule/*.csv", "schedule/*.csv.gz"),
    raw_table="raw.schedule",
    columns=(
        Col("game_id", "game_id", "text", True, _GAME_ID, check_reason=_GAME_ID_REASON),
        Col("season_type", "season_type", "text", True),
        Col("tip_utc", "tip_utc", "timestamp", True),
        Col("away_team", "away_team", "text", True),
        Col("home_team", "home_team", "text", True),
        Col("venue", "venue", "text"),
        Col("city", "city", "text"),
        Col("national_tv", "national_tv", "text"),
    ),
    key=("game_id",),
    row_checks=(
        (
            "CAST({tip_utc} AS DATE) BETWEEN make_date("
            + _season_start("{game_id}")
            + ", 9, 1) AND make_date("
            + _season_start("{game_id}")
            + " + 1, 10, 31)",
            "tip_utc outside the season of game_id",
        ),
    ),
    example=(
        "0022500001,Regular Season,2025-10-21T23:30:00Z,2025-10-21T19:30:00-04:00,"
        "HOU (Rockets),OKC (Thunder),Paycom Center,..."
    ),
)

# An American price: |price| >= 100 and inside the sane band, a setting
# (``ingest_price_min`` / ``ingest_price_max``, default -10000 ... +10000) the loader
# fills in as ``{price_min}`` / ``{price_max}``.
_PRICE = "abs({v}) >= 100 AND {v} BETWEEN {price_min} AND {price_max}"
_PRICE_REASON = "price outside the sane band (|price| >= 100, ingest_price_min to _max)"

ODDS_API_PROPS = Source(
    name="odds_api_props",
    description="The Odds API event-odds response flattened one row per outcome",
    patterns=(
        "odds_api/player_props*/*.csv",
        "odds_api/player_props*/*.csv.gz",
    ),
    raw_table="raw.odds_api_outcome",
    columns=(
        Col("id", "event_id", "text", True),
        Col("commence_time", "commence_time", "timestamp", True),
        Col("home_team", "home_team", "text", True),
        Col("away_team", "away_team", "text", True),
        Col("bookmakers.key", "book", "text", True),
        Col("bookmakers.markets.key", "market", "text", True),
        Col("bookmakers.markets.last_update", "snapshot_time", "timestamp", True),
        Col("outcomes_name", "side", "text", True, "{v} IN ('Over', 'Under')"),
        Col("outcomes_description", "player", "text", True),
        Col("outcomes_point", "line", "double", True, "{v} >= 0 AND {v} < 200"),
        Col("outcomes_price", "price", "double", True, _PRICE, check_reason=_PRICE_REASON),
    ),
    key=("event_id", "book", "market", "snapshot_time", "side", "player", "line"),
    row_checks=line_band_checks("{market}", "{line}"),
    example=(
        "0,Over,Bobby Portis,-135,15.5,b897de99...,basketball_nba,NBA,2024-03-10T19:10:00Z,"
        "Los Angeles Clippers,Milwaukee Bucks,draftkings,DraftKings,,player_points,"
        "2024-03-10T20:50:24Z"
    ),
)

DFS_LINES = Source(
    name="dfs_lines",
    description="PrizePicks / Underdog boards (real lines, placeholder prices)",
    patterns=("dfs_lines/**/*.csv", "dfs_lines/**/*.csv.gz"),
    raw_table="raw.dfs_line",
    columns=(
        Col("player", "player", "text", True),
        Col("market", "market", "text", True),
        Col("bookmaker", "book", "text", True),
        Col("side", "side", "text", True, "{v} IN ('Over', 'Under')"),
        Col("line", "line", "double", True, "{v} >= 0 AND {v} < 200"),
        Col("price", "price", "double"),
        Col("home_team", "home_team", "text", True),
        Col("away_team", "away_team", "text", True),
        Col("game_id", "event_id", "text", True),
        Col("commence_time", "commence_time", "timestamp", True),
    ),
    key=("event_id", "book", "market", "player", "side", "line"),
    row_checks=line_band_checks("{market}", "{line}"),
    example=(
        "Jayson Tatum,player_points,Underdog,Over,28.5,-137,Charlotte Hornets,Boston Celtics,"
        "e3520db5...,2024-11-01T23:10:00Z"
    ),
)

PRA_ODDS = Source(
    name="pra_odds",
    description="points+rebounds+assists lines with prices (Odds API, one row per quote)",
    patterns=("odds_api/pra/*.csv", "odds_api/pra/*.csv.gz"),
    raw_table="raw.pra_line",
    columns=(
        Col("player_name", "player", "text", True),
        Col("event_id", "event_id", "text", True),
        Col("event_date", "event_date", "date", True),
        Col("home_team", "home_team", "text", True),
        Col("away_team", "away_team", "text", True),
        Col("bookmaker", "book", "text", True),
        Col("line", "line", "double", True, "{v} >= 0 AND {v} < 200"),
        Col("timestamp", "snapshot_time", "timestamp", True),
        Col("over_price", "over_price", "double", False, _PRICE, check_reason=_PRICE_REASON),
        Col("under_price", "under_price", "double", False, _PRICE, check_reason=_PRICE_REASON),
    ),
    key=("event_id", "book", "player", "line", "snapshot_time"),
    row_checks=line_band_checks("'pra'", "{line}"),
    example=(
        "Aaron Gordon,fd55db2f...,2023-10-24,Denver Nuggets,Los Angeles Lakers,DraftKings,23.5,"
        "2023-10-24T23:25:44Z,100.0,-125.0"
    ),
)

THREES_ODDS = Source(
    name="threes_odds",
    description="3-pointers-made lines with prices (Odds API, one row per quote)",
    patterns=("odds_api/threes*/*.csv", "odds_api/threes*/*.csv.gz"),
    raw_table="raw.threes_line",
    columns=(
        Col("player", "player", "text", True),
        Col("game", "game", "text", True),
        Col("game_time", "commence_time", "timestamp", True),
        Col("market", "market", "text", True),
        Col("line", "line", "double", True, "{v} >= 0 AND {v} < 50"),
        Col("bookmaker", "book", "text", True),
        Col("market_last_update", "snapshot_time", "timestamp", optional_in_file=True),
        Col("over_odds", "over_price", "double", False, _PRICE, check_reason=_PRICE_REASON),
        Col("under_odds", "under_price", "double", False, _PRICE, check_reason=_PRICE_REASON),
    ),
    key=("game", "commence_time", "book", "market", "player", "line", "snapshot_time"),
    row_checks=line_band_checks("{market}", "{line}"),
    example=(
        "Keyonte George,New York Knicks @ Utah Jazz,2024-11-23T22:10:00Z,player_threes,2.5,"
        "fanduel,-106,-120"
    ),
)

GENERIC_PROPS = Source(
    name="generic_props",
    description=(
        "generic prop-line CSV for lines from anywhere: player, game_date or commence_time, "
        "market, book, line, over_price, under_price, snapshot_time"
    ),
    patterns=("prop_lines/**/*.csv", "prop_lines/**/*.csv.gz"),
    raw_table="raw.generic_prop_line",
    columns=(
        Col("player", "player", "text", True),
        Col("game_date", "game_date", "date", optional_in_file=True),
        Col("commence_time", "commence_time", "timestamp", optional_in_file=True),
        Col(
            "market",
            "market",
            "text",
            True,
            "lower({v}) IN (" + ", ".join(f"'{k}'" for k in KNOWN_MARKET_KEYS) + ")",
            check_reason="unknown market (accepted: " + ", ".join(KNOWN_MARKET_KEYS) + ")",
        ),
        Col("book", "book", "text", True),
        Col("line", "line", "double", True, "{v} >= 0 AND {v} < 200"),
        Col("over_price", "over_price", "double", False, _PRICE, check_reason=_PRICE_REASON),
        Col("under_price", "under_price", "double", False, _PRICE, check_reason=_PRICE_REASON),
        # When the quote was seen: without it a quote cannot be placed against tip-off.
        Col("snapshot_time", "snapshot_time", "timestamp", True),
    ),
    key=("player", "game_date", "commence_time", "market", "book", "line", "snapshot_time"),
    require_one_of=(("game_date", "commence_time"),),
    row_checks=(
        *line_band_checks("{market}", "{line}"),
        (
            "{game_date} IS NOT NULL OR {commence_time} IS NOT NULL",
            "missing game_date and commence_time",
        ),
    ),
    example="Jalen Brunson,2024-03-10,,points,fanduel,27.5,-115,-105,2024-03-10T15:02:00Z",
)

# Official injury-report statuses, as the league prints them, plus a team not yet reported.
AVAILABILITY_STATUSES = (
    "Out",
    "Doubtful",
    "Questionable",
    "Probable",
    "Available",
    "NOT_YET_SUBMITTED",
)

AVAILABILITY = Source(
    name="availability",
    description=(
        "availability CSV (the official NBA injury report, one row per report and player "
        "entry): report_time_et, report_time_utc, game_date, game_time_et, matchup, team, "
        "player, status, reason, source_file"
    ),
    patterns=("availability/*.csv", "availability/*.csv.gz"),
    raw_table="raw.availability_report",
    columns=(
        Col("report_time_et", "report_time_et", "text", optional_in_file=True),
        # When the report was published: without it a report cannot be placed in time.
        Col("report_time_utc", "report_time_utc", "timestamp", True),
        Col("game_date", "game_date", "date", True),
        Col(
            "game_time_et",
            "game_time_et",
            "text",
            False,
            "regexp_full_match({v}, '([01][0-9]|2[0-3]):[0-5][0-9]')",
            check_reason="not a 24 h ET time (HH:MM)",
        ),
        Col(
            "matchup",
            "matchup",
            "text",
            True,
            "regexp_full_match({v}, '[A-Z]{2,4}@[A-Z]{2,4}')",
            check_reason="not an away@home matchup",
        ),
        Col("team", "team", "text", True),
        Col("player", "player", "text"),
        Col(
            "status",
            "status",
            "text",
            True,
            "{v} IN (" + ", ".join(f"'{s}'" for s in AVAILABILITY_STATUSES) + ")",
            check_reason="unknown status (accepted: " + ", ".join(AVAILABILITY_STATUSES) + ")",
        ),
        Col("reason", "reason", "text"),
        Col("source_file", "source_file", "text", optional_in_file=True),
    ),
    key=("report_time_utc", "game_date", "matchup", "team", "player"),
    row_checks=(
        (
            "({status} = 'NOT_YET_SUBMITTED') = ({player} IS NULL OR trim({player}) = '')",
            "a player entry needs a player and a status; NOT_YET_SUBMITTED has no player",
        ),
        (
            "{game_date} BETWEEN CAST(timezone('America/New_York', {report_time_utc}) AS DATE) "
            "- 1 AND CAST(timezone('America/New_York', {report_time_utc}) AS DATE) + 3",
            "game_date far from the report's publication date",
        ),
    ),
    example=(
        "2024-03-12 18:30,2024-03-12T22:30:00Z,2024-03-12,19:30,PHI@NYK,New York Knicks,"
        "Julius Randle,Out,Injury/Illness - Right Shoulder; Dislocated,"
        "pdfs/2024-03-12/Injury-Report_2024-03-12_06PM.pdf"
    ),
)

SOURCES: tuple[Source, ...] = (
    NBA_PLAYER_LOGS,
    NBA_TEAM_LOGS,
    NBA_PLAYOFF_BOX,
    GAME_LINES,
    SCHEDULE,
    ODDS_API_PROPS,
    DFS_LINES,
    PRA_ODDS,
    THREES_ODDS,
    GENERIC_PROPS,
    AVAILABILITY,
)

SOURCES_BY_NAME = {s.name: s for s in SOURCES}
