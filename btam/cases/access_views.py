"""The "Schools and access" tab (transfer, the schools' access, restriction and named members) and
the break-glass page.

Every view of the tab is for the case roles (``pages.CASE_POLICY``) and fetches the case through
``access.get_case_for_user`` before looking at the method (404 when not visible, 403 when the user
may only read it and the view changes something). Each change is one POST calling one action of
``access_actions.py``; bad input re-renders the tab with the message and a 400, keeping what was
typed. The break-glass page is for district roles (``access.BREAK_GLASS_ROLES`` held for the whole
district): a case number that is not in the user's districts gets the same answer as one that does
not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.cases import access, access_actions
from btam.cases.access_forms import BreakGlassForm, MemberForm, RestrictForm, SchoolForm, TransferForm
from btam.cases.actions import CaseError
from btam.cases.models import BreakGlassGrant, Case, CaseMember, CaseParticipant, CaseSchool
from btam.cases.pages import CASE_POLICY, render_case, user_of
from btam.core.access import policy, roles
from btam.lib import clock
from btam.orgs.models import District, School

BREAK_GLASS_POLICY = roles(*access.BREAK_GLASS_ROLES, label="break-glass")
# Break-glass grants listed on the tab (newest first); the audit trail has them all.
GRANTS_SHOWN = 20


# Reads --------------------------------------------------------------------------------------------


def transfer_schools(case: Case) -> QuerySet[School]:
    """Where the case may move: the other active schools of its district."""
    return (
        School.objects.filter(district_id=case.district_id, is_active=True).exclude(pk=case.school_id).order_by("name")
    )


def enrolled_elsewhere(case: Case) -> list[School]:
    """Schools of the district where a subject of the case (a registry person) is enrolled now,
    when that subject is no longer enrolled at the case's school: the case may need to follow."""
    from btam.people.models import Enrollment, SourceStatus

    today = clock.now().date()
    current = Enrollment.objects.filter(status=SourceStatus.ACTIVE).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today), Q(begin_date__isnull=True) | Q(begin_date__lte=today)
    )
    subjects = CaseParticipant.objects.filter(
        case=case, role=CaseParticipant.Role.SUBJECT, removed_at__isnull=True, person__isnull=False
    ).values("person_id")
    moved = (
        current.filter(person_id__in=subjects, school__isnull=False)
        .exclude(school_id=case.school_id)
        .exclude(Exists(current.filter(person_id=OuterRef("person_id"), school_id=case.school_id)))
    )
    return list(
        School.objects.filter(district_id=case.district_id, is_active=True, pk__in=moved.values("school_id"))
        .exclude(pk=case.school_id)
        .order_by("name")[:5]
    )


# The tab ------------------------------------------------------------------------------------------


def _page(
    request: HttpRequest,
    case: Case,
    *,
    bound: dict[str, forms.Form] | None = None,
    failed: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = user_of(request)
    can_write = access.can_write(user, case)
    editable = can_write and not case.is_closed and not case.is_merged
    manages = editable and (case.manager_id == user.pk or access.is_leader_for(user, case))
    bound = bound or {}
    links = list(CaseSchool.objects.filter(case=case).select_related("school").order_by("added_at", "pk"))
    members = list(
        CaseMember.objects.filter(case=case).select_related("user").order_by("user__full_name", "user__email", "pk")
    )
    suggested = enrolled_elsewhere(case)
    forms_: dict[str, forms.Form | None] = {
        "transfer": bound.get("transfer")
        or (
            TransferForm(
                schools=transfer_schools(case),
                initial={"to_school": suggested[0].pk if suggested else None, "keep_read_access": True},
                prefix="transfer",
            )
            if editable
            else None
        ),
        "restrict": bound.get("restrict")
        or RestrictForm(initial={"restricted": "0" if case.restricted else "1"}, prefix="restrict"),
        "member": bound.get("member")
        or (MemberForm(users=access_actions.member_candidates(case), prefix="member") if manages else None),
    }
    grants = list(
        BreakGlassGrant.objects.filter(case=case).select_related("user").order_by("-created_at", "-pk")[:GRANTS_SHOWN]
    )
    now = clock.now()
    context: dict[str, Any] = {
        "can_write": can_write,
        "manages": manages,
        "school_links": links,
        "members": members,
        "suggested_schools": suggested,
        "forms": forms_,
        "failed": failed,
        "error": error,
        "grants": [(g, g.expires_at > now) for g in grants],
        "break_glass_hours": access.BREAK_GLASS_HOURS,
    }
    return render_case(request, case, "cases/access.html", context, tab="access", status=status)


@policy(CASE_POLICY)
@never_cache
def access_tab(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _page(request, case)


def _act(
    request: HttpRequest,
    pk: int,
    *,
    name: str,
    make_form: Callable[[HttpRequest, Case], forms.Form],
    run: Callable[[Case, dict[str, Any]], object],
    success: str,
) -> HttpResponse:
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = make_form(request, case)
    if not form.is_valid():
        # A hidden field (the school or member of a row's button) has no place to show its error.
        hidden = " ".join(str(e) for field in form.hidden_fields() for e in field.errors)
        return _page(request, case, bound={name: form}, failed=name, error=hidden, status=400)
    try:
        run(case, form.cleaned_data)
    except CaseError as exc:
        if not Case.objects.visible_to(user).filter(pk=case.pk).exists():
            messages.error(request, str(exc))
            return redirect("cases:list")
        case.refresh_from_db()
        return _page(request, case, bound={name: form}, failed=name, error=str(exc), status=400)
    messages.success(request, success)
    if not Case.objects.visible_to(user).filter(pk=case.pk).exists():
        # The change took the user's own access away (their school's, their name on the case).
        messages.info(request, _("You no longer have access to that case."))
        return redirect("cases:list")
    return redirect("cases:access", pk=case.pk)


def _schools_on(case: Case) -> QuerySet[School]:
    return School.objects.filter(case_links__case=case)


@policy(CASE_POLICY)
@never_cache
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="transfer",
        make_form=lambda r, case: TransferForm(r.POST, schools=transfer_schools(case), prefix="transfer"),
        run=lambda case, d: access_actions.do_transfer_case(
            actor=user,
            case=case,
            to_school=d["to_school"],
            keep_read_access=d["keep_read_access"],
            reason=d["reason"],
        ),
        success=_("Case transferred. The new school's team leads it now."),
    )


@policy(CASE_POLICY)
@never_cache
def remove_school(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="schools",
        make_form=lambda r, case: SchoolForm(r.POST, schools=_schools_on(case), prefix="school"),
        run=lambda case, d: access_actions.do_remove_school_access(actor=user, case=case, school=d["school"]),
        success=_("The school's access was removed."),
    )


@policy(CASE_POLICY)
@never_cache
def restore_school(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="schools",
        make_form=lambda r, case: SchoolForm(r.POST, schools=_schools_on(case), prefix="school"),
        run=lambda case, d: access_actions.do_restore_school_access(actor=user, case=case, school=d["school"]),
        success=_("The school's access was restored."),
    )


@policy(CASE_POLICY)
@never_cache
def restriction(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="restrict",
        make_form=lambda r, case: RestrictForm(r.POST, prefix="restrict"),
        run=lambda case, d: access_actions.do_set_restricted(
            actor=user, case=case, restricted=d["restricted"], reason=d["reason"]
        ),
        success=_("Who may see the case was changed."),
    )


@policy(CASE_POLICY)
@never_cache
def add_member(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="member",
        make_form=lambda r, case: MemberForm(r.POST, users=access_actions.member_candidates(case), prefix="member"),
        run=lambda case, d: access_actions.do_add_member(actor=user, case=case, user=d["user"]),
        success=_("Member added."),
    )


@policy(CASE_POLICY)
@never_cache
def remove_member(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    return _act(
        request,
        pk,
        name="members",
        make_form=lambda r, case: MemberForm(
            r.POST, users=User.objects.filter(case_memberships__case=case), hidden=True, prefix="remove"
        ),
        run=lambda case, d: access_actions.do_remove_member(actor=user, case=case, user=d["user"]),
        success=_("Member removed."),
    )


# Break-glass --------------------------------------------------------------------------------------


@policy(BREAK_GLASS_POLICY)
@never_cache
def break_glass(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    district_ids = access.break_glass_district_ids(user)
    if not district_ids:
        # A team role for named schools only: break-glass is for district-wide roles.
        raise PermissionDenied
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    districts = District.objects.filter(pk__in=district_ids).order_by("name")
    form = BreakGlassForm(request.POST if request.method == "POST" else None, districts=districts)
    status = 200
    if request.method == "POST":
        status = 400
        form.is_valid()
        number, district = form.cleaned_data.get("number"), form.cleaned_data.get("district")
        case = None
        if number is not None and district is not None:
            case = (
                Case.objects.select_related("school", "manager")
                .filter(district=district, year=number[0], seq=number[1])
                .first()
            )
        if case is not None and Case.objects.visible_to(user).filter(pk=case.pk).exists():
            messages.info(request, _("You can already see this case: no break-glass access was needed."))
            return redirect("cases:detail", pk=case.pk)
        if form.is_valid():
            if case is None:
                AuditEvent.objects.record(
                    actor=user,
                    verb=Verb.ACCESS_DENIED,
                    district_id=district.pk if district is not None else None,
                    detail={"break_glass": "no_case"},
                )
                form.add_error("number", _("There is no case with this number in your district."))
            else:
                try:
                    grant = access_actions.do_break_glass(actor=user, case=case, reason=form.cleaned_data["reason"])
                except CaseError as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.warning(
                        request,
                        _(
                            "Break-glass access until %(until)s. The case's leaders were told; "
                            "every page you open is recorded."
                        )
                        % {"until": date_format(timezone.localtime(grant.expires_at), "DATETIME_FORMAT")},
                    )
                    return redirect("cases:detail", pk=case.pk)
    active = list(
        BreakGlassGrant.objects.filter(user=user, expires_at__gt=clock.now(), case__district_id__in=district_ids)
        .select_related("case")
        .order_by("expires_at")[:20]
    )
    context = {"form": form, "hours": access.BREAK_GLASS_HOURS, "active_grants": active}
    return render(request, "cases/break_glass.html", context, status=status)


urlpatterns = [
    path("break-glass/", break_glass, name="break_glass"),
    path("<int:pk>/access/", access_tab, name="access"),
    path("<int:pk>/access/transfer/", transfer, name="transfer"),
    path("<int:pk>/access/schools/remove/", remove_school, name="remove_school"),
    path("<int:pk>/access/schools/restore/", restore_school, name="restore_school"),
    path("<int:pk>/access/restriction/", restriction, name="restrict"),
    path("<int:pk>/access/members/add/", add_member, name="add_member"),
    path("<int:pk>/access/members/remove/", remove_member, name="remove_member"),
]
