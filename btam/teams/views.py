"""The team pages: the teams of the user's schools, one team (members, size guidance, coverage
check), adding, editing and removing members, leader and deputy, the district's team settings,
and marking oneself away.

Reached by the case roles (the policy); each team then comes through ``access.get_team_for_user``
(404 when not visible, 403 when read-only). A refused change re-renders the form with the
action's message (400) and what was typed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from btam.accounts.models import CASE_ROLES, Role, User
from btam.cases.pages import user_of
from btam.core.access import policy, roles
from btam.orgs.models import District, School
from btam.teams import access, actions, availability, coverage
from btam.teams.actions import TeamError
from btam.teams.forms import AwayForm, DisciplineForm, LeadersForm, MemberForm, SettingsForm
from btam.teams.models import Absence, DistrictDiscipline, Team, TeamMember
from btam.teams.warnings import data_role_warnings

TEAM_POLICY = roles(*CASE_ROLES, label="teams")
# District team settings: database managers and (district-wide) team leaders.
SETTINGS_POLICY = roles(Role.DATABASE_MANAGER, Role.TEAM_LEADER, label="team settings")


def _form_error(form: Any, exc: TeamError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _member(team: Team, member_pk: int) -> TeamMember:
    member = team.members.select_related("user").filter(pk=member_pk).first()
    if member is None:
        raise Http404
    return member


def _discipline_choices(district_id: int) -> list[tuple[str, str]]:
    return list(actions.discipline_labels(district_id, active_only=True).items())


# The list -----------------------------------------------------------------------------------------


@policy(TEAM_POLICY)
@never_cache
@require_http_methods(["GET"])
def team_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    teams = {
        (t.district_id, t.school_id): t
        for t in Team.objects.visible_to(user).select_related("school", "district").prefetch_related("members__user")
    }
    schools = School.objects.visible_to(user).filter(pk__in=user.school_ids(*CASE_ROLES), is_active=True)
    districts = District.objects.filter(pk__in=user.district_ids(*CASE_ROLES)).order_by("name")
    manages = access.settings_district_ids(user)
    led = access.school_ids_led(user)
    sections = []
    for district in districts:
        rule = coverage.rule_for(district.pk)
        rows = []
        district_team = teams.get((district.pk, None))
        if district_team is not None or district.pk in manages:
            rows.append(_row(district_team, None, district, rule, can_create=district.pk in manages))
        for school in schools.filter(district=district).order_by("name"):
            rows.append(
                _row(
                    teams.get((district.pk, school.pk)),
                    school,
                    district,
                    rule,
                    can_create=district.pk in manages or school.pk in led,
                )
            )
        sections.append({"district": district, "rows": rows, "manages": district.pk in manages})
    context = {
        "sections": sections,
        "warnings": data_role_warnings(user),
        "away": Absence.objects.not_over(availability.today()).filter(user=user).exists(),
    }
    return render(request, "teams/list.html", context)


def _row(
    team: Team | None, school: School | None, district: District, rule: coverage.Rule, *, can_create: bool
) -> dict:
    if team is None:
        return {"team": None, "school": school, "district": district, "can_create": can_create}
    members = list(team.members.all())
    return {
        "team": team,
        "school": school,
        "district": district,
        "leader": next((m.user for m in members if m.is_leader), None),
        "size": coverage.size_check(members),
        "check": coverage.check(members, rule) if school is not None else None,
    }


@policy(TEAM_POLICY)
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    raw_district = request.POST.get("district", "").strip()
    raw_school = request.POST.get("school", "").strip()
    if (
        not raw_district.isdigit()
        or len(raw_district) > 12
        or (raw_school and (not raw_school.isdigit() or len(raw_school) > 12))
    ):
        raise BadRequest("district or school")
    district = District.objects.visible_to(user).filter(pk=int(raw_district)).first()
    if district is None:
        raise Http404
    school = None
    if raw_school:
        school = School.objects.visible_to(user).filter(pk=int(raw_school), district=district).first()
        if school is None:
            raise Http404
    try:
        team = actions.do_create_team(actor=user, district=district, school=school)
    except TeamError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("teams:list"))
    messages.success(request, _("The team is set up: add its members."))
    return HttpResponseRedirect(reverse("teams:detail", args=[team.pk]))


# One team -------------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, team: Team, **extra: Any) -> dict[str, Any]:
    user = user_of(request)
    members = list(team.members.select_related("user"))
    labels = actions.discipline_labels(team.district_id)
    can_manage = access.can_manage(user, team)
    away_ids = availability.away_today([m.user_id for m in members], team.district_id) if can_manage else set()
    rows = [
        {
            "member": m,
            "disciplines": [labels.get(code, code) for code in m.disciplines],
            "away": m.user_id in away_ids,
        }
        for m in members
    ]
    rule = coverage.rule_for(team.district_id)
    context: dict[str, Any] = {
        "team": team,
        "rows": rows,
        "can_manage": can_manage,
        "size": coverage.size_check(members),
        "check": coverage.check(members, rule) if not team.is_district_team else None,
        "rule": rule,
        "warnings": data_role_warnings(user),
    }
    if can_manage:
        context.setdefault("leaders_form", _leaders_form(team, members))
        context.setdefault("add_form", _add_form(team))
    context.update(extra)
    return context


def _leaders_form(team: Team, members: list[TeamMember], data: Any = None) -> LeadersForm:
    leader = next((m.user_id for m in members if m.is_leader), None)
    deputy = next((m.user_id for m in members if m.is_deputy), None)
    return LeadersForm(
        data,
        members=User.objects.filter(team_memberships__team=team).order_by("full_name", "pk"),
        initial={"leader": leader, "deputy": deputy},
    )


def _add_form(team: Team, data: Any = None) -> MemberForm:
    candidates = User.objects.filter(memberships__district_id=team.district_id).distinct().order_by("full_name", "pk")
    offered = list(access.eligible_members(team).exclude(team_memberships__team=team))
    return MemberForm(
        data,
        discipline_choices=_discipline_choices(team.district_id),
        candidates=candidates,
        offered=offered,
        prefix="add",
    )


@policy(TEAM_POLICY)
@never_cache
@require_http_methods(["GET"])
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = access.get_team_for_user(user_of(request), pk)
    return render(request, "teams/detail.html", _detail_context(request, team))


@policy(TEAM_POLICY)
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    team = access.get_team_for_user(user, pk, write=True)
    form = _add_form(team, request.POST)
    if form.is_valid():
        try:
            actions.do_add_member(
                actor=user,
                team=team,
                user=form.cleaned_data["user"],
                disciplines=form.cleaned_data["disciplines"],
                membership=form.cleaned_data["membership"],
                rapid_response=form.cleaned_data["rapid_response"],
            )
        except TeamError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("%(name)s was added to the team.") % {"name": form.cleaned_data["user"]})
            return HttpResponseRedirect(reverse("teams:detail", args=[team.pk]))
    context = _detail_context(request, team, add_form=form)
    return render(request, "teams/detail.html", context, status=400)


@policy(TEAM_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    user = user_of(request)
    team = access.get_team_for_user(user, pk, write=True)
    member = _member(team, member_pk)
    choices = _discipline_choices(team.district_id)
    labels = actions.discipline_labels(team.district_id)
    # A discipline the district turned off stays on the member until it is unticked.
    choices += [(code, labels.get(code, code)) for code in member.disciplines if code not in dict(choices)]
    initial = {
        "disciplines": member.disciplines,
        "membership": member.membership,
        "rapid_response": member.rapid_response,
    }
    form = MemberForm(request.POST if request.method == "POST" else None, discipline_choices=choices, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.do_update_member(
                    actor=user,
                    member=member,
                    disciplines=form.cleaned_data["disciplines"],
                    membership=form.cleaned_data["membership"],
                    rapid_response=form.cleaned_data["rapid_response"],
                )
            except TeamError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("%(name)s's membership was saved.") % {"name": member.user})
                return HttpResponseRedirect(reverse("teams:detail", args=[team.pk]))
        status = 400
    return render(request, "teams/member_edit.html", {"team": team, "member": member, "form": form}, status=status)


@policy(TEAM_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    user = user_of(request)
    team = access.get_team_for_user(user, pk, write=True)
    member = _member(team, member_pk)
    error = ""
    if request.method == "POST":
        try:
            actions.do_remove_member(actor=user, member=member)
        except TeamError as exc:
            error = exc.message
        else:
            messages.success(request, _("%(name)s was removed from the team.") % {"name": member.user})
            return HttpResponseRedirect(reverse("teams:detail", args=[team.pk]))
    context = {
        "team": team,
        "member": member,
        "error": error,
        "open_cases": actions.open_cases_managed(member.user, team),
    }
    return render(request, "teams/member_remove.html", context, status=400 if error else 200)


@policy(TEAM_POLICY)
@require_POST
def leaders(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    team = access.get_team_for_user(user, pk, write=True)
    members = list(team.members.select_related("user"))
    form = _leaders_form(team, members, request.POST)
    if form.is_valid():
        try:
            actions.do_set_leaders(
                actor=user, team=team, leader=form.cleaned_data["leader"], deputy=form.cleaned_data["deputy"]
            )
        except TeamError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The leader and deputy were saved."))
            return HttpResponseRedirect(reverse("teams:detail", args=[team.pk]))
    context = _detail_context(request, team, leaders_form=form)
    return render(request, "teams/detail.html", context, status=400)


# District settings ------------------------------------------------------------------------------------


def _settings_district(request: HttpRequest) -> District:
    user = user_of(request)
    ids = access.settings_district_ids(user)
    if not ids:
        raise PermissionDenied
    raw = (request.POST.get("district") if request.method == "POST" else None) or request.GET.get("district", "")
    raw = raw.strip()
    if raw:
        if not raw.isdigit() or len(raw) > 12:
            raise BadRequest("district")
        if int(raw) not in ids:
            raise PermissionDenied
        return District.objects.get(pk=int(raw))
    return District.objects.filter(pk__in=ids).order_by("name", "pk").first()  # type: ignore[return-value]


def _settings_page(request: HttpRequest, district: District, *, status: int = 200, **forms: Any) -> HttpResponse:
    user = user_of(request)
    current = actions.settings_for(district.pk)
    choices = _discipline_choices(district.pk)
    forms.setdefault(
        "settings_form",
        SettingsForm(discipline_choices=choices, initial={"rule": current.rule, "required": current.required}),
    )
    forms.setdefault("discipline_form", DisciplineForm())
    ids = access.settings_district_ids(user)
    context = {
        "district": district,
        "districts": list(District.objects.filter(pk__in=ids).order_by("name")) if len(ids) > 1 else [],
        "current": current,
        "presets": coverage.presets_for_page(),
        "own_disciplines": DistrictDiscipline.objects.filter(district=district).order_by("label"),
        "builtin": coverage.builtin_labels(),
        "data_roles": coverage.data_roles(district.pk),
        "warnings": [w for w in data_role_warnings(user) if w.district_id == district.pk],
        **forms,
    }
    return render(request, "teams/settings.html", context, status=status)


def _settings_url(district: District) -> str:
    return reverse("teams:settings") + "?" + urlencode({"district": district.pk})


@policy(SETTINGS_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def team_settings(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    district = _settings_district(request)
    if request.method == "GET":
        return _settings_page(request, district)
    form = SettingsForm(request.POST, discipline_choices=_discipline_choices(district.pk))
    if form.is_valid():
        try:
            actions.do_save_settings(
                actor=user, district=district, rule=form.cleaned_data["rule"], required=form.cleaned_data["required"]
            )
        except TeamError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The coverage rule was saved."))
            return HttpResponseRedirect(_settings_url(district))
    return _settings_page(request, district, status=400, settings_form=form)


@policy(SETTINGS_POLICY)
@require_POST
def discipline_add(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    district = _settings_district(request)
    form = DisciplineForm(request.POST)
    if form.is_valid():
        try:
            actions.do_add_discipline(actor=user, district=district, label=form.cleaned_data["label"])
        except TeamError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The discipline was added."))
            return HttpResponseRedirect(_settings_url(district))
    return _settings_page(request, district, status=400, discipline_form=form)


@policy(SETTINGS_POLICY)
@require_POST
def discipline_active(request: HttpRequest, discipline_pk: int) -> HttpResponse:
    user = user_of(request)
    row = (
        DistrictDiscipline.objects.filter(pk=discipline_pk, district_id__in=access.settings_district_ids(user))
        .select_related("district")
        .first()
    )
    if row is None:
        raise Http404
    try:
        actions.do_set_discipline_active(actor=user, discipline=row, active=request.POST.get("active") == "1")
    except TeamError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(_settings_url(row.district))


# Away -------------------------------------------------------------------------------------------------


def _away_district(request: HttpRequest) -> District:
    user = user_of(request)
    ids = access.away_district_ids(user)
    raw = (
        (request.POST.get("district") if request.method == "POST" else None) or request.GET.get("district", "")
    ).strip()
    if raw:
        if not raw.isdigit() or len(raw) > 12:
            raise BadRequest("district")
        if int(raw) not in ids:
            raise Http404
        return District.objects.get(pk=int(raw))
    district = District.objects.filter(pk__in=ids).order_by("name", "pk").first()
    if district is None:
        raise PermissionDenied
    return district


def _backup_candidates(user: User, district: District) -> Any:
    """Who may back the user up: the district's team roles worked out in memory (a few queries
    whatever the number of staff)."""
    ids = access.backup_candidate_ids(user, district.pk)
    return User.objects.filter(pk__in=ids, is_active=True).order_by("full_name", "pk")


@policy(TEAM_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def away(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    district = _away_district(request)
    candidates = _backup_candidates(user, district)
    form = AwayForm(request.POST if request.method == "POST" else None, candidates=candidates)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.do_mark_away(
                    actor=user,
                    district=district,
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                    backups=list(form.cleaned_data["backups"]),
                )
            except TeamError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("You are marked away. Your backups were told."))
                return HttpResponseRedirect(reverse("teams:away") + "?" + urlencode({"district": district.pk}))
        status = 400
    today = availability.today()
    mine = Absence.objects.not_over(today).filter(user=user, district=district).prefetch_related("backups")
    covering = (
        Absence.objects.not_over(today)
        .filter(district=district, backups=user)
        .select_related("user")
        .order_by("starts_on")
    )
    ids = access.away_district_ids(user)
    context = {
        "district": district,
        "districts": list(District.objects.filter(pk__in=ids).order_by("name")) if len(ids) > 1 else [],
        "form": form,
        "mine": mine,
        "covering": covering,
        "today": today,
    }
    return render(request, "teams/away.html", context, status=status)


@policy(TEAM_POLICY)
@require_POST
def away_end(request: HttpRequest, absence_pk: int) -> HttpResponse:
    user = user_of(request)
    absence = Absence.objects.filter(pk=absence_pk, user=user).first()
    if absence is None:
        raise Http404
    try:
        actions.do_end_absence(actor=user, absence=absence)
    except TeamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Welcome back: urgent notifications reach you again."))
    return HttpResponseRedirect(reverse("teams:away") + "?" + urlencode({"district": absence.district_id}))
