"""What the team is told about reports: intake and triage call these (after their commit, from
outbox handlers, or inside their actions). Each is idempotent: calling it again for the same event
tells nobody twice.

- :func:`report_received`: an urgent report starts its escalation (step 0 tells the school's
  rapid-response members at once, in the inbox and by email); any other report is an inbox item
  for the school's team (no email: the teams issue adds digests).
- :func:`reporter_replied`: the reporter wrote in the thread: an inbox item for the school's team.
- :func:`report_referred`: a report was referred to another school: its team leaders are told
  (and an urgent one escalates afresh there).
- :func:`surge_grown`: a surge group reached a new size: the team leaders concerned are told.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from btam.accounts.models import Role
from btam.intake.access import TRIAGE_ROLES
from btam.intake.models import Report, SurgeGroup, TriageDecision
from btam.notifications import escalation, recipients
from btam.notifications.delivery import in_site_language, notify, report_path
from btam.notifications.models import Notification
from btam.orgs.models import School

# A surge group is announced when it reaches each of these sizes, then every 1000 reports.
SURGE_NOTICE_SIZES = (2, 5, 10, 25, 50, 100, 250, 500, 1000)


def surge_group_path(group: SurgeGroup) -> str:
    """The staff page of a surge group (the triage queue if it has none)."""
    for name, args in (("intake:surge_group", [group.pk]), ("intake:queue", [])):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return "/intake/"


@in_site_language
def report_received(report: Report) -> None:
    """A report was committed (called by the ``intake.report_received`` outbox handler)."""
    if report.is_abuse:
        return
    if report.is_urgent:
        escalation.start_for_report(report)
        return
    notify(
        recipients=recipients.covering_school(report.school, TRIAGE_ROLES),
        district_id=report.district_id,
        kind=Notification.Kind.NEW_REPORT,
        title=_("A new report for %(school)s is in the queue") % {"school": report.school.name},
        link=report_path(report),
        target=report,
        urgent=False,
        dedupe_scope=f"report:{report.pk}:received",
        email=False,
    )


@in_site_language
def reporter_replied(report: Report, message_id: int) -> None:
    """The reporter replied in the thread (message ``message_id``). A report on a case is the
    case's team's business: those who work the case now are told (after a transfer, the new
    school's team; on a restricted case, its named members), with a link to its Reporter tab."""
    from btam.cases.access import assignable_users
    from btam.cases.models import CaseReport

    on_case = CaseReport.objects.filter(report_id=report.pk).select_related("case").first()
    if on_case is not None:
        told = assignable_users(on_case.case)
        link = reverse("cases:reporter", args=[on_case.case_id]) + f"#report-{report.pk}"
    else:
        told, link = recipients.covering_school(report.school, TRIAGE_ROLES), report_path(report)
    notify(
        recipients=told,
        district_id=report.district_id,
        kind=Notification.Kind.REPORTER_MESSAGE,
        title=_("The reporter sent a new message about a report for %(school)s") % {"school": report.school.name},
        link=link,
        target=report,
        urgent=report.is_urgent,
        dedupe_scope=f"report:{report.pk}:reply:{message_id}",
        email=False,
    )


@in_site_language
def report_referred(report: Report) -> None:
    """``report`` was referred to the school it now belongs to: that school's team leaders are told,
    and an urgent report starts a fresh escalation there (the referring team's one was acknowledged
    by the referral), beginning with that school's rapid-response members.

    One notice per referral: a report referred on again (or back) is announced again.
    """
    if report.is_urgent and not report.is_abuse:
        escalation.start_for_report(report)
    referrals = TriageDecision.objects.filter(report=report, kind=TriageDecision.Kind.REFER).count()
    notify(
        recipients=recipients.covering_school(report.school, [Role.TEAM_LEADER]),
        district_id=report.district_id,
        kind=Notification.Kind.REFERRAL,
        title=_("A report was referred to %(school)s") % {"school": report.school.name},
        link=report_path(report),
        target=report,
        urgent=report.is_urgent,
        dedupe_scope=f"report:{report.pk}:referral:{referrals}:school:{report.school_id}",
        email=False,
    )


def surge_notice_size(count: int) -> int | None:
    """The size a surge group of ``count`` reports is announced at (None: not yet)."""
    if count >= SURGE_NOTICE_SIZES[-1]:
        return count - count % 1000
    reached = [size for size in SURGE_NOTICE_SIZES if size <= count]
    return reached[-1] if reached else None


@in_site_language
def surge_grown(group: SurgeGroup) -> None:
    """A surge group gained a report. Its district's team leaders (district-wide, and those of the
    schools its reports are for) are told when it reaches 2, 5, 10, 25 ... reports, not each time."""
    count = group.reports.count()
    size = surge_notice_size(count)
    if size is None:
        return
    school_ids = set(group.reports.values_list("school_id", flat=True))
    people = {u.pk: u for u in recipients.district_wide(group.district_id, [Role.TEAM_LEADER])}
    for school in School.objects.filter(pk__in=school_ids):
        people.update({u.pk: u for u in recipients.named_at_school(school, [Role.TEAM_LEADER])})
    notify(
        recipients=people.values(),
        district_id=group.district_id,
        kind=Notification.Kind.SURGE,
        title=ngettext(
            "At least %(count)d report may be about the same thing",
            "At least %(count)d reports may be about the same thing",
            size,
        )
        % {"count": size},
        link=surge_group_path(group),
        target=group,
        urgent=False,
        dedupe_scope=f"surge:{group.pk}:size:{size}",
        email=False,
    )
