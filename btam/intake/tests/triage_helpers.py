"""Shared helpers of the triage, surge and referral tests: reports made through the real intake
action (fictitious text), and spies on the notifications hooks the triage actions call."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image

from btam.intake.actions import NamedPerson, NewReport, do_submit_report
from btam.intake.attachments import PreparedAttachment, content_key
from btam.intake.models import Channel, InvolvedPerson, Report, YesNoUnknown
from btam.orgs.models import School

NARRATIVE = "A student said at lunch that he would bring a knife to the game on Friday and hurt someone."


def submit(
    school: School,
    narrative: str = NARRATIVE,
    *,
    names: tuple[str, ...] = (),
    person_ids: tuple[int, ...] = (),
    files: tuple[PreparedAttachment, ...] = (),
    actor: Any = None,
    **answers: Any,
) -> Report:
    """A report through do_submit_report (the public channel by default, with a receipt)."""
    people = [NamedPerson(name=n, role=InvolvedPerson.Role.SUBJECT) for n in names]
    people += [NamedPerson(person_id=pk, role=InvolvedPerson.Role.SUBJECT) for pk in person_ids]
    new = NewReport(school=school, narrative=narrative, people=people, attachments=list(files), **answers)
    return do_submit_report(new=new, actor=actor).report


def urgent(school: School, narrative: str = NARRATIVE, **kwargs: Any) -> Report:
    return submit(school, narrative, weapon=YesNoUnknown.YES, **kwargs)


def emergency(school: School, narrative: str = NARRATIVE, **kwargs: Any) -> Report:
    return submit(school, narrative, danger_now=True, **kwargs)


def staff_referral(school: School, user: Any, narrative: str = NARRATIVE) -> Report:
    new = NewReport(school=school, narrative=narrative, channel=Channel.STAFF, with_receipt=False)
    return do_submit_report(new=new, actor=user).report


def png_attachment(colour: tuple[int, int, int] = (10, 120, 200), name: str = "screenshot.png") -> PreparedAttachment:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    data = buffer.getvalue()
    return PreparedAttachment(
        content=data,
        content_type="image/png",
        original_name=name,
        content_key=content_key(data),
        metadata_stripped=True,
    )


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf_attachment(name: str = "notes.pdf") -> PreparedAttachment:
    return PreparedAttachment(
        content=PDF_BYTES,
        content_type="application/pdf",
        original_name=name,
        content_key=content_key(PDF_BYTES),
        metadata_stripped=False,
    )


@dataclass
class HookSpy:
    """Records the calls the triage actions make to the notifications app."""

    acknowledged: list[tuple[int, int]] = field(default_factory=list)  # (report pk, actor pk)
    escalated: list[int] = field(default_factory=list)
    referred: list[tuple[int, int]] = field(default_factory=list)  # (report pk, school pk)
    surges: list[tuple[int, int]] = field(default_factory=list)  # (group pk, size)


def install_hook_spy(monkeypatch: pytest.MonkeyPatch) -> HookSpy:
    """Replace the notifications hooks with recorders (each test module makes this a fixture)."""
    from btam.notifications import escalation, intake_hooks

    spy = HookSpy()

    def acknowledge(*, target: Any, actor: Any) -> bool:
        spy.acknowledged.append((target.pk, actor.pk))
        return True

    monkeypatch.setattr(escalation, "acknowledge", acknowledge)
    monkeypatch.setattr(escalation, "start_for_report", lambda report: spy.escalated.append(report.pk))
    monkeypatch.setattr(
        intake_hooks, "report_referred", lambda report: spy.referred.append((report.pk, report.school_id))
    )
    monkeypatch.setattr(intake_hooks, "surge_grown", lambda group: spy.surges.append((group.pk, group.reports.count())))
    return spy


# The shared `world` fixture hashes a password for each of its eleven users with Argon2 (seconds per
# test); these tests never sign in with a password, so they use a fast hasher.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
