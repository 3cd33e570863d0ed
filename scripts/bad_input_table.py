"""Run every bad-input class through the real CLI and print what happened, as a table.

Each case builds a small data folder (real rows of the 2023-24 player logs plus the bad
file), runs the installed ``nbaprops`` command on a fresh warehouse, and reports the exit
code, the ``error:`` lines, and what was loaded or quarantined.
Run: .venv/bin/python scripts/bad_input_table.py [--data-dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

BIN = Path(sys.executable).parent / "nbaprops"
GENERIC = "player,game_date,market,book,line,over_price,under_price,snapshot_time\n"


@dataclass
class Outcome:
    case: str
    command: str
    exit_code: int
    message: str
    stored: str


def real_rows(data_dir: Path, n: int = 200) -> list[str]:
    path = data_dir / "nba_api" / "player_logs" / "player_logs_2023-24.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [next(fh).rstrip("\n") for _ in range(n + 1)]


def run(args: list[str], env: dict[str, str]) -> tuple[int, list[str], str]:
    proc = subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    tail = [ln for ln in proc.stderr.splitlines() if ln and not ln.startswith("error:")]
    return proc.returncode, errors, " ".join(tail[-1:]) + " " + proc.stdout.strip()[-300:]


def stored_summary(db: Path, bad: Path | None) -> str:
    if not db.exists():
        return "no warehouse written"
    with duckdb.connect(str(db), read_only=True) as con:
        files = con.execute(
            "SELECT path, n_loaded, n_quarantined FROM raw.file WHERE is_current"
        ).fetchall()
        q = con.execute(
            "SELECT path, line, reason FROM raw.quarantine ORDER BY path, line"
        ).fetchall()
        unplaced = con.execute(
            "SELECT count(*), any_value(reason) FROM core.prop_quote_quarantine"
        ).fetchone()
    parts = []
    for path, loaded, quarantined in files:
        label = "bad file" if bad is not None and path == str(bad) else Path(path).name
        parts.append(f"{label}: {loaded} loaded, {quarantined} quarantined")
    if bad is not None and str(bad) not in {f[0] for f in files}:
        parts.append("bad file: nothing stored")
    for path, line, reason in q[:3]:
        if bad is not None and path == str(bad):
            parts.append(f"line {line}: {reason}")
    if unplaced and unplaced[0]:
        parts.append(f"{unplaced[0]} quote(s) in core.prop_quote_quarantine ({unplaced[1]})")
    return "; ".join(parts)


def ingest_case(
    name: str,
    rel: str,
    make: Callable[[list[str]], bytes],
    rows: list[str],
    root: Path,
    env: dict[str, str],
) -> Outcome:
    folder = root / name.replace(" ", "_") / "data"
    good = folder / "nba_api" / "player_logs" / "player_logs_2023-24.csv.gz"
    good.parent.mkdir(parents=True)
    good.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    bad = folder / rel
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(make(rows))
    db = folder.parent / "w.duckdb"
    args = ["ingest", "--db", str(db), "--data-dir", str(folder)]
    code, errors, _ = run(args, env)
    message = " / ".join(errors) or "no error line (the ingest table counts the quarantined rows)"
    return Outcome(name, "nbaprops ingest", code, message, stored_summary(db, bad))


def cli_case(name: str, args: list[str], db: Path, env: dict[str, str]) -> Outcome:
    code, errors, tail = run([*args, "--db", str(db)], env)
    message = " / ".join(errors) or tail.strip()[:200]
    return Outcome(name, "nbaprops " + " ".join(args), code, message, "nothing written")


def replace_field(row: str, index: int, value: str) -> str:
    fields = row.split(",")
    fields[index] = value
    return ",".join(fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = real_rows(args.data_dir)
    header, body = rows[0], rows[1:]
    env = {**os.environ, "COLUMNS": "200"}
    logs = "nba_api/player_logs/player_logs_2022-23.csv"

    def text(lines: list[str]) -> bytes:
        return ("\n".join(lines) + "\n").encode()

    gz = gzip.compress(text([header, *body[:50]]))
    cases: list[tuple[str, str, Callable[[list[str]], bytes]]] = [
        (
            "corrupt gzip body (valid header)",
            logs + ".gz",
            lambda _r: gz[:20] + bytes(b ^ 0x5A for b in gz[20:-8]) + gz[-8:],
        ),
        ("gzip not named .gz", logs, lambda _r: gz),
        (
            "names in cp1250",
            logs,
            lambda _r: (
                text([header, body[0], body[1].replace("Kuzma", "Kuzmić")])
                .decode()
                .encode("cp1250")
            ),
        ),
        ("UTF-16 text", logs, lambda _r: text([header, body[0]]).decode().encode("utf-16")),
        (
            "stray quote in one line",
            logs,
            lambda _r: text([header, body[0], body[1].replace("Kyle", '"Kyle'), body[2]]),
        ),
        (
            "NUL bytes in one line",
            logs,
            lambda _r: text([header, body[0], body[1].replace("Kyle", "Ky\x00le"), body[2]]),
        ),
        ("wrong delimiter (;)", logs, lambda _r: text([header.replace(",", ";")])),
        ("header repeats a column", logs, lambda _r: text([header + ",PTS", body[0] + ",1"])),
        ("empty file", logs, lambda _r: b""),
        (
            "box score dated outside its season",
            logs,
            lambda _r: text([header, body[1].replace("2023-10-28", "2019-10-28")]),
        ),
        (
            "SEASON_ID disagrees with GAME_ID",
            logs,
            lambda _r: text([header, body[1].replace("22023,", "22019,", 1)]),
        ),
        ("fractional points", logs, lambda _r: text([header, replace_field(body[1], 11, "21.5")])),
        (
            "PTS not 2 FGM + FG3M + FTM",
            logs,
            lambda _r: text([header, replace_field(body[1], 11, "25")]),
        ),
        (
            "unknown market in the generic CSV",
            "prop_lines/mine.csv",
            lambda _r: (
                GENERIC
                + "Kyle Kuzma,2023-10-28,pointz,mybook,20.5,-110,-110,2023-10-28T15:00:00Z\n"
            ).encode(),
        ),
        (
            "generic CSV without snapshot_time",
            "prop_lines/mine.csv",
            lambda _r: (GENERIC + "Kyle Kuzma,2023-10-28,points,mybook,20.5,-110,-110,\n").encode(),
        ),
        (
            "generic quote on game day, no tip-off known",
            "prop_lines/mine.csv",
            lambda _r: (
                GENERIC
                + "Kyle Kuzma,2023-10-28,points,mybook,20.5,-110,-110,2023-10-29T01:30:00Z\n"
            ).encode(),
        ),
    ]
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, rel, make in cases:
            outcomes.append(ingest_case(name, rel, make, rows, root, env))
        # CLI mistakes on a small real warehouse
        folder = root / "cli" / "data"
        good = folder / "nba_api" / "player_logs" / "player_logs_2023-24.csv.gz"
        good.parent.mkdir(parents=True)
        good.write_bytes(gzip.compress(text(rows)))
        db = root / "cli" / "w.duckdb"
        run(["run", "--db", str(db), "--data-dir", str(folder)], env)
        cli = [
            (
                "--out is a folder",
                [
                    "features",
                    "frame",
                    "--start",
                    "2023-10-28",
                    "--end",
                    "2023-10-28",
                    "--out",
                    str(root),
                ],
            ),
            ("negative --unmatched", ["status", "--unmatched", "-5"]),
            ("empty --systems", ["backtest", "--systems", "", "--plan-only"]),
            ("negative --warmup-days", ["backtest", "--warmup-days", "-1", "--plan-only"]),
            (
                "start after end",
                [
                    "features",
                    "frame",
                    "--start",
                    "2024-05-01",
                    "--end",
                    "2024-03-01",
                    "--out",
                    str(root / "f.csv"),
                ],
            ),
            (
                "completeness on a day without games",
                ["features", "completeness", "--date", "2024-07-15"],
            ),
        ]
        for name, cli_args in cli:
            outcomes.append(cli_case(name, cli_args, db, env))
        damaged = root / "cli" / "damaged.duckdb"
        shutil.copy(db, damaged)
        with damaged.open("r+b") as fh:
            size = damaged.stat().st_size
            for offset in range(12288, size, 262144):  # every block header region
                fh.seek(offset)
                fh.write(b"\xff" * 64)
        outcomes.append(cli_case("warehouse with damaged pages", ["status"], damaged, env))
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ok', flush=True); "
                "time.sleep(60)",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None
        holder.stdout.readline()
        try:
            outcomes.append(cli_case("warehouse locked by another writer", ["status"], db, env))
        finally:
            holder.kill()
    if args.json:
        print(json.dumps([asdict(o) for o in outcomes], indent=2))
        return
    print("| case | command | exit | message | stored |")
    print("|---|---|---|---|---|")
    for o in outcomes:
        msg = o.message.replace("|", "\\|").replace(str(Path(tempfile.gettempdir())), "…")
        print(f"| {o.case} | `{o.command}` | {o.exit_code} | {msg} | {o.stored} |")


if __name__ == "__main__":
    main()
