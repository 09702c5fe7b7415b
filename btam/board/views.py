"""The leader's monitoring board (``/board/``) and the panels its htmx poll reloads
(``/board/panels/``, every 60 seconds; without JavaScript the page's "Refresh" link reloads it).

Both are GET-only and read only: each answer records one VIEWED audit event (target ``board``)
per district on the board (usually one), with the ids of that district's reports, tasks and cases
shown and the counts, never one per item. A poll is
a new read of case data (the items may have changed), so it records its own event, marked
``refresh``: a board left open on a wall screen adds one event a minute (the "Stop refreshing"
link ends that). A bad filter (a school not on the viewer's board, ``school=abc``) answers 400 with
the message and reads nothing.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.board import access, panels
from btam.board.forms import PAUSED, BoardFilterForm
from btam.cases.models import Case
from btam.core.access import policy
from btam.orgs.models import School

TARGET_TYPE = "board"
POLL_SECONDS = 60
PAGE = "board/index.html"
PANELS = "board/partials/_panels.html"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _query(school: School | None, *, paused: bool) -> str:
    pairs = [("school", str(school.pk))] if school is not None else []
    if paused:
        pairs.append(("refresh", PAUSED))
    return "?" + urlencode(pairs) if pairs else ""


def _items_by_district(board: panels.Board, chosen: list[School]) -> dict[int, dict[str, list[int]]]:
    """The ids on the board (as ``Board.shown_ids``), split by the district they belong to; every
    district of the schools shown is there, even with nothing listed (its counts were read)."""
    split: dict[int, dict[str, set[int]]] = {}

    def put(district_id: int, key: str, pk: int) -> None:
        split.setdefault(district_id, {"reports": set(), "tasks": set(), "cases": set()})[key].add(pk)

    for s in chosen:
        split.setdefault(s.district_id, {"reports": set(), "tasks": set(), "cases": set()})
    shown = board.shown_ids()
    if len(split) == 1:
        [only] = split
        for key, ids in shown.items():
            split[only][key].update(ids)
    else:
        # One look-up for the cases' districts (a task row carries its case's id only).
        case_district = dict(Case.objects.filter(pk__in=shown["cases"]).values_list("pk", "district_id"))
        for row in board.reports.rows:
            put(row.report.school.district_id, "reports", row.report.pk)
        for row in board.tasks.rows:
            if row.task.case_id in case_district:  # else purged since it was read: nothing to file
                put(case_district[row.task.case_id], "tasks", row.task.pk)
        for case_id in shown["cases"]:
            if case_id in case_district:
                put(case_district[case_id], "cases", case_id)
    return {d: {key: sorted(ids) for key, ids in parts.items()} for d, parts in split.items()}


def _record(user: User, board: panels.Board, schools: list[School], school: School | None, *, refresh: bool) -> None:
    """One VIEWED event per district on the board, with that district's ids, so that each
    district's auditors find the read; the counts are the whole board's (as it was shown), and
    ``districts`` names every district the one read touched."""
    by_district = _items_by_district(board, [school] if school is not None else schools)
    for district_id, shown in sorted(by_district.items()):
        AuditEvent.objects.record(
            actor=user,
            verb=Verb.VIEWED,
            target_type=TARGET_TYPE,
            district_id=district_id,
            detail={
                "page": "board",
                "refresh": refresh,
                "school": school.pk if school is not None else None,
                "districts": sorted(by_district),
                "counts": board.counts(),
                **shown,
            },
        )


def _answer(request: HttpRequest, *, template: str, refresh: bool) -> HttpResponse:
    user = _user(request)
    schools = access.board_schools(user)
    form = BoardFilterForm(request.GET or None, schools=schools)
    context: dict[str, Any] = {
        "form": form,
        "schools": schools,
        "works_cases": access.works_cases(user),
        "poll_seconds": POLL_SECONDS,
        "board": None,
    }
    if form.is_bound and not form.is_valid():
        return render(request, template, context, status=400)
    school, paused = form.chosen_school, form.is_paused
    if schools:
        board = panels.build(user, schools, school=school)
        _record(user, board, schools, school, refresh=refresh)
        context["board"] = board
    context.update(
        school=school,
        paused=paused,
        refresh_url=reverse("board:index") + _query(school, paused=paused),
        poll_url=reverse("board:panels") + _query(school, paused=False),
        pause_url=reverse("board:index") + _query(school, paused=True),
        resume_url=reverse("board:index") + _query(school, paused=False),
    )
    return render(request, template, context)


@policy(access.BOARD_POLICY)
@never_cache
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The board: the filter and the five panels (which then refresh themselves)."""
    return _answer(request, template=PAGE, refresh=False)


@policy(access.BOARD_POLICY)
@never_cache
@require_GET
def panels_view(request: HttpRequest) -> HttpResponse:
    """The panels alone, for the page's htmx poll."""
    return _answer(request, template=PANELS, refresh=True)
