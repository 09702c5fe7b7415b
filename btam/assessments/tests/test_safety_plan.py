"""The safety plan: saving its sections (encrypted, audited without the text, stale saves refused),
the printed copies (only the sections for their readers; never the assessment, the rationale,
notes or the reporter), the download (audited, not cached, named by the case number); access and
bad input."""

from __future__ import annotations

import datetime as dt
import re
import zlib
from typing import Any

import pytest
from django.test import Client

from btam.accounts.models import Role
from btam.assessments import plan, safety_pdf
from btam.assessments.models import Intervention, SafetyPlan
from btam.assessments.plan_actions import do_save_safety_plan, do_set_intervention_status, version_of
from btam.assessments.schedule import today
from btam.assessments.tests.plan_helpers import SECRET, intervention, set_level, url
from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError
from btam.cases.models import Case
from btam.cases.note_actions import do_add_note
from btam.cases.tests.notes_tasks_helpers import close, give_read_access, open_case, raw_rows, school_member
from btam.testing import make_member

pytestmark = pytest.mark.django_db

SECTIONS = {
    "warning_signs": "Paces and goes quiet before an outburst",
    "supervision": "Checks in with the counselor at 8:05",
    "trusted_adults": "Ms. Okafor in room 114",
    "restrictions": "No backpack in class; east stairwell only",
    "target_protection": "Separate lunch periods from the other student",
    "parent_role": "Parents lock the cabinet at home",
}
STAFF_ONLY = ("warning_signs", "target_protection")
RATIONALE = "Reviewed by the team: continuing intent, no capacity found."


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


@pytest.fixture
def team(client: Client, member: Any) -> Client:
    client.force_login(member)
    return client


@pytest.fixture
def core_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Print with the PDF core fonts, whose text can be read back from the file."""
    monkeypatch.setattr(safety_pdf, "FONT_FILES", ())


def in_days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def save(case: Case, actor: Any, sections: dict[str, str] | None = None, review: int = 30, **kw: Any) -> SafetyPlan:
    return do_save_safety_plan(
        actor=actor, case=case, sections=SECTIONS if sections is None else sections, review_on=in_days(review), **kw
    )


def streams(content: bytes) -> list[bytes]:
    """Every stream of a PDF, inflated where it is compressed."""
    found = []
    # The end of line before "endstream" is left in the match: a compressed stream may itself end
    # with a CR byte, which "\r?\nendstream" would have taken away (one stream in 256 was then left
    # unread). decompressobj ignores what follows the compressed data.
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", content, re.S):
        try:
            found.append(zlib.decompressobj().decompress(match.group(1)))
        except zlib.error:
            found.append(match.group(1))
    return found


def pdf_text(content: bytes) -> str:
    """The text of a PDF printed with the core fonts (Latin-1)."""
    return b"\n".join([content, *streams(content)]).decode("latin-1").replace("\\(", "(").replace("\\)", ")")


def form_data(version: str, **overrides: str) -> dict[str, str]:
    data = {f"safety-{k}": v for k, v in SECTIONS.items()}
    data["safety-review_on"] = str(in_days(30))
    data["safety-version"] = version
    data.update({f"safety-{k}": v for k, v in overrides.items()})
    return data


# Saving -----------------------------------------------------------------------------------------------
def test_saving_the_plan_encrypts_it_and_audits_only_which_sections(case: Case, member: Any) -> None:
    found = save(case, member, {**SECTIONS, "trusted_adults": SECRET})
    found.refresh_from_db()
    assert found.sections == {**SECTIONS, "trusted_adults": SECRET, "review_on": in_days(30).isoformat()}
    assert found.updated_by == member
    assert "Quinby" not in raw_rows("assessments_safetyplan") and "Okafor" not in raw_rows("assessments_safetyplan")
    event = AuditEvent.objects.get(target_type="assessments.safetyplan", target_id=str(found.pk))
    assert event.verb == Verb.CREATED and event.detail["sections"] == sorted(SECTIONS)
    assert event.detail["review_on"] == in_days(30).isoformat()
    assert "Quinby" not in raw_rows("audit_auditevent")


def test_a_change_audits_the_sections_changed_and_no_change_writes_nothing(case: Case, member: Any) -> None:
    first = save(case, member)
    save(case, member, {**SECTIONS, "restrictions": "East stairwell only"}, version=version_of(first))
    event = AuditEvent.objects.filter(target_type="assessments.safetyplan").order_by("pk").last()
    assert event is not None and event.verb == Verb.UPDATED and event.detail["changed"] == ["restrictions"]
    count = AuditEvent.objects.filter(target_type="assessments.safetyplan").count()
    save(case, member, {**SECTIONS, "restrictions": "East stairwell only"})
    assert AuditEvent.objects.filter(target_type="assessments.safetyplan").count() == count


def test_a_save_from_a_stale_page_is_refused(case: Case, member: Any) -> None:
    opened = version_of(None)
    save(case, member, version=opened)
    with pytest.raises(CaseError, match="Someone else saved the safety plan after you opened it"):
        save(case, member, {"supervision": "Overwrite"}, version=opened)
    assert SafetyPlan.objects.get().sections["supervision"] == SECTIONS["supervision"]


@pytest.mark.parametrize(
    ("sections", "review", "message"),
    [
        ({}, 30, "Write at least one section of the safety plan."),
        ({"supervision": "  "}, 30, "Write at least one section of the safety plan."),
        ({"supervision": "x" * 1_048_576}, 30, r"Supervision and check-in arrangements is too long: at most 5000"),
        ({"supervision": "a\x00b"}, 30, "cannot be stored"),
        ({"nicknames": "x"}, 30, "Unknown section of the safety plan: nicknames."),
        ({"supervision": "Daily"}, -1, "The review date has passed: choose today or a later day."),
        ({"supervision": "Daily"}, 400, "Review a safety plan within a year"),
    ],
)
def test_bad_plans_are_refused(case: Case, member: Any, sections: dict[str, str], review: int, message: str) -> None:
    with pytest.raises(CaseError, match=message):
        save(case, member, sections, review=review)
    assert not SafetyPlan.objects.exists()


def test_a_review_date_is_required(case: Case, member: Any) -> None:
    with pytest.raises(CaseError, match="Enter the date the safety plan will be reviewed."):
        do_save_safety_plan(actor=member, case=case, sections=SECTIONS, review_on=None)


def test_a_review_date_that_has_since_passed_may_stay(case: Case, member: Any, clock: Any) -> None:
    save(case, member, review=2)
    clock.advance(days=5)
    found = save(case, member, {**SECTIONS, "supervision": "Twice a day"}, review=-3)
    assert found.sections["review_on"] == in_days(-3).isoformat()


def test_a_closed_case_or_a_read_only_school_cannot_save(world: Any, case: Case, member: Any) -> None:
    reader = school_member(world, world.other_school)
    give_read_access(case, world.other_school, member)
    with pytest.raises(CaseError, match="You can no longer change this case"):
        save(case, reader)
    close(case, world)
    with pytest.raises(CaseError, match="This case is closed."):
        save(case, member)
    assert not SafetyPlan.objects.exists()


# The printed copies -----------------------------------------------------------------------------------------------
def test_each_copy_holds_only_the_sections_for_its_readers(case: Case, member: Any) -> None:
    found = save(case, member)
    family = safety_pdf.document_for(case, found, plan.FAMILY, printed_on=today())
    staff = safety_pdf.document_for(case, found, plan.STAFF, printed_on=today())
    assert [s.text for s in family.sections] == [SECTIONS[k] for k in SECTIONS if k not in STAFF_ONLY]
    assert [s.text for s in staff.sections] == list(SECTIONS.values())
    assert family.case_number == case.number and family.school == "North Test High"
    assert family.review_on == in_days(30) and family.updated_on == today()


def test_the_people_responsible_are_the_manager_and_the_owners_of_open_interventions(
    world: Any, case: Case, member: Any
) -> None:
    leader = world.users[Role.TEAM_LEADER]
    other = make_member(Role.TEAM_MEMBER, world.district, full_name="Stopped Owner")
    intervention(case, member, owner=leader)
    intervention(case, member, "parent-conference", owner=leader)
    stopped = intervention(case, member, "schedule-change", owner=other)
    do_set_intervention_status(actor=member, intervention=stopped, status=Intervention.Status.STOPPED, outcome="No.")
    assert safety_pdf.responsible_people(case) == [member.full_name, leader.full_name]


def test_the_printed_copy_never_holds_the_assessment_rationale_notes_or_reporter(
    case: Case, member: Any, core_fonts: None
) -> None:
    set_level(case, "high")
    do_add_note(
        actor=member, case=case, kind="interview", occurred_on=today(), body="Interview note: said he was angry"
    )
    found = save(case, member)
    for readers in plan.READERS:
        text = pdf_text(safety_pdf.render(safety_pdf.document_for(case, found, readers, printed_on=today())))
        assert case.number in text and "North Test High" in text
        assert (
            RATIONALE[:30] not in text
            and "Interview note" not in text
            and "High" not in text.replace("North Test High", "")
        )
        assert "Concern in the north building" not in text  # the case title is not printed either
        for key, value in SECTIONS.items():
            assert (value in text) == (readers == plan.STAFF or key not in STAFF_ONLY), (readers, key)


def test_names_in_any_script_print_with_dejavu(case: Case, member: Any) -> None:
    # make test installs the font (scripts/ensure_chromium.sh); running pytest alone needs it too.
    assert safety_pdf.find_font() is not None, "DejaVu Sans is missing: install the Debian package fonts-dejavu-core"
    member.full_name = "Nguyễn Thị Đào"
    member.save(update_fields=["full_name"])
    found = save(case, member, {"trusted_adults": "Ms. Łukasiewicz, Mr. Ωmega, Зоя"})
    content = safety_pdf.render(safety_pdf.document_for(case, found, plan.FAMILY, printed_on=today()))
    assert content.startswith(b"%PDF-") and b"DejaVu" in content
    # The characters are embedded (the font's Unicode map names them), not folded to "?".
    cmaps = b"".join(stream for stream in streams(content) if b"beginbfchar" in stream)
    for char in "ễĐŁΩЗ":
        assert f"<{ord(char):04X}>".encode() in cmaps, char


def test_without_dejavu_names_are_folded_not_lost(case: Case, member: Any, core_fonts: None) -> None:
    found = save(case, member, {"trusted_adults": "Mr. Nguyễn"})
    text = pdf_text(safety_pdf.render(safety_pdf.document_for(case, found, plan.FAMILY, printed_on=today())))
    assert "Mr. Nguyen" in text


def test_a_long_plan_runs_over_several_pages(case: Case, member: Any, core_fonts: None) -> None:
    found = save(case, member, {k: "A line of the plan. " * 240 for k in SECTIONS})
    content = safety_pdf.render(safety_pdf.document_for(case, found, plan.STAFF, printed_on=today()))
    pages = re.search(rb"/Count (\d+)", content)
    assert pages is not None and int(pages.group(1)) >= 3


# The pages -----------------------------------------------------------------------------------------------
def test_the_safety_plan_page_saves_through_the_form(team: Client, case: Case) -> None:
    page = team.get(url("safety_plan", case))
    body = page.content.decode()
    assert page.status_code == 200 and 'name="safety-target_protection"' in body and 'value="new"' in body
    assert (
        "Printed for: staff supervising the plan." in body
        and "Printed for: staff supervising the plan, the student and family." in body
    )
    response = team.post(url("safety_plan", case), form_data("new"))
    assert response.status_code == 302 and response["Location"] == url("safety_plan", case)
    assert SafetyPlan.objects.get().sections["restrictions"] == SECTIONS["restrictions"]
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), detail__tab="plan").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"review_on": ""}, "Enter the date the safety plan will be reviewed."),
        ({"review_on": "2026-13-01"}, "Enter a real date, for example 2026-03-14."),
        ({"supervision": "x" * 1_048_576}, "Ensure this value has at most 5000 characters (it has 1048576)."),
        ({k: "" for k in SECTIONS}, "Write at least one section of the safety plan."),
    ],
)
def test_the_page_refuses_bad_input_and_keeps_the_text(
    team: Client, case: Case, overrides: dict[str, str], message: str
) -> None:
    response = team.post(url("safety_plan", case), form_data("new", **overrides))
    assert response.status_code == 400
    body = response.content.decode().replace("&#x27;", "'")
    assert message in body
    assert not SafetyPlan.objects.exists()


def test_the_page_refuses_a_stale_save_and_keeps_the_text(team: Client, case: Case, member: Any) -> None:
    save(case, member)
    response = team.post(url("safety_plan", case), form_data("new", supervision="My newer arrangements"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Someone else saved the safety plan after you opened it." in body and "My newer arrangements" in body


def test_a_read_only_school_reads_the_plan_without_a_form(world: Any, client: Client, case: Case, member: Any) -> None:
    save(case, member)
    give_read_access(case, world.other_school, member)
    client.force_login(school_member(world, world.other_school))
    body = client.get(url("safety_plan", case)).content.decode()
    assert SECTIONS["restrictions"] in body and 'data-testid="safety-form"' not in body
    assert client.post(url("safety_plan", case), form_data("x")).status_code == 403


def test_another_schools_case_is_not_found(world: Any, client: Client, case: Case, member: Any) -> None:
    save(case, member)
    client.force_login(school_member(world, world.other_school))
    assert client.get(url("safety_plan", case)).status_code == 404
    assert client.get(url("safety_plan_pdf", case) + "?for=staff").status_code == 404
    client.force_login(world.outsider)
    assert client.get(url("safety_plan_pdf", case) + "?for=family").status_code == 404
    assert not AuditEvent.objects.filter(verb=Verb.DOWNLOADED).exists()


# The download -----------------------------------------------------------------------------------------------
def test_downloading_the_family_copy(team: Client, case: Case, member: Any, core_fonts: None) -> None:
    found = save(case, member)
    response = team.get(url("safety_plan_pdf", case) + "?for=family")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="safety-plan-{case.number}-family.pdf"'
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert SECTIONS["restrictions"] in text and SECTIONS["target_protection"] not in text
    event = AuditEvent.objects.get(verb=Verb.DOWNLOADED)
    assert event.target_type == "assessments.safetyplan" and event.target_id == str(found.pk)
    assert event.detail["readers"] == "family" and event.detail["case_number"] == case.number
    assert event.detail["sections"] == ["supervision", "trusted_adults", "restrictions", "parent_role"]


def test_every_download_is_audited(team: Client, case: Case, member: Any) -> None:
    save(case, member)
    for readers in ("staff", "staff", "family"):
        assert team.get(url("safety_plan_pdf", case) + f"?for={readers}").status_code == 200
    assert AuditEvent.objects.filter(verb=Verb.DOWNLOADED).count() == 3


@pytest.mark.parametrize("query", ["", "?for=principal", "?for=", "?for=staff&for=family%00"])
def test_an_unknown_or_missing_reader_choice_is_refused(team: Client, case: Case, member: Any, query: str) -> None:
    save(case, member)
    response = team.get(url("safety_plan_pdf", case) + query)
    assert response.status_code == 400 and "Choose whose copy to print." in response.content.decode()
    assert not AuditEvent.objects.filter(verb=Verb.DOWNLOADED).exists()


def test_there_is_nothing_to_print_before_the_plan_is_written(team: Client, case: Case) -> None:
    response = team.get(url("safety_plan_pdf", case) + "?for=staff")
    assert response.status_code == 400
    assert "There is no safety plan on this case yet" in response.content.decode()


def test_a_read_only_school_may_print_and_is_audited(world: Any, client: Client, case: Case, member: Any) -> None:
    save(case, member)
    give_read_access(case, world.other_school, member)
    reader = school_member(world, world.other_school)
    client.force_login(reader)
    assert client.get(url("safety_plan_pdf", case) + "?for=staff").status_code == 200
    assert AuditEvent.objects.get(verb=Verb.DOWNLOADED).actor == reader


def test_the_plan_tab_links_the_safety_plan_and_flags_an_overdue_review(
    team: Client, case: Case, member: Any, clock: Any
) -> None:
    body = team.get(url("plan", case)).content.decode()
    assert "Write the safety plan" in body
    save(case, member, review=1)
    clock.advance(days=3)
    body = team.get(url("plan", case)).content.decode()
    assert "Open, change or print the safety plan" in body and 'data-testid="review-overdue"' in body
