"""Synthetic cases at district scale for bench/cases.py: one district of 40 schools with 200,000
cases, 2,000,000 notes and 1,000,000 people (``--quick``: 5,000 cases, 50,000 notes, 25,000 people).

    .venv/bin/python bench/cases_gen.py            # build (or keep) the full set
    .venv/bin/python bench/cases_gen.py --quick    # the small set, in its own database
    .venv/bin/python bench/cases_gen.py --reload   # build again even if the counts match

Everything is fictitious and stored as the application stores it: titles, summaries, note bodies
and free-text names encrypted (Fernet, the bench's own fixed key), search words as keyed hashes in
CaseSearchDoc (the same ``search.tokens_for`` as ``search.index_case``), the full-text index built
over them. Rows go in with COPY, in parallel (one process per core, each with its own connection
and its own range of case ids); the GIN index is built once at the end. Idempotent: when the
district already holds the asked-for numbers of cases, notes and people, nothing is loaded.

What a case has: a lead school (and for 3 % a second school with read access, as after a
transfer), a stage (45 % closed), a case manager (a named member), a risk level once past
screening, a next due date for most open cases (about a third of them overdue), 0-20 notes (10 on
average) of 15-40 words drawn from a Zipf vocabulary (common words, a long tail of made-up words,
and now and then a word found in one case only: the "rare" searches), 1-5 people (80 % from the
registry, the rest free-text names). 2 % are restricted to named members. Not loaded: reports,
tasks, documents, status history (the list and the overview read none of them per row).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BENCH_DB = "openbtam_bench_cases"
DISTRICT_SLUG = "bench-cases"
SCHOOLS = 40
MEMBERS = 150
SEED = 20260301
# Fixed bench keys (fictitious data only): the stored ciphertexts and search hashes must stay
# readable from one run to the next, whatever the environment says.
BENCH_ENCRYPTION_KEY = "YmVuY2gtY2FzZXMtb25seS1rZXktMDAwMDAwMDAwMDA="
BENCH_RECEIPT_KEY = "bench-cases-only-receipt-key-0123456789abcdef"
LEADER_EMAIL = "bench-cases-leader@example.test"
TODAY = dt.datetime.now(tz=dt.UTC).date()  # due dates around the day of the load: a third of them past
FIRST_DAY = dt.datetime(2022, 8, 1, 12, tzinfo=dt.UTC)
CHUNK = 5_000  # cases per COPY transaction

# Words of the notes: common ones (by rank) then made-up ones; a rare word is "<syllables>q<n>".
COMMON = (
    "the student and to of a in was said that he she they with at about his her teacher parent school "
    "counselor class after on for not would bus lunch hallway phone message friend friends group threat "
    "fight other told staff called home meeting interview plan safety weapon video social media post "
    "reported concern week monday tuesday wednesday thursday friday morning afternoon office principal "
    "assistant mother father guardian sister brother cousin team follow up check in referral support "
    "behavior angry upset crying laughing joke serious police officer resource nurse grade test game "
    "practice locker bathroom cafeteria gym field parking lot classroom library bus stop neighbourhood"
).split()
SYLLABLES = (
    "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru "
    "sa se si so su ta te ti to tu va ve vi vo za ze zo"
).split()
KINDS = ["interview", "observation", "contact", "records_review", "consultation", "social_media"]
ROLES = ["target", "reporter", "witness", "guardian", "staff"]
RISKS = ["low", "low", "moderate", "moderate", "high", "imminent"]
RISK_RANK = {"low": 0, "moderate": 1, "high": 2, "imminent": 3}  # the Virginia scheme's order


@dataclass(frozen=True)
class Size:
    cases: int
    notes: int
    people: int


FULL = Size(cases=200_000, notes=2_000_000, people=1_000_000)
QUICK = Size(cases=5_000, notes=50_000, people=25_000)


def database_url(quick: bool) -> str:
    default = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}{'_quick' if quick else ''}"
    return os.environ.get("BENCH_CASES_DATABASE_URL" + ("_QUICK" if quick else ""), default)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["BTAM_ENCRYPTION_KEYS"] = BENCH_ENCRYPTION_KEY
    os.environ["BTAM_RECEIPT_KEY"] = BENCH_RECEIPT_KEY
    os.environ.setdefault("DEBUG", "1")  # development defaults (secret key, hosts); query logging is off below
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "btam.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The district, its schools and its team ---------------------------------------------------------
def fixtures() -> tuple[Any, list[Any], Any, list[Any]]:
    from allauth.mfa.models import Authenticator

    from btam.accounts.models import Membership, Role, User
    from btam.lib import crypto
    from btam.orgs.models import District, School

    district, _ = District.objects.get_or_create(
        slug=DISTRICT_SLUG, defaults={"name": "Bench Cases District (fictitious)"}
    )
    schools = [
        School.objects.get_or_create(district=district, slug=f"school-{i}", defaults={"name": f"Bench School {i:02d}"})[
            0
        ]
        for i in range(SCHOOLS)
    ]

    def member(email: str, name: str, role: str, school: Any = None) -> Any:
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": name})
        if created:
            membership = Membership.objects.create(user=user, district=district, role=role)
            if school is not None:
                membership.schools.set([school])
            Authenticator.objects.create(
                user=user, type=Authenticator.Type.TOTP, data={"secret": crypto.encrypt_text("JBSWY3DPEHPK3PXP")}
            )
        return user

    leader = member(LEADER_EMAIL, "Bench Leader", Role.TEAM_LEADER)
    # Team members: a third district-wide, the rest on one school each.
    members = [
        member(
            f"bench-cases-member-{i}@example.test",
            f"Bench Member {i:03d}",
            Role.TEAM_MEMBER,
            None if i % 3 == 0 else schools[i % SCHOOLS],
        )
        for i in range(MEMBERS)
    ]
    return district, schools, leader, members


def loaded(district: Any, size: Size) -> bool:
    from btam.cases.models import Case, Note
    from btam.people.models import Person

    return (
        Case.objects.filter(district=district).count() == size.cases
        and Note.objects.filter(case__district=district).count() == size.notes
        and Person.objects.filter(district=district).count() == size.people
    )


# Vocabulary -------------------------------------------------------------------------------------
class Vocabulary:
    """Words by rank (Zipf weights), each word's search token computed once."""

    def __init__(self, rng: random.Random) -> None:
        made_up = sorted(
            {"".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4)))) for _ in range(25_000)}
        )
        rng.shuffle(made_up)
        self.words = list(dict.fromkeys(COMMON + made_up))
        weights = [1 / (rank + 1) ** 1.05 for rank in range(len(self.words))]
        total = 0.0
        self.cumulative = []
        for w in weights:
            total += w
            self.cumulative.append(total)
        self._tokens: dict[str, str] = {}

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=k)

    def tokens(self, words: list[str]) -> list[str]:
        from btam.cases import search

        out = []
        for text in words:
            for word in search.normalise_words(text):
                tok = self._tokens.get(word)
                if tok is None:
                    tok = self._tokens[word] = search.token(word)
                out.append(tok)
        return out


def rare_word(n: int) -> str:
    """A word found in one case only (made-up syllables and a number: never a common word)."""
    rng = random.Random(n)
    return "".join(rng.choice(SYLLABLES) for _ in range(3)) + f"q{n}"


# Loading ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    url: str
    size: Size
    district_id: int
    school_ids: list[int]
    leader_id: int
    member_ids: list[int]
    # Which school each member works at (None: the whole district), to pick a case's manager.
    member_school: dict[int, int | None]
    person_low: int
    person_high: int


CASE_COLUMNS = (
    "id, district_id, school_id, year, seq, title, summary, status, manager_id, screening_decision, "
    "screening_rationale, screened_at, screened_by_id, risk_level, risk_scheme, risk_rank, risk_rationale, "
    "risk_set_at, risk_set_by_id, "
    "restricted, closure_reason, closure_note, closure_requested_at, closure_requested_by_id, closed_at, "
    "closed_by_id, closed_from, merged_into_id, next_due_on, opened_by_id, opened_at, updated_at"
)
NOTE_COLUMNS = "case_id, kind, occurred_on, body, author_id, created_at, edited_at, corrects_id"
PARTICIPANT_COLUMNS = "case_id, role, person_id, name, description, added_at, added_by_id, removed_at"


def opened_times(count: int, rng: random.Random) -> list[dt.datetime]:
    """Opening times spread over four school years, in order (case ids follow them)."""
    span = (dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC) - FIRST_DAY).total_seconds()
    return sorted(FIRST_DAY + dt.timedelta(seconds=rng.random() * span) for _ in range(count))


def case_numbers(times: list[dt.datetime]) -> tuple[list[tuple[int, int]], dict[int, int]]:
    numbers, last = [], {}
    for t in times:
        last[t.year] = last.get(t.year, 0) + 1
        numbers.append((t.year, last[t.year]))
    return numbers, last


def _load_chunk(args: tuple[Plan, int, int, list[dt.datetime], list[tuple[int, int]], int]) -> tuple[int, int]:
    """COPY cases ``low``..``high - 1`` with their rows, on this process's own connection."""
    plan, low, high, times, numbers, note_budget = args
    import psycopg

    from btam.lib import crypto

    rng = random.Random(SEED * 7 + low)
    vocab = _vocabulary()
    encrypt = crypto.encrypt_text
    statuses = ["closed"] * 45 + ["monitoring"] * 15 + ["management"] * 15 + ["evaluation"] * 12 + ["screening"] * 13
    managers_by_school: dict[int, list[int]] = {}
    for uid, school in plan.member_school.items():
        managers_by_school.setdefault(school or 0, []).append(uid)
    wide = managers_by_school.get(0, []) + [plan.leader_id]
    now = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
    notes_written = 0
    with psycopg.connect(plan.url) as conn, conn.cursor() as cur:
        cases, links, members, notes, people, docs = [], [], [], [], [], []
        for i, case_id in enumerate(range(low, high)):
            opened = times[i]
            updated = opened + (now - opened) * min(1.0, rng.random() ** 2 + 0.01)
            school = rng.choice(plan.school_ids)
            status = rng.choice(statuses)
            manager = rng.choice(managers_by_school.get(school, []) + wide)
            restricted = rng.random() < 0.02
            title_words = vocab.sample(rng, rng.randint(3, 7))
            summary_words = vocab.sample(rng, rng.randint(10, 30))
            if rng.random() < 0.5:
                summary_words.append(rare_word(case_id))
            title = " ".join(title_words).capitalize()
            summary = " ".join(summary_words).capitalize() + "."
            past_screening = status != "screening"
            risk = (
                rng.choice(RISKS)
                if status in ("management", "monitoring") or (status == "closed" and rng.random() < 0.6)
                else ""
            )
            due = None
            if status != "closed" and rng.random() < 0.7:
                due = TODAY + dt.timedelta(days=rng.randint(-60, 60))
            closed = status == "closed"
            year, seq = numbers[i]
            cases.append(
                (
                    case_id, plan.district_id, school, year, seq, encrypt(title), encrypt(summary), status, manager,
                    "evaluate" if past_screening else "", "", opened if past_screening else None,
                    manager if past_screening else None, risk, "virginia" if risk else "",
                    RISK_RANK[risk] if risk else None, "", updated if risk else None, manager if risk else None,
                    restricted, "resolved" if closed else "", "", updated if closed else None,
                    manager if closed else None, updated if closed else None, plan.leader_id if closed else None,
                    "monitoring" if closed else "", None, due, manager, opened, updated,
                )
            )  # fmt: skip
            links.append((case_id, school, "full", opened, manager, None, None))
            if rng.random() < 0.03:
                links.append(
                    (
                        case_id,
                        rng.choice([s for s in plan.school_ids if s != school]),
                        "read",
                        opened,
                        manager,
                        None,
                        None,
                    )
                )
            members.append((case_id, manager, opened, manager))
            word_lists = [title_words, summary_words]
            for _ in range(rng.randint(0, note_budget)):
                words = vocab.sample(rng, rng.randint(15, 40))
                if rng.random() < 0.05:
                    words.append(rare_word(10_000_000 + case_id * 31 + len(notes)))
                word_lists.append(words)
                at = opened + (updated - opened) * rng.random()
                notes.append(
                    (case_id, rng.choice(KINDS), at.date(), encrypt(" ".join(words).capitalize() + "."),
                     rng.choice(plan.member_ids), at, None, None)
                )  # fmt: skip
            for n in range(rng.randint(1, 5)):
                role = "subject" if n == 0 else rng.choice(ROLES)
                if rng.random() < 0.8:
                    person, name = rng.randint(plan.person_low, plan.person_high), ""
                else:
                    person, name = (
                        None,
                        encrypt(f"{rng.choice(COMMON)} {rare_word(20_000_000 + case_id * 5 + n)}".title()),
                    )
                people.append((case_id, role, person, name, "", opened, manager, None))
            tokens = dict.fromkeys(vocab.tokens([" ".join(w) for w in word_lists]))
            docs.append((case_id, plan.district_id, " ".join(tokens), updated))
        with cur.copy(f"COPY cases_case ({CASE_COLUMNS}) FROM STDIN") as copy:
            for row in cases:
                copy.write_row(row)
        link_columns = "case_id, school_id, access, added_at, added_by_id, removed_at, removed_by_id"
        with cur.copy(f"COPY cases_caseschool ({link_columns}) FROM STDIN") as copy:
            for row in links:
                copy.write_row(row)
        with cur.copy("COPY cases_casemember (case_id, user_id, added_at, added_by_id) FROM STDIN") as copy:
            for row in members:
                copy.write_row(row)
        with cur.copy(f"COPY cases_note ({NOTE_COLUMNS}) FROM STDIN") as copy:
            for row in notes:
                copy.write_row(row)
        with cur.copy(f"COPY cases_caseparticipant ({PARTICIPANT_COLUMNS}) FROM STDIN") as copy:
            for row in people:
                copy.write_row(row)
        with cur.copy("COPY cases_casesearchdoc (case_id, district_id, tokens, updated_at) FROM STDIN") as copy:
            for row in docs:
                copy.write_row(row)
        notes_written = len(notes)
        conn.commit()
    return high - low, notes_written


_VOCABULARY: Vocabulary | None = None


def _vocabulary() -> Vocabulary:
    global _VOCABULARY
    if _VOCABULARY is None:
        _VOCABULARY = Vocabulary(random.Random(SEED))
    return _VOCABULARY


def load_people(district: Any, count: int) -> None:
    """The registry: bench/people_search.py's fictitious people, by COPY (enrolments left out)."""
    from django.db import connection, transaction
    from people_search import PERSON_COLUMNS, people_rows

    from btam.people.models import Person

    if Person.objects.filter(district=district).count() == count:
        return
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE people_demographics, people_guardianlink, people_enrollment, people_personmerge, "
            "people_person RESTART IDENTITY CASCADE"
        )
        with cursor.cursor.copy(f"COPY people_person ({PERSON_COLUMNS}) FROM STDIN") as copy:
            for row in people_rows(district.pk, count, random.Random(SEED)):
                copy.write_row(row)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE people_person")
    print(f"# loaded {count} people in {time.perf_counter() - started:.1f} s", file=sys.stderr)


CASE_TABLES = (
    "cases_casesearchdoc, cases_note, cases_caseparticipant, cases_casemember, cases_caseschool, "
    "cases_breakglassgrant, cases_casereport, cases_caselink, cases_casemerge, cases_statuschange, "
    "cases_task, cases_documentversion, cases_document, cases_casecounter, cases_case"
)


def load_cases(plan: Plan, workers: int) -> None:
    from django.db import connection

    size = plan.size
    started = time.perf_counter()
    rng = random.Random(SEED)
    times = opened_times(size.cases, rng)
    numbers, last = case_numbers(times)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {CASE_TABLES} RESTART IDENTITY CASCADE")
        cursor.execute("DROP INDEX IF EXISTS cases_casesearchdoc_vector_gin")
        for year, seq in last.items():
            cursor.execute(
                "INSERT INTO cases_casecounter (district_id, year, last) VALUES (%s, %s, %s)",
                [plan.district_id, year, seq],
            )
    connection.close()  # the workers are forked: no shared connection
    note_budget = round(2 * size.notes / size.cases)  # 0..budget notes per case: budget / 2 on average
    jobs = [
        (
            plan,
            low,
            min(low + CHUNK, size.cases + 1),
            times[low - 1 : low - 1 + CHUNK],
            numbers[low - 1 : low - 1 + CHUNK],
            note_budget,
        )
        for low in range(1, size.cases + 1, CHUNK)
    ]
    done = notes = 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for n_cases, n_notes in pool.imap_unordered(_load_chunk, jobs):
            done += n_cases
            notes += n_notes
            print(f"# {done}/{size.cases} cases, {notes} notes, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('cases_case', 'id'), (SELECT max(id) FROM cases_case))")
        # The notes' count is random around the target: trim or top up to the exact number.
        cursor.execute("SELECT count(*) FROM cases_note")
        (have,) = cursor.fetchone()
        if have > size.notes:
            cursor.execute(
                "DELETE FROM cases_note WHERE id IN (SELECT id FROM cases_note ORDER BY id DESC LIMIT %s)",
                [have - size.notes],
            )
        elif have < size.notes:
            cursor.execute(
                f"INSERT INTO cases_note ({NOTE_COLUMNS}) SELECT case_id, kind, occurred_on, body, author_id, "  # noqa: S608
                "created_at, NULL, NULL FROM cases_note ORDER BY id LIMIT %s",
                [size.notes - have],
            )
        print(f"# cases loaded in {time.perf_counter() - started:.0f} s; indexing", file=sys.stderr)
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("CREATE INDEX cases_casesearchdoc_vector_gin ON cases_casesearchdoc USING gin (search_vector)")
        cursor.execute("RESET maintenance_work_mem")
        for table in (
            "cases_case",
            "cases_caseschool",
            "cases_casemember",
            "cases_note",
            "cases_caseparticipant",
            "cases_casesearchdoc",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"# cases loaded and indexed in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def build(size: Size, *, reload: bool = False, workers: int | None = None) -> tuple[Any, Any]:
    """Make sure the district holds ``size`` (load what is missing); returns (district, leader)."""
    from django.core.management import call_command
    from django.db.models import Max, Min

    from btam.people.models import Person

    call_command("migrate", verbosity=0)
    district, schools, leader, members = fixtures()
    if not reload and loaded(district, size):
        return district, leader
    load_people(district, size.people)
    bounds = Person.objects.filter(district=district).aggregate(low=Min("pk"), high=Max("pk"))
    member_school: dict[int, int | None] = {}
    for user in members:
        m = user.active_memberships[0]
        member_school[user.pk] = m.named_school_ids[0] if m.named_school_ids else None
    plan = Plan(
        url=os.environ["DATABASE_URL"],
        size=size,
        district_id=district.pk,
        school_ids=[s.pk for s in schools],
        leader_id=leader.pk,
        member_ids=[u.pk for u in members],
        member_school=member_school,
        person_low=bounds["low"],
        person_high=bounds["high"],
    )
    load_cases(plan, workers or os.cpu_count() or 2)
    return district, leader


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 cases, in its own database")
    parser.add_argument("--reload", action="store_true", help="load again even if the counts match")
    parser.add_argument("--workers", type=int, help="loading processes (default: one per core)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    url = database_url(args.quick)
    ensure_database(url)
    setup_django(url)
    started = time.perf_counter()
    build(QUICK if args.quick else FULL, reload=args.reload, workers=args.workers)
    print(f"build_seconds: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
