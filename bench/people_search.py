"""Benchmark: person search at district scale on PostgreSQL (budget: p95 under 50 ms at 1,000,000 people).

    .venv/bin/python bench/people_search.py            # 1,000,000 people (loading them takes 1-3 minutes)
    .venv/bin/python bench/people_search.py --quick    # 50,000 people, within a minute
    .venv/bin/python bench/people_search.py --function-only --explain   # plans of the slowest searches

Uses its own database, ``openbtam_bench_search`` (created and migrated if missing; another one
with BENCH_SEARCH_DATABASE_URL): loading people empties its people tables. The synthetic people
(fictitious names from short lists of given and family names, accents included, plus a long tail
of generated family names; ids; a current enrolment for a third of the students) are loaded with
COPY and kept between runs of the same size (``--reload`` loads them again). Then 200 searches
(full names, partial names, one family name, names with a typo, ids; the same ones at every run)
run as a team leader of the one district that holds them all, through the real search function
(``search_*``) and through the search page (``page_*``) as the browser sends it: the htmx POST of
the whole form, urlencoded, with its CSRF token checked, through every middleware (session,
second factor, access policy), the view, its audit event and the results template.

``page_*`` is server time: the time of the request in the handler a WSGI server calls, without the
test client's side; ``page_cpu_*`` is the CPU time of this process in it (the rest is waiting for
PostgreSQL, or for a CPU on a busy machine). ``page_queries_*``: SQL statements per search page (not
counting the BEGIN and COMMIT around the session's save). ``plain_page_p50`` is the account page,
for comparison. Times are wall-clock, printed as ``name: value unit`` lines with the machine's
load average: on a busy machine they include waiting for a CPU.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "openbtam_bench_search"
DISTRICT_SLUG = "bench-search"
SCHOOLS = 40
SEED = 20260101

GIVEN = (
    "José María Juan Luis Carlos Sofía Lucía Valentina Camila Mateo Santiago Sebastián Diego Andrés Ana Elena Inés "
    "Joaquín Martín Nicolás Tomás Julián Adrián Óscar Iván Raúl Jesús Ángel Noé Zoë Chloé Anaïs Hélène Amélie "
    "François Jérôme Léa Maëlle Noémie Renée Björn Søren Åsa Jürgen Jörg Müller Łukasz Zoltán Dávid Tamás Réka "
    "Ngozi Chidi Amara Kwame Kofi Aisha Fatima Omar Yusuf Zainab Mohammed Ali Hana Yuki Hiroshi Mei Wei Jun Li "
    "Minh Anh Linh Nguyen Priya Arjun Rohan Ananya Ishaan Kavya James John Robert Michael William David Richard "
    "Joseph Thomas Charles Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Emily Emma "
    "Olivia Ava Isabella Mia Charlotte Amelia Harper Evelyn Abigail Liam Noah Oliver Elijah Lucas Mason Logan "
    "Ethan Jacob Aiden Jackson Levi Grayson Leo Aurora Hazel Nova Willow Ivy Luna Stella Maya Nora Riley Zoey "
    "Jayden Dylan Gabriel Caleb Ryan Nathan Isaac Owen Wyatt Jack Hunter Eli Connor Jordan Taylor Morgan Casey"
).split()
FAMILY = (
    "García Martínez Rodríguez López Hernández González Pérez Sánchez Ramírez Torres Flores Rivera Gómez Díaz "
    "Núñez Muñoz Jiménez Álvarez Romero Ortiz Gutiérrez Chávez Ramos Ruiz Vásquez Castillo Morales Reyes Cruz "
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Thomas Taylor Moore Jackson Martin Lee "
    "Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green Adams Baker "
    "Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris Murphy "
    "Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Kelly Howard Ward Cox Richardson Wood Watson Brooks "
    "Nguyễn Trần Lê Phạm Huỳnh Phan Võ Đặng Bùi Đỗ Kim Park Choi Jung Kang Cho Yoon Jang Lim Wang Zhang Liu "
    "Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Patel Shah Singh Kumar Sharma Gupta Mehta Reddy Iyer "
    "Okafor Okonkwo Adeyemi Mensah Boateng Diallo Traoré Ndiaye Kamara O'Brien O'Connor McCarthy Murphy-Walsh "
    "Müller Schmidt Schneider Fischer Weber Schäfer Köhler Nowak Kowalski Wiśniewski Wójcik Kovačević Dvořák "
    "Novák Horváth Nagy Szabó Tóth Kovács Lefèvre Dubois Moreau Laurent Lefèbvre Girard Rousseau Fontaine Chevalier"
).split()
SYLLABLES = (
    "ba be bi bo bu da de di do ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru sa se "
    "si so su ta te ti to tu va ve vi vo za ze zo han son berg stein ski vich ez ov ian sen"
).split()
GRADES = ["KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="50,000 people, finishes within a minute")
    parser.add_argument("--people", type=int, help="how many people (default 1,000,000; --quick 50,000)")
    parser.add_argument("--searches", type=int, default=200, help="how many searches to time (default 200)")
    parser.add_argument("--reload", action="store_true", help="load the people again even if the size matches")
    parser.add_argument("--function-only", action="store_true", help="time the search function, not the page")
    parser.add_argument("--explain", action="store_true", help="print the plan of the slowest searches")
    return parser.parse_args()


def database_url() -> str:
    return os.environ.get("BENCH_SEARCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")


def ensure_database(url: str) -> None:
    """Create the benchmark database if it does not exist (connecting to the server's postgres db)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")  # development defaults (secret key, hosts); query logging is turned off below
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "btam.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    # The test client's host. (Not setup_test_environment(): it instruments every template render
    # for the tests' benefit, which would be timed too.)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Data ------------------------------------------------------------------------------------------
def fixtures() -> tuple[Any, list[Any], Any]:
    from allauth.mfa.models import Authenticator

    from btam.accounts.models import Membership, Role, User
    from btam.lib import crypto
    from btam.orgs.models import District, School

    district, _ = District.objects.get_or_create(slug=DISTRICT_SLUG, defaults={"name": "Bench District (fictitious)"})
    schools = [
        School.objects.get_or_create(district=district, slug=f"school-{i}", defaults={"name": f"Bench School {i}"})[0]
        for i in range(SCHOOLS)
    ]
    user, created = User.objects.get_or_create(
        email="bench-leader@example.test", defaults={"full_name": "Bench Leader"}
    )
    if created:
        Membership.objects.create(user=user, district=district, role=Role.TEAM_LEADER)
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": crypto.encrypt_text("JBSWY3DPEHPK3PXP")}
        )
    return district, schools, user


def _family_names(rng: random.Random) -> list[str]:
    """The common list, plus a long tail of generated names (most real surnames are rare)."""
    tail = {"".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4)))).capitalize() for _ in range(40_000)}
    return FAMILY + sorted(tail)


def people_rows(district_id: int, count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    from btam.people.search import normalize

    family = _family_names(rng)
    norm = {name: normalize(name) for name in GIVEN + family}
    common = len(FAMILY)
    now = "2026-01-01 00:00:00+00"
    for i in range(count):
        given = rng.choice(GIVEN)
        middle = rng.choice(GIVEN) if rng.random() < 0.5 else ""
        # 60% from the common list, 40% from the tail
        fam = family[rng.randrange(common)] if rng.random() < 0.6 else family[rng.randrange(common, len(family))]
        preferred = rng.choice(GIVEN) if rng.random() < 0.08 else ""
        roll = rng.random()
        kind = "student" if roll < 0.85 else "guardian" if roll < 0.93 else "staff" if roll < 0.99 else "other"
        grade = rng.choice(GRADES) if kind == "student" else ""
        status = "inactive" if rng.random() < 0.05 else "active"
        search = " ".join(norm[p] for p in (given, middle, fam, preferred) if p)
        username = f"{norm[given][:1]}{norm[fam].replace(' ', '')}{i}" if kind == "staff" else ""
        birth = f"{rng.randint(1960, 2021)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        yield (
            district_id, kind, kind, f"p-{i:08d}", f"ST{7_000_000 + i}", f"{100_000 + i}", username, "", "[]",
            given, middle, fam, preferred, "", "", "", birth, grade, status, search[:700], "", now, now,
        )  # fmt: skip


PERSON_COLUMNS = (
    "district_id, kind, source_role, source_id, state_id, local_id, username, email, other_ids, "
    "given_name, middle_name, family_name, preferred_given_name, preferred_middle_name, preferred_family_name, "
    "pronouns, birth_date, grade, status, search_name, source_hash, created_at, updated_at"
)


def load(district: Any, schools: list[Any], count: int, rng: random.Random) -> None:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE people_demographics, people_guardianlink, people_enrollment, people_personmerge, "
            "people_person RESTART IDENTITY CASCADE"
        )
        cursor.execute("DROP INDEX IF EXISTS people_person_search_name_trgm")
        raw = cursor.cursor
        with raw.copy(f"COPY people_person ({PERSON_COLUMNS}) FROM STDIN") as copy:
            for row in people_rows(district.pk, count, rng):
                copy.write_row(row)
        print(f"# loaded {count} people in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        # Enrolments for a sample: a current one for a third of the students, an ended one for some.
        cursor.execute("SELECT id FROM people_person WHERE kind = 'student' AND id % 3 = 0")
        ids = [r[0] for r in cursor.fetchall()]
        with raw.copy(
            "COPY people_enrollment (district_id, person_id, school_id, org_source_id, class_source_id, source_id, "
            'role, "primary", begin_date, end_date, status, source_hash) FROM STDIN'
        ) as copy:
            for pid in ids:
                school = schools[pid % len(schools)].pk
                copy.write_row(
                    (district.pk, pid, school, "", "", "", "student", True, "2025-08-20", None, "active", "")
                )
                if pid % 5 == 0:
                    old = schools[(pid + 7) % len(schools)].pk
                    ended = (district.pk, pid, old, "", "", "", "student", True, "2023-08-20", "2025-06-15")
                    copy.write_row((*ended, "inactive", ""))
    with connection.cursor() as cursor:  # after the commit: the deferred foreign-key checks ran
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(
            "CREATE INDEX people_person_search_name_trgm ON people_person USING gin (search_name gin_trgm_ops)"
        )
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("VACUUM ANALYZE people_person")
        cursor.execute("VACUUM ANALYZE people_enrollment")
    print(f"# loaded and indexed in {time.perf_counter() - started:.1f} s", file=sys.stderr)


# Searches --------------------------------------------------------------------------------------
def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap two letters
    return word[:i] + word[i + 1 :]  # drop one


def queries(count: int, rng: random.Random) -> list[tuple[str, str]]:
    from django.db.models import Max, Min

    from btam.people.models import Person

    # The same sample at every run of the same size (not ORDER BY random(): runs must be comparable).
    people = Person.objects.filter(district__slug=DISTRICT_SLUG)
    bounds = people.aggregate(low=Min("pk"), high=Max("pk"))
    picked = rng.sample(range(bounds["low"], bounds["high"] + 1), min(count * 3, bounds["high"] - bounds["low"] + 1))
    fields = ("pk", "given_name", "family_name", "preferred_given_name", "local_id", "state_id")
    found = {row[0]: row[1:] for row in people.filter(pk__in=picked).values_list(*fields)}
    sample = [found[pk] for pk in picked if pk in found]
    out: list[tuple[str, str]] = []
    mix = ["full", "full", "full", "partial", "partial", "family", "typo", "typo", "id", "id"]
    for i in range(count):
        given, family, preferred, local_id, state_id = sample[i]
        kind = mix[i % len(mix)]
        if kind == "full":
            name = f"{preferred or given} {family}"
            out.append((kind, name.lower() if i % 2 else name))
        elif kind == "partial":
            out.append((kind, f"{given[:3]} {family[:4]}"))
        elif kind == "family":
            out.append((kind, family))
        elif kind == "typo":
            out.append((kind, f"{given} {_typo(family, rng)}"))
        else:
            out.append((kind, local_id if i % 2 else state_id))
    return out


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


class ServerTimer:
    """Wraps the test client's handler: the time a WSGI server spends on a request (building it,
    middleware, view, template, closing the response), without the client's side (encoding the
    request, cookies, reading the response). Also the CPU time of this process in that span (the
    rest is waiting: for PostgreSQL, or for a CPU on a busy machine)."""

    def __init__(self, handler: Callable[[Any], Any]) -> None:
        self.handler = handler
        self.wall_ms = self.cpu_ms = 0.0

    def __call__(self, environ: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return self.handler(environ)
        finally:
            self.wall_ms = (time.perf_counter() - wall) * 1000
            self.cpu_ms = (time.process_time() - cpu) * 1000


# What htmx sends for the search form (hx-post on the form, results swapped into #search-results).
HTMX_HEADERS = {
    "HX-Request": "true",
    "HX-Target": "search-results",
    "HX-Trigger": "person-search-form",
    "HX-Current-URL": "http://testserver/people/",
}


def main() -> None:
    args = parse_args()
    count = args.people or (50_000 if args.quick else 1_000_000)
    url = database_url()
    ensure_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from btam.audit.models import AuditEvent
    from btam.people.models import Person
    from btam.people.search import search_people
    from btam.people.views import SEARCH_TARGET_TYPE

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    district, schools, user = fixtures()
    if args.reload or Person.objects.filter(district=district).count() != count:
        load(district, schools, count, rng)
    searches = queries(args.searches, random.Random(SEED + 1))  # the same searches whether or not it loaded
    load_before = os.getloadavg()[0]

    scoped = Person.objects.visible_to(user)

    def run_search(q: str) -> None:
        results = search_people(scoped, q)
        assert results is not None

    # The browser: signed in (with the second factor), CSRF checks on, on the search page it loaded.
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    server = ServerTimer(client.handler)
    client.handler = server  # type: ignore[assignment]
    page_html = client.get("/people/").content.decode()
    token = page_html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]

    def run_page(q: str) -> None:
        # The form as htmx posts it (urlencoded, every field, the CSRF token); the answer is the
        # results only.
        body = urlencode({"csrfmiddlewaretoken": token, "q": q, "school": "", "grade": "", "kind": ""})
        response = client.post("/people/", body, content_type="application/x-www-form-urlencoded", headers=HTMX_HEADERS)
        assert response.status_code == 200, response.status_code
        assert b"<html" not in response.content and b'id="person-search-form"' not in response.content

    for _kind, q in searches[:10]:  # warm the caches
        run_search(q)
        if not args.function_only:
            run_page(q)
    # Each search is timed once through the function and once through the page, alternately
    # first (the first run of a search may read pages the second finds in the cache).
    search_ms: list[tuple[float, str, str]] = []
    page_ms: list[float] = []
    page_kinds: list[str] = []
    page_texts: list[str] = []
    page_cpu_ms: list[float] = []
    page_client_ms: list[float] = []
    for i, (kind, q) in enumerate(searches):
        steps = ["search"] if args.function_only else ["search", "page"] if i % 2 else ["page", "search"]
        for step in steps:
            if step == "search":
                search_ms.append((timed(partial(run_search, q)), kind, q))
            else:
                page_client_ms.append(timed(partial(run_page, q)))
                page_ms.append(server.wall_ms)
                page_kinds.append(kind)
                page_texts.append(q)
                page_cpu_ms.append(server.cpu_ms)
    # The same request path with no search at all: a plain signed-in page (session, second factor,
    # memberships, base template), for comparison with the search page.
    base_ms: list[float] = []
    for _ in range(0 if args.function_only else 50):
        client.get("/accounts/security/")
        base_ms.append(server.wall_ms)
    page_queries: list[int] = []
    if not args.function_only:  # not timed: the statements of each search page, and its audit event
        events = AuditEvent.objects.filter(target_type=SEARCH_TARGET_TYPE)
        recorded = events.count()
        for _kind, q in searches:
            with _counting_statements() as statements:
                run_page(q)
            page_queries.append(statements[0])
        assert events.count() == recorded + len(searches), "one audit event per search page"
    times = [t for t, _, _ in search_ms]
    print(f"people: {Person.objects.filter(district=district).count()} count")
    print(f"load_average: {load_before:.1f} runnable")
    print(f"load_average_after: {os.getloadavg()[0]:.1f} runnable")
    print(f"searches: {len(searches)} count")
    print(f"search_p50: {statistics.median(times):.1f} ms")
    print(f"search_p95: {percentile(times, 95):.1f} ms")
    print(f"search_max: {max(times):.1f} ms")
    for kind in sorted({k for _, k, _ in search_ms}):
        kt = [t for t, k, _ in search_ms if k == kind]
        print(f"search_{kind}_p95: {percentile(kt, 95):.1f} ms")
    if page_ms:
        print(f"page_p50: {statistics.median(page_ms):.1f} ms")
        print(f"page_p95: {percentile(page_ms, 95):.1f} ms")
        print(f"page_max: {max(page_ms):.1f} ms")
        for kind in sorted(set(page_kinds)):
            kt = [t for t, k in zip(page_ms, page_kinds, strict=True) if k == kind]
            print(f"page_{kind}_p95: {percentile(kt, 95):.1f} ms")
        print(f"page_cpu_p50: {statistics.median(page_cpu_ms):.1f} ms")
        print(f"page_cpu_p95: {percentile(page_cpu_ms, 95):.1f} ms")
        print(f"page_client_p95: {percentile(page_client_ms, 95):.1f} ms")
        print(f"page_queries_max: {max(page_queries)} count")
        print(f"page_queries_mean: {statistics.mean(page_queries):.1f} count")
        print(f"plain_page_p50: {statistics.median(base_ms):.1f} ms")
        slowest = sorted(zip(page_ms, page_kinds, page_texts, strict=True), reverse=True)[:3]
        for t, kind, q in slowest:
            print(f"# slowest page: {t:.1f} ms {kind}: {q!r}", file=sys.stderr)
    if args.explain:
        for t, kind, q in sorted(search_ms, reverse=True)[:5]:
            print(f"# {t:.1f} ms {kind}: {q!r}", file=sys.stderr)
            with connection.execute_wrapper(_explain):
                search_people(scoped, q)


@contextmanager
def _counting_statements() -> Iterator[list[int]]:
    """``with _counting_statements() as statements:``: ``count[0]`` SQL statements were run in the block."""
    from django.db import connection

    count = [0]

    def counter(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        yield count


def _explain(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    cursor = context["cursor"]
    if sql.lstrip().upper().startswith("SELECT") and "people_person" in sql:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("\n".join(r[0] for r in cursor.fetchall()), file=sys.stderr)
    return execute(sql, params, many, context)


if __name__ == "__main__":
    main()
