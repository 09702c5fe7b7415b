"""Every change to teams, the district's team settings, and absences.

Each action is keyword-only with ``actor=``, runs in one transaction, checks the actor's right
(PermissionDenied otherwise), validates everything before it writes, and records its audit event
(codes and ids only) in the same transaction. A change that cannot be made raises
:class:`TeamError` with a message for the user, and nothing is written. Members are told
(``Notification.Kind.TEAM_CHANGED``) when they are added, removed, or made leader or deputy;
backups are told (``COVERING``) when someone names them. Titles name the school, never a case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case, Status
from btam.lib import clock
from btam.notifications.delivery import in_site_language, notify
from btam.notifications.models import Notification
from btam.orgs.models import District, School
from btam.teams import access, disciplines
from btam.teams.models import Absence, DistrictDiscipline, Team, TeamMember, TeamSettings


class TeamError(Exception):
    """A change that cannot be made; the message is for the user. ``field`` names the form field."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


MAX_DISCIPLINE_LABEL = 100


def today() -> dt.date:
    return timezone.localdate(clock.now())


# Reading --------------------------------------------------------------------------------------------


def settings_for(district_id: int) -> TeamSettings:
    """The district's team settings (defaults, unsaved, when it has none yet)."""
    row = TeamSettings.objects.filter(district_id=district_id).first()
    return row or TeamSettings(district_id=district_id, updated_at=clock.now())


def discipline_labels(district_id: int, *, active_only: bool = False) -> dict[str, str]:
    """code -> label of every discipline of the district: the built-in ones, then its own."""
    labels = {code: str(label) for code, label in disciplines.BUILTIN.items()}
    own = DistrictDiscipline.objects.filter(district_id=district_id)
    if active_only:
        own = own.filter(active=True)
    labels.update({d.code: d.label for d in own.order_by("label")})
    return labels


def open_cases_managed(user: User, team: Team) -> int:
    """Open cases the user manages at the team's school (the whole district for the district team)."""
    cases = Case.objects.filter(manager_id=user.pk, district_id=team.district_id, merged_into__isnull=True).exclude(
        status=Status.CLOSED
    )
    if team.school_id is not None:
        cases = cases.filter(school_id=team.school_id)
    return cases.count()


# Helpers ----------------------------------------------------------------------------------------------


def _lock(team: Team) -> Team:
    return Team.objects.select_for_update(of=("self",)).select_related("school", "district").get(pk=team.pk)


def _require_manage(actor: User, team: Team) -> None:
    if not access.can_manage(actor, team):
        raise PermissionDenied


def _require_settings(actor: User, district_id: int) -> None:
    if district_id not in access.settings_district_ids(actor):
        raise PermissionDenied


def _snapshot(member: TeamMember) -> dict[str, Any]:
    return {
        "user": member.user_id,
        "disciplines": list(member.disciplines),
        "membership": member.membership,
        "is_leader": member.is_leader,
        "is_deputy": member.is_deputy,
        "rapid_response": member.rapid_response,
    }


def _clean_disciplines(district_id: int, codes: Sequence[str], *, current: Sequence[str] = ()) -> list[str]:
    """The codes, each a built-in discipline or an active one of the district (one the member
    already holds may stay after the district turned it off)."""
    allowed = discipline_labels(district_id, active_only=True)
    chosen = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    for code in chosen:
        if code not in allowed and code not in current:
            raise TeamError(
                _("“%(code)s” is not one of your district's disciplines: choose from the list.") % {"code": code[:60]},
                field="disciplines",
            )
    return chosen


def _membership(value: str) -> str:
    if value not in TeamMember.Membership.values:
        raise TeamError(_("Choose core or extended membership."), field="membership")
    return value


@in_site_language
def _tell(user: User, team: Team, event: AuditEvent, title: str) -> None:
    notify(
        recipients=[user],
        district_id=team.district_id,
        kind=Notification.Kind.TEAM_CHANGED,
        title=title,
        link=reverse("teams:detail", args=[team.pk]),
        target=team,
        urgent=False,
        dedupe_scope=f"teams:event:{event.pk}",
        email=True,
    )


def _refuse_leader_with_cases(user: User, team: Team) -> None:
    count = open_cases_managed(user, team)
    if count:
        raise TeamError(
            ngettext(
                "%(name)s manages %(count)d open case at %(team)s: reassign it to another case manager "
                "before removing them as leader.",
                "%(name)s manages %(count)d open cases at %(team)s: reassign them to other case managers "
                "before removing them as leader.",
                count,
            )
            % {"name": user.get_full_name() or user.email, "count": count, "team": team.name}
        )


# Teams ------------------------------------------------------------------------------------------------


def do_create_team(*, actor: User, district: District, school: School | None) -> Team:
    """Set up the team of ``school`` (or the district team when None)."""
    if school is not None and school.district_id != district.pk:
        raise TeamError(_("That school is not in this district."), field="school")
    if not access.can_create_team(actor, school, district.pk):
        raise PermissionDenied
    with transaction.atomic():
        District.objects.select_for_update().get(pk=district.pk)
        existing = Team.objects.filter(district=district, school=school).first()
        if existing is not None:
            raise TeamError(_("%(team)s already has a team.") % {"team": school.name if school else district.name})
        team = Team.objects.create(district=district, school=school, created_at=clock.now())
        AuditEvent.objects.record(
            actor=actor, verb=Verb.CREATED, target=team, after={"school": school.pk if school else None}
        )
    return team


def do_add_member(
    *,
    actor: User,
    team: Team,
    user: User,
    disciplines: Sequence[str] = (),
    membership: str = TeamMember.Membership.CORE,
    rapid_response: bool = False,
) -> TeamMember:
    """Add a staff member holding a team role (team member, leader, rapid response) that covers
    the team's school."""
    _require_manage(actor, team)
    with transaction.atomic():
        team = _lock(team)
        name = user.get_full_name() or user.email
        if team.members.filter(user_id=user.pk).exists():
            raise TeamError(_("%(name)s is already a member of this team.") % {"name": name}, field="user")
        if not access.may_join(team, user):
            raise TeamError(
                _(
                    "%(name)s has no team access level covering %(team)s: ask a database manager to give "
                    "them one before adding them."
                )
                % {"name": name, "team": team.name},
                field="user",
            )
        codes = _clean_disciplines(team.district_id, disciplines)
        try:
            with transaction.atomic():
                member = TeamMember.objects.create(
                    team=team,
                    user=user,
                    disciplines=codes,
                    membership=_membership(membership),
                    rapid_response=rapid_response,
                    added_at=clock.now(),
                )
        except IntegrityError:
            raise TeamError(_("%(name)s is already a member of this team.") % {"name": name}, field="user") from None
        event = AuditEvent.objects.record(
            actor=actor, verb=Verb.CREATED, target=member, after=_snapshot(member), district_id=team.district_id
        )
        _tell(user, team, event, _("You were added to the %(team)s threat assessment team") % {"team": team.name})
    return member


def do_update_member(
    *,
    actor: User,
    member: TeamMember,
    disciplines: Sequence[str],
    membership: str,
    rapid_response: bool,
) -> TeamMember:
    """Change a member's disciplines, core or extended membership, and rapid-response flag."""
    _require_manage(actor, member.team)
    with transaction.atomic():
        team = _lock(member.team)
        member = TeamMember.objects.select_related("user").get(pk=member.pk, team=team)
        before = _snapshot(member)
        member.disciplines = _clean_disciplines(team.district_id, disciplines, current=member.disciplines)
        member.membership = _membership(membership)
        member.rapid_response = rapid_response
        member.save(update_fields=["disciplines", "membership", "rapid_response"])
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=member,
            before=before,
            after=_snapshot(member),
            district_id=team.district_id,
        )
    return member


def do_remove_member(*, actor: User, member: TeamMember) -> None:
    """Take a member off the team. A leader who manages open cases at the school is refused."""
    _require_manage(actor, member.team)
    with transaction.atomic():
        team = _lock(member.team)
        member = TeamMember.objects.select_related("user").get(pk=member.pk, team=team)
        if member.is_leader:
            _refuse_leader_with_cases(member.user, team)
        before = _snapshot(member)
        pk = member.pk
        member.delete()
        event = AuditEvent.objects.record(
            actor=actor,
            verb=Verb.DELETED,
            target_type=TeamMember._meta.label_lower,
            target_id=str(pk),
            district_id=team.district_id,
            before=before,
            detail={"team": team.pk},
        )
        _tell(
            member.user,
            team,
            event,
            _("You were removed from the %(team)s threat assessment team") % {"team": team.name},
        )


def do_set_leaders(*, actor: User, team: Team, leader: User | None, deputy: User | None) -> Team:
    """Make ``leader`` and ``deputy`` (members of the team, or None) its leader and deputy.

    The leader holds the team-leader access level covering the school; the deputy is someone
    else. A leader who manages open cases at the school keeps the role until they are reassigned.
    """
    _require_manage(actor, team)
    with transaction.atomic():
        team = _lock(team)
        members = {m.user_id: m for m in team.members.select_related("user")}
        if leader is not None and leader.pk not in members:
            raise TeamError(_("Add %(name)s to the team first.") % {"name": leader}, field="leader")
        if deputy is not None and deputy.pk not in members:
            raise TeamError(_("Add %(name)s to the team first.") % {"name": deputy}, field="deputy")
        if leader is not None and deputy is not None and leader.pk == deputy.pk:
            raise TeamError(_("The deputy must be someone other than the leader."), field="deputy")
        if leader is not None and not access.may_lead(team, leader):
            raise TeamError(
                _("%(name)s does not hold the team leader access level for %(team)s: ask a database manager.")
                % {"name": leader, "team": team.name},
                field="leader",
            )
        old_leader = next((m for m in members.values() if m.is_leader), None)
        old_deputy = next((m for m in members.values() if m.is_deputy), None)
        if old_leader is not None and (leader is None or old_leader.user_id != leader.pk):
            _refuse_leader_with_cases(old_leader.user, team)
        before = {
            "leader": old_leader.user_id if old_leader else None,
            "deputy": old_deputy.user_id if old_deputy else None,
        }
        after = {"leader": leader.pk if leader else None, "deputy": deputy.pk if deputy else None}
        if before == after:
            return team
        # Clear first, then set: the one-leader and one-deputy constraints hold at every step.
        team.members.filter(is_leader=True).update(is_leader=False)
        team.members.filter(is_deputy=True).update(is_deputy=False)
        if leader is not None:
            team.members.filter(user_id=leader.pk).update(is_leader=True)
        if deputy is not None:
            team.members.filter(user_id=deputy.pk).update(is_deputy=True)
        event = AuditEvent.objects.record(
            actor=actor, verb=Verb.UPDATED, target=team, before=before, after=after, detail={"change": "leaders"}
        )
        if leader is not None and before["leader"] != leader.pk:
            _tell(leader, team, event, _("You are now the leader of the %(team)s team") % {"team": team.name})
        if deputy is not None and before["deputy"] != deputy.pk:
            _tell(deputy, team, event, _("You are now the deputy leader of the %(team)s team") % {"team": team.name})
    return team


# District settings ------------------------------------------------------------------------------------


def do_save_settings(*, actor: User, district: District, rule: str, required: Sequence[str] = ()) -> TeamSettings:
    """Choose the district's coverage rule: a preset, or its own list of required disciplines."""
    _require_settings(actor, district.pk)
    if rule not in TeamSettings.Rule.values:
        raise TeamError(_("Choose one of the coverage rules in the list."), field="rule")
    with transaction.atomic():
        District.objects.select_for_update().get(pk=district.pk)
        row = TeamSettings.objects.filter(district=district).first() or TeamSettings(district=district)
        codes = _clean_disciplines(district.pk, required, current=row.required or [])
        if rule == TeamSettings.Rule.OWN and not codes:
            raise TeamError(_("Choose at least one discipline for your district's own rule."), field="required")
        before = {"rule": row.rule, "required": list(row.required or [])} if row.pk else {}
        row.rule = rule
        row.required = codes
        row.updated_at = clock.now()
        row.save()
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=row,
            district_id=district.pk,
            before=before,
            after={"rule": row.rule, "required": codes},
        )
    return row


def do_add_discipline(*, actor: User, district: District, label: str) -> DistrictDiscipline:
    """Add a discipline of the district's own (its code is made from the name)."""
    _require_settings(actor, district.pk)
    label = " ".join(label.split())
    if not label:
        raise TeamError(_("Give the discipline a name."), field="label")
    if len(label) > MAX_DISCIPLINE_LABEL:
        raise TeamError(_("Keep the name under %(max)d characters.") % {"max": MAX_DISCIPLINE_LABEL}, field="label")
    code = slugify(label).replace("-", "_")[:50]
    if not code:
        raise TeamError(_("Use letters or digits in the name."), field="label")
    with transaction.atomic():
        District.objects.select_for_update().get(pk=district.pk)
        existing = {c: lab.casefold() for c, lab in discipline_labels(district.pk).items()}
        if code in existing or label.casefold() in existing.values():
            raise TeamError(
                _("Your district already has a discipline called “%(label)s”.") % {"label": label}, field="label"
            )
        row = DistrictDiscipline.objects.create(district=district, code=code, label=label, created_at=clock.now())
        AuditEvent.objects.record(actor=actor, verb=Verb.CREATED, target=row, after={"code": code})
    return row


def do_set_discipline_active(*, actor: User, discipline: DistrictDiscipline, active: bool) -> DistrictDiscipline:
    _require_settings(actor, discipline.district_id)
    with transaction.atomic():
        row = DistrictDiscipline.objects.select_for_update().get(pk=discipline.pk)
        if row.active == active:
            return row
        if not active:
            rule = settings_for(row.district_id)
            if rule.rule == TeamSettings.Rule.OWN and row.code in (rule.required or []):
                raise TeamError(
                    _("Your district's coverage rule requires “%(label)s”: take it out of the rule first.")
                    % {"label": row.label}
                )
        row.active = active
        row.save(update_fields=["active"])
        AuditEvent.objects.record(
            actor=actor, verb=Verb.UPDATED, target=row, before={"active": not active}, after={"active": active}
        )
    return row


# Availability -----------------------------------------------------------------------------------------


def _date(value: dt.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def do_mark_away(
    *, actor: User, district: District, starts_on: dt.date, ends_on: dt.date, backups: Sequence[User]
) -> Absence:
    """Mark the actor away from ``starts_on`` to ``ends_on`` (both included), with backups who get
    their urgent notifications meanwhile."""
    if district.pk not in access.away_district_ids(actor):
        raise PermissionDenied
    day = today()
    if ends_on < starts_on:
        raise TeamError(_("The last day away cannot be before the first."), field="ends_on")
    if ends_on < day:
        raise TeamError(_("These dates are over: choose days from today on."), field="ends_on")
    if (ends_on - starts_on).days >= Absence.MAX_DAYS:
        raise TeamError(_("An absence lasts at most a year: mark a longer one again later."), field="ends_on")
    if (starts_on - day).days >= Absence.MAX_DAYS:
        raise TeamError(_("Mark absences at most a year ahead."), field="starts_on")
    chosen = list({u.pk: u for u in backups}.values())
    if not chosen:
        raise TeamError(_("Choose at least one backup for your urgent notifications."), field="backups")
    for backup in chosen:
        if backup.pk == actor.pk:
            raise TeamError(_("You cannot be your own backup."), field="backups")
        if not access.may_back_up(backup, actor, district.pk):
            raise TeamError(
                _("%(name)s's team access does not cover all of your schools: choose someone who does.")
                % {"name": backup},
                field="backups",
            )
    with transaction.atomic():
        User.objects.select_for_update().get(pk=actor.pk)
        overlap = (
            Absence.objects.filter(user=actor, district=district, ended_early_at__isnull=True)
            .filter(starts_on__lte=ends_on, ends_on__gte=starts_on)
            .first()
        )
        if overlap is not None:
            raise TeamError(
                _("You are already marked away from %(start)s to %(end)s: end that absence or choose other days.")
                % {"start": _date(overlap.starts_on), "end": _date(overlap.ends_on)},
                field="starts_on",
            )
        absence = Absence.objects.create(
            user=actor, district=district, starts_on=starts_on, ends_on=ends_on, created_at=clock.now()
        )
        absence.backups.set(chosen)
        event = AuditEvent.objects.record(
            actor=actor,
            verb=Verb.CREATED,
            target=absence,
            after={
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat(),
                "backups": [u.pk for u in chosen],
            },
        )
        _tell_backups(absence, chosen, event)
    return absence


@in_site_language
def _tell_backups(absence: Absence, backups: Sequence[User], event: AuditEvent) -> None:
    notify(
        recipients=backups,
        district_id=absence.district_id,
        kind=Notification.Kind.COVERING,
        title=_("A colleague named you as their backup for urgent notifications from %(start)s to %(end)s")
        % {"start": _date(absence.starts_on), "end": _date(absence.ends_on)},
        link=reverse("teams:away"),
        target=absence,
        urgent=False,
        dedupe_scope=f"teams:event:{event.pk}",
        email=True,
    )


def do_end_absence(*, actor: User, absence: Absence) -> Absence:
    """End the actor's absence today (or cancel a planned one): urgent notifications reach them again."""
    if absence.user_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        absence = Absence.objects.select_for_update().get(pk=absence.pk)
        if absence.ended_early_at is not None or absence.ends_on < today():
            raise TeamError(_("This absence is already over."))
        absence.ended_early_at = clock.now()
        absence.save(update_fields=["ended_early_at"])
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=absence,
            before={"ended_early_at": None},
            after={"ended_early_at": absence.ended_early_at.isoformat()},
        )
    return absence
