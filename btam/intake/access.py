"""Who may see and work reports.

The school's team (team members, leaders, rapid-response members) works the reports of the
schools their access level covers: a district-wide level covers every school of the district.
Referring staff see the status of their own referrals, nothing else. Nobody reaches a report
through the public pages without its receipt code (see public_views.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from btam.accounts.models import Role

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.intake.models import Report, ReportQuerySet

TRIAGE_ROLES = frozenset({Role.TEAM_MEMBER, Role.TEAM_LEADER, Role.RAPID_RESPONSE})
# Staff who may refer a student through the signed-in referral form.
REFERRAL_ROLES = TRIAGE_ROLES | {Role.REFERRING_STAFF}


def triage_school_ids(user: User) -> set[int]:
    if not user.is_authenticated or not user.is_active:
        return set()
    return user.school_ids(*TRIAGE_ROLES)


def scope_reports(qs: ReportQuerySet, user: User) -> ReportQuerySet:
    """Reports of the schools whose team the user is on. A report on a case follows the case's
    need to know as well: a restricted case's report is not shown to the team members it is
    restricted from, nor a transferred case's report to the old school once its access is removed.
    (Subqueries, not joins: triage locks the rows of this queryset FOR UPDATE.)"""
    from django.db.models import Exists, OuterRef

    from btam.cases.models import Case, CaseReport

    schools = triage_school_ids(user)
    if not schools:
        return qs.none()
    on_case = CaseReport.objects.filter(report_id=OuterRef("pk"))
    # Correlated on the report (its one case link, then that case's visibility), so a page of the
    # queue never works out every case the user may see.
    on_visible_case = Case.objects.visible_to(user).filter(report_links__report_id=OuterRef("pk"))
    return qs.filter(school_id__in=schools).filter(~Exists(on_case) | Exists(on_visible_case))


def scope_own_referrals(qs: ReportQuerySet, user: User) -> ReportQuerySet:
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    return qs.filter(submitted_by=user)


def get_report_for_user(user: User, pk: int) -> Report:
    """One report the user's team works; 404 otherwise (existence is not revealed)."""
    from btam.intake.models import Report

    report = Report.objects.visible_to(user).select_related("school", "district").filter(pk=pk).first()
    if report is None:
        raise Http404
    return report
