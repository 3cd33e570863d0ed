"""Player-name normalisation shared by every matcher."""

from __future__ import annotations

import re
import unicodedata

_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "v"}
_PUNCT = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


def normalize_name(name: str | None) -> str:
    """Lower-case ASCII name without punctuation or generational suffixes.

    "Luka Dončić" -> "luka doncic", "C.J. McCollum" -> "cj mccollum",
    "Jabari Smith Jr." -> "jabari smith", "Marvin Bagley III" -> "marvin bagley".
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("-", " ").replace("'", "").replace("’", "").replace(".", "")
    text = _PUNCT.sub(" ", text)
    parts = [p for p in _SPACES.split(text.strip()) if p]
    while len(parts) > 2 and parts[-1] in _SUFFIXES:
        parts.pop()
    return " ".join(parts)
