"""What the workspace (home page) shows of cases: counts and case numbers only, no content."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils import timezone

from btam.accounts.models import Role
from btam.cases.access import CASE_PAGE_ROLES
from btam.cases.models import Case, Status, Task
from btam.lib import clock
from btam.teams.warnings import DataRoleWarning, data_role_warnings

if TYPE_CHECKING:
    from btam.accounts.models import User

RECENT = 5


@dataclass
class CaseSummary:
    works_cases: bool = False
    my_open: int = 0
    my_overdue_tasks: int = 0
    closures_waiting: int = 0
    reassessments_due: int = 0  # open cases due for reassessment within a week, or overdue
    decisions_waiting: int = 0  # risk-level decisions waiting for a leader's approval
    manages_assessment_settings: bool = False
    recent: list[Case] = field(default_factory=list)
    # No active database manager / no backup administrator (btam.teams.warnings), for database
    # managers, team leaders and system administrators: shown whether or not they work cases.
    data_role_warnings: list[DataRoleWarning] = field(default_factory=list)


def summary(user: User) -> CaseSummary:
    warnings = data_role_warnings(user) if user.is_authenticated else []
    if not user.is_authenticated or not user.has_role(*CASE_PAGE_ROLES):
        return CaseSummary(data_role_warnings=warnings)
    visible = Case.objects.visible_to(user)
    mine = visible.filter(manager_id=user.pk).exclude(status=Status.CLOSED).filter(merged_into__isnull=True)
    today = timezone.localdate(clock.now())
    result = CaseSummary(
        works_cases=True,
        my_open=mine.count(),
        my_overdue_tasks=Task.objects.filter(
            assignee_id=user.pk, status__in=Task.OPEN_STATUSES, due_on__lt=today, case__in=visible
        ).count(),
        recent=list(mine.only("pk", "year", "seq", "status", "updated_at").order_by("-updated_at")[:RECENT]),
        data_role_warnings=warnings,
    )
    from btam.assessments.access import settings_district_ids
    from btam.assessments.models import Assessment
    from btam.assessments.schedule import DUE_SOON_DAYS

    result.reassessments_due = (
        visible.filter(reassess_due_on__lte=today + dt.timedelta(days=DUE_SOON_DAYS), merged_into__isnull=True)
        .exclude(status=Status.CLOSED)
        .count()
    )
    result.manages_assessment_settings = bool(settings_district_ids(user))
    if user.has_role(Role.TEAM_LEADER):
        result.closures_waiting = (
            visible.filter(closure_requested_at__isnull=False).exclude(status=Status.CLOSED).count()
        )
        result.decisions_waiting = Assessment.objects.filter(
            status=Assessment.Status.PENDING_APPROVAL,
            case__in=visible.exclude(status=Status.CLOSED).filter(merged_into__isnull=True),
        ).count()
    return result
