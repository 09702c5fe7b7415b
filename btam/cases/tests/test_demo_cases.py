"""load_demo adds about twenty fictitious cases over every stage, through the real actions, once:
with the assessments, levels, plans and monitoring their stage calls for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from btam.accounts.models import User
from btam.assessments import plan
from btam.assessments.decision_actions import latest_decided
from btam.assessments.models import Assessment, CheckIn, LevelChange, ReassessmentSchedule
from btam.audit.models import AuditEvent, Verb
from btam.cases.demo import load_demo_cases
from btam.cases.demo_stories import STORIES
from btam.cases.models import (
    Case,
    CaseParticipant,
    CaseReport,
    CaseSchool,
    Document,
    Note,
    Status,
    StatusChange,
    Task,
)
from btam.core.demo import DEMO_DOMAIN
from btam.intake.models import Report, ReporterMessage
from btam.lib import clock
from btam.orgs.models import District

pytestmark = pytest.mark.django_db

# A small roster keeps the test quick; the loader falls back to any student when a school has few.
STUDENTS = 60


@dataclass
class Demo:
    district: District
    made: int
    leader: User
    now: dt.datetime  # the moment the demo was loaded at
    clock_after: dt.datetime  # what the clock said once the loader was done
    output: str  # what load_demo printed


def demo_user(local: str) -> User:
    return User.objects.get(email=f"{local}@{DEMO_DOMAIN}")


@pytest.fixture(scope="module")
def loaded(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo loaded once for this module (inside a transaction rolled back at its end; each
    test's own changes are rolled back to a savepoint), with the clock frozen at ``now``."""
    storages: dict[str, Any] = {**django_settings.STORAGES}
    storages["default"] = {**storages["default"]}
    storages["default"]["OPTIONS"] = {
        **storages["default"].get("OPTIONS", {}),
        "location": str(tmp_path_factory.mktemp("demo-media")),
    }
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], STORAGES=storages)
    with django_db_blocker.unblock(), fast:
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            now = timezone.now().replace(microsecond=0)
            clock.freeze(now)
            out = StringIO()
            call_command("load_demo", students=STUDENTS, stdout=out)
            clock_after = clock.now()
            clock.reset()
            district = District.objects.get(slug="cedar-ridge-demo")
            made = Case.objects.filter(district=district).count()
            yield Demo(district, made, demo_user("leader"), now, clock_after, out.getvalue())
        finally:
            clock.reset()
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def demo(loaded: Demo, db: None) -> Demo:
    return loaded


def test_it_makes_about_twenty_cases_in_every_stage(demo: Demo) -> None:
    cases = Case.objects.filter(district=demo.district)
    assert demo.made == cases.count() == len(STORIES)
    assert 18 <= demo.made <= 24
    by_status = {status: cases.filter(status=status).count() for status in Status.values}
    assert all(by_status[status] >= 3 for status in Status.values), by_status
    # One reopened, one restricted, one transferred between schools, one waiting for the leader.
    reopened = StatusChange.objects.filter(case__district=demo.district, from_status=Status.CLOSED)
    assert reopened.count() == 1 and not reopened.get().case.is_closed
    assert cases.filter(restricted=True).count() == 1
    transferred = CaseSchool.objects.filter(case__district=demo.district, access=CaseSchool.Access.READ)
    assert transferred.count() == 1 and transferred.get().case.school != transferred.get().school
    pending = [case for case in cases if case.closure_pending]
    assert len(pending) == 1 and pending[0].closure_requested_by == demo_user("counselor")
    # The gates were passed as the workflow wants them: every case past screening has its decision,
    # every case past evaluation its risk level, and every closed case its reason and approver.
    for case in cases.exclude(status=Status.SCREENING):
        assert case.screening_decision or case.is_closed, case.number
    for case in cases.filter(status__in=[Status.MANAGEMENT, Status.MONITORING]):
        assert case.risk_level and case.risk_rationale, case.number
    for case in cases.filter(status=Status.CLOSED):
        assert case.closure_reason and case.closed_by == demo.leader, case.number


def test_the_cases_have_people_notes_tasks_documents_and_reporter_threads(demo: Demo) -> None:
    district = demo.district
    people = CaseParticipant.objects.filter(case__district=district, removed_at__isnull=True)
    assert people.filter(person__isnull=False, role=CaseParticipant.Role.SUBJECT).count() >= 15
    assert people.filter(person__isnull=False, role=CaseParticipant.Role.GUARDIAN).exists()
    assert people.filter(person__isnull=True).count() >= 3  # free-text people not identified yet
    notes = Note.objects.filter(case__district=district)
    assert notes.count() >= 50
    assert set(notes.values_list("kind", flat=True)) == set(Note.Kind.values)
    assert set(notes.values_list("author__email", flat=True)) >= {
        f"{local}@{DEMO_DOMAIN}" for local in ("leader", "counselor", "sro")
    }
    today = timezone.localdate(demo.now)
    tasks = Task.objects.filter(case__district=district)
    overdue = tasks.filter(status__in=Task.OPEN_STATUSES, due_on__lt=today)
    assert overdue.count() >= 4
    assert not overdue.filter(case__status=Status.CLOSED).exists()
    assert tasks.filter(status=Task.Status.DONE).count() >= 10
    assert set(tasks.values_list("assignee__email", flat=True)) >= {
        f"{local}@{DEMO_DOMAIN}" for local in ("leader", "counselor", "sro")
    }
    documents = Document.objects.filter(case__district=district)
    assert documents.count() >= 3
    assert {d.current.content_type for d in documents if d.current} == {"application/pdf", "image/png"}
    messages = ReporterMessage.objects.filter(report__case_link__case__district=district)
    threads = set(messages.values_list("report__case_link__case", flat=True))
    assert len(threads) >= 8
    assert messages.filter(direction=ReporterMessage.Direction.FROM_REPORTER).count() >= 8
    # The newest reply waits for the team ("New" on the Reporter tab); the older ones were read.
    unread = messages.filter(direction=ReporterMessage.Direction.FROM_REPORTER, read_at__isnull=True)
    assert unread.count() == 1


def test_some_demo_reports_become_cases_and_the_others_stay_in_the_triage_queue(demo: Demo) -> None:
    reports = Report.objects.filter(district=demo.district)
    on_cases = reports.filter(case_link__isnull=False)
    assert reports.filter(status__in=Report.OPEN_STATUSES, case_link__isnull=True).count() == 6
    assert on_cases.count() == reports.count() - 6
    assert all(r.status == Report.Status.CASE_OPENED for r in on_cases)
    # The two reports about the gun at Friday's game are on one case, opened minutes ago.
    newest = Case.objects.filter(district=demo.district).order_by("-opened_at").first()
    assert newest is not None and CaseReport.objects.filter(case=newest).count() == 2
    assert demo.now - newest.opened_at < dt.timedelta(hours=1)


def test_the_cases_have_a_realistic_spread_of_ages_and_numbers_in_opening_order(demo: Demo) -> None:
    cases = list(Case.objects.filter(district=demo.district).order_by("opened_at"))
    now = demo.now
    assert now - cases[0].opened_at > dt.timedelta(days=120)
    assert now - cases[-1].opened_at < dt.timedelta(days=1)
    assert [(c.year, c.seq) for c in cases] == sorted((c.year, c.seq) for c in cases)
    assert all(c.opened_at <= c.updated_at <= now for c in cases)
    # Counted in whole days before loading, not calendar dates, which depend on the hour the demo
    # was loaded at (late in the day, two updates a few hours apart fall on one date).
    assert len({(now - c.updated_at).days for c in cases}) >= 10
    # Everything was done through the actions: each case's opening and each note is audited.
    for case in cases:
        assert AuditEvent.objects.filter(verb=Verb.CREATED, target_type="cases.case", target_id=str(case.pk)).exists()
    assert AuditEvent.objects.filter(verb=Verb.CREATED, target_type="cases.note").count() == Note.objects.count()


def test_the_clock_is_put_back_after_loading(demo: Demo) -> None:
    # The loader moves the clock back for each action, then leaves it as it found it (frozen here).
    assert demo.clock_after == demo.now


def test_loading_again_changes_nothing(demo: Demo) -> None:
    counts = (Case.objects.count(), Note.objects.count(), Task.objects.count(), Report.objects.count())
    assert load_demo_cases(demo.district) == 0
    assert (Case.objects.count(), Note.objects.count(), Task.objects.count(), Report.objects.count()) == counts


def test_the_load_demo_command_adds_the_cases_once(demo: Demo) -> None:
    assert f"Added {len(STORIES)} demo cases." in demo.output
    out = StringIO()
    call_command("load_demo", students=STUDENTS, stdout=out)
    assert "Demo cases already loaded." in out.getvalue()
    assert Case.objects.count() == len(STORIES)


def test_every_case_is_reachable_by_the_demo_leader(demo: Demo, settings: Any) -> None:
    settings.DEMO_MODE = True  # demo accounts have no second factor
    cases = Case.objects.filter(district=demo.district)
    assert Case.objects.visible_to(demo.leader).count() == cases.count()
    client = Client()
    client.force_login(demo.leader)
    for case in cases:
        response = client.get(reverse("cases:detail", args=[case.pk]))
        assert response.status_code == 200, case.number
        assert case.number in response.content.decode()
    listing = client.get(reverse("cases:list") + "?include_closed=on")
    assert listing.status_code == 200


def test_the_restricted_demo_case_is_hidden_from_the_demo_sro(demo: Demo) -> None:
    restricted = Case.objects.get(district=demo.district, restricted=True)
    assert not Case.objects.visible_to(demo_user("sro")).filter(pk=restricted.pk).exists()
    assert Case.objects.visible_to(demo_user("counselor")).filter(pk=restricted.pk).exists()
    assert Case.objects.visible_to(demo.leader).filter(pk=restricted.pk).exists()


# Assessments, levels, plans and monitoring (btam/assessments/demo_plans.py) ----------------------------


def past_evaluation(district: District) -> list[Case]:
    """Cases that entered management: open ones there or in monitoring, closed ones closed from there."""
    later = [Status.MANAGEMENT, Status.MONITORING]
    cases = Case.objects.filter(district=district)
    return list(cases.filter(status__in=later)) + list(cases.filter(status=Status.CLOSED, closed_from__in=later))


def test_every_case_past_evaluation_has_a_decided_assessment_whose_level_is_on_the_case(demo: Demo) -> None:
    cases = past_evaluation(demo.district)
    assert len(cases) >= 10
    for case in cases:
        latest = latest_decided(case)
        assert latest is not None, case.number
        assert (latest.level, latest.scheme_id) == (case.risk_level, case.risk_scheme), case.number
        assert latest.rationale and case.risk_rationale == latest.rationale, case.number
        # The level took effect through the decision: it is the last entry of the case's level history.
        last = LevelChange.objects.filter(case=case).order_by("set_at", "pk").last()
        assert last is not None and last.assessment_id == latest.pk, case.number
    # Cases still in screening or evaluation have no level yet.
    early = Case.objects.filter(district=demo.district, status__in=[Status.SCREENING, Status.EVALUATION])
    assert not early.exclude(risk_level="").exists()


def test_monitoring_cases_have_a_reassessment_schedule_and_check_ins(demo: Demo) -> None:
    monitored = Case.objects.filter(district=demo.district, status=Status.MONITORING)
    assert monitored.count() >= 3
    for case in monitored:
        found = ReassessmentSchedule.objects.get(case=case)
        assert case.reassess_due_on == found.due_on, case.number
        assert CheckIn.objects.filter(case=case).count() >= 2, case.number


def test_a_reassessment_changed_a_level_and_a_decision_waits_for_the_leader(demo: Demo) -> None:
    reassessed = Assessment.objects.filter(
        case__district=demo.district, previous__isnull=False, status=Assessment.Status.DECIDED
    )
    pairs = [(a, a.previous.level if a.previous else "") for a in reassessed.select_related("previous")]
    changed = [(a, before) for a, before in pairs if a.level != before]
    assert changed, "no reassessment changed a level"
    assert ("moderate", "low") in {(before, a.level) for a, before in changed}
    for assessment, before in changed:
        change = LevelChange.objects.get(assessment=assessment)
        assert (change.previous_level, change.level) == (before, assessment.level)
    pending = Assessment.objects.filter(case__district=demo.district, status=Assessment.Status.PENDING_APPROVAL)
    assert pending.count() == 1
    waiting = pending.get()
    assert waiting.level == "high" and waiting.decided_by == demo_user("counselor")
    assert waiting.case.status == Status.EVALUATION and not waiting.case.risk_level


def test_the_plan_of_each_open_case_holds_the_interventions_its_level_requires(demo: Demo) -> None:
    with_level = Case.objects.filter(district=demo.district).exclude(risk_level="").exclude(status=Status.CLOSED)
    assert with_level.count() >= 8
    required_somewhere = False
    for case in with_level:
        required, _suggested = plan.level_rules(case)
        required_somewhere = required_somewhere or bool(required)
        assert plan.required_missing(case) == [], case.number
    assert required_somewhere
