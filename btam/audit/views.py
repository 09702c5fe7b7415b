"""The auditor's view of the trail: a filtered, paginated list (newest first) and its CSV export.

Looking at the trail and exporting it are themselves recorded (verb VIEWED / EXPORTED, target
type ``audit.trail``), with the filters used.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, cast

from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from btam.accounts.models import User
from btam.audit.access import AUDIT_READER_ROLES, reader_district_ids
from btam.audit.forms import EventFilterForm
from btam.audit.models import AuditEvent, AuditEventQuerySet, Verb
from btam.core.access import policy, roles
from btam.lib import clock

PAGE_SIZE = 50
TRAIL_TARGET_TYPE = "audit.trail"
EXPORT_CHUNK = 2000

CSV_COLUMNS = [
    "when",
    "seq",
    "actor_id",
    "actor_name",
    "actor_email",
    "district_id",
    "verb",
    "target_type",
    "target_id",
    "reason",
    "ip_address",
    "request_id",
    "before",
    "after",
    "detail",
    "hash",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _record(request: HttpRequest, verb: str, form: EventFilterForm, **detail: Any) -> None:
    """Record that the trail was read: once in each district whose trail the reader may read (each
    district's auditors filter by district)."""
    user = _user(request)
    districts: list[int | None] = [*sorted(reader_district_ids(user))]
    with transaction.atomic():
        for district_id in districts or [None]:
            AuditEvent.objects.record(
                actor=user,
                verb=verb,
                target_type=TRAIL_TARGET_TYPE,
                district_id=district_id,
                detail={"filters": form.filters(), "up_to_event_id": form.cleaned_data.get("until"), **detail},
            )


def _filtered(request: HttpRequest) -> tuple[EventFilterForm, AuditEventQuerySet | None]:
    """The events the filters select (None when the filters are not valid), up to a fixed event:
    the one given as ``until``, else the newest now."""
    form = EventFilterForm(request.GET)  # every filter is optional: no filters is a valid form
    if not form.is_valid():
        return form, None
    if form.cleaned_data.get("until") is None:
        form.cleaned_data["until"] = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    events = AuditEvent.objects.visible_to(_user(request)).order_by("-created_at", "-id")
    return form, form.apply(events)


def _render_list(request: HttpRequest, form: EventFilterForm, events: AuditEventQuerySet | None) -> HttpResponse:
    page = None
    query = request.GET.copy()
    query.pop("page", None)
    if events is not None:
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        _record(request, Verb.VIEWED, form, page=page.number, shown=len(page.object_list))
        query["until"] = str(form.cleaned_data["until"])
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "events": page.object_list if page is not None else [],
            "query": query.urlencode(),
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
            if page is not None
            else [],
        },
    )


@policy(roles(*AUDIT_READER_ROLES))
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    form, events = _filtered(request)
    return _render_list(request, form, events)


@policy(roles(*AUDIT_READER_ROLES))
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form, events = _filtered(request)
    if events is None:
        # Bad filters: the list page with the errors, nothing exported.
        return _render_list(request, form, None)
    # Only what existed when asked: the export's own record (and anything later) is not part of it.
    _record(request, Verb.EXPORTED, form, format="csv")
    stamp = timezone.localtime(clock.now()).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response


class _Echo:
    """A file-like object whose write() hands back the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value: object) -> str:
    """Text for one CSV cell, never read as a formula by a spreadsheet (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if value else ""


def _row(event: AuditEvent) -> list[str]:
    values: list[object] = [
        timezone.localtime(event.created_at).isoformat(),
        event.seq,
        event.actor_id,
        event.actor_name,
        event.actor_email,
        event.district_id,
        event.verb,
        event.target_type,
        event.target_id,
        event.reason,
        event.ip_address,
        event.request_id,
        _json(event.before),
        _json(event.after),
        _json(event.detail),
        event.hash,
    ]
    return [safe_cell(v) for v in values]


def _csv_lines(events: AuditEventQuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=EXPORT_CHUNK):
        yield writer.writerow(_row(event))
