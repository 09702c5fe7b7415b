"""What the leader's monitoring board shows: five panels over the schools a viewer leads, each a
count and its first items (the most urgent or the oldest first), built from the querysets that
decide visibility (``Case.objects.visible_to``, ``Report.objects.visible_to``).

Only numbers, schools, levels, dates and staff names: never a student's name, a title or a
narrative (the board may hang on a wall screen). Rows are loaded with ``only()`` so that no
encrypted field is even decrypted.

The number of queries does not depend on how many reports, cases or tasks there are: per panel a
count (or one grouped count) and one page of rows with their school and people joined; the level
names cost a few look-ups per district (its settings and definition files), not per case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from btam.assessments import levels, schedule
from btam.assessments.models import Assessment
from btam.board.access import led_school_ids
from btam.cases.models import Case, CaseQuerySet, Status, Task
from btam.intake.models import Report
from btam.lib import clock
from btam.orgs.models import School

if TYPE_CHECKING:
    from btam.accounts.models import User

# Items listed per panel (the count says how many there are; the panel links to the full list).
PANEL_SIZE = 10
OPEN_STAGES = (Status.SCREENING, Status.EVALUATION, Status.MANAGEMENT, Status.MONITORING)


# Wording ------------------------------------------------------------------------------------------


def age_in_words(since: dt.datetime, now: dt.datetime) -> str:
    """ "just now", "12 min", "5 h", "3 days": how long a report has waited."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 1:
        return _("just now")
    if minutes < 60:
        return ngettext("%(count)d min", "%(count)d min", minutes) % {"count": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(count)d h", "%(count)d h", hours) % {"count": hours}
    days = hours // 24
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


def days_overdue_in_words(days: int) -> str:
    return ngettext("%(count)d day overdue", "%(count)d days overdue", days) % {"count": days}


def _case_list_url(**params: Any) -> str:
    """The case list filtered by ``params`` (the list's own query-string filters)."""
    pairs = [(k, str(v)) for k, v in params.items() if v not in (None, "")]
    return reverse("cases:list") + ("?" + urlencode(pairs) if pairs else "")


# Rows ---------------------------------------------------------------------------------------------


@dataclass
class ReportRow:
    report: Report
    age: str
    urgent: bool


@dataclass
class TaskRow:
    task: Task
    days_overdue: int
    in_words: str


@dataclass
class DueRow:
    case: Case
    level: str
    in_words: str
    overdue: bool


@dataclass
class DecisionRow:
    assessment: Assessment
    level: str
    waiting: str


@dataclass
class Tally:
    label: str
    count: int
    url: str = ""  # the case list filtered that way ("" when the list cannot filter so)
    key: str = ""


@dataclass
class LevelGroup:
    """Open cases by level in one district's current scheme (highest level first), then the cases
    decided with another scheme, then those without a level."""

    district_name: str
    rows: list[Tally] = field(default_factory=list)


@dataclass
class Panel:
    count: int = 0
    rows: list[Any] = field(default_factory=list)
    more_url: str = ""

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.rows))


@dataclass
class Board:
    now: dt.datetime
    today: dt.date
    reports: Panel
    tasks: Panel
    due: Panel
    due_overdue: int
    by_level: list[LevelGroup]
    by_stage: list[Tally]
    open_total: int
    decisions: Panel | None  # None: the viewer leads no school (nothing to approve)

    @property
    def due_soon(self) -> int:
        """Reassessments due within the week (not overdue)."""
        return self.due.count - self.due_overdue

    def shown_ids(self) -> dict[str, list[int]]:
        """The ids on the board (for the audit event of the read)."""
        case_ids = {r.task.case_id for r in self.tasks.rows}
        case_ids |= {r.case.pk for r in self.due.rows}
        if self.decisions is not None:
            case_ids |= {r.assessment.case_id for r in self.decisions.rows}
        return {
            "reports": [r.report.pk for r in self.reports.rows],
            "tasks": [r.task.pk for r in self.tasks.rows],
            "cases": sorted(case_ids),
        }

    def counts(self) -> dict[str, int]:
        return {
            "unacknowledged_reports": self.reports.count,
            "overdue_tasks": self.tasks.count,
            "reassessments_due": self.due.count,
            "reassessments_overdue": self.due_overdue,
            "open_cases": self.open_total,
            "decisions_waiting": self.decisions.count if self.decisions is not None else 0,
        }


# Panels -------------------------------------------------------------------------------------------


def unacknowledged_reports(user: User, school_ids: set[int], now: dt.datetime) -> Panel:
    """Reports still new and not acknowledged (abuse left out, as in the queue): the most urgent
    first, then the oldest."""
    qs = Report.objects.visible_to(user).filter(
        school_id__in=school_ids, status=Report.Status.NEW, acknowledged_at__isnull=True, is_abuse=False
    )
    count = qs.count()
    rows: list[ReportRow] = []
    if count:
        found = (
            qs.select_related("school")
            .only("pk", "urgency", "created_at", "status", "school__name", "school__district_id")
            .order_by("-urgency", "created_at", "pk")[:PANEL_SIZE]
        )
        rows = [ReportRow(r, age_in_words(r.created_at, now), r.is_urgent) for r in found]
    return Panel(count=count, rows=rows, more_url=reverse("intake:queue"))


def overdue_tasks(cases: CaseQuerySet, today: dt.date) -> Panel:
    """Open tasks of open cases past their due day: the longest overdue first."""
    qs = Task.objects.filter(case__in=schedule.open_cases(cases), status__in=Task.OPEN_STATUSES, due_on__lt=today)
    count = qs.count()
    rows: list[TaskRow] = []
    if count:
        found = (
            qs.select_related("case", "case__school", "assignee")
            .only(
                "pk",
                "due_on",
                "status",
                "case__id",
                "case__year",
                "case__seq",
                "case__school__name",
                "assignee__full_name",
                "assignee__email",
            )
            .order_by("due_on", "pk")[:PANEL_SIZE]
        )
        for task in found:
            assert task.due_on is not None  # filtered on it above
            late = (today - task.due_on).days
            rows.append(TaskRow(task, late, days_overdue_in_words(late)))
    return Panel(count=count, rows=rows, more_url=_case_list_url(overdue=1, sort="due", order="asc"))


def reassessments_due(cases: CaseQuerySet, today: dt.date, labels: levels.LevelLabels) -> tuple[Panel, int]:
    """Overdue reassessments and those due within ``schedule.DUE_SOON_DAYS`` (as
    /assessments/due/): the most overdue first. Returns the panel and how many are overdue."""
    qs = schedule.due_cases(cases, on=today)
    counts = qs.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(reassess_due_on__lt=today)))
    rows: list[DueRow] = []
    if counts["total"]:
        found = qs.select_related("school").only(
            "pk",
            "year",
            "seq",
            "district_id",
            "risk_level",
            "risk_scheme",
            "reassess_due_on",
            "status",
            "school__name",
        )[:PANEL_SIZE]
        for c in found:
            assert c.reassess_due_on is not None  # filtered on it by due_cases
            rows.append(
                DueRow(
                    case=c,
                    level=labels(c.district_id, c.risk_scheme, c.risk_level),
                    in_words=schedule.due_in_words(c.reassess_due_on, today),
                    overdue=schedule.is_overdue(c.reassess_due_on, today),
                )
            )
    panel = Panel(count=counts["total"], rows=rows, more_url=reverse("assessments:due"))
    return panel, counts["overdue"]


def cases_by_level_and_stage(
    cases: CaseQuerySet, districts: dict[int, str], school_id: int | None, labels: levels.LevelLabels
) -> tuple[list[LevelGroup], list[Tally], int]:
    """Open cases counted by level (each district's current scheme, highest first, every level
    shown even at 0) and by stage, in one grouped query; each count links to the case list
    filtered that way."""
    grouped = (
        schedule.open_cases(cases)
        .order_by()
        .values("district_id", "status", "risk_scheme", "risk_level")
        .annotate(n=Count("pk"))
    )
    by_stage: dict[str, int] = {}
    by_level: dict[int, dict[tuple[str, str], int]] = {}
    total = 0
    for row in grouped:
        total += row["n"]
        by_stage[row["status"]] = by_stage.get(row["status"], 0) + row["n"]
        key = (row["risk_scheme"] or "", row["risk_level"] or "")
        per_district = by_level.setdefault(row["district_id"], {})
        per_district[key] = per_district.get(key, 0) + row["n"]

    stages = [
        Tally(
            label=str(stage.label),
            count=by_stage.get(stage.value, 0),
            url=_case_list_url(stage=stage.value, school=school_id),
            key=stage.value,
        )
        for stage in OPEN_STAGES
    ]

    groups: list[LevelGroup] = []
    for district_id, name in sorted(districts.items(), key=lambda item: item[1]):
        counted = by_level.get(district_id, {})
        scheme = levels.scheme_for(district_id)
        group = LevelGroup(district_name=name)
        current = {level.id for level in scheme.levels}
        for level in reversed(scheme.levels):
            n = counted.pop((scheme.id, level.id), 0)
            # Cases decided before the scheme had an id recorded count with the current scheme.
            n += counted.pop(("", level.id), 0)
            group.rows.append(
                Tally(
                    label=str(level.label),
                    count=n,
                    url=_case_list_url(risk=level.id, school=school_id),
                    key=level.id,
                )
            )
        unrecorded = sum(n for (_scheme, level_id), n in counted.items() if not level_id)
        for (scheme_id, level_id), n in sorted(counted.items()):
            if not level_id:
                continue
            label = labels(district_id, scheme_id, level_id)
            group.rows.append(
                Tally(
                    label=_("%(level)s (earlier scheme)") % {"level": label},
                    count=n,
                    # The list filters by level id: only an id of the current scheme means the same.
                    url=_case_list_url(risk=level_id, school=school_id) if level_id in current else "",
                    key=f"{scheme_id}:{level_id}",
                )
            )
        group.rows.append(
            Tally(
                label=_("Not recorded yet"),
                count=unrecorded,
                url=_case_list_url(risk="none", school=school_id),
                key="none",
            )
        )
        groups.append(group)
    return groups, stages, total


def decisions_waiting(
    user: User, cases: CaseQuerySet, school_ids: set[int], labels: levels.LevelLabels
) -> Panel | None:
    """Risk-level decisions waiting for a leader's approval on open cases of the schools the viewer
    leads, the longest waiting first (None when the viewer leads none of the board's schools)."""
    led = led_school_ids(user) & school_ids
    if not led:
        return None
    qs = Assessment.objects.filter(
        status=Assessment.Status.PENDING_APPROVAL, case__in=schedule.open_cases(cases).filter(school_id__in=led)
    )
    count = qs.count()
    rows: list[DecisionRow] = []
    if count:
        now = clock.now()
        found = (
            qs.select_related("case", "case__school")
            .only(
                "pk",
                "status",
                "district_id",
                "scheme_id",
                "scheme_version",
                "level",
                "decided_at",
                "started_at",
                "case__id",
                "case__year",
                "case__seq",
                "case__school__name",
            )
            .order_by("decided_at", "pk")[:PANEL_SIZE]
        )
        for a in found:
            rows.append(
                DecisionRow(
                    assessment=a,
                    level=labels(a.district_id, a.scheme_id, a.level, a.scheme_version),
                    waiting=age_in_words(a.decided_at or a.started_at, now),
                )
            )
    return Panel(count=count, rows=rows)


def build(user: User, schools: list[School], *, school: School | None = None) -> Board:
    """The board over ``schools`` (the viewer's board schools, already fetched), or over ``school``
    alone when the viewer chose one of them."""
    now = clock.now()
    today = timezone.localdate(now)
    chosen = [school] if school is not None else schools
    school_ids = {s.pk for s in chosen}
    districts = {s.district_id: s.district.name for s in chosen}
    cases = Case.objects.visible_to(user).filter(school_id__in=school_ids)
    labels = levels.LevelLabels()
    due, due_overdue = reassessments_due(cases, today, labels)
    by_level, by_stage, open_total = cases_by_level_and_stage(
        cases, districts, school.pk if school is not None else None, labels
    )
    return Board(
        now=now,
        today=today,
        reports=unacknowledged_reports(user, school_ids, now),
        tasks=overdue_tasks(cases, today),
        due=due,
        due_overdue=due_overdue,
        by_level=by_level,
        by_stage=by_stage,
        open_total=open_total,
        decisions=decisions_waiting(user, cases, school_ids, labels),
    )
