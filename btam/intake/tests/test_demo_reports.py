"""load_demo adds fictitious reports through the real intake action, once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from btam.intake.actions import find_report_by_code
from btam.intake.demo import DEMO_RECEIPT_CODE, REPORTS
from btam.intake.models import Report, ReporterMessage, Urgency
from btam.worker.models import OutboxMessage


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", students=40, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_load_demo_adds_reports_of_every_urgency_once_and_prints_the_demo_code(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the intake demo here: the demo cases add reports of their own (btam/cases/tests/test_demo_cases.py).
    monkeypatch.setattr("btam.core.management.commands.load_demo.load_demo_cases", lambda district: 0)
    output = load_demo()
    reports = Report.objects.all()
    assert reports.count() == len(REPORTS)
    assert f"Added {len(REPORTS)} demo reports." in output
    assert DEMO_RECEIPT_CODE in output
    assert {r.urgency for r in reports} >= {Urgency.EMERGENCY, Urgency.URGENT, Urgency.ELEVATED, Urgency.ROUTINE}
    # Made through the action: every report queued its side effects and has a receipt.
    assert OutboxMessage.objects.filter(kind="intake.report_received").count() == len(REPORTS)
    assert all(r.receipt_hash for r in reports)
    # The published demo code opens the first demo report, whose thread holds the team's question.
    demo = find_report_by_code(DEMO_RECEIPT_CODE)
    assert demo is not None
    assert ReporterMessage.objects.filter(report=demo, direction=ReporterMessage.Direction.FROM_TEAM).exists()

    again = load_demo()
    assert Report.objects.count() == len(REPORTS)
    assert "Demo reports already loaded." in again
