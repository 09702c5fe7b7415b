"""Full-text search over cases without plain text at rest.

The words of a case's title, summary and notes are normalised (lower case, accents folded),
and each is replaced by a keyed hash (HMAC under BTAM_RECEIPT_KEY, purpose "case-word",
shortened): :class:`~btam.cases.models.CaseSearchDoc` holds these tokens, and the database's
full-text index (PostgreSQL: a GIN index over ``to_tsvector('simple', tokens)``, stored in a
generated column; SQLite: an FTS5 table) is built over them. A search hashes the words typed the
same way and asks the index for cases holding all of them (:func:`search_cases`).

Consequences of hashing: a search matches whole words only (no prefixes, no typos), the same way
whatever the accents or capitals; a word of one letter is not indexed. The words typed are
student data: they travel in a POST body, never in a URL, and are never stored or logged (the
list's audit event records only that a search was made).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from django.db import connections
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from btam.intake.receipt import keyed_hash
from btam.lib import clock

if TYPE_CHECKING:
    from btam.cases.models import Case, CaseQuerySet

_WORD = re.compile(r"\w+", re.UNICODE)
TOKEN_CHARS = 16  # 64 bits of the HMAC: collisions are negligible at district scale
MAX_WORD_CHARS = 40
# A search is a few words: more is refused with a message (never silently cut).
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 10

# The index (migration 0002_search_index). PostgreSQL: a stored generated column holding
# strip(to_tsvector('simple', tokens)), under a GIN index; SQLite: an FTS5 table.
FTS_TABLE = "cases_casesearch_fts"


class SearchError(ValueError):
    """A search that cannot be run; the message is for the user (it never repeats the words)."""


def normalise_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return [w for w in _WORD.findall(folded) if 1 < len(w) <= MAX_WORD_CHARS]


def token(word: str) -> str:
    return "w" + keyed_hash(word, purpose="case-word")[:TOKEN_CHARS]


def tokens_for(*texts: str) -> str:
    """The tokens of the words of ``texts``, each once, in order of first use (a word is hashed once
    however often it is used: a case with many notes repeats most of its words)."""
    words: dict[str, None] = {}
    for text in texts:
        words.update(dict.fromkeys(normalise_words(text)))
    return " ".join(dict.fromkeys(token(w) for w in words))


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


# The query side ---------------------------------------------------------------------------------


def query_tokens(text: str) -> list[str]:
    """The tokens of the words typed (each once, in order). Raises SearchError for a search that is
    too long or has no word the index holds."""
    text = text or ""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchError(
            _("The search is too long: at most %(max)d characters (it has %(count)d).")
            % {"max": MAX_QUERY_CHARS, "count": len(text)}
        )
    words = list(dict.fromkeys(normalise_words(text)))
    if not words:
        raise SearchError(_("Enter at least one word of two letters or digits or more."))
    if len(words) > MAX_QUERY_WORDS:
        raise SearchError(_("Search for at most %(max)d words at a time.") % {"max": MAX_QUERY_WORDS})
    return [token(w) for w in words]


def matching_ids(tokens: list[str], *, using: str = "default") -> RawSQL:
    """The ids of the cases whose search words hold every token, as a subquery for ``pk__in``.

    The tokens are ours ("w" and hex digits), passed as a parameter all the same.
    PostgreSQL: the GIN index over ``search_vector``; SQLite: the FTS5 table.
    """
    if not tokens or not all(t.isalnum() for t in tokens):
        raise SearchError(_("Enter at least one word of two letters or digits or more."))
    vendor = connections[using].vendor
    # Constant SQL; the only value (the tokens) is a parameter.
    if vendor == "postgresql":
        return RawSQL(  # noqa: S611
            "SELECT case_id FROM cases_casesearchdoc WHERE search_vector @@ plainto_tsquery('simple'::regconfig, %s)",
            [" ".join(tokens)],
        )
    if vendor == "sqlite":
        # FTS5 query syntax: quoted strings, separated by spaces, must all be present.
        return RawSQL(  # noqa: S611
            "SELECT rowid FROM cases_casesearch_fts WHERE cases_casesearch_fts MATCH %s",
            [" ".join(f'"{t}"' for t in tokens)],
        )
    raise NotImplementedError(f"No case search for the {vendor} database: use PostgreSQL or SQLite.")


def search_cases(qs: CaseQuerySet, text: str) -> CaseQuerySet:
    """The cases of ``qs`` (already scoped: ``Case.objects.visible_to(user)``) holding every word
    of ``text`` in their title, summary or notes. Raises SearchError (see :func:`query_tokens`)."""
    return qs.filter(pk__in=matching_ids(query_tokens(text), using=qs.db))
