"""Person search: case- and accent-insensitive names (legal, preferred, middle), ids, school, grade.

Names are compared in their normalized form (:func:`normalize`, kept in ``Person.search_name``).
A name query lists first the people with a word starting with every word of the query
("jo nu" finds José Núñez), alphabetically; then, to fill the page, close matches, closest first:

- on PostgreSQL, every query word of 5 letters or more trigram-similar to a run of the name
  (``word <% search_name``, pg_trgm), shorter words by prefix. Both steps are served by the GIN
  trigram index of migration 0003, in one index scan for all the words of a query;
- on SQLite (no trigrams), the names sharing the first or last three letters of every long query
  word, kept when each word is close to a word of the name (difflib): "Nunes" finds "Núñez",
  "Jsoe Nnuez" does not.

A search lists at most MAX_RESULTS people (40 pages). When more match by prefix (a common name
alone, in a large district), the first MAX_RESULTS found are listed, sorted, and the results say
to narrow the search: sorting every Garcia of a million-person district would read them all.

A one-word query also matches the source, local and state ids and the username exactly (as typed,
lower or upper case); a merged record's id finds the record it was merged into. A one-word query
with a digit in it is an id only. Merged records never show.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, CharField, F, FloatField, Func, Q, Value
from django.db.models.functions import Concat

from btam.lib import clock

if TYPE_CHECKING:
    from btam.orgs.models import School
    from btam.people.models import Person, PersonQuerySet

_SPACES = re.compile(r"\s+")

MAX_QUERY_CHARS = 200
MAX_TOKENS = 8
PAGE_SIZE = 25
# The most people one search lists (40 pages): a search matching more asks to be narrowed.
MAX_RESULTS = 1000
# On PostgreSQL, query words this long or longer also match by trigram similarity (typos).
FUZZY_MIN_CHARS = 5
# On SQLite, how many candidates the typo fallback ranks in Python, and how close they must be.
FALLBACK_CANDIDATES = 300
FALLBACK_MIN_RATIO = 0.6


class QueryKind:
    NAME = "name"
    ID = "id"


# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSABLE = str.maketrans(
    {"đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ø": "o", "œ": "oe", "æ": "ae", "þ": "th", "ŧ": "t"}
)


def normalize(text: str) -> str:
    """Lower-case, accents removed, punctuation to spaces: 'José O'Brien-Núñez' -> 'jose o brien nunez'.

    Also 'Łukasz Đặng Søren' -> 'lukasz dang soren'. The same function makes ``Person.search_name``
    and the search terms, so both sides always agree.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSABLE))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    cleaned = "".join(ch if ch.isalnum() else " " for ch in stripped)
    return _SPACES.sub(" ", cleaned).strip()


def query_kind(query: str) -> str:
    """QueryKind.ID for one word with a digit in it (names have none), else QueryKind.NAME."""
    text = query.strip()
    return QueryKind.ID if text and not _SPACES.search(text) and any(c.isdigit() for c in text) else QueryKind.NAME


@dataclass(frozen=True)
class SearchResults:
    people: list[Person]
    kind: str
    offset: int
    has_more: bool
    capped: bool = False  # more than MAX_RESULTS match: only MAX_RESULTS of them can be listed


class _WordSimilar(Func):
    """``query <% search_name``: some run of words in search_name is trigram-similar to the query
    (pg_trgm ``word_similarity_threshold``, 0.6 by default). Index-backed (gin_trgm_ops)."""

    arg_joiner = " <%% "
    template = "(%(expressions)s)"
    output_field = BooleanField()


class _WordSimilarity(Func):
    function = "word_similarity"
    output_field = FloatField()


def search_people(
    qs: PersonQuerySet,
    query: str,
    *,
    school: School | int | None = None,
    grade: str | None = None,
    kind: str | None = None,
    include_inactive: bool = False,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> SearchResults:
    """Search the people of ``qs`` (already scoped: ``Person.objects.visible_to(user)``).

    Returns up to ``limit`` people from ``offset`` (id matches first, on the first page), and
    whether there are more.
    """
    text = query.replace("\x00", "").strip()[:MAX_QUERY_CHARS]  # PostgreSQL refuses NUL in a string
    tokens = normalize(text).split()[:MAX_TOKENS]
    what = query_kind(text)
    base = _filtered(qs.canonical(), school=school, grade=grade, kind=kind, include_inactive=include_inactive)

    people: list[Person] = []
    if offset == 0 and text and not _SPACES.search(text):
        people = list(_id_matches(base, qs, text)[:limit])
    has_more = capped = False
    if what == QueryKind.NAME and tokens:
        names, has_more, capped = _name_matches(base, tokens, limit=limit, offset=offset)
        seen = {p.pk for p in people}
        people += [p for p in names if p.pk not in seen]
    return SearchResults(people=people, kind=what, offset=offset, has_more=has_more, capped=capped)


def _filtered(
    qs: PersonQuerySet, *, school: School | int | None, grade: str | None, kind: str | None, include_inactive: bool
) -> PersonQuerySet:
    from btam.people.models import Enrollment, SourceStatus

    if not include_inactive:
        qs = qs.filter(status=SourceStatus.ACTIVE)
    if kind:
        qs = qs.filter(kind=kind)
    if grade:
        qs = qs.filter(grade__in=grade_variants(grade))
    if school is not None:
        today = clock.now().date()
        current = Enrollment.objects.filter(school=school, status=SourceStatus.ACTIVE).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today), Q(begin_date__isnull=True) | Q(begin_date__lte=today)
        )
        qs = qs.filter(pk__in=current.values("person_id"))
    return qs


def grade_variants(grade: str) -> list[str]:
    """'9' and '09' are the same grade (OneRoster writes two digits; other sources do not)."""
    grade = grade.strip()
    if grade.isdigit():
        return sorted({grade, str(int(grade)), f"{int(grade):02d}"})
    return [grade]


def _id_variants(text: str) -> list[str]:
    return sorted({text, text.lower(), text.upper()})


def _id_matches(base: PersonQuerySet, scoped: PersonQuerySet, text: str) -> PersonQuerySet:
    values = _id_variants(text)
    ids = Q(source_id__in=values) | Q(local_id__in=values) | Q(state_id__in=values) | Q(username__in=values)
    # A merged record keeps its ids: searching one of them finds the record it was merged into.
    # (A list, not a subquery: an IN (subquery) inside the OR would defeat the id indexes.)
    survivors = list(scoped.filter(ids, merged_into__isnull=False).values_list("merged_into_id", flat=True)[:20])
    if survivors:
        ids |= Q(pk__in=survivors)
    return base.filter(ids).order_by("family_name", "given_name", "id")


def _name_matches(
    base: PersonQuerySet, tokens: list[str], *, limit: int, offset: int
) -> tuple[list[Person], bool, bool]:
    """Names that start with every query word, alphabetical; then close ones, closest first.

    Returns the page, whether there are more, and whether the prefix matches were cut at
    MAX_RESULTS (a common name alone matches thousands of people in a large district: sorting them
    all would read them all, so the first MAX_RESULTS found are sorted and the user is asked to
    narrow the search).
    """
    postgres = connections[base.db].vendor == "postgresql"
    if not postgres:
        # " " + search_name: "starts a word" is then one LIKE '% word%'.
        base = base.annotate(spaced_name=Concat(Value(" "), F("search_name"), output_field=CharField()))
    prefix = Q()
    for token in tokens:
        prefix &= _word_start(token, postgres)
    # At most MAX_RESULTS + 1 of them, as found (the index scan stops there), then sorted; every row
    # carries how many there are (up to that cap).
    found = base.filter(prefix).order_by().values("pk")[: MAX_RESULTS + 1]
    rows = _sorted_page(base.filter(prefix), offset=offset, count=limit + 1)
    total: int = getattr(rows[0], "prefix_total") if rows else (found.count() if offset else 0)  # noqa: B009
    if total > MAX_RESULTS:
        listed = rows[: max(0, min(limit, MAX_RESULTS - offset))]
        return listed, len(rows) > limit and offset + limit < MAX_RESULTS, True
    if len(rows) > limit:
        return rows[:limit], True, False
    # The prefix matches end on this page: close matches fill the rest.
    skip, need = max(0, offset - total), limit + 1 - len(rows)
    if postgres:
        rows += _similar_names(base, tokens, prefix)[skip : skip + need]
    else:
        rows += _sqlite_close_names(base, tokens, prefix)[skip : skip + need]
    return rows[:limit], len(rows) > limit, False


def _sorted_page(matches: PersonQuerySet, *, offset: int, count: int) -> list[Person]:
    """``count`` people from ``offset`` among the first MAX_RESULTS + 1 of ``matches`` found,
    alphabetically, each with ``prefix_total``: how many were found (up to that cap).

    The found rows are counted and sorted on the three columns the index scan has just read; only
    the page's people are then read in full (for a common name: 26 rows, not 1,001).
    """
    from btam.people.models import Person

    connection = connections[matches.db]
    name = connection.ops.quote_name
    meta = Person._meta
    pk, family, given = meta.pk.attname, "family_name", "given_name"  # type: ignore[union-attr]
    found = matches.order_by().values(pk, family, given)[: MAX_RESULTS + 1]
    try:
        inner, params = found.query.get_compiler(connection=connection).as_sql()
    except EmptyResultSet:  # e.g. Person.objects.none(): nothing can match
        return []
    # The found columns are named (aliased) after the values() keys. Names quoted, values passed
    # as parameters (the query's own, then the page's).
    table, pk_column = name(meta.db_table), name(meta.pk.column)  # type: ignore[union-attr]
    pk, family, given = name(pk), name(family), name(given)
    sql = (
        f"SELECT {table}.*, ranked.prefix_total FROM ("  # noqa: S608
        f"SELECT found.{pk}, found.{family}, found.{given}, COUNT(*) OVER () AS prefix_total FROM ({inner}) found "
        f"ORDER BY found.{family}, found.{given}, found.{pk} LIMIT %s OFFSET %s"
        f") ranked INNER JOIN {table} ON {table}.{pk_column} = ranked.{pk} "
        f"ORDER BY ranked.{family}, ranked.{given}, ranked.{pk}"
    )
    return list(Person.objects.using(matches.db).raw(sql, (*params, count, offset)))


def _word_start(token: str, postgres: bool) -> Q:
    """Some word of the name starts with ``token`` (letters and digits only, see normalize)."""
    if postgres:
        # One regular expression per word: the trigram index serves all of them in a single scan.
        return Q(search_name__regex=r"(^| )" + token)
    return Q(spaced_name__contains=" " + token)


def _similar_names(base: PersonQuerySet, tokens: list[str], prefix: Q) -> PersonQuerySet:
    """PostgreSQL: every long word trigram-similar to a run of the name (typos), short words by
    prefix; the prefix matches (already listed) left out."""
    from btam.people.models import Person

    if not any(len(t) >= FUZZY_MIN_CHARS for t in tokens):
        return Person.objects.none()
    condition = Q()
    for token in tokens:
        if len(token) >= FUZZY_MIN_CHARS:
            condition &= Q(_WordSimilar(Value(token), F("search_name")))
        else:
            condition &= _word_start(token, postgres=True)
    return (
        base.filter(condition)
        .exclude(prefix)
        .annotate(similarity=_WordSimilarity(Value(" ".join(tokens)), F("search_name")))
        .order_by("-similarity", "family_name", "given_name", "id")
    )


def _sqlite_close_names(spaced: PersonQuerySet, tokens: list[str], prefix: Q) -> list[Person]:
    """SQLite: names sharing the first or last three letters of every long query word (short words
    by prefix), kept when every word is close to a word of the name (difflib), closest first."""
    loose = Q()
    for token in tokens:
        if len(token) < FUZZY_MIN_CHARS:
            loose &= Q(spaced_name__contains=" " + token)
        else:
            loose &= Q(search_name__contains=token[:3]) | Q(search_name__contains=token[-3:])
    candidates = spaced.filter(loose).exclude(prefix).order_by("family_name", "given_name", "id")
    scored = [(_closeness(tokens, p.search_name), p) for p in candidates[:FALLBACK_CANDIDATES]]
    close = [(score, p) for score, p in scored if score is not None]
    close.sort(key=lambda sp: (-sp[0], sp[1].family_name, sp[1].given_name, sp[1].pk))
    return [p for _, p in close]


def _closeness(tokens: list[str], search_name: str) -> float | None:
    """Mean over the query words of the best difflib ratio against a word of the name; None when
    some word has no close match."""
    words = search_name.split() or [""]
    best = [max(difflib.SequenceMatcher(None, t, w).ratio() for w in words) for t in tokens]
    if min(best) < FALLBACK_MIN_RATIO:
        return None
    return sum(best) / len(best)
