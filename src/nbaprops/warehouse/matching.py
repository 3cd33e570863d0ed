"""Book spellings -> NBA player ids when the exact normalised name and aliases fail.

Only players on the two teams of the quoted game (recent box scores) are
candidates, so loose rules stay safe: a rule must pick exactly one of them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    player_id: int
    name_norm: str


# Team codes some feeds append to a name: "Daniel Theis (IND)".
_TEAM_CODES = frozenset(
    [
        "atl",
        "bos",
        "bkn",
        "cha",
        "chi",
        "cle",
        "dal",
        "den",
        "det",
        "gsw",
        "hou",
        "ind",
        "lac",
        "lal",
        "mem",
        "mia",
        "mil",
        "min",
        "nop",
        "nyk",
        "okc",
        "orl",
        "phi",
        "phx",
        "por",
        "sac",
        "sas",
        "tor",
        "uta",
        "was",
    ]
)


def _tokens(name: str) -> list[str]:
    tokens = [t for t in name.split() if not t.isdigit()]
    if len(tokens) > 2 and tokens[-1] in _TEAM_CODES:
        tokens = tokens[:-1]
    return tokens


def _unique(matches: list[Candidate]) -> Candidate | None:
    ids = {c.player_id for c in matches}
    return matches[0] if len(ids) == 1 else None


def _prefix_first(book: list[str], cand: list[str]) -> bool:
    """ "s gilgeous alexander" ~ "shai gilgeous alexander"; "cam johnson" ~ "cameron johnson"."""
    if len(book) < 2 or len(cand) < 2 or book[1:] != cand[1:]:
        return False
    a, b = book[0], cand[0]
    return a.startswith(b) or b.startswith(a)


RULES = ("token_set", "first_last", "prefix_first", "close_spelling")


def resolve_in_roster(name_norm: str, roster: Sequence[Candidate]) -> tuple[Candidate, str] | None:
    """The one roster player this book name denotes, and the rule that found him."""
    book = _tokens(name_norm)
    if not book:
        return None
    checks = {
        "token_set": lambda c: sorted(book) == sorted(_tokens(c.name_norm)),
        "first_last": lambda c: (
            len(book) > 2
            and _tokens(c.name_norm)[:1] == book[:1]
            and _tokens(c.name_norm)[-1:] == book[-1:]
        ),
        "prefix_first": lambda c: _prefix_first(book, _tokens(c.name_norm)),
    }
    for rule, check in checks.items():
        found = _unique([c for c in roster if check(c)])
        if found:
            return found, rule
    joined = " ".join(book)
    scored = sorted(
        ((difflib.SequenceMatcher(None, joined, c.name_norm).ratio(), c) for c in roster),
        key=lambda x: -x[0],
    )
    if scored and scored[0][0] >= 0.88 and (len(scored) == 1 or scored[1][0] < scored[0][0] - 0.05):
        return scored[0][1], "close_spelling"
    return None
