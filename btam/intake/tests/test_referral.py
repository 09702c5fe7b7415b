"""Staff referrals: the form (with its registry search, with and without htmx) and "My referrals"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.intake.models import Channel, InvolvedPerson, Report, Urgency
from btam.intake.tests.triage_helpers import FAST_HASHERS, HookSpy, install_hook_spy, staff_referral
from btam.intake.triage_actions import do_acknowledge, do_screen_out
from btam.people.tests.person_helpers import enrol, person
from btam.testing import make_member
from btam.worker.models import OutboxMessage

NEW = reverse("intake:referral_new")
LIST = reverse("intake:referrals")
PEOPLE = reverse("intake:referral_people")
_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> HookSpy:
    return install_hook_spy(monkeypatch)


@pytest.fixture
def teacher(world: Any) -> Any:
    """Referring staff at North only."""
    return make_member(Role.REFERRING_STAFF, world.district, schools=[world.school], full_name="Pat Teacherton")


@pytest.fixture
def students(world: Any) -> dict[str, Any]:
    north = person(world.district, "Ellison", "Brightwater", grade="10")
    enrol(north, world.school)
    south = person(world.district, "Ellison", "Southfield", grade="09")
    enrol(south, world.other_school)
    return {"north": north, "south": south}


def token(client: Client) -> str:
    match = _TOKEN.search(client.get(NEW).content.decode())
    assert match is not None
    return match.group(1)


def referral_data(client: Client, school: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "school": school.pk,
        "narrative": "He told classmates he has a list of people he wants to hurt and showed a drawing of the hallway.",
        "observed_behaviours": ["threat_spoken", "violent_writing"],
        "prior_concerns": "Counsellor met him twice in March about fights.",
        "weapon": "unknown",
        "self_harm": "no",
        "token": token(client),
        "send": "1",
    }
    data.update(overrides)
    return data


def test_a_referring_teacher_refers_a_student_of_their_school(
    world: Any, client: Client, teacher: Any, students: dict[str, Any]
) -> None:
    client.force_login(teacher)
    page = client.get(NEW)
    assert page.status_code == 200
    body = page.content.decode()
    assert "North Test High" in body and "South Test Middle" not in body  # only their schools
    assert "call 911 first" in body

    data = referral_data(client, world.school, person=students["north"].pk)
    response = client.post(NEW, data)
    assert response.status_code == 302 and response["Location"] == LIST

    report = Report.objects.get()
    assert report.channel == Channel.STAFF
    assert report.submitted_by == teacher
    assert report.receipt_hash is None
    assert report.school == world.school
    assert report.observed_behaviours == ["threat_spoken", "violent_writing"]
    assert report.prior_concerns == "Counsellor met him twice in March about fights."
    assert report.urgency == Urgency.ELEVATED  # "a weapon: I don't know"
    named = InvolvedPerson.objects.get(report=report)
    assert named.person == students["north"] and named.role == InvolvedPerson.Role.SUBJECT
    assert named.name == "Ellison Brightwater" and named.name_key  # so public reports naming him group with it
    assert OutboxMessage.objects.filter(kind="intake.report_received", payload={"report": report.pk}).exists()

    listing = client.get(LIST).content.decode()
    assert report.reference in listing and "Received: your report has reached the school" in listing


def test_the_search_without_javascript_keeps_the_form_and_lists_only_visible_people(
    world: Any, client: Client, teacher: Any, students: dict[str, Any]
) -> None:
    client.force_login(teacher)
    data = referral_data(client, world.school, q="ellison", search="1")
    data.pop("send")
    response = client.post(NEW, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'value="{students["north"].pk}"' in body and "Ellison Brightwater" in body
    assert "Southfield" not in body  # enrolled at a school the teacher does not refer for
    assert "he has a list of people he wants to hurt" in body  # what was typed is kept
    assert "usa-error-message" not in body  # nothing is flagged before the form is sent
    assert not Report.objects.exists()
    event = AuditEvent.objects.get(verb=Verb.VIEWED, target_type="people.search")
    assert event.detail["purpose"] == "referral" and event.detail["person_ids"] == [students["north"].pk]
    assert "ellison" not in str(event.detail).lower()  # the query itself is not recorded


def test_the_search_with_htmx_returns_the_results_only(
    world: Any, client: Client, teacher: Any, students: dict[str, Any]
) -> None:
    client.force_login(teacher)
    response = client.post(PEOPLE, {"q": "Brightw"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f'name="person" value="{students["north"].pk}"' in body
    assert client.post(PEOPLE, {"q": "Southfield"}).content.decode().count('name="person"') == 0
    assert "Enter at least two letters" in client.post(PEOPLE, {"q": "e"}).content.decode()
    assert client.get(PEOPLE).status_code == 405


def test_a_person_outside_the_teachers_schools_cannot_be_picked(
    world: Any, client: Client, teacher: Any, students: dict[str, Any]
) -> None:
    client.force_login(teacher)
    response = client.post(NEW, referral_data(client, world.school, person=students["south"].pk))
    assert response.status_code == 400
    assert "Choose the person again from the search results." in response.content.decode()
    assert not Report.objects.exists()


def test_a_person_of_another_district_cannot_be_picked_even_by_a_team_member(
    world: Any, client: Client, students: dict[str, Any]
) -> None:
    elsewhere = person(world.other_district, "Remy", "Otherplace")
    client.force_login(world.users[Role.TEAM_MEMBER])
    response = client.post(NEW, referral_data(client, world.school, person=elsewhere.pk))
    assert response.status_code == 400 and not Report.objects.exists()
    # A district-wide team member may name a student of any school of the district.
    response = client.post(NEW, referral_data(client, world.school, person=students["south"].pk))
    assert response.status_code == 302


def test_someone_not_in_the_registry_is_named_in_words(world: Any, client: Client, teacher: Any) -> None:
    client.force_login(teacher)
    response = client.post(NEW, referral_data(client, world.school, subject_name="A visitor called Sam"))
    assert response.status_code == 302
    named = InvolvedPerson.objects.get()
    assert named.person is None and named.name == "A visitor called Sam"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "Choose the person from the registry, or write their name"),
        ({"subject_name": "Sam", "narrative": ""}, "Describe what you saw or heard."),
        ({"subject_name": "Sam", "observed_behaviours": ["juggling"]}, "Select a valid choice"),
        ({"subject_name": "Sam", "weapon": "maybe"}, "Select a valid choice"),
        ({"subject_name": "Sam", "threat_date": "next friday"}, "Enter a date such as"),
        ({"subject_name": "Sam", "person": "abc"}, "Enter a whole number"),
    ],
)
def test_bad_referrals_are_a_400_with_the_form_and_nothing_saved(
    world: Any, client: Client, teacher: Any, overrides: dict[str, Any], message: str
) -> None:
    client.force_login(teacher)
    response = client.post(NEW, referral_data(client, world.school, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists()


def test_a_school_that_is_not_the_teachers_is_refused(world: Any, client: Client, teacher: Any) -> None:
    client.force_login(teacher)
    response = client.post(NEW, referral_data(client, world.other_school, subject_name="Sam"))
    assert response.status_code == 400 and "Choose one of your schools." in response.content.decode()
    assert not Report.objects.exists()


def test_sending_the_same_form_twice_makes_one_referral(world: Any, client: Client, teacher: Any) -> None:
    client.force_login(teacher)
    data = referral_data(client, world.school, subject_name="Sam")
    assert client.post(NEW, data).status_code == 302
    assert client.post(NEW, data).status_code == 302
    assert Report.objects.count() == 1


def test_danger_now_makes_an_emergency(world: Any, client: Client, teacher: Any) -> None:
    client.force_login(teacher)
    client.post(NEW, referral_data(client, world.school, subject_name="Sam", danger_now="on"))
    assert Report.objects.get().urgency == Urgency.EMERGENCY


def test_my_referrals_lists_only_mine_with_a_plain_status(
    world: Any, client: Client, teacher: Any, hooks: HookSpy
) -> None:
    mine = staff_referral(world.school, teacher)
    closed = staff_referral(world.school, teacher)
    colleague = make_member(Role.REFERRING_STAFF, world.district, schools=[world.school])
    theirs = staff_referral(world.school, colleague)
    member = world.users[Role.TEAM_MEMBER]
    do_acknowledge(actor=member, report=mine)
    do_screen_out(actor=member, report=closed, reason="Spoke with the family: a misunderstanding.")

    client.force_login(teacher)
    body = client.get(LIST).content.decode()
    assert f'data-report="{mine.pk}"' in body and f'data-report="{closed.pk}"' in body
    assert f'data-report="{theirs.pk}"' not in body
    assert "Being looked at: the team is working on it." in body
    assert "Closed: the team has finished with this report." in body
    assert "misunderstanding" not in body  # the team's reasons stay with the team
    assert "Screened out" not in body


def test_referral_pages_are_for_staff_who_refer(world: Any, client: Client) -> None:
    for role in (Role.AUDITOR, Role.SYSTEM_ADMIN, Role.DISTRICT_VIEWER, Role.DATABASE_MANAGER):
        client.force_login(world.users[role])
        assert client.get(LIST).status_code == 403
        assert client.get(NEW).status_code == 403
    client.logout()
    assert client.get(LIST).status_code == 302


def test_staff_without_an_active_school_are_told_so(world: Any, client: Client) -> None:
    world.school.is_active = False
    world.school.save()
    lonely = make_member(Role.REFERRING_STAFF, world.district, schools=[world.school])
    client.force_login(lonely)
    assert "not linked to an active school" in client.get(NEW).content.decode()


def test_a_search_across_two_districts_files_each_districts_people_under_it(
    world: Any, client: Client, teacher: Any, students: dict[str, Any]
) -> None:
    """District auditors filter the trail by district: the people listed are filed under their own
    district; a search that listed nobody is filed under each district the teacher searched."""
    from btam.accounts.models import Membership

    membership = Membership.objects.create(user=teacher, district=world.other_district, role=Role.REFERRING_STAFF)
    membership.schools.set([world.other_district.schools.get()])
    client.force_login(teacher)
    data = referral_data(client, world.school, q="ellison", search="1")
    data.pop("send")
    assert client.post(NEW, data).status_code == 200
    events = {
        e.district_id: e.detail["person_ids"]
        for e in AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="people.search")
    }
    assert events == {world.district.pk: [students["north"].pk]}
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    data["q"] = "nobody-by-that-name"
    assert client.post(NEW, data).status_code == 200
    events = {
        e.district_id: e.detail["person_ids"]
        for e in AuditEvent.objects.filter(verb=Verb.VIEWED, target_type="people.search", pk__gt=before)
    }
    assert events == {world.district.pk: [], world.other_district.pk: []}
