"""People on a case: the overview's section (listed by role, registry people linking to their
person page), adding someone (from the district's registry, searched by a POST, or as free text),
linking a free-text entry to the registry, changing a role, removing.

Every view fetches the case through ``access.get_case_for_user`` first (404 when not visible,
whatever the method; 403 when read-only), and a row of another case is a 404 too. Each change is
one POST calling one action of ``participant_actions``; bad input re-renders the overview with the
message and a 400, keeping what was typed. The registry search is a POST (names never go in a
URL); its results are audited as the people search's are (ids and counts, never the query).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.audit.models import AuditEvent, Verb
from btam.cases import access, link_views, participant_actions
from btam.cases.actions import CaseError
from btam.cases.models import Case, CaseParticipant
from btam.cases.pages import CASE_POLICY, render_case, user_of
from btam.cases.participant_forms import (
    ROLE_CHOICES,
    AddParticipantForm,
    AddRegistryPersonForm,
    LinkParticipantForm,
    ParticipantSearchForm,
    RoleForm,
)
from btam.core.access import policy
from btam.people.models import Person
from btam.people.search import PAGE_SIZE, search_people
from btam.people.views import SEARCH_TARGET_TYPE, person_rows

# People listed on the overview (a surge can name many; the rest stay on the case).
PEOPLE_SHOWN = 200

# Forms bound to a failed POST, for the overview to show again with their input and errors.
_BOUND = "_btam_case_bound_forms"


def bound_forms(request: HttpRequest) -> dict[str, forms.Form]:
    return getattr(request, _BOUND, None) or {}


def overview_again(
    request: HttpRequest, case: Case, *, failed: str, error: str = "", bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    """The overview with a failed action's message and its form as typed (400)."""
    from btam.cases import views

    setattr(request, _BOUND, bound or {})
    case.refresh_from_db()
    return views._overview(request, case, failed=failed, error=error, status=400)


def run_action(
    request: HttpRequest,
    case: Case,
    *,
    name: str,
    run: Callable[[], object],
    success: str,
    bound: dict[str, forms.Form] | None = None,
    anchor: str = "",
) -> HttpResponse:
    """Run one action: on success back to the overview with the message; a refused change shows
    the overview again with the reason (400), or the case list when the user lost the case."""
    user = user_of(request)
    try:
        run()
    except CaseError as exc:
        if not Case.objects.visible_to(user).filter(pk=case.pk).exists():
            messages.error(request, str(exc))
            return redirect("cases:list")
        return overview_again(request, case, failed=name, error=str(exc), bound=bound)
    messages.success(request, success)
    response = redirect("cases:detail", pk=case.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


# The overview's section -------------------------------------------------------------------------


def overview_context(
    request: HttpRequest, case: Case, *, can_write: bool, report_ids: list[int] | None = None
) -> dict[str, Any]:
    """What the overview shows of the people on the case and of its related cases."""
    participants = list(
        CaseParticipant.objects.filter(case=case, removed_at__isnull=True)
        .select_related("person")
        .order_by("added_at", "pk")[:PEOPLE_SHOWN]
    )
    groups = [(label, [p for p in participants if p.role == value]) for value, label in CaseParticipant.Role.choices]
    editable = can_write and not case.is_closed and not case.is_merged
    bound = bound_forms(request)
    return {
        "participants": participants,
        "participant_groups": [(label, rows) for label, rows in groups if rows],
        "people_shown_max": PEOPLE_SHOWN,
        "role_choices": CaseParticipant.Role.choices,
        "people_forms": {"participant": bound.get("participant") or AddParticipantForm()},
        **link_views.links_context(
            request, case, can_write=can_write, editable=editable, bound=bound, report_ids=report_ids
        ),
    }


# Adding, linking, changing, removing --------------------------------------------------------------


def _writable_case(request: HttpRequest, pk: int) -> Case:
    return access.get_case_for_user(user_of(request), pk, write=True)


def _participant_of(case: Case, participant_pk: int) -> CaseParticipant:
    """A row of this case (a row of another case is a 404, as an invisible case is)."""
    row = CaseParticipant.objects.filter(case=case, pk=participant_pk).select_related("person").first()
    if row is None:
        raise Http404
    return row


def _person(pk: int) -> Person:
    """The registry record by number; the action checks that the actor may see it and that it is of
    the case's district (one message for "no such record" and "not yours")."""
    person = Person.objects.filter(pk=pk).first()
    if person is None:
        raise CaseError(_("That person is not in this district's registry."))
    return person


@policy(CASE_POLICY)
@never_cache
def add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add someone not yet in the registry (a name as the team knows them)."""
    user = user_of(request)
    case = _writable_case(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = AddParticipantForm(request.POST)
    bound: dict[str, forms.Form] = {"participant": form}
    if not form.is_valid():
        return overview_again(request, case, failed="participant", bound=bound)
    data = form.cleaned_data
    return run_action(
        request,
        case,
        name="participant",
        bound=bound,
        anchor="people",
        run=lambda: participant_actions.do_add_participant(
            actor=user, case=case, role=data["role"], name=data["name"], description=data["description"]
        ),
        success=_("Person added to the case."),
    )


@policy(CASE_POLICY)
@never_cache
def add_registry(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a registry person chosen from the search results, in the role chosen beside them."""
    user = user_of(request)
    case = _writable_case(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = AddRegistryPersonForm(request.POST)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return overview_again(request, case, failed="participant", error=message)
    data = form.cleaned_data
    return run_action(
        request,
        case,
        name="participant",
        anchor="people",
        run=lambda: participant_actions.do_add_participant(
            actor=user, case=case, role=data["role"], person=_person(data["person"])
        ),
        success=_("Person added to the case."),
    )


@policy(CASE_POLICY)
@never_cache
def link(request: HttpRequest, pk: int, participant_pk: int) -> HttpResponse:
    """Link a free-text entry to the registry record of the person, once identified."""
    user = user_of(request)
    case = _writable_case(request, pk)
    row = _participant_of(case, participant_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = LinkParticipantForm(request.POST)
    if not form.is_valid():
        return overview_again(request, case, failed="participant", error=_("Choose a registry record."))
    return run_action(
        request,
        case,
        name="participant",
        anchor="people",
        run=lambda: participant_actions.do_link_participant(
            actor=user, case=case, participant=row, person=_person(form.cleaned_data["person"])
        ),
        success=_("Linked to the registry record."),
    )


@policy(CASE_POLICY)
@never_cache
def change_role(request: HttpRequest, pk: int, participant_pk: int) -> HttpResponse:
    user = user_of(request)
    case = _writable_case(request, pk)
    row = _participant_of(case, participant_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RoleForm(request.POST)
    if not form.is_valid():
        return overview_again(request, case, failed="participant", error=_("Choose a role from the list."))
    return run_action(
        request,
        case,
        name="participant",
        anchor="people",
        run=lambda: participant_actions.do_change_participant_role(
            actor=user, case=case, participant=row, role=form.cleaned_data["role"]
        ),
        success=_("Role changed."),
    )


@policy(CASE_POLICY)
@never_cache
def remove(request: HttpRequest, pk: int, participant_pk: int) -> HttpResponse:
    user = user_of(request)
    case = _writable_case(request, pk)
    row = _participant_of(case, participant_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return run_action(
        request,
        case,
        name="participant",
        anchor="people",
        run=lambda: participant_actions.do_remove_participant(actor=user, case=case, participant=row),
        success=_("Taken off the case (the record keeps that they were on it)."),
    )


# Searching the registry ---------------------------------------------------------------------------


def _linking(case: Case, value: Any) -> CaseParticipant | None:
    """The free-text entry being linked (``?for=<id>``, or the form's hidden field), if it is one."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return (
        CaseParticipant.objects.filter(case=case, pk=pk, removed_at__isnull=True, person__isnull=True).first()
        if pk > 0
        else None
    )


@policy(CASE_POLICY)
@never_cache
def find(request: HttpRequest, pk: int) -> HttpResponse:
    """Search the district's registry to add someone to the case (or to link a free-text entry).
    GET: the form. POST: the results (with htmx, only the results)."""
    user = user_of(request)
    case = _writable_case(request, pk)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if case.is_closed or case.is_merged:
        messages.error(request, _("This case cannot be changed now: see the note at the top."))
        return redirect("cases:detail", pk=case.pk)
    posted = request.method == "POST"
    linking = _linking(case, request.POST.get("for") if posted else request.GET.get("for"))
    form = ParticipantSearchForm(request.POST if posted else None)
    rows: list[Any] = []
    searched = False
    status = 200
    if posted:
        if form.is_valid():
            searched = True
            people = Person.objects.visible_to(user).filter(district_id=case.district_id)
            results = search_people(people, form.cleaned_data["q"], include_inactive=True, limit=PAGE_SIZE)
            rows = person_rows(results.people)
            AuditEvent.objects.record(
                actor=user,
                verb=Verb.VIEWED,
                target_type=SEARCH_TARGET_TYPE,
                district_id=case.district_id,
                detail={
                    "result_count": len(rows),
                    "kind": results.kind,
                    "person_ids": [r.person.pk for r in rows],
                    "case": case.pk,
                    "case_number": case.number,
                },
            )
        else:
            status = 400
    context = {
        "form": form,
        "rows": rows,
        "searched": searched,
        "linking": linking,
        "role_choices": ROLE_CHOICES[1:],
        "page_size": PAGE_SIZE,
        "can_write": True,
    }
    if posted and getattr(request, "htmx", False):
        # htmx swaps only the results (a 400 would not be swapped: a bad query's message is the result).
        return render_case(request, case, "cases/partials/_people_results.html", context, tab="people")
    return render_case(request, case, "cases/people_find.html", context, tab="people", status=status)


urlpatterns = [
    path("<int:pk>/people/add/", add, name="participant_add"),
    path("<int:pk>/people/add-from-registry/", add_registry, name="participant_add_registry"),
    path("<int:pk>/people/find/", find, name="people_find"),
    path("<int:pk>/people/<int:participant_pk>/link/", link, name="participant_link"),
    path("<int:pk>/people/<int:participant_pk>/role/", change_role, name="participant_role"),
    path("<int:pk>/people/<int:participant_pk>/remove/", remove, name="participant_remove"),
]
