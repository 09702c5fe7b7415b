"""A report's page, the decision POSTs, the reporter thread, attachments and the surge group page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.intake import surge
from btam.intake.models import Attachment, Report, ReporterMessage, TriageDecision, Urgency
from btam.intake.tests.triage_helpers import (
    FAST_HASHERS,
    PDF_BYTES,
    HookSpy,
    install_hook_spy,
    pdf_attachment,
    png_attachment,
    staff_referral,
    submit,
    urgent,
)
from btam.intake.triage_actions import MAX_REASON_CHARS, do_acknowledge, do_mark_duplicate, do_screen_out
from btam.testing import make_member

Status = Report.Status
SECRET = "Quinby Marchetti-Oldfield said the plan is for Friday"


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> HookSpy:
    return install_hook_spy(monkeypatch)


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def team(client: Client, member: Any) -> Client:
    client.force_login(member)
    return client


def url(name: str, report: Report) -> str:
    return reverse(f"intake:{name}", args=[report.pk])


def viewed(report: Report) -> int:
    return AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="intake.report", target_id=str(report.pk)).count()


# The page ---------------------------------------------------------------------------------------------
def test_the_report_page_shows_everything_and_records_each_view(world: Any, team: Client, member: Any) -> None:
    report = urgent(world.school, SECRET, names=("Quinby Marchetti-Oldfield",), location="Behind the gym")
    response = team.get(url("report", report))
    assert response.status_code == 200
    body = response.content.decode()
    assert SECRET in body  # decrypted
    assert "Behind the gym" in body
    assert "Quinby Marchetti-Oldfield" in body
    assert "A weapon is involved" in body
    assert 'data-urgency="urgent"' in body and ">Urgent</span>" in body
    assert "The reporter sees every message written here" in body
    assert "Do not write internal notes here" in body
    assert viewed(report) == 1
    event = AuditEvent.objects.get(verb=Verb.VIEWED, target_id=str(report.pk))
    assert event.actor == member and event.district_id == world.district.pk
    team.get(url("report", report))
    assert viewed(report) == 2


def test_the_page_shows_the_decision_history_with_reasons(
    world: Any, team: Client, member: Any, hooks: HookSpy
) -> None:
    report = submit(world.school)
    do_screen_out(actor=member, report=report, reason="Checked with the counsellor: a film quote.")
    body = team.get(url("report", report)).content.decode()
    assert "Screened out" in body and "Checked with the counsellor: a film quote." in body
    assert str(member) in body


def test_a_report_of_another_school_or_district_is_404(world: Any, client: Client) -> None:
    north_only = make_member(Role.TEAM_MEMBER, world.district, schools=[world.school])
    south = submit(world.other_school)
    client.force_login(north_only)
    assert client.get(url("report", south)).status_code == 404
    assert client.post(url("acknowledge", south)).status_code == 404
    assert client.get(url("acknowledge", south)).status_code == 404  # not 405: existence is not revealed
    client.force_login(world.outsider)
    assert client.get(url("report", south)).status_code == 404
    assert client.post(url("screen_out", south), {"screen_out-reason": "x"}).status_code == 404
    assert Report.objects.get(pk=south.pk).status == Status.NEW
    assert viewed(south) == 0


def test_referring_staff_cannot_open_reports_even_their_own_referral(world: Any, client: Client) -> None:
    staff = world.users[Role.REFERRING_STAFF]
    referral = staff_referral(world.school, staff)
    client.force_login(staff)
    assert client.get(url("report", referral)).status_code == 403


# Decisions through the page ---------------------------------------------------------------------------------
def test_acknowledge_from_the_page(world: Any, team: Client, member: Any, hooks: HookSpy) -> None:
    report = urgent(world.school)
    response = team.post(url("acknowledge", report))
    assert response.status_code == 302 and response["Location"] == url("report", report)
    assert Report.objects.get(pk=report.pk).acknowledged_by == member
    assert hooks.acknowledged == [(report.pk, member.pk)]
    page = team.get(url("report", report)).content.decode()
    assert "Acknowledged: the team can see" in page


def test_a_get_on_a_decision_url_does_nothing(world: Any, team: Client, hooks: HookSpy) -> None:
    report = submit(world.school)
    assert team.get(url("acknowledge", report)).status_code == 405
    assert Report.objects.get(pk=report.pk).status == Status.NEW


def test_decisions_need_the_csrf_token(world: Any, member: Any, hooks: HookSpy) -> None:
    report = submit(world.school)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.post(url("acknowledge", report)).status_code == 403
    assert Report.objects.get(pk=report.pk).status == Status.NEW


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("screen_out", {"screen_out-reason": ""}, "Give a reason."),
        ("screen_out", {"screen_out-reason": "x" * (MAX_REASON_CHARS + 1)}, "The reason is too long"),
        ("change_urgency", {"urgency-urgency": "3", "urgency-reason": ""}, "Give a reason."),
        ("change_urgency", {"urgency-urgency": "7", "urgency-reason": "Because."}, "Choose one of the urgency levels."),
        ("change_urgency", {"urgency-urgency": "1", "urgency-reason": "Because."}, "already has this urgency"),
        ("mark_abuse", {"abuse-reason": ""}, "Give a reason."),
        ("reopen", {"reopen-reason": "Because."}, "cannot be done while the report"),
        ("unmark_abuse", {"unabuse-reason": "Because."}, "not marked as abuse"),
        ("mark_duplicate", {"duplicate-original": ""}, "Give the reference of the original report."),
        ("mark_duplicate", {"duplicate-original": "banana"}, "Write a report reference such as R-1234."),
        ("mark_duplicate", {"duplicate-original": "R-999999"}, "No report with this reference"),
        ("refer", {"refer-school": "", "refer-reason": "Theirs."}, "Choose the school to refer the report to."),
        (
            "refer",
            {"refer-school": "abc", "refer-reason": "Theirs."},
            "Choose one of the district&#x27;s active schools.",
        ),
    ],
)
def test_bad_input_is_a_400_with_a_clear_message_and_changes_nothing(
    world: Any, team: Client, hooks: HookSpy, name: str, data: dict[str, str], message: str
) -> None:
    report = submit(world.school)
    response = team.post(url(name, report), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    report.refresh_from_db()
    assert report.status == Status.NEW and report.urgency == Urgency.ROUTINE and not report.is_abuse
    assert not TriageDecision.objects.filter(report=report).exists()


def test_refer_to_the_own_school_or_another_districts_school_is_refused(
    world: Any, team: Client, hooks: HookSpy
) -> None:
    report = submit(world.school)
    own = team.post(url("refer", report), {"refer-school": world.school.pk, "refer-reason": "Theirs."})
    assert own.status_code == 400
    assert "The report is already at this school" in own.content.decode()
    elsewhere = world.other_district.schools.get()
    other = team.post(url("refer", report), {"refer-school": elsewhere.pk, "refer-reason": "Theirs."})
    assert other.status_code == 400
    assert "Choose one of the district&#x27;s active schools." in other.content.decode()
    assert Report.objects.get(pk=report.pk).school == world.school
    assert hooks.referred == []


def test_duplicate_of_itself_or_of_another_districts_report_is_refused(
    world: Any, team: Client, hooks: HookSpy
) -> None:
    report = submit(world.school)
    itself = team.post(url("mark_duplicate", report), {"duplicate-original": report.reference})
    assert itself.status_code == 400 and "cannot be a duplicate of itself" in itself.content.decode()
    elsewhere = submit(world.other_district.schools.get())
    other = team.post(url("mark_duplicate", report), {"duplicate-original": str(elsewhere.pk)})
    assert other.status_code == 400 and "No report with this reference" in other.content.decode()
    assert Report.objects.get(pk=report.pk).status == Status.NEW


def test_an_action_not_allowed_from_the_status_is_a_400_not_a_500(
    world: Any, team: Client, member: Any, hooks: HookSpy
) -> None:
    report = submit(world.school)
    do_acknowledge(actor=member, report=report)
    response = team.post(url("acknowledge", report))
    assert response.status_code == 400
    assert "This cannot be done while the report&#x27;s status is “Acknowledged”" in response.content.decode()


def test_decisions_through_the_page(world: Any, team: Client, member: Any, hooks: HookSpy) -> None:
    report, original = submit(world.school), submit(world.school)
    assert team.post(url("mark_duplicate", report), {"duplicate-original": f"r-{original.pk}"}).status_code == 302
    assert Report.objects.get(pk=report.pk).duplicate_of == original
    assert team.post(url("reopen", report), {"reopen-reason": "Not the same after all."}).status_code == 302
    response = team.post(url("change_urgency", report), {"urgency-urgency": "4", "urgency-reason": "Police call."})
    assert response.status_code == 302
    assert Report.objects.get(pk=report.pk).urgency == Urgency.EMERGENCY and hooks.escalated == [report.pk]
    assert team.post(url("mark_abuse", report), {"abuse-reason": "Spam."}).status_code == 302
    assert team.post(url("unmark_abuse", report), {"unabuse-reason": "Real."}).status_code == 302
    response = team.post(url("open_case", report), {"open_case-reason": ""})
    from btam.cases.models import CaseReport

    case = CaseReport.objects.get(report=report).case
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    assert Report.objects.get(pk=report.pk).status == Status.CASE_OPENED
    kinds = list(TriageDecision.objects.filter(report=report).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["duplicate", "reopen", "urgency", "abuse", "not_abuse", "open_case"]


def test_referring_away_returns_to_the_queue_when_the_user_no_longer_sees_the_report(
    world: Any, client: Client, hooks: HookSpy
) -> None:
    north_only = make_member(Role.TEAM_LEADER, world.district, schools=[world.school])
    report = submit(world.school)
    client.force_login(north_only)
    response = client.post(url("refer", report), {"refer-school": world.other_school.pk, "refer-reason": "Theirs."})
    assert response.status_code == 302 and response["Location"] == reverse("intake:queue")
    assert client.get(url("report", report)).status_code == 404
    assert hooks.referred == [(report.pk, world.other_school.pk)]


def test_a_decision_racing_a_referral_away_changes_nothing_and_shows_nothing_of_the_report(
    world: Any, client: Client, hooks: HookSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request fetched the report while it was the user's school's; a colleague's referral to a
    school the user does not work commits before the decision takes its lock."""
    from btam.intake import triage_views
    from btam.intake.triage_actions import do_refer

    north_only = make_member(Role.TEAM_MEMBER, world.district, schools=[world.school])
    leader = make_member(Role.TEAM_LEADER, world.district, schools=[world.school])
    report = submit(world.school, names=("Quinby Marchetti-Oldfield",))
    fetch = triage_views.get_report_for_user

    def fetch_then_referred_away(user: Any, pk: int) -> Report:
        fetched = fetch(user, pk)
        do_refer(actor=leader, report=Report.objects.get(pk=pk), school=world.other_school, reason="Theirs.")
        return fetched

    monkeypatch.setattr(triage_views, "get_report_for_user", fetch_then_referred_away)
    client.force_login(north_only)
    seen = viewed(report)

    response = client.post(url("acknowledge", report))

    assert response.status_code == 302 and response["Location"] == reverse("intake:queue")
    current = Report.objects.get(pk=report.pk)
    assert current.school == world.other_school and current.status == Status.NEW
    assert current.acknowledged_at is None
    assert not TriageDecision.objects.filter(report=report, actor=north_only).exists()
    assert viewed(report) == seen  # the report page was not shown again
    assert hooks.acknowledged == [(report.pk, leader.pk)]


def test_the_open_case_form_says_what_goes_with_the_report(world: Any, team: Client) -> None:
    report = submit(world.school)
    body = team.get(url("report", report)).content.decode()
    assert "its reporter thread, its attachments and the people it names go with it" in body


# The reporter thread ------------------------------------------------------------------------------------------------
def test_writing_to_the_reporter(world: Any, team: Client, member: Any) -> None:
    report = submit(world.school)
    response = team.post(url("post_message", report), {"message-body": "Thank you. Can you tell us which bus?"})
    assert response.status_code == 302
    message = ReporterMessage.objects.get(report=report)
    assert message.direction == ReporterMessage.Direction.FROM_TEAM and message.author == member
    body = team.get(url("report", report)).content.decode()
    assert "Can you tell us which bus?" in body


def test_writing_to_the_reporter_with_htmx_swaps_the_thread(world: Any, team: Client) -> None:
    report = submit(world.school)
    response = team.post(url("post_message", report), {"message-body": "Which bus was it?"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="reporter-thread"' in body and "Which bus was it?" in body
    empty = team.post(url("post_message", report), {"message-body": "  "}, HTTP_HX_REQUEST="true")
    assert "Write a message." in empty.content.decode()
    assert ReporterMessage.objects.filter(report=report).count() == 1


def test_a_report_without_a_receipt_has_no_thread(world: Any, team: Client) -> None:
    report = staff_referral(world.school, world.users[Role.REFERRING_STAFF])
    page = team.get(url("report", report)).content.decode()
    assert "there is no thread with a reporter" in page
    response = team.post(url("post_message", report), {"message-body": "Hello?"})
    assert response.status_code == 400
    assert "This report has no reporter thread" in response.content.decode()
    assert not ReporterMessage.objects.filter(report=report).exists()


def test_an_empty_message_is_a_400(world: Any, team: Client) -> None:
    report = submit(world.school)
    response = team.post(url("post_message", report), {"message-body": ""})
    assert response.status_code == 400 and "Write a message." in response.content.decode()


# Attachments --------------------------------------------------------------------------------------------------------
def test_an_attachment_downloads_decrypted_as_its_type_and_is_audited(world: Any, team: Client, member: Any) -> None:
    report = submit(world.school, files=(png_attachment(), pdf_attachment()))
    png, pdf = Attachment.objects.filter(report=report).order_by("pk")
    page = team.get(url("report", report)).content.decode()
    assert reverse("intake:attachment", args=[png.pk]) in page and "screenshot.png" in page

    response = team.get(reverse("intake:attachment", args=[png.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"R-{report.pk}-file-{png.pk}.png" in response["Content-Disposition"]
    assert "screenshot" not in response["Content-Disposition"]  # the reporter's file name stays inside
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response.getvalue().startswith(b"\x89PNG")

    response = team.get(reverse("intake:attachment", args=[pdf.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.getvalue() == PDF_BYTES

    events = AuditEvent.objects.filter(verb=Verb.DOWNLOADED, target_type="intake.attachment")
    assert sorted(int(e.target_id) for e in events) == [png.pk, pdf.pk]
    assert all(e.actor == member and e.detail["report"] == report.pk for e in events)


def test_an_attachment_of_another_school_is_404_and_not_audited(world: Any, client: Client) -> None:
    north_only = make_member(Role.TEAM_MEMBER, world.district, schools=[world.school])
    report = submit(world.other_school, files=(png_attachment(),))
    attachment = Attachment.objects.get(report=report)
    client.force_login(north_only)
    assert client.get(reverse("intake:attachment", args=[attachment.pk])).status_code == 404
    assert client.get(reverse("intake:attachment", args=[attachment.pk + 1000])).status_code == 404
    assert not AuditEvent.objects.filter(verb=Verb.DOWNLOADED).exists()


# The surge group page -----------------------------------------------------------------------------------------------
def test_the_group_page_lists_the_visible_reports_and_acknowledges_them_all(
    world: Any, client: Client, hooks: HookSpy
) -> None:
    north_only = make_member(Role.TEAM_MEMBER, world.district, schools=[world.school])
    north = [submit(world.school, f"Rumour {i}.", names=("Rowan Testperson",)) for i in range(3)]
    south = submit(world.other_school, "Rumour south.", names=("Rowan Testperson",))
    for r in [*north, south]:
        surge.assign_group(r)
    group = Report.objects.get(pk=south.pk).surge_group
    assert group is not None
    client.force_login(north_only)
    page = client.get(reverse("intake:surge_group", args=[group.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "A group of 3 reports" in body and "The same person named" in body
    assert "4 reports" not in body  # nothing about the reports of schools the user does not work
    assert all(reverse("intake:report", args=[r.pk]) in body for r in north)
    assert reverse("intake:report", args=[south.pk]) not in body

    response = client.post(reverse("intake:acknowledge_group", args=[group.pk]))
    assert response.status_code == 302
    assert set(Report.objects.filter(pk__in=[r.pk for r in north]).values_list("status", flat=True)) == {
        Status.ACKNOWLEDGED
    }
    assert Report.objects.get(pk=south.pk).status == Status.NEW
    follow = client.get(reverse("intake:surge_group", args=[group.pk])).content.decode()
    assert "3 reports of the group acknowledged." in follow


def test_a_group_with_no_visible_report_is_404(world: Any, client: Client, hooks: HookSpy) -> None:
    reports = [submit(world.other_school, f"Rumour {i}.", names=("Rowan Testperson",)) for i in range(2)]
    for r in reports:
        surge.assign_group(r)
    group = Report.objects.get(pk=reports[0].pk).surge_group
    assert group is not None
    client.force_login(make_member(Role.TEAM_MEMBER, world.district, schools=[world.school]))
    assert client.get(reverse("intake:surge_group", args=[group.pk])).status_code == 404
    assert client.post(reverse("intake:acknowledge_group", args=[group.pk])).status_code == 404
    client.force_login(world.outsider)
    assert client.get(reverse("intake:surge_group", args=[group.pk])).status_code == 404
    assert set(Report.objects.filter(pk__in=[r.pk for r in reports]).values_list("status", flat=True)) == {Status.NEW}


def test_a_duplicate_links_to_its_original(world: Any, team: Client, member: Any, hooks: HookSpy) -> None:
    report, original = submit(world.school), submit(world.school)
    do_mark_duplicate(actor=member, report=report, original=original)
    body = team.get(url("report", report)).content.decode()
    assert f'href="{url("report", original)}"' in body and f"duplicate of R-{original.pk}" in body
