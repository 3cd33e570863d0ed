"""The official NBA injury report: its PDF parsed into the availability CSV's rows, and
the rule that names its URLs.

The league publishes the report only as a PDF table (``ak-static.cms.nba.com``). The
parser reads words with their coordinates (pdfplumber) and places each by x position in
the column under its header, so a reason that contains a status word ("...;
Questionable") stays a reason. A row is anchored by its status word (or a team's NOT
YET SUBMITTED); the reason's wrapped lines are the run of reason lines around that
anchor (cells are vertically centred from 2023-24 on, top-aligned before), and a run
at the top of a page with no anchor in it is the tail of the previous page's last row.
Date, time, matchup and team are printed once per group and carried down, across
pages too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from nbaprops.core.errors import LiveSourceError
from nbaprops.core.time import EASTERN

# The availability CSV's header, in order (``sources.AVAILABILITY``).
CSV_COLUMNS: tuple[str, ...] = (
    "report_time_et",
    "report_time_utc",
    "game_date",
    "game_time_et",
    "matchup",
    "team",
    "player",
    "status",
    "reason",
    "source_file",
)
STATUSES = frozenset({"Out", "Doubtful", "Questionable", "Probable", "Available"})
NOT_YET_SUBMITTED = "NOT_YET_SUBMITTED"

REPORT_BASE_URL = "https://ak-static.cms.nba.com/referee/injury/"
# From this date the league publishes every 15 minutes, named ``..._HH_MMAM.pdf``.
QUARTER_HOUR_FROM = date(2025, 12, 22)
# An hourly report named for hour HH is published at HH:30 ("_06PM" at 06:30 PM).
HOURLY_PUBLISH_LAG = timedelta(minutes=30)

# Column headers as printed, left to right (the 12 pt layout prints "GameDate" as one word).
_HEADER_COLUMNS = ("date", "time", "matchup", "team", "player", "status", "reason")
_REPORT_HEADER = re.compile(
    r"Injury\s*Report:\s*(\d\d)/(\d\d)/(\d\d)\s+(\d\d):(\d\d)\s*([AP]M)", re.IGNORECASE
)
_PAGE_FOOTER = re.compile(r"^Page\s*\d+\s*of\s*\d+$")
_NYS_TEXT = "NOT YET SUBMITTED"
_GAME_TIME = re.compile(r"^(\d\d):(\d\d)\s*\(ET\)$")
_GAME_DATE = re.compile(r"^(\d\d)/(\d\d)/(\d{4})$")
_CREATION_OFFSET = re.compile(r"D:\d{14}([+-])(\d\d)'?(\d\d)")
# Words of one printed line share a baseline; 2 pt absorbs rounding.
_SAME_LINE_PT = 2.0
# A word may start this far left of its column header (the 2022-23 layout is 1 pt off).
_COLUMN_SLACK_PT = 3.0
# Wrapped lines of one cell are ~1.0-1.4 font sizes apart, rows ~2.2: split runs at 1.8.
_RUN_GAP_SIZES = 1.8
# pdfplumber's default 3 pt merges words of the 12 pt layout (their gap is ~2.3 pt).
_X_TOLERANCE = 1.0


@dataclass(frozen=True)
class InjuryReportRow:
    """One report entry, every field as the availability CSV writes it."""

    report_time_et: str
    report_time_utc: str
    game_date: str
    game_time_et: str
    matchup: str
    team: str
    player: str
    status: str
    reason: str
    source_file: str

    def as_list(self) -> list[str]:
        return list(astuple(self))

    def as_dict(self) -> dict[str, str]:
        return dict(zip(CSV_COLUMNS, astuple(self), strict=True))


@dataclass
class _Line:
    top: float
    words: list[dict[str, Any]]


@dataclass
class _Entry:
    """A row being assembled: column → words (with their page and top, for ordering)."""

    cells: dict[str, list[tuple[int, float, float, str]]]

    def add(self, column: str, page: int, word: dict[str, Any]) -> None:
        self.cells.setdefault(column, []).append((page, word["top"], word["x0"], word["text"]))

    def text(self, column: str) -> str:
        return " ".join(w[3] for w in sorted(self.cells.get(column, [])))


def parse_injury_report(pdf_bytes: bytes, source_file: str) -> list[InjuryReportRow]:
    """Every entry of one report PDF, in printed order; ``source_file`` names the file in
    errors and fills the column of that name. Raises ``LiveSourceError`` (one line)
    when the bytes are not an injury report this parser understands."""
    try:
        import pdfplumber
    except ImportError:
        raise LiveSourceError("pdfplumber is not installed: pip install 'nbaprops[live]'") from None
    try:
        with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
            pages = [_page_lines(page) for page in pdf.pages]
            creation = str((pdf.metadata or {}).get("CreationDate") or "")
    except Exception as exc:  # pdfminer raises many unrelated types on a broken file
        raise LiveSourceError(
            f"{source_file}: not a readable PDF ({type(exc).__name__}: {exc})"[:300]
        ) from None
    if not pages or not pages[0]:
        raise LiveSourceError(f"{source_file}: not an injury report (no text on page 1)")
    report_et, report_utc = _report_time(pages[0], creation, source_file)
    columns = _columns(pages[0], source_file)
    entries = _entries(pages, columns, source_file)
    return _rows(entries, report_et, report_utc, source_file)


def _page_lines(page: Any) -> list[_Line]:
    words = page.extract_words(x_tolerance=_X_TOLERANCE, y_tolerance=1.5, extra_attrs=["size"])
    lines: list[_Line] = []
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        if lines and abs(word["top"] - lines[-1].top) <= _SAME_LINE_PT:
            lines[-1].words.append(word)
        else:
            lines.append(_Line(word["top"], [word]))
    for line in lines:
        line.words.sort(key=lambda w: w["x0"])
    return lines


def _line_text(line: _Line) -> str:
    return " ".join(w["text"] for w in line.words)


def _report_time(lines: list[_Line], creation: str, source_file: str) -> tuple[str, str]:
    """("YYYY-MM-DD HH:MM" ET, UTC ISO) from the page header. On the fall-back night
    01:xx happens twice: the PDF's CreationDate offset says which one."""
    match = None
    for line in lines[:5]:
        match = _REPORT_HEADER.search(_line_text(line))
        if match:
            break
    if match is None:
        raise LiveSourceError(f"{source_file}: not an injury report (no 'Injury Report:' header)")
    month, day, year, hour, minute, half = match.groups()
    clock = int(hour) % 12 + (12 if half.upper() == "PM" else 0)
    try:
        local = datetime(2000 + int(year), int(month), int(day), clock, int(minute))
    except ValueError:
        raise LiveSourceError(f"{source_file}: unreadable report time {match.group(0)!r}") from None
    first, second = local.replace(tzinfo=EASTERN, fold=0), local.replace(tzinfo=EASTERN, fold=1)
    instant = first
    if first.utcoffset() != second.utcoffset():
        offset = _creation_offset(creation)
        instant = second if offset is not None and second.utcoffset() == offset else first
    utc = instant.astimezone(UTC)
    return local.strftime("%Y-%m-%d %H:%M"), utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _creation_offset(creation: str) -> timedelta | None:
    match = _CREATION_OFFSET.search(creation)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    return -offset if sign == "-" else offset


def _columns(lines: list[_Line], source_file: str) -> list[tuple[float, str]]:
    """(left edge, column) from page 1's header row: "Game Date", "Game Time", "Matchup",
    "Team", "Player Name", "Current Status", "Reason"."""
    for line in lines[:6]:
        words = [w for w in line.words if w["text"] not in ("Date", "Time", "Name", "Status")]
        texts = [w["text"] for w in words]
        if "Matchup" in texts and "Reason" in texts and len(words) == len(_HEADER_COLUMNS):
            return [
                (w["x0"] - _COLUMN_SLACK_PT, c) for w, c in zip(words, _HEADER_COLUMNS, strict=True)
            ]
    raise LiveSourceError(f"{source_file}: not an injury report (no column header row on page 1)")


def _column_of(word: dict[str, Any], columns: Sequence[tuple[float, str]]) -> str:
    name = columns[0][1]
    for left, column in columns:
        if word["x0"] >= left:
            name = column
    return name


def _is_furniture(line: _Line) -> bool:
    """The report header, the column header row (repeated per page in 2022-23), the footer."""
    text = _line_text(line)
    compact = text.replace(" ", "")
    return bool(
        _REPORT_HEADER.search(text)
        or _PAGE_FOOTER.match(text)
        or ("Matchup" in compact and "Reason" in compact and "PlayerName" in compact)
    )


def _entries(
    pages: list[list[_Line]], columns: list[tuple[float, str]], source_file: str
) -> list[_Entry]:
    entries: list[_Entry] = []
    pending: list[tuple[int, dict[str, Any]]] = []  # a run before the next page's first row
    for page_no, lines in enumerate(pages):
        body = [line for line in lines if not _is_furniture(line)]
        anchors: list[tuple[float, _Entry]] = []
        reason_lines: list[tuple[float, list[dict[str, Any]]]] = []
        others: list[tuple[float, list[dict[str, Any]]]] = []
        sizes: list[float] = []
        for line in body:
            by_column: dict[str, list[dict[str, Any]]] = {}
            for word in line.words:
                by_column.setdefault(_column_of(word, columns), []).append(word)
                sizes.append(float(word.get("size") or 0.0))
            reason = by_column.pop("reason", [])
            status = [w for w in by_column.get("status", []) if w["text"] in STATUSES]
            is_nys = " ".join(w["text"] for w in reason) == _NYS_TEXT
            if status or is_nys:
                entry = _Entry({})
                anchors.append((line.top, entry))
                entries.append(entry)
                if is_nys:
                    entry.cells["nys"] = [(page_no, line.top, 0.0, _NYS_TEXT)]
                    reason = []
            if reason:
                reason_lines.append((line.top, reason))
            rest = [w for ws in by_column.values() for w in ws]
            if rest:
                others.append((line.top, rest))
        if not anchors:
            if others:
                raise LiveSourceError(
                    f"{source_file}: page {page_no + 1} has text but no status column entry"
                )
            target = entries[-1] if entries else None
            for _, words in reason_lines:
                for word in words:
                    if target is None:
                        pending.append((page_no, word))
                    else:
                        target.add("reason", page_no, word)
            continue
        for page, word in pending:  # a run left below the last page's last row
            anchors[0][1].add("reason", page, word)
        pending = []
        for top, words in others:
            entry = min(anchors, key=lambda a: abs(a[0] - top))[1]
            for word in words:
                entry.add(_column_of(word, columns), page_no, word)
        size = max(sorted(sizes)[len(sizes) // 2], 1.0)
        for run in _runs(reason_lines, size * _RUN_GAP_SIZES):
            first, last = run[0][0], run[-1][0]
            inside = [a for a in anchors if first - _SAME_LINE_PT <= a[0] <= last + _SAME_LINE_PT]
            for top, words in run:
                if inside:
                    target = min(inside, key=lambda a: abs(a[0] - top))[1]
                elif last < anchors[0][0] and len(entries) > len(anchors):
                    target = entries[len(entries) - len(anchors) - 1]  # the previous page's row
                elif first > anchors[-1][0]:
                    pending.extend((page_no, w) for w in words)
                    continue
                else:
                    target = min(anchors, key=lambda a: abs(a[0] - top))[1]
                for word in words:
                    target.add("reason", page_no, word)
    if pending:
        raise LiveSourceError(f"{source_file}: reason text after the last row")
    return entries


def _runs(
    lines: list[tuple[float, list[dict[str, Any]]]], gap: float
) -> list[list[tuple[float, list[dict[str, Any]]]]]:
    runs: list[list[tuple[float, list[dict[str, Any]]]]] = []
    for top, words in sorted(lines, key=lambda item: item[0]):
        if runs and top - runs[-1][-1][0] <= gap:
            runs[-1].append((top, words))
        else:
            runs.append([(top, words)])
    return runs


def _rows(
    entries: list[_Entry], report_et: str, report_utc: str, source_file: str
) -> list[InjuryReportRow]:
    rows: list[InjuryReportRow] = []
    group = {"date": "", "time": "", "matchup": "", "team": ""}
    for entry in entries:
        for column in group:
            text = entry.text(column)
            if text:
                group[column] = text
        if not all(group.values()):
            missing = ", ".join(c for c, v in group.items() if not v)
            raise LiveSourceError(f"{source_file}: first row has no {missing}")
        nys = "nys" in entry.cells
        status = NOT_YET_SUBMITTED if nys else entry.text("status")
        if status not in STATUSES and not nys:
            raise LiveSourceError(f"{source_file}: unknown status {status!r}")
        rows.append(
            InjuryReportRow(
                report_time_et=report_et,
                report_time_utc=report_utc,
                game_date=_game_date(group["date"], source_file),
                game_time_et=_game_time(group["time"], source_file),
                matchup=group["matchup"].replace(" ", ""),
                team=group["team"],
                player="" if nys else natural_name(entry.text("player")),
                status=status,
                reason="" if nys else entry.text("reason"),
                source_file=source_file,
            )
        )
    return rows


def natural_name(printed: str) -> str:
    """ "Bagley III, Marvin" → "Marvin Bagley III": the report prints "Last, First" with
    any suffix on the last name, so swapping at the comma is the natural order."""
    last, comma, first = printed.partition(",")
    if not comma:
        return printed.strip()
    return f"{first.strip()} {last.strip()}".strip()


def _game_date(text: str, source_file: str) -> str:
    match = _GAME_DATE.match(text)
    if match is None:
        raise LiveSourceError(f"{source_file}: unreadable game date {text!r}")
    month, day, year = match.groups()
    return f"{year}-{month}-{day}"


def _game_time(text: str, source_file: str) -> str:
    """ "07:00 (ET)" → "19:00". The report prints a 12-hour clock without AM/PM; NBA games
    tip off between noon and 11 PM ET, so 12 is noon and 1-11 are PM."""
    match = _GAME_TIME.match(text)
    if match is None:
        raise LiveSourceError(f"{source_file}: unreadable game time {text!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if not 1 <= hour <= 12 or minute > 59:
        raise LiveSourceError(f"{source_file}: unreadable game time {text!r}")
    return f"{hour % 12 + 12:02d}:{minute:02d}"


# --- the URLs -------------------------------------------------------------------------------


def report_url(when: datetime) -> str:
    """The URL of the report named for ``when`` (US/Eastern; an aware time is converted):
    ``..._2024-03-12_06PM.pdf`` (hourly: the hour, 12-hour clock, zero padded), from
    2025-12-22 ``..._2025-12-22_06_15PM.pdf`` (every 15 minutes: the quarter hour)."""
    local = when.astimezone(EASTERN) if when.tzinfo else when
    hour12 = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    stamp = f"{hour12:02d}"
    if local.date() >= QUARTER_HOUR_FROM:
        stamp += f"_{local.minute // 15 * 15:02d}"
    return f"{REPORT_BASE_URL}Injury-Report_{local.date().isoformat()}_{stamp}{half}.pdf"


def report_slots(day: date) -> list[datetime]:
    """The times (aware, US/Eastern) the day's reports are named for, in order: each
    hour, or each quarter hour from 2025-12-22. A local time the spring-forward skips
    has no report."""
    step = timedelta(minutes=15) if day >= QUARTER_HOUR_FROM else timedelta(hours=1)
    slots: list[datetime] = []
    at = datetime.combine(day, time(0, 0))
    while at.date() == day:
        aware = at.replace(tzinfo=EASTERN)
        if aware.astimezone(UTC).astimezone(EASTERN).replace(tzinfo=None) == at:
            slots.append(aware)
        at += step
    return slots


def published_at(slot: datetime) -> datetime:
    """When the report named for ``slot`` is due: hourly reports come at :30 past."""
    return slot if slot.date() >= QUARTER_HOUR_FROM else slot + HOURLY_PUBLISH_LAG


def report_urls(day: date, now: datetime | None = None) -> list[str]:
    """The day's report URLs in publication order; with ``now``, only those due by then."""
    return [
        report_url(slot)
        for slot in report_slots(day)
        if now is None or published_at(slot) <= now.astimezone(EASTERN)
    ]


def source_file_of(url: str) -> str:
    """``pdfs/YYYY-MM-DD/<name>.pdf``: the availability CSV's ``source_file`` of a URL."""
    name = url.rsplit("/", 1)[-1]
    match = re.match(r"Injury-Report_(\d{4}-\d{2}-\d{2})_", name)
    folder = match.group(1) if match else "unknown"
    return f"pdfs/{folder}/{name}"
