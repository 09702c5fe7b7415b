"""A report without files is written in one round trip on PostgreSQL (btam.lib.rows): the rows must
be exactly the ones the step-by-step path writes (which SQLite and reports with files take)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, models
from django_tasks_db.models import DBTaskResult

from btam.audit.models import AuditEvent
from btam.intake.actions import NamedPerson, NewReport, do_submit_report
from btam.intake.models import InvolvedPerson, Report, ReportLink, YesNoUnknown
from btam.lib import clock, rows
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2030, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
# Differ between any two reports (keys, tokens, codes) or are the wall clock's (auto_now).
IGNORED = {"id", "report", "target_id", "payload", "args_kwargs", "receipt_hash", "submission_key", "updated_at"}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(T0)
    yield
    clock.reset()


def _new(school: Any, token: str = "", **answers: Any) -> NewReport:
    return NewReport(
        school=school,
        narrative="A boy in ninth grade posted https://example.test/post?utm_source=x that Friday is the day.",
        location="By the gym",
        occurred="This morning",
        people=[NamedPerson(name="Jordan Doe", description="ninth grade"), NamedPerson(description="his friend")],
        reporter_name="A. Parent",
        notify_email="parent@example.test",
        submission_token=token,
        **answers,
    )


def _values(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.name not in IGNORED}


def _written(report: Report) -> dict[str, Any]:
    """Everything stored for the report, read back through the ORM (so encrypted text decrypted)."""
    message = OutboxMessage.objects.filter(payload__report=report.pk).first()
    tasks = DBTaskResult.objects.filter(args_kwargs__args=[message.pk]) if message else DBTaskResult.objects.none()
    return {
        "report": _values(Report.objects.get(pk=report.pk)),
        "people": [_values(p) for p in InvolvedPerson.objects.filter(report=report).order_by("pk")],
        "links": [_values(link) for link in ReportLink.objects.filter(report=report).order_by("pk")],
        "audit": [_values(e) for e in AuditEvent.objects.filter(target_id=str(report.pk), target_type="intake.report")],
        "outbox": _values(message) if message else None,
        "tasks": [(t.task_path, t.queue_name, t.priority, t.backend_name, t.status, t.run_after) for t in tasks],
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="rows are written together on PostgreSQL only")
@pytest.mark.parametrize(
    "answers",
    [{}, {"weapon": YesNoUnknown.YES}, {"suspected_abuse": True}, {"danger_now": True, "with_receipt": False}],
    ids=["routine", "urgent", "abuse", "urgent-without-receipt"],
)
def test_the_rows_written_together_are_the_rows_written_step_by_step(
    world: Any, monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any]
) -> None:
    together = do_submit_report(new=_new(world.school, "a" * 32, **answers), actor=None).report
    assert not together._state.adding
    with monkeypatch.context() as patched:
        patched.setattr(rows, "reserve_ids", lambda *models, **kw: None)
        step_by_step = do_submit_report(new=_new(world.school, "b" * 32, **answers), actor=None).report
    one, other = _written(together), _written(step_by_step)
    assert {k: (v, other["report"][k]) for k, v in one["report"].items() if v != other["report"][k]} == {}
    assert one == other
    assert one["people"] and one["links"] and one["audit"]
    if answers.get("weapon") or answers.get("danger_now"):
        assert len(one["tasks"]) == 1  # delivered at once
    if answers.get("suspected_abuse"):
        assert one["outbox"] is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="rows are written together on PostgreSQL only")
def test_a_resent_form_written_together_keeps_nothing_and_answers_the_first_report(world: Any) -> None:
    first = do_submit_report(new=_new(world.school, "c" * 32), actor=None)
    counts = (OutboxMessage.objects.count(), AuditEvent.objects.count(), InvolvedPerson.objects.count())

    again = do_submit_report(new=_new(world.school, "c" * 32), actor=None)

    assert again.resubmitted and again.report.pk == first.report.pk and again.receipt_code is None
    assert (OutboxMessage.objects.count(), AuditEvent.objects.count(), InvolvedPerson.objects.count()) == counts
    assert Report.objects.count() == 1


def test_reports_are_written_together_on_postgresql_only(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = rows.insert_together

    def counted(objects: list[models.Model], **kwargs: Any) -> None:
        calls.append(len(objects))
        real(objects, **kwargs)

    monkeypatch.setattr(rows, "insert_together", counted)

    report = do_submit_report(new=_new(world.school), actor=None).report

    assert Report.objects.filter(pk=report.pk).exists()
    # The report, two people, a link, the audit event and the outbox message (routine: no task).
    assert calls == ([6] if connection.vendor == "postgresql" else [])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="rows are written together on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_an_urgent_report_is_committed_with_its_task(world: Any) -> None:
    assert not connection.in_atomic_block
    submitted = do_submit_report(new=_new(world.school, "d" * 32, danger_now=True), actor=None)
    written = _written(submitted.report)
    assert written["outbox"] is not None and len(written["tasks"]) == 1 and written["audit"]

    again = do_submit_report(new=_new(world.school, "d" * 32, danger_now=True), actor=None)

    assert again.resubmitted and again.report.pk == submitted.report.pk
    assert Report.objects.count() == 1 and OutboxMessage.objects.count() == 1 and DBTaskResult.objects.count() == 1


@pytest.mark.parametrize("change", ["closed", "moved"])
def test_a_report_for_a_school_closed_or_moved_since_it_was_looked_up_is_not_stored(world: Any, change: str) -> None:
    from btam.intake.actions import SchoolNotTakingReports
    from btam.orgs.models import School
    from btam.testing import DistrictFactory

    stale = School.objects.get(pk=world.school.pk)  # as another process remembers it
    if change == "closed":
        School.objects.filter(pk=stale.pk).update(is_active=False)
    else:
        School.objects.filter(pk=stale.pk).update(district=DistrictFactory.create())

    with pytest.raises(SchoolNotTakingReports):
        do_submit_report(new=_new(stale, "e" * 32, danger_now=True), actor=None)

    assert not Report.objects.exists() and not OutboxMessage.objects.exists() and not AuditEvent.objects.exists()
