"""People on a case: adding (registry or free text), linking later, changing a role, removing."""

from __future__ import annotations

from typing import Any

import pytest

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import link_actions
from btam.cases.actions import CaseError
from btam.cases.models import Case, CaseParticipant
from btam.cases.participant_actions import (
    MAX_NAME_CHARS,
    do_add_participant,
    do_change_participant_role,
    do_link_participant,
    do_remove_participant,
)
from btam.cases.tests.people_links_helpers import SECRET_NAME, close, open_case, school_member
from btam.people.models import Person
from btam.people.tests.person_helpers import person

pytestmark = pytest.mark.django_db

Role_ = CaseParticipant.Role


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


@pytest.fixture
def jose(world: Any) -> Person:
    return person(world.district, "José", "Núñez", preferred_given_name="Pepe")


def _events(case: Case) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(target_type="cases.caseparticipant").order_by("pk"))


def test_a_registry_person_joins_the_case_with_a_role_and_it_is_audited(member: Any, case: Case, jose: Person) -> None:
    row = do_add_participant(actor=member, case=case, role=Role_.SUBJECT, person=jose)
    assert row.person == jose and row.role == Role_.SUBJECT and row.name == ""
    event = _events(case)[-1]
    assert event.verb == Verb.CREATED and event.actor == member
    assert event.detail["case"] == case.pk and event.detail["person"] == jose.pk and event.detail["role"] == "subject"
    case.refresh_from_db()
    assert case.updated_at == row.added_at


def test_a_free_text_person_is_stored_encrypted_and_never_audited(member: Any, case: Case) -> None:
    from django.db import connection

    row = do_add_participant(
        actor=member, case=case, role=Role_.WITNESS, name=SECRET_NAME, description=f"{SECRET_NAME} saw it happen"
    )
    row.refresh_from_db()
    assert row.name == SECRET_NAME and row.person is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, description FROM cases_caseparticipant")
        assert SECRET_NAME not in repr(cursor.fetchall())
    assert SECRET_NAME not in repr(list(AuditEvent.objects.values()))


def test_a_name_or_a_registry_person_is_required(member: Any, case: Case) -> None:
    with pytest.raises(CaseError, match="Give a name"):
        do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="   ")
    assert not CaseParticipant.objects.filter(case=case).exists()


def test_an_unknown_role_is_refused(member: Any, case: Case) -> None:
    with pytest.raises(CaseError, match="role"):
        do_add_participant(actor=member, case=case, role="boss", name="Someone")


def test_an_oversize_or_nul_name_is_refused(member: Any, case: Case) -> None:
    with pytest.raises(CaseError, match="too long"):
        do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="x" * (MAX_NAME_CHARS + 1))
    with pytest.raises(CaseError, match="cannot be stored"):
        do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Ann\x00")
    assert not CaseParticipant.objects.filter(case=case).exists()


def test_a_registry_person_of_another_district_is_refused(world: Any, member: Any, case: Case) -> None:
    stranger = person(world.other_district, "Elsa", "Elsewhere")
    with pytest.raises(CaseError, match="not in this district's registry"):
        do_add_participant(actor=member, case=case, role=Role_.SUBJECT, person=stranger)
    assert not CaseParticipant.objects.filter(case=case).exists()


def test_a_merged_registry_record_is_refused(world: Any, member: Any, case: Case, jose: Person) -> None:
    duplicate = person(world.district, "Jose", "Nunez", merged_into=jose)
    with pytest.raises(CaseError, match="merged into another"):
        do_add_participant(actor=member, case=case, role=Role_.SUBJECT, person=duplicate)


def test_the_same_person_twice_in_the_same_role_is_refused_but_another_role_is_fine(
    member: Any, case: Case, jose: Person
) -> None:
    do_add_participant(actor=member, case=case, role=Role_.SUBJECT, person=jose)
    with pytest.raises(CaseError, match="already on the case as subject"):
        do_add_participant(actor=member, case=case, role=Role_.SUBJECT, person=jose)
    do_add_participant(actor=member, case=case, role=Role_.TARGET, person=jose)
    assert CaseParticipant.objects.filter(case=case, person=jose).count() == 2


def test_a_free_text_entry_is_linked_to_the_registry_later(member: Any, case: Case, jose: Person) -> None:
    row = do_add_participant(actor=member, case=case, role=Role_.SUBJECT, name="the boy in the red jacket")
    linked = do_link_participant(actor=member, case=case, participant=row, person=jose)
    assert linked.person == jose and linked.name == "the boy in the red jacket"
    event = _events(case)[-1]
    assert event.before == {"person": None} and event.after == {"person": jose.pk}
    with pytest.raises(CaseError, match="already linked"):
        do_link_participant(actor=member, case=case, participant=row, person=jose)


def test_linking_to_another_districts_person_is_refused(world: Any, member: Any, case: Case) -> None:
    row = do_add_participant(actor=member, case=case, role=Role_.SUBJECT, name="Unknown")
    stranger = person(world.other_district, "Elsa", "Elsewhere")
    with pytest.raises(CaseError, match="not in this district's registry"):
        do_link_participant(actor=member, case=case, participant=row, person=stranger)
    row.refresh_from_db()
    assert row.person is None


def test_a_role_changes_and_the_same_role_again_is_refused(member: Any, case: Case) -> None:
    row = do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Ann")
    do_change_participant_role(actor=member, case=case, participant=row, role=Role_.TARGET)
    row.refresh_from_db()
    assert row.role == Role_.TARGET
    assert _events(case)[-1].before == {"role": "witness"}
    with pytest.raises(CaseError, match="already their role"):
        do_change_participant_role(actor=member, case=case, participant=row, role=Role_.TARGET)


def test_removing_keeps_the_row_marked_removed(member: Any, case: Case) -> None:
    row = do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Ann")
    do_remove_participant(actor=member, case=case, participant=row)
    row.refresh_from_db()
    assert row.removed_at is not None
    assert _events(case)[-1].verb == Verb.DELETED
    with pytest.raises(CaseError, match="no longer on this case"):
        do_remove_participant(actor=member, case=case, participant=row)


def test_a_row_of_another_case_cannot_be_changed_through_this_one(world: Any, member: Any, case: Case) -> None:
    other = open_case(world, actor=member)
    row = do_add_participant(actor=member, case=other, role=Role_.WITNESS, name="Ann")
    with pytest.raises(CaseError, match="no longer on this case"):
        do_remove_participant(actor=member, case=case, participant=row)
    with pytest.raises(CaseError):
        do_change_participant_role(actor=member, case=case, participant=row, role=Role_.TARGET)
    row.refresh_from_db()
    assert row.removed_at is None and row.role == Role_.WITNESS


def test_a_closed_case_refuses_changes(world: Any, member: Any, case: Case) -> None:
    row = do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Ann")
    close(case, world)
    with pytest.raises(CaseError, match="closed"):
        do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Bob")
    with pytest.raises(CaseError, match="closed"):
        do_remove_participant(actor=member, case=case, participant=row)


def test_a_merged_case_refuses_changes(world: Any, member: Any, case: Case) -> None:
    target = open_case(world, actor=member)
    link_actions.do_merge_cases(actor=member, source=case, target=target, reason="Same incident.")
    with pytest.raises(CaseError, match="merged into case"):
        do_add_participant(actor=member, case=case, role=Role_.WITNESS, name="Bob")


def test_a_member_of_another_school_cannot_add_anyone(world: Any, case: Case) -> None:
    south = school_member(world, world.other_school)
    with pytest.raises(CaseError, match="no longer change"):
        do_add_participant(actor=south, case=case, role=Role_.WITNESS, name="Bob")
    assert not CaseParticipant.objects.filter(case=case).exists()
