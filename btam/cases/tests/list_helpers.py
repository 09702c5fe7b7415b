"""Shared helpers of the case list and search tests: cases opened through the real action, then
moved to the state a test needs (stage, dates, risk level) directly in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from btam.cases import actions, search
from btam.cases.models import Case, Note

# What htmx sends with a request from the list page.
HTMX = {"HX-Request": "true", "HX-Target": "case-results", "HX-Current-URL": "http://testserver/cases/"}


def make_case(world: Any, *, actor: Any = None, school: Any = None, **changes: Any) -> Case:
    """A case opened by the district's team leader (or ``actor``) at the first school (or
    ``school``), then updated with ``changes`` (fields of Case: status, risk_level, next_due_on,
    opened_at, updated_at...). ``title``, ``summary``, ``restricted`` and ``manager`` go through
    the action."""
    opened = {k: changes.pop(k) for k in ("title", "summary", "restricted", "manager") if k in changes}
    case = actions.do_open_case(
        actor=actor or world.users["team_leader"], school=school or world.school, **{"title": "A concern", **opened}
    )
    if changes:
        Case.objects.filter(pk=case.pk).update(**changes)
        case.refresh_from_db()
    return case


def add_note(case: Case, author: Any, body: str, *, reindex: bool = True) -> Note:
    note = Note.objects.create(
        case=case,
        kind=Note.Kind.OBSERVATION,
        occurred_on=dt.date(2026, 3, 2),
        body=body,
        author=author,
        created_at=timezone.now(),
    )
    if reindex:
        search.index_case(case)
    return note


def at(day: str, hour: int = 12) -> dt.datetime:
    """Noon (or ``hour``) of an ISO date in the site's time zone."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=timezone.get_current_timezone())
