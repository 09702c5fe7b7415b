"""Benchmark: the case list, search and overview at district scale on PostgreSQL (budgets: p95 under
100 ms per page, under 200 ms per search, with 200,000 cases, 2,000,000 notes, 1,000,000 people).

    .venv/bin/python bench/cases.py             # full size (the first build takes several minutes, kept)
    .venv/bin/python bench/cases.py --quick     # 5,000 cases in their own database, within a minute
    .venv/bin/python bench/cases.py --explain   # also the plans of each kind's slowest page

The data comes from bench/cases_gen.py (built when missing, see there). The requests are the
browser's, as a team leader of the whole district (every open case visible), through the Django
test client with CSRF checks on: every middleware (session, second factor, access policy), the
view, its audit event and its template. Measured for each kind of page:

- ``list_first``: ``GET /cases/`` (open cases, last activity first);
- ``list_filtered``: two stages, one school (a different one each time), overdue only;
- ``list_deep``: page 200 of the open cases (25 per page: rows 4,976 to 5,000);
- ``overview``: ``GET /cases/<pk>/`` of random cases the leader may see;
- ``search_common``, ``search_middling``, ``search_rare``: the htmx POST of the list form with one
  or two words found in most cases, in 0.5 to 25 % of them, or in one case only.

``<kind>_p50`` / ``_p95`` / ``_max`` are server time: the request in the handler a WSGI server calls,
without the test client's side; ``<kind>_cpu_p50`` the CPU time of this process in it (the rest is
waiting for PostgreSQL, or for a CPU on a busy machine); ``<kind>_queries`` the SQL statements of
one such page (not counting BEGIN/COMMIT). Prints ``name: value unit`` lines, then one
``budget_<kind>`` line each: PASS or FAIL.
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
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import cases_gen  # noqa: E402  (next to this file)

SEED = 20260302
BUDGET_MS = {"search_common": 200.0, "search_middling": 200.0, "search_rare": 200.0}
DEFAULT_BUDGET_MS = 100.0
HTMX = {"HX-Request": "true", "HX-Target": "case-results", "HX-Current-URL": "http://testserver/cases/"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 cases (own database), within a minute")
    parser.add_argument("--requests", type=int, help="requests per kind of page (default 100; --quick 20)")
    parser.add_argument("--reload", action="store_true", help="build the data again even if the counts match")
    parser.add_argument("--explain", action="store_true", help="print the plans of each kind's slowest page")
    parser.add_argument("--kinds", help="only these kinds of page, comma-separated (default: all)")
    parser.add_argument(
        "--profile", metavar="KIND", help="profile this kind of page (cProfile, the top functions on stderr) and stop"
    )
    return parser.parse_args()


class ServerTimer:
    """Wraps the test client's handler: the time a WSGI server spends on a request, and this
    process's CPU time in it (see bench/people_search.py)."""

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


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


class StatementTimer:
    """The SQL statements of the current request with their times (for the slowest request)."""

    def __init__(self) -> None:
        self.statements: list[tuple[float, str]] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - started) * 1000, sql))


@contextmanager
def counting_statements() -> Iterator[list[int]]:
    from django.db import connection

    count = [0]

    def counter(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        yield count


def explaining() -> Any:
    from django.db import connection

    def explain(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("SELECT") and "cases_case" in sql:
            cursor = context["cursor"]
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print("\n".join(r[0] for r in cursor.fetchall()), file=sys.stderr)
        return execute(sql, params, many, context)

    return connection.execute_wrapper(explain)


def search_words(district: Any) -> tuple[list[str], list[str], list[str]]:
    """Common words (in most cases), words of middling frequency (in 0.5 to 25 % of the cases:
    the hardest for the database, neither "any case will do" nor "a few to look up") and rare
    ones (in one case each, from the summaries)."""
    from django.db.models import Max

    from btam.cases.models import Case

    common = ["student", "teacher", "parent", "the school", "bus lunch", "student friend", "counselor"]
    vocabulary = cases_gen.Vocabulary(random.Random(cases_gen.SEED)).words
    middling = [vocabulary[rank] for rank in (150, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000)]
    top = Case.objects.filter(district=district).aggregate(top=Max("pk"))["top"]
    rng = random.Random(SEED)
    rare = [cases_gen.rare_word(rng.randint(1, top)) for _ in range(60)]
    return common, middling, rare


def profile(show: Callable[[int], Any], requests: int) -> None:
    """Where a page's CPU time goes: the functions with most time of their own, then cumulative."""
    import cProfile
    import pstats

    from django.db import connection

    timer = StatementTimer()
    with connection.execute_wrapper(timer):
        show(0)
    for ms, sql in timer.statements:  # one request's statements, in order
        print(f"# {ms:6.1f} ms  {sql[:160]}", file=sys.stderr)
    profiler = cProfile.Profile(time.process_time)  # CPU time: waits for the database left out
    profiler.enable()
    for i in range(requests):
        show(i)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(60)


def main() -> None:
    args = parse_args()
    url = cases_gen.database_url(args.quick)
    cases_gen.ensure_database(url)
    cases_gen.setup_django(url)
    from django.db import connection
    from django.test import Client

    from btam.audit.models import AuditEvent
    from btam.cases.list_views import LIST_TARGET_TYPE
    from btam.cases.models import Case, Note
    from btam.people.models import Person

    size = cases_gen.QUICK if args.quick else cases_gen.FULL
    started = time.perf_counter()
    district, leader = cases_gen.build(size, reload=args.reload)
    build_seconds = time.perf_counter() - started
    requests = args.requests or (20 if args.quick else 100)
    rng = random.Random(SEED)

    client = Client(enforce_csrf_checks=True)
    client.force_login(leader)
    server = ServerTimer(client.handler)
    client.handler = server  # type: ignore[assignment]
    page = client.get("/cases/")
    assert page.status_code == 200, page.status_code
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]

    from btam.cases.models import Status
    from btam.orgs.models import School

    schools = list(School.objects.filter(district=district).values_list("pk", flat=True))
    visible = Case.objects.visible_to(leader).filter(district=district)
    overview_ids = rng.sample(list(visible.values_list("pk", flat=True)[:50_000]), min(requests, visible.count()))
    common, middling, rare = search_words(district)
    deep_page = 200 if size.cases > 100_000 else 20

    def get(path: str, params: dict[str, Any] | None = None) -> Any:
        response = client.get(path, params or {})
        assert response.status_code == 200, (path, response.status_code)
        return response

    def search(q: str) -> Any:
        body = urlencode({"csrfmiddlewaretoken": token, "q": q, "school": "", "risk": "", "manager": ""})
        response = client.post("/cases/", body, content_type="application/x-www-form-urlencoded", headers=HTMX)
        assert response.status_code == 200, response.status_code
        assert b"<html" not in response.content
        return response

    kinds: dict[str, Callable[[int], Any]] = {
        "list_first": lambda i: get("/cases/"),
        "list_filtered": lambda i: get(
            "/cases/",
            {"stage": [Status.EVALUATION, Status.MANAGEMENT], "school": schools[i % len(schools)], "overdue": "1"},
        ),
        "list_deep": lambda i: get("/cases/", {"page": deep_page}),
        "overview": lambda i: get(f"/cases/{overview_ids[i % len(overview_ids)]}/"),
        "search_common": lambda i: search(common[i % len(common)]),
        "search_middling": lambda i: search(middling[i % len(middling)]),
        "search_rare": lambda i: search(rare[i % len(rare)]),
    }
    if args.kinds:
        kinds = {k: v for k, v in kinds.items() if k in args.kinds.split(",")}
    for show in kinds.values():  # warm the caches (and check each page answers)
        for i in range(3):
            show(i)
    if args.profile:
        profile(kinds[args.profile], requests)
        return
    deep = get("/cases/", {"page": deep_page}).content.decode()
    assert f"Page {deep_page} of" in deep, "the deep page is not that deep"
    events = AuditEvent.objects.filter(target_type=LIST_TARGET_TYPE)
    recorded = events.count()

    times: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    sql: dict[str, list[float]] = {k: [] for k in kinds}
    slowest: dict[str, tuple[float, int, list[tuple[float, str]]]] = {}
    names = list(kinds)
    load_before = os.getloadavg()[0]
    timer = StatementTimer()
    with connection.execute_wrapper(timer):
        for i in range(requests):
            rng.shuffle(names)  # interleaved, so that no kind gets all the warm or the busy moments
            for kind in names:
                timer.statements = []
                kinds[kind](i)
                times[kind].append(server.wall_ms)
                cpu[kind].append(server.cpu_ms)
                sql[kind].append(sum(t for t, _ in timer.statements))
                if server.wall_ms > slowest.get(kind, (0.0, 0, []))[0]:
                    slowest[kind] = (server.wall_ms, i, timer.statements)
    load_after = os.getloadavg()[0]
    list_kinds = [k for k in kinds if k != "overview"]
    assert events.count() >= recorded + requests * len(list_kinds), "one audit event per list page"
    for kind, (ms, _i, statements) in slowest.items():  # where the slowest request of each kind went
        top = sorted(statements, reverse=True)[:3]
        print(f"# slowest {kind}: {ms:.1f} ms; " + "; ".join(f"{t:.1f} ms {q[:60]}" for t, q in top), file=sys.stderr)
    statements: dict[str, int] = {}
    for kind, show in kinds.items():
        with counting_statements() as count:
            show(0)
        statements[kind] = count[0]

    print(f"cases: {Case.objects.filter(district=district).count()} count")
    print(f"notes: {Note.objects.filter(case__district=district).count()} count")
    print(f"people: {Person.objects.filter(district=district).count()} count")
    print(f"visible_open_cases: {visible.exclude(status=Status.CLOSED).count()} count")
    print(f"build_seconds: {build_seconds:.1f} s")
    print(f"requests_per_kind: {requests} count")
    print(f"load_average: {load_before:.1f} runnable")
    print(f"load_average_after: {load_after:.1f} runnable")
    results: dict[str, float] = {}
    for kind in kinds:
        results[kind] = percentile(times[kind], 95)
        print(f"{kind}_p50: {statistics.median(times[kind]):.1f} ms")
        print(f"{kind}_p95: {results[kind]:.1f} ms")
        print(f"{kind}_max: {max(times[kind]):.1f} ms")
        print(f"{kind}_cpu_p50: {statistics.median(cpu[kind]):.1f} ms")
        print(f"{kind}_sql_p50: {statistics.median(sql[kind]):.1f} ms")
        print(f"{kind}_sql_p95: {percentile(sql[kind], 95):.1f} ms")
        print(f"{kind}_queries: {statements[kind]} count")
    for kind, p95 in results.items():
        budget = BUDGET_MS.get(kind, DEFAULT_BUDGET_MS)
        print(f"budget_{kind}: {'PASS' if p95 < budget else 'FAIL'} (p95 {p95:.1f} ms, budget {budget:.0f} ms)")
    if args.explain:
        for kind, (ms, i, _statements) in slowest.items():
            print(f"# {kind}: slowest {ms:.1f} ms (request {i})", file=sys.stderr)
            with explaining():
                kinds[kind](i)
    connection.close()


if __name__ == "__main__":
    main()
