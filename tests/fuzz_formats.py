"""Seed files in every recognised format, and the malformed variants the ingest fuzz test makes.

Each seed is a few real rows (taken from the shared data folder, headers as in the real
files) that load cleanly. `fuzz_cases` starts from a seed and applies one to three
mutations: row-level (extreme values, long strings, odd dates and timestamps, duplicated
keys, header only), text-level (wrong delimiter, empty lines, a stray quote), encoding
(cp1250 / latin-1 names, UTF-16 with BOM), byte-level (junk bytes, truncation) and
container-level (plain text named .gz, corrupt or truncated gzip, empty file).

`fresh_warehouse` gives each fuzz example a warehouse of its own, copied from a template
file migrated once per process (a file copy costs a fraction of the migrations).
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import strategies as st

from nbaprops.core.db import connect
from nbaprops.ingest.sources import SOURCES_BY_NAME, Col
from nbaprops.warehouse.migrate import migrate
from nbaprops.warehouse.transforms import QuoteRules, rebuild

# The template warehouses' folders, removed when the interpreter exits.
_TEMPLATE_DIRS: list[tempfile.TemporaryDirectory[str]] = []
# Warehouse copies live in memory-backed /dev/shm where there is one: a commit's sync to
# disk is then free (the examples' warehouses are thrown away, never reopened).
_SHM = Path("/dev/shm")
_WAREHOUSE_DIR = str(_SHM) if _SHM.is_dir() and os.access(_SHM, os.W_OK) else None


@functools.cache
def _template(built: bool) -> Path:
    """A warehouse file migrated once (and with ``built``, its core tables built once from
    the empty raw tables, as a first ``rebuild`` on a fresh warehouse builds them)."""
    folder = tempfile.TemporaryDirectory(prefix="nbaprops-fuzz-template-", dir=_WAREHOUSE_DIR)
    _TEMPLATE_DIRS.append(folder)
    path = Path(folder.name) / "template.duckdb"
    con = connect(path)
    try:
        migrate(con)
        if built:
            rebuild(con, rules=QuoteRules())
    finally:
        con.close()  # checkpointed: the file alone is the whole warehouse
    assert not path.with_name(path.name + ".wal").exists()
    return path


@contextmanager
def fresh_warehouse(*, built: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh warehouse file of its own (a copy of the template, in its own temporary
    folder, never a data folder), open for writing; closed and removed afterwards.

    With ``built``, its core tables are already built from the empty raw tables, so a
    ``rebuild`` after an ingest rebuilds (as the product's does) every core table whose
    inputs the ingest changed; the others hold what a first full build of the empty raw
    tables gives.

    DuckDB runs it on one thread: the fuzz files are a few rows, which no query splits
    across threads anyway, and a second thread only adds its scheduling to every
    statement (about a tenth of an example's CPU time).
    """
    template = _template(built)
    with tempfile.TemporaryDirectory(prefix="nbaprops-fuzz-", dir=_WAREHOUSE_DIR) as folder:
        path = Path(folder) / "warehouse.duckdb"
        shutil.copyfile(template, path)
        con = connect(path)
        try:
            con.execute("SET threads = 1")
            yield con
        finally:
            con.close()


@dataclass(frozen=True)
class Seed:
    """A small valid file in one format: where it goes, its header and rows."""

    source: str
    folder: str
    stem: str
    text: str
    name_column: str  # a text column holding a name, re-encoded by the encoding mutation

    @property
    def header(self) -> list[str]:
        return next(csv.reader(io.StringIO(self.text)))

    @property
    def rows(self) -> list[list[str]]:
        return list(csv.reader(io.StringIO(self.text)))[1:]

    def relpath(self, gz: bool) -> str:
        return f"{self.folder}/{self.stem}.csv" + (".gz" if gz else "")

    def payload(self, gz: bool) -> bytes:
        data = self.text.encode()
        return gzip.compress(data, mtime=0) if gz else data


_PLAYOFF_HEADER = (
    ",PLAYER_NAME,PLAYER_ID,MATCHUP,TEAM_ABBREVIATION,TEAM_ID,OPP_ABBREVIATION,HOME_GAME,GAME_ID,"
    "GAME_DATE,WL,MIN,PTS,AST,REB,FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,STL,"
    "BLK,TOV,PF,PLUS_MINUS,START_POSITION,COMMENT,USG_PCT,POSS,TEAM_GAME_DATE\n"
)
_ODDS_HEADER = (
    ",outcomes_name,outcomes_description,outcomes_price,outcomes_point,id,sport_key,sport_title,"
    "commence_time,home_team,away_team,bookmakers.key,bookmakers.title,bookmakers.last_update,"
    "bookmakers.markets.key,bookmakers.markets.last_update\n"
)
_ODDS_EVENT = (
    "b897de99eed5e829d52d93a078ce4db4,basketball_nba,NBA,2024-03-10T19:10:00Z,"
    "Los Angeles Clippers,Milwaukee Bucks"
)

SEEDS: dict[str, Seed] = {
    s.source: s
    for s in (
        Seed(
            "nba_player_logs",
            "nba_api/player_logs",
            "player_logs_2023-24",
            "SEASON_ID,PLAYER_ID,PLAYER_NAME,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,"
            "MATCHUP,WL,MIN,PTS,FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,"
            "STL,BLK,TOV,PF,PLUS_MINUS,SEASON_LABEL\n"
            "22023,1629731,Dean Wade,1610612739,CLE,Cleveland Cavaliers,0022300091,2023-10-28,"
            "CLE vs. IND,L,37,6,2,5,0.4,2,5,0.4,0,0,,0,3,3,3,0,1,0,2,3,2023-24\n"
            "22023,1628398,Kyle Kuzma,1610612764,WAS,Washington Wizards,0022300089,2023-10-28,"
            "WAS vs. MEM,W,36,21,9,23,0.391,1,10,0.1,2,3,0.667,3,10,13,2,1,0,0,2,-1,2023-24\n"
            "22023,1631222,Jake LaRavia,1610612763,MEM,Memphis Grizzlies,0022300089,2023-10-28,"
            "MEM @ WAS,L,16,5,2,9,0.222,1,5,0.2,0,0,,0,1,1,1,0,0,0,0,-11,2023-24\n",
            "PLAYER_NAME",
        ),
        Seed(
            "nba_team_logs",
            "nba_api/team_logs",
            "nba_games_2023_24",
            "SEASON_ID,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,MATCHUP,WL,MIN,PTS,"
            "FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,BLK,TOV,PF,"
            "PLUS_MINUS,SEASON\n"
            "42023,1610612738,BOS,Boston Celtics,0042300405,2024-06-17,BOS vs. DAL,W,240,106,38,"
            "89,0.427,13,39,0.333,17,20,0.85,15,36,51,25,9,2,7,15,18.0,2023-24\n"
            "42023,1610612742,DAL,Dallas Mavericks,0042300405,2024-06-17,DAL @ BOS,L,240,88,35,78,"
            "0.449,11,37,0.297,7,13,0.538,7,28,35,18,4,4,13,20,-18.0,2023-24\n"
            "42023,1610612738,BOS,Boston Celtics,0042300404,2024-06-14,BOS @ DAL,L,239,84,29,80,"
            "0.363,14,41,0.341,12,13,0.923,4,27,31,18,2,5,13,19,-38.0,2023-24\n",
            "TEAM_NAME",
        ),
        Seed(
            "nba_playoff_box",
            "nba_api/playoff_box",
            "P24",
            _PLAYOFF_HEADER
            + "0,Darius Garland,1629636,CLE vs. ORL,CLE,1610612739,ORL,1,0042300131,2024-04-20,W,"
            '32,14,8,3,6,11,0.545,2,6,0.333,0,0,,0,3,1,0,5,4,8,G,,0.229,66,"APR 20, 2024"\n'
            "1,Tobias Harris,202699,PHI @ NYK,PHI,1610612755,NYK,0,0042300111,2024-04-20,L,31,7,"
            '2,9,3,7,0.429,1,4,0.25,0,0,,0,9,0,0,2,4,0,F,,0.132,57,"APR 20, 2024"\n'
            "2,Nicolas Batum,201587,PHI @ NYK,PHI,1610612755,NYK,0,0042300111,2024-04-20,L,26,3,"
            '1,2,1,4,0.25,1,4,0.25,0,0,,0,2,0,1,1,0,-20,,,0.086,51,"APR 20, 2024"\n',
            "PLAYER_NAME",
        ),
        Seed(
            "game_lines",
            "game_lines",
            "nba_2008-2025_raw",
            "season,date,regular,playoffs,away,home,score_away,score_home,q1_away,q2_away,q3_away,"
            "q4_away,ot_away,q1_home,q2_home,q3_home,q4_home,ot_home,whos_favored,spread,total,"
            "moneyline_away,moneyline_home,h2_spread,h2_total,id_spread,id_total\n"
            "2008,2007-10-30,True,False,por,sa,97,106,26,23,28,20,0,29,30,22,25,0,home,13.0,"
            "189.5,900,-1400,5,95.0,0,1\n"
            "2024,2024-03-10,True,False,min,lal,109,120,28,40,24,17,0,32,37,22,29,0,home,4.5,"
            "226.5,,,,,1,1\n"
            "2025,2025-06-22,False,True,ind,okc,91,103,22,26,20,23,0,25,22,34,22,0,home,6.5,"
            "215.5,,,,,1,0\n",
            "away",
        ),
        Seed(
            "schedule",
            "schedule",
            "nba_2025_26_schedule",
            "game_id,season_type,tip_utc,tip_et,away_team,home_team,venue,city,state,national_tv,"
            "home_rsns,away_rsns,international,is_tbd\n"
            "0012500008,Preseason,2025-10-02T16:00:00Z,2025-10-02T11:00:00-05:00,PHI (76ers),"
            'NYK (Knicks),Etihad Arena,Abu Dhabi,"",NBA TV,MSG,"","",false\n'
            "0012500001,Preseason,2025-10-04T02:00:00Z,2025-10-03T21:00:00-05:00,PHX (Suns),"
            "LAL (Lakers),Acrisure Arena,Palm Desert,CA,NBA TV,Spectrum SportsNet,"
            "Arizona's Family 3TV / Arizona's Family Sports,\"\",false\n"
            "0012500009,Preseason,2025-10-03T09:30:00Z,2025-10-03T04:30:00-05:00,MEL (United),"
            'NOP (Pelicans),Rod Laver Arena,Melbourne,"",NBA TV,GCSEN,"","",false\n',
            "venue",
        ),
        Seed(
            "odds_api_props",
            "odds_api/player_props_2024_spring",
            "data_points_2024-03-10",
            _ODDS_HEADER
            + f"0,Over,Bobby Portis,-135,15.5,{_ODDS_EVENT},draftkings,DraftKings,,player_points,"
            "2024-03-10T20:50:24Z\n"
            f"1,Under,Bobby Portis,105,15.5,{_ODDS_EVENT},draftkings,DraftKings,,player_points,"
            "2024-03-10T20:50:24Z\n"
            f"40,Over,Bobby Portis,-110,16.5,{_ODDS_EVENT},bovada,Bovada,,player_points,"
            "2024-03-10T20:50:59Z\n",
            "outcomes_description",
        ),
        Seed(
            "dfs_lines",
            "dfs_lines/2024_25",
            "11_01_2024",
            "player,market,bookmaker,side,line,price,home_team,away_team,game_id,commence_time\n"
            "Jayson Tatum,player_points,Underdog,Over,28.5,-137,Charlotte Hornets,Boston Celtics,"
            "e3520db55ef2d7e8de8e2ed204a544c8,2024-11-01T23:10:00Z\n"
            "Jayson Tatum,player_points,Underdog,Under,28.5,-137,Charlotte Hornets,Boston Celtics,"
            "e3520db55ef2d7e8de8e2ed204a544c8,2024-11-01T23:10:00Z\n"
            "Chris Paul,player_assists,Underdog,Over,8.5,-137,San Antonio Spurs,"
            "Los Angeles Clippers,aff24c77ef458bdc0830c60fd91acb8b,2025-01-01T00:10:00Z\n",
            "player",
        ),
        Seed(
            "pra_odds",
            "odds_api/pra",
            "pra_odds_2024-25",
            "player_name,event_id,event_date,home_team,away_team,bookmaker,line,timestamp,"
            "over_price,under_price\n"
            "Aaron Gordon,fd55db2fa9ee5be1f108be5151e2ecb0,2023-10-24,Denver Nuggets,"
            "Los Angeles Lakers,DraftKings,23.5,2023-10-24T23:25:44Z,100.0,-125.0\n"
            "Al Horford,9e5c6a9f958653c964712b118e07f6ab,2024-10-24,Washington Wizards,"
            "Boston Celtics,DraftKings,18.5,2024-10-24T23:05:39Z,-105.0,-125.0\n"
            "Alex Sarr,9e5c6a9f958653c964712b118e07f6ab,2024-10-24,Washington Wizards,"
            "Boston Celtics,DraftKings,20.5,2024-10-24T23:05:39Z,-115.0,-115.0\n",
            "player_name",
        ),
        Seed(
            "threes_odds",
            "odds_api/threes_2024_25",
            "props_2024-11-23_player_threes",
            "player,game,game_time,market,line,bookmaker,over_odds,under_odds\n"
            "Keyonte George,New York Knicks @ Utah Jazz,2024-11-23T22:10:00Z,player_threes,2.5,"
            "fanduel,-106,-120\n"
            "OG Anunoby,New York Knicks @ Utah Jazz,2024-11-23T22:10:00Z,player_threes,1.5,"
            "fanduel,-194,150\n"
            "Jalen Brunson,New York Knicks @ Utah Jazz,2024-11-23T22:10:00Z,player_threes,3.5,"
            "fanduel,136,-174\n",
            "player",
        ),
        Seed(
            "generic_props",
            "prop_lines/mine",
            "my_lines",
            "player,game_date,commence_time,market,book,line,over_price,under_price,snapshot_time\n"
            "Jalen Brunson,,2024-03-10T17:00:00Z,points,mybook,27.5,-115,-105,"
            "2024-03-10T15:02:00Z\n"
            "Jalen Brunson,,2024-03-10T17:00:00Z,points,mybook,33.5,-120,100,"
            "2024-03-10T18:30:00Z\n"
            "Nicolas Claxton,2024-03-10,,player_points,otherbook,11.5,-110,-110,"
            "2024-03-10T14:00:00Z\n",
            "player",
        ),
        Seed(
            "availability",
            "availability",
            "nba_injury_reports_sample",
            "report_time_et,report_time_utc,game_date,game_time_et,matchup,team,player,status,"
            "reason,source_file\n"
            "2024-03-12 18:30,2024-03-12T22:30:00Z,2024-03-12,19:30,PHI@NYK,New York Knicks,"
            "Julius Randle,Out,Injury/Illness - Right Shoulder; Dislocated,pdfs/x.pdf\n"
            "2024-03-12 18:30,2024-03-12T22:30:00Z,2024-03-12,19:30,PHI@NYK,New York Knicks,"
            "OG Anunoby,Questionable,Injury/Illness - Right Elbow; Surgery,pdfs/x.pdf\n"
            "2024-03-12 18:30,2024-03-12T22:30:00Z,2024-03-12,19:30,PHI@NYK,"
            "Philadelphia 76ers,,NOT_YET_SUBMITTED,,pdfs/x.pdf\n",
            "player",
        ),
    )
}


# ---------------------------------------------------------------------------------------------
# Values the row-level mutations write into cells.

EXTREME_NUMBERS = (
    "1e308",
    "-1e308",
    "1e309",
    "-1e309",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "9" * 400,
    "-1",
    "-0",
    "-250",
    "0.5",
    "2.5",
    "21.4",
    "1e-320",
    "+5",
    " 7 ",
    "0x1A",
    "1_000",
    "1,5",
    "5e2",
    "١٢",
)
ODD_DATES = (
    "1900-01-01",
    "9999-12-31",
    "0001-01-01",
    "2024-02-30",
    "2023-13-01",
    "10/28/2023",
    "2023-10-28T00:00:00",
    "20231028",
    "infinity",
    "-infinity",
    "garbage",
)
ODD_TIMESTAMPS = (
    "2024-03-10T19:10:00",
    "2024-03-10 19:10:00",
    "2024-03-10T19:10:00+05:30",
    "2024-03-10T19:10:00.123456789Z",
    "1900-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2024-03-10T25:00:00Z",
    "1710097800",
    "2024-03-10",
    "infinity",
    "-infinity",
    "garbage",
)
# Non-ASCII names by the single-byte code page that can encode them.
NAMES = {
    "cp1250": (
        "Nikola Jokić",
        "Luka Dončić",
        "Bogdan Bogdanović",
        "Dennis Schröder",
        "José Alvarado",
    ),
    "latin-1": ("José Alvarado", "Dennis Schröder", "Théo Maledon", "Álex Abrines"),
}
ENCODINGS = ("cp1250", "latin-1", "mixed-cp1250", "mixed-latin-1", "utf-16", "utf-8-sig")
JUNK = (
    b"\x00",
    b"\x00\x00\x00\x00",
    b"\xff\xfe",
    b"\x80",
    b"\xc3",
    b"\x1a",
    b"\xef\xbb\xbf",
    b"\r",
)

ROW_KINDS = (
    "extreme_number",
    "long_string",
    "odd_date",
    "odd_timestamp",
    "duplicate_key",
    "header_only",
)
TEXT_KINDS = ("wrong_delimiter", "empty_lines", "stray_quote")
BYTE_KINDS = ("bad_encoding", "junk_bytes", "truncate")
CONTAINER_KINDS = ("gz_suffix_on_plain", "gz_corrupt_body", "empty_file")
KINDS = ROW_KINDS + TEXT_KINDS + BYTE_KINDS + CONTAINER_KINDS
# After these the number of data rows is no longer known from the row list.
STRUCTURAL = frozenset({"stray_quote", "junk_bytes", "truncate", "gz_corrupt_body", "empty_file"})
FFFD_BYTES = (b"\xef\xbf\xbd", b"\xfd\xff", b"\xff\xfd")


@dataclass(frozen=True)
class Cell:
    """A mutated value: where it landed and its column's type."""

    line: int
    column: str
    type: str
    text: str

    def __repr__(self) -> str:
        shown = (
            self.text if len(self.text) <= 40 else f"{self.text[:20]}...({len(self.text)} chars)"
        )
        return f"Cell(line={self.line}, {self.column}:{self.type}={shown!r})"


@dataclass(frozen=True)
class FuzzCase:
    """One malformed file: its bytes, where it goes and what was done to it."""

    source: str
    relpath: str
    data: bytes
    mutations: tuple[str, ...]
    plain: bytes  # the bytes before any gzip step
    expected_rows: int | None  # data rows, when the mutations keep the row structure known
    cells: tuple[Cell, ...] = field(default=())
    data_lines: tuple[int, ...] = field(default=())  # line of each data row, when known

    def __repr__(self) -> str:
        preview = self.plain[:600] + (b"..." if len(self.plain) > 600 else b"")
        return (
            f"FuzzCase(source={self.source!r}, relpath={self.relpath!r}, "
            f"mutations={list(self.mutations)!r}, expected_rows={self.expected_rows}, "
            f"data_lines={list(self.data_lines)!r}, "
            f"cells={list(self.cells)!r}, n_bytes={len(self.data)}, plain={preview!r})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints falsifying examples with this (short, not the full bytes)."""
        printer.text(repr(self))


def _columns_of(source: str, header: list[str]) -> dict[str, list[Col]]:
    """The seed's columns known to the source, by type."""
    by_type: dict[str, list[Col]] = {}
    for col in SOURCES_BY_NAME[source].columns:
        if col.src in header:
            by_type.setdefault(col.type, []).append(col)
    return by_type


def applicable_kinds(source: str) -> tuple[str, ...]:
    types = _columns_of(source, SEEDS[source].header)
    skip = set()
    if "int" not in types and "double" not in types:
        skip.add("extreme_number")
    if "date" not in types:
        skip.add("odd_date")
    if "timestamp" not in types:
        skip.add("odd_timestamp")
    return tuple(k for k in KINDS if k not in skip)


@st.composite
def fuzz_cases(draw: st.DrawFn, source: str) -> FuzzCase:
    """A seed file in ``source``'s format with one to three mutations applied."""
    seed = SEEDS[source]
    header = seed.header
    rows = seed.rows
    types = _columns_of(source, header)
    kinds = set(draw(st.lists(st.sampled_from(applicable_kinds(source)), min_size=1, max_size=3)))
    gz = draw(st.booleans(), label="gzipped")
    line_end = draw(st.sampled_from(["\n", "\r\n"]), label="line end")
    done: list[str] = []
    # Mutated cells as (row object, column index, type); lines are known after serialising.
    marks: list[tuple[list[str], int, str]] = []

    def mark(row: list[str], column: str, type_: str, value: str) -> None:
        index = header.index(column)
        row[index] = value
        marks.append((row, index, type_))

    # Row level -------------------------------------------------------------------------------
    if "duplicate_key" in kinds and rows:
        i = draw(st.integers(0, len(rows) - 1), label="duplicated row")
        copy = list(rows[i])
        same = draw(st.booleans(), label="same values")
        if not same:
            value_cols = [
                c
                for c in SOURCES_BY_NAME[source].columns
                if c.src in header and c.dst not in SOURCES_BY_NAME[source].key
            ]
            col = draw(st.sampled_from(value_cols), label="changed column")
            index = header.index(col.src)
            old = copy[index]
            if col.type in ("int", "double"):
                try:
                    copy[index] = str(float(old) + 1) if col.type == "double" else str(int(old) + 1)
                except ValueError:
                    copy[index] = "1"
            else:
                copy[index] = old + "X"
        at = draw(st.integers(i + 1, len(rows)), label="duplicate at")
        rows.insert(at, copy)
        done.append(f"duplicate_key(row {i + 1} at {at + 1}, same={same})")
    if "extreme_number" in kinds and rows:
        numeric = types.get("int", []) + types.get("double", [])
        values = []
        for _ in range(draw(st.integers(1, 3), label="n numbers")):
            row = rows[draw(st.integers(0, len(rows) - 1))]
            col = draw(st.sampled_from(numeric))
            value = draw(
                st.one_of(
                    st.sampled_from(EXTREME_NUMBERS),
                    st.floats().map(repr),
                    st.integers(-(10**30), 10**30).map(str),
                ),
                label="number",
            )
            mark(row, col.src, col.type, value)
            values.append(f"{col.src}={value[:40]!r}")
        done.append(f"extreme_number({', '.join(values)})")
    if "long_string" in kinds and rows:
        row = rows[draw(st.integers(0, len(rows) - 1))]
        cols = [c for cs in types.values() for c in cs]
        col = draw(st.sampled_from(cols), label="long column")
        n = draw(st.sampled_from([300, 5_000, 70_000, 140_000]), label="length")
        value = ("9" if col.type in ("int", "double") else "x") * n
        mark(row, col.src, col.type, value)
        done.append(f"long_string({col.src}, {n})")
    if "odd_date" in kinds and rows:
        row = rows[draw(st.integers(0, len(rows) - 1))]
        col = draw(st.sampled_from(types["date"]))
        value = draw(st.sampled_from(ODD_DATES), label="date")
        mark(row, col.src, "date", value)
        done.append(f"odd_date({col.src}={value!r})")
    if "odd_timestamp" in kinds and rows:
        row = rows[draw(st.integers(0, len(rows) - 1))]
        col = draw(st.sampled_from(types["timestamp"]))
        value = draw(st.sampled_from(ODD_TIMESTAMPS), label="timestamp")
        mark(row, col.src, "timestamp", value)
        done.append(f"odd_timestamp({col.src}={value!r})")
    encoding = "utf-8"
    if "bad_encoding" in kinds:
        encoding = draw(st.sampled_from(ENCODINGS), label="encoding")
        codec = encoding.removeprefix("mixed-")
        name = draw(st.sampled_from(NAMES.get(codec, NAMES["cp1250"])), label="name")
        index = header.index(seed.name_column)
        for row in rows[:1] if encoding.startswith("mixed-") else rows:
            row[index] = name
        # How a non-UTF-8 name should read back is not defined (cp1250 or latin-1?).
        marks[:] = [m for m in marks if m[1] != index]
        done.append(f"bad_encoding({encoding}, {seed.name_column}={name!r})")
    if "header_only" in kinds:
        rows = []
        marks.clear()
        done.append("header_only")

    # Text level ------------------------------------------------------------------------------
    delimiter = ","
    if "wrong_delimiter" in kinds:
        delimiter = draw(st.sampled_from([";", "\t"]), label="delimiter")
        done.append(f"wrong_delimiter({delimiter!r})")
    blanks: dict[int, int] = {}
    if "empty_lines" in kinds:
        for pos in draw(st.lists(st.integers(0, len(rows)), min_size=1, max_size=3)):
            blanks[pos] = blanks.get(pos, 0) + draw(st.integers(1, 2))
        done.append(f"empty_lines({sorted(blanks.items())})")

    def serialise(fields: list[str]) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator=line_end).writerow(fields)
        return out.getvalue()

    lines = [serialise(header)]
    line_of: dict[int, int] = {}
    for pos in range(len(rows) + 1):
        lines.extend([line_end] * blanks.get(pos, 0))
        if pos < len(rows):
            line_of[id(rows[pos])] = len(lines) + 1
            lines.append(serialise(rows[pos]))
    if "stray_quote" in kinds:
        target = draw(st.integers(0 if not rows else 1, len(lines) - 1), label="quoted line")
        while not lines[target].strip("\r\n"):
            target -= 1
        body = lines[target][: -len(line_end)]
        at = draw(st.integers(0, len(body)), label="quote at")
        lines[target] = body[:at] + '"' + body[at:] + line_end
        done.append(f"stray_quote(line {target + 1}, char {at})")
    text = "".join(lines)

    # Bytes -----------------------------------------------------------------------------------
    if encoding.startswith("mixed-"):
        plain = text.encode("utf-8")
        codec = encoding.removeprefix("mixed-")
        for name in NAMES[codec]:
            plain = plain.replace(name.encode("utf-8"), name.encode(codec))
    else:
        plain = text.encode(encoding, errors="replace")
    if "junk_bytes" in kinds:
        for _ in range(draw(st.integers(1, 3), label="n junk")):
            at = draw(st.integers(0, len(plain)), label="junk at")
            junk = draw(st.one_of(st.sampled_from(JUNK), st.binary(min_size=1, max_size=8)))
            plain = plain[:at] + junk + plain[at:]
            done.append(f"junk_bytes({junk!r} at {at})")
    gz = gz or "gz_corrupt_body" in kinds
    if "truncate" in kinds and not gz and len(plain) > 1:
        at = draw(st.integers(1, len(plain) - 1), label="truncate at")
        plain = plain[:at]
        done.append(f"truncate(plain at {at})")

    # Container -------------------------------------------------------------------------------
    data = plain
    if gz and "gz_suffix_on_plain" not in kinds:
        data = gzip.compress(plain, mtime=0)
        if "gz_corrupt_body" in kinds:
            body = bytearray(data)
            for _ in range(draw(st.integers(1, 4), label="n corrupt")):
                at = draw(st.integers(10, len(body) - 1), label="corrupt at")
                body[at] = (body[at] + draw(st.integers(1, 255))) % 256
            data = bytes(body)
            done.append("gz_corrupt_body")
        if "truncate" in kinds:
            at = draw(st.integers(1, len(data) - 1), label="truncate gz at")
            done.append(f"truncate(gzip stream at {at} of {len(data)})")
            data = data[:at]
    elif "gz_suffix_on_plain" in kinds:
        gz = True
        done.append("gz_suffix_on_plain")
    if "empty_file" in kinds:
        data = plain = b""
        done.append("empty_file")

    structural = kinds & STRUCTURAL
    expected = None if structural else len(rows)
    cells: tuple[Cell, ...] = ()
    data_lines: tuple[int, ...] = ()
    if expected is not None:
        data_lines = tuple(line_of[id(row)] for row in rows)
        cells = tuple(
            Cell(line_of[id(row)], header[index], type_, row[index])
            for row, index, type_ in marks
            if id(row) in line_of
        )
    return FuzzCase(
        source=source,
        relpath=seed.relpath(gz).replace(seed.stem, "fuzzed"),
        data=data,
        mutations=tuple(done),
        plain=plain,
        expected_rows=expected,
        cells=cells,
        data_lines=data_lines,
    )
