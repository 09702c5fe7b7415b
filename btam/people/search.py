"""Person search: case- and accent-insensitive names (legal and preferred), ids, school, grade.

On PostgreSQL names also match by trigram similarity (typos); on SQLite a prefix and substring
match on the normalized name is the fallback.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case, accents removed, punctuation to spaces: 'José O'Brien-Núñez' -> 'jose o brien nunez'."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() else " " for ch in stripped.casefold())
    return _SPACES.sub(" ", cleaned).strip()
