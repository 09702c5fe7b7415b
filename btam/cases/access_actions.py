"""Who works a case: transfer to another school, the schools' access, need-to-know restriction with
named members, and break-glass access.

Same pattern as ``actions.py``: keyword-only, ``actor=`` required, one transaction that locks the
case (:func:`~btam.cases.actions.lock_case` checks again that the actor may change it), a
:class:`~btam.cases.actions.CaseError` with a message for the user when the change cannot be made,
and an audit event in the same transaction. Reasons are free text that can describe a student: they
are kept encrypted (a history row for the timeline, the grant for a break-glass) and the audit
event records only that a reason was given.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from btam.audit.models import Verb
from btam.cases import access
from btam.cases.actions import (
    MAX_REASON_CHARS,
    CaseError,
    _notify,
    audit,
    clean_text,
    ensure_editable,
    lock_case,
    snapshot,
    touch,
)
from btam.cases.models import BreakGlassGrant, Case, CaseMember, CaseSchool, StatusChange
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.orgs.models import School

# A break-glass reason is the justification an auditor reads: a sentence, not a word.
MIN_BREAK_GLASS_REASON_CHARS = 20


def _history(case: Case, *, actor: User, reason: str, at: dt.datetime) -> None:
    """A line on the case's timeline (the stage does not change); the reason stays encrypted."""
    StatusChange.objects.create(
        case=case, from_status=case.status, to_status=case.status, actor=actor, reason=reason, created_at=at
    )


def school_access(case: Case) -> dict[int, str]:
    """The audited picture of the schools on a case: school id -> "full", "read" or "removed"."""
    return {
        link.school_id: "removed" if link.removed_at else link.access
        for link in CaseSchool.objects.filter(case=case).order_by("pk")
    }


def _may_manage_access(actor: User, case: Case) -> bool:
    return case.manager_id == actor.pk or access.is_leader_for(actor, case)


# Transfer ----------------------------------------------------------------------------------------


def do_transfer_case(*, actor: User, case: Case, to_school: School, keep_read_access: bool = True, reason: str) -> Case:
    """Move the case to another school of its district (the subject moved there): that school's
    team gets full access and leads the case; the old lead school keeps read access unless
    ``keep_read_access`` is off (its access is then removed, kept for history). The new school's
    leaders are notified (on a restricted case they become named members, so that they can)."""
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if to_school.district_id != case.district_id:
            raise CaseError(_("A case can move only to a school of its own district."))
        if not to_school.is_active:
            raise CaseError(_("%(school)s is not an active school.") % {"school": to_school.name})
        if to_school.pk == case.school_id:
            raise CaseError(_("The case is already led by %(school)s.") % {"school": to_school.name})
        at = clock.now()
        before, schools_before = snapshot(case), school_access(case)
        old_school = case.school
        new_link = CaseSchool.objects.filter(case=case, school=to_school).first()
        if new_link is None:
            CaseSchool.objects.create(
                case=case, school=to_school, access=CaseSchool.Access.FULL, added_at=at, added_by=actor
            )
        else:
            new_link.access = CaseSchool.Access.FULL
            new_link.removed_at, new_link.removed_by = None, None
            new_link.save(update_fields=["access", "removed_at", "removed_by"])
        old_link = CaseSchool.objects.filter(case=case, school=old_school).first()
        if old_link is None:  # a case opened before every lead school had its row
            old_link = CaseSchool(case=case, school=old_school, added_at=case.opened_at, added_by=case.opened_by)
        old_link.access = CaseSchool.Access.READ
        if keep_read_access:
            old_link.removed_at, old_link.removed_by = None, None
        else:
            old_link.removed_at, old_link.removed_by = at, actor
        old_link.save()
        case.school = to_school
        case.save(update_fields=["school"])
        touch(case, at)
        _history(
            case,
            actor=actor,
            reason=_("Transferred from %(old)s to %(new)s: %(reason)s")
            % {"old": old_school.name, "new": to_school.name, "reason": reason},
            at=at,
        )
        leaders = [u for u in access.leaders_of(case) if u.pk != actor.pk]
        if case.restricted:
            have = set(CaseMember.objects.filter(case=case).values_list("user_id", flat=True))
            CaseMember.objects.bulk_create(
                [CaseMember(case=case, user=u, added_at=at, added_by=actor) for u in leaders if u.pk not in have]
            )
        audit(
            actor=actor,
            case=case,
            before={**before, "schools": schools_before},
            after={**snapshot(case), "schools": school_access(case)},
            detail={
                "transferred": True,
                "from_school": old_school.pk,
                "to_school": to_school.pk,
                "old_school_keeps_read_access": keep_read_access,
                "reason_given": True,
            },
        )
        _notify(
            recipients=leaders,
            case=case,
            kind="case_transferred",
            title=_("Case %(number)s was transferred to %(school)s")
            % {"number": case.number, "school": to_school.name},
            scope=f"case:{case.pk}:transfer:{to_school.pk}:{at.isoformat()}",
        )
    return case


def _school_link(case: Case, school: School) -> CaseSchool:
    link = CaseSchool.objects.select_for_update().filter(case=case, school=school).first()
    if link is None:
        raise CaseError(_("%(school)s has no access to this case.") % {"school": school.name})
    return link


def do_remove_school_access(*, actor: User, case: Case, school: School) -> CaseSchool:
    """Remove a school's access (an old school's read access after a transfer). The lead school
    keeps its access: transfer the case first."""
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if school.pk == case.school_id:
            raise CaseError(_("The school leading the case keeps its access. Transfer the case first."))
        link = _school_link(case, school)
        if link.removed_at is not None:
            raise CaseError(_("%(school)s's access was already removed.") % {"school": school.name})
        at = clock.now()
        link.removed_at, link.removed_by = at, actor
        link.save(update_fields=["removed_at", "removed_by"])
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            target=link,
            before={"school": school.pk, "access": link.access, "removed": False},
            after={"school": school.pk, "access": link.access, "removed": True},
            detail={"school_access_removed": school.pk},
        )
    return link


def do_restore_school_access(*, actor: User, case: Case, school: School) -> CaseSchool:
    """Give a school back the access it had (read access, for an old school)."""
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        link = _school_link(case, school)
        if link.removed_at is None:
            raise CaseError(_("%(school)s has not lost its access.") % {"school": school.name})
        at = clock.now()
        link.removed_at, link.removed_by = None, None
        link.save(update_fields=["removed_at", "removed_by"])
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            target=link,
            before={"school": school.pk, "access": link.access, "removed": True},
            after={"school": school.pk, "access": link.access, "removed": False},
            detail={"school_access_restored": school.pk},
        )
    return link


# Need to know ------------------------------------------------------------------------------------


def do_set_restricted(*, actor: User, case: Case, restricted: bool, reason: str) -> Case:
    """Restrict the case to its named members (and its manager), or lift the restriction. For the
    case manager or a team leader of the case's school; the actor becomes a named member."""
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if not _may_manage_access(actor, case):
            raise CaseError(_("Only the case manager or a team leader of the case's school can change this."))
        if case.restricted == restricted:
            raise CaseError(
                _("This case is already restricted to named members.")
                if restricted
                else _("This case is not restricted.")
            )
        at = clock.now()
        before = snapshot(case)
        case.restricted = restricted
        case.save(update_fields=["restricted"])
        if restricted:
            for user_id in {actor.pk, case.manager_id} - {None}:
                CaseMember.objects.get_or_create(
                    case=case, user_id=user_id, defaults={"added_at": at, "added_by": actor}
                )
        touch(case, at)
        label = _("Restricted to named members") if restricted else _("Restriction lifted")
        _history(case, actor=actor, reason=f"{label}: {reason}", at=at)
        audit(actor=actor, case=case, before=before, after=snapshot(case), detail={"reason_given": True})
    return case


def member_candidates(case: Case) -> QuerySet[User]:
    """Accounts that may be named on the case: team roles of its district (any school), not yet named."""
    from btam.accounts.models import User

    return (
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__role__in=access.TEAM_ROLES,
            memberships__district_id=case.district_id,
        )
        .exclude(case_memberships__case=case)
        .distinct()
        .order_by("full_name", "email")
    )


def do_add_member(*, actor: User, case: Case, user: User) -> CaseMember:
    """Name a member (a team member, leader or rapid-response member of the case's district,
    whatever their school): on a restricted case, named members and the manager are the ones who
    see it."""
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if not _may_manage_access(actor, case):
            raise CaseError(_("Only the case manager or a team leader of the case's school can name members."))
        if not user.is_active or case.district_id not in user.district_ids(*access.TEAM_ROLES):
            raise CaseError(_("Members must be on a threat assessment team of this district."))
        if CaseMember.objects.filter(case=case, user=user).exists():
            raise CaseError(_("%(who)s is already a member of this case.") % {"who": user})
        at = clock.now()
        member = CaseMember.objects.create(case=case, user=user, added_at=at, added_by=actor)
        touch(case, at)
        audit(actor=actor, case=case, verb=Verb.CREATED, target=member, detail={"member_added": user.pk})
    return member


def do_remove_member(*, actor: User, case: Case, user: User) -> None:
    """Take a named member off the case (the case manager stays: appoint another manager first)."""
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if not _may_manage_access(actor, case):
            raise CaseError(_("Only the case manager or a team leader of the case's school can remove members."))
        if user.pk == case.manager_id:
            raise CaseError(_("The case manager stays a member. Appoint another case manager first."))
        member = CaseMember.objects.filter(case=case, user=user).first()
        if member is None:
            raise CaseError(_("%(who)s is not a member of this case.") % {"who": user})
        audit(actor=actor, case=case, verb=Verb.DELETED, target=member, detail={"member_removed": user.pk})
        member.delete()
        touch(case)


# Break-glass -------------------------------------------------------------------------------------


def do_break_glass(*, actor: User, case: Case, reason: str) -> BreakGlassGrant:
    """Open a case the actor cannot otherwise see, for :data:`access.BREAK_GLASS_HOURS`: for a
    district role of the case's district, with a reason (kept encrypted on the grant; the audit
    event records that one was given). The case's leaders are told at once (and, on a restricted
    case, its manager: a leader who is not named cannot open it)."""
    reason = clean_text(reason, label=_("The reason"), max_chars=MAX_REASON_CHARS, required=True)
    if len(reason) < MIN_BREAK_GLASS_REASON_CHARS:
        raise CaseError(
            _("Give the reason in at least %(min)d characters: it is read by the leaders and the auditors.")
            % {"min": MIN_BREAK_GLASS_REASON_CHARS}
        )
    with transaction.atomic():
        # Not a change to the case: its row is read as it is now, not locked (the actor may not
        # write it yet).
        case = Case.objects.select_related("school", "manager").get(pk=case.pk)
        if not access.can_break_glass(actor, case):
            raise CaseError(_("Only a district-wide team role or data role of the case's district can do this."))
        if Case.objects.visible_to(actor).filter(pk=case.pk).exists():
            raise CaseError(_("You can already see this case."))
        at = clock.now()
        grant = BreakGlassGrant.objects.create(
            case=case,
            user=actor,
            reason=reason,
            created_at=at,
            expires_at=at + dt.timedelta(hours=access.BREAK_GLASS_HOURS),
        )
        audit(
            actor=actor,
            case=case,
            verb=Verb.BREAK_GLASS,
            detail={"grant": grant.pk, "expires_at": grant.expires_at.isoformat(), "reason_given": True},
        )
        recipients = access.leaders_of(case)
        if case.restricted and case.manager is not None and case.manager not in recipients:
            # Leaders who are not named cannot open a restricted case: its manager hears of it too.
            recipients.append(case.manager)
        _notify(
            recipients=[u for u in recipients if u.pk != actor.pk],
            case=case,
            kind="break_glass",
            title=_("Break-glass access to case %(number)s (%(school)s): see who and why on the case")
            % {"number": case.number, "school": case.school.name},
            scope=f"case:{case.pk}:break-glass:{grant.pk}",
            urgent=True,
        )
    return grant
