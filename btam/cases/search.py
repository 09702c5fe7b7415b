"""Full-text search over cases without plain text at rest.

The words of a case's title, summary and notes are normalised (lower case, accents folded),
and each is replaced by a keyed hash (HMAC under BTAM_RECEIPT_KEY, purpose "case-word",
shortened): :class:`~btam.cases.models.CaseSearchDoc` holds these tokens, and the database's
full-text index (PostgreSQL: a GIN index over ``to_tsvector('simple', tokens)``; SQLite: an FTS5
table) is built over them. A search hashes the words typed the same way and asks the index for
cases holding all of them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from btam.intake.receipt import keyed_hash
from btam.lib import clock

if TYPE_CHECKING:
    from btam.cases.models import Case

_WORD = re.compile(r"\w+", re.UNICODE)
TOKEN_CHARS = 16  # 64 bits of the HMAC: collisions are negligible at district scale
MAX_WORD_CHARS = 40


def normalise_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return [w for w in _WORD.findall(folded) if 1 < len(w) <= MAX_WORD_CHARS]


def token(word: str) -> str:
    return "w" + keyed_hash(word, purpose="case-word")[:TOKEN_CHARS]


def tokens_for(*texts: str) -> str:
    seen: dict[str, None] = {}
    for text in texts:
        for word in normalise_words(text):
            seen.setdefault(token(word), None)
    return " ".join(seen)


def index_case(case: Case) -> None:
    """Rebuild the case's search words from its title, summary and notes (inside the caller's
    transaction)."""
    from btam.cases.models import CaseSearchDoc, Note

    notes = [n.body for n in Note.objects.filter(case_id=case.pk).only("body")]
    CaseSearchDoc.objects.update_or_create(
        case_id=case.pk,
        defaults={
            "district_id": case.district_id,
            "tokens": tokens_for(case.title, case.summary, *notes),
            "updated_at": clock.now(),
        },
    )
