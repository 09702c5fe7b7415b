"""Merging two records of one person, and undoing it: what moves, what is refused, what is recorded."""

from __future__ import annotations

from typing import Any

import pytest

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.conftest import World
from btam.people.actions import MergeError, do_merge_people, do_undo_merge
from btam.people.models import Demographics, Enrollment, GuardianLink, Person, PersonMerge
from btam.people.tests.person_helpers import demographics, enrol, guardian_link, person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def leader(world: World) -> User:
    return world.users[Role.TEAM_LEADER]


def snapshot() -> dict[str, Any]:
    """Who every row belongs to, and every record's merge pointer."""
    return {
        "enrollments": sorted(Enrollment.objects.values_list("pk", "person_id")),
        "links": sorted(GuardianLink.objects.values_list("pk", "guardian_id", "student_id")),
        "demographics": sorted(Demographics.objects.values_list("pk", "person_id")),
        "people": sorted(Person.objects.values_list("pk", "merged_into_id")),
    }


@pytest.fixture
def pair(world: World) -> tuple[Person, Person]:
    """One student recorded twice, each record with its own enrolments and links."""
    keep = person(world.district, "Zainab", "Okafor", local_id="K-1")
    dup = person(world.district, "Zainab", "Okafor", local_id="K-2")
    enrol(keep, world.school)
    enrol(dup, world.other_school)
    enrol(dup, world.school, ended=True)
    mother = person(world.district, "Ngozi", "Okafor", kind=Person.Kind.GUARDIAN)
    father = person(world.district, "Chidi", "Okafor", kind=Person.Kind.GUARDIAN)
    guardian_link(mother, keep)
    guardian_link(mother, dup)  # the survivor already has this link: it stays where it is
    guardian_link(father, dup)
    sibling = person(world.district, "Amara", "Okafor")
    guardian_link(dup, sibling, relationship="relative")  # the duplicate as a guardian of someone
    demographics(dup, sex="F")
    return keep, dup


def test_merge_moves_everything_to_the_survivor_and_records_it(
    world: World, leader: User, pair: tuple[Person, Person]
) -> None:
    keep, dup = pair
    merge = do_merge_people(actor=leader, survivor=keep, merged=dup, reason="Same student, entered twice")
    dup.refresh_from_db()
    assert dup.merged_into_id == keep.pk
    assert Enrollment.objects.filter(person=dup).count() == 0
    assert Enrollment.objects.filter(person=keep).count() == 3
    assert set(GuardianLink.objects.filter(student=keep).values_list("guardian__given_name", flat=True)) == {
        "Ngozi",
        "Chidi",
    }
    assert GuardianLink.objects.filter(guardian=keep, student__given_name="Amara").exists()
    assert GuardianLink.objects.filter(student=dup).count() == 1  # the duplicate link to the mother stayed
    assert Demographics.objects.get(person=keep).data == {"sex": "F"}
    assert merge.moved["demographics"] is not None
    assert len(merge.moved["enrollments"]) == 2
    assert len(merge.moved["guardian_links_kept"]) == 1
    assert (merge.survivor_id, merge.merged_id, merge.merged_by_id) == (keep.pk, dup.pk, leader.pk)
    event = AuditEvent.objects.get(verb=Verb.UPDATED, target_type="people.person", target_id=str(dup.pk))
    assert event.reason == "Same student, entered twice"
    assert event.after == {"merged_into": keep.pk}
    assert event.detail["change"] == "merged"
    assert event.detail["moved"]["enrollments"] == 2
    assert event.district_id == world.district.pk


def test_the_survivors_own_demographics_are_kept(world: World, leader: User, pair: tuple[Person, Person]) -> None:
    keep, dup = pair
    demographics(keep, sex="X")
    merge = do_merge_people(actor=leader, survivor=keep, merged=dup, reason="dup")
    assert merge.moved["demographics"] is None
    assert Demographics.objects.get(person=keep).data == {"sex": "X"}
    assert Demographics.objects.get(person=dup).data == {"sex": "F"}


def test_undo_restores_exactly(world: World, leader: User, pair: tuple[Person, Person]) -> None:
    keep, dup = pair
    before = snapshot()
    merge = do_merge_people(actor=leader, survivor=keep, merged=dup, reason="dup")
    assert snapshot() != before
    do_undo_merge(actor=leader, merge=merge, reason="Twins, not one person")
    assert snapshot() == before
    merge.refresh_from_db()
    assert merge.undone_by_id == leader.pk and merge.undone_at is not None
    event = AuditEvent.objects.filter(verb=Verb.UPDATED, target_id=str(dup.pk)).order_by("-id").first()
    assert event is not None
    assert event.detail["change"] == "merge_undone"
    assert event.reason == "Twins, not one person"
    assert event.after == {"merged_into": None}


def test_a_record_can_be_merged_again_after_an_undo(world: World, leader: User, pair: tuple[Person, Person]) -> None:
    keep, dup = pair
    merge = do_merge_people(actor=leader, survivor=keep, merged=dup, reason="dup")
    do_undo_merge(actor=leader, merge=merge, reason="wrong way round")
    do_merge_people(actor=leader, survivor=dup, merged=keep, reason="keep the other one")
    keep.refresh_from_db()
    assert keep.merged_into_id == dup.pk


def test_chained_merges_are_undone_latest_first(world: World, leader: User) -> None:
    a = person(world.district, "Ivy", "Ward")
    b = person(world.district, "Ivy", "Ward")
    c = person(world.district, "Ivy", "Ward")
    enrol(c, world.school)
    before = snapshot()
    first = do_merge_people(actor=leader, survivor=b, merged=c, reason="dup")
    second = do_merge_people(actor=leader, survivor=a, merged=b, reason="dup")
    assert Enrollment.objects.get().person_id == a.pk
    with pytest.raises(MergeError, match="undo that merge first"):
        do_undo_merge(actor=leader, merge=first, reason="x")
    do_undo_merge(actor=leader, merge=second, reason="x")
    do_undo_merge(actor=leader, merge=first, reason="x")
    assert snapshot() == before


# Refusals ------------------------------------------------------------------------------------
def test_records_of_two_districts_are_never_merged(world: World, leader: User) -> None:
    ours = person(world.district, "Ana", "Lee")
    theirs = person(world.other_district, "Ana", "Lee")
    with pytest.raises(MergeError, match="same district"):
        do_merge_people(actor=leader, survivor=ours, merged=theirs, reason="dup")
    with pytest.raises(MergeError):
        do_merge_people(actor=world.outsider, survivor=theirs, merged=ours, reason="dup")
    assert not PersonMerge.objects.exists()
    assert Person.objects.filter(merged_into__isnull=False).count() == 0


def test_a_record_is_not_merged_with_itself(world: World, leader: User) -> None:
    one = person(world.district, "Ana", "Lee")
    with pytest.raises(MergeError, match="itself"):
        do_merge_people(actor=leader, survivor=one, merged=one, reason="dup")


def test_an_already_merged_record_is_not_merged_again(world: World, leader: User) -> None:
    a, b, c = (person(world.district, "Ana", "Lee") for _ in range(3))
    do_merge_people(actor=leader, survivor=a, merged=b, reason="dup")
    with pytest.raises(MergeError, match="already been merged"):
        do_merge_people(actor=leader, survivor=c, merged=b, reason="dup")
    with pytest.raises(MergeError, match="itself been merged"):
        do_merge_people(actor=leader, survivor=b, merged=c, reason="dup")
    assert PersonMerge.objects.count() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(world: World, leader: User, reason: str) -> None:
    a, b = (person(world.district, "Ana", "Lee") for _ in range(2))
    with pytest.raises(MergeError, match="reason"):
        do_merge_people(actor=leader, survivor=a, merged=b, reason=reason)


@pytest.mark.parametrize("role", [Role.TEAM_MEMBER, Role.RAPID_RESPONSE, Role.REFERRING_STAFF, Role.AUDITOR])
def test_only_leaders_and_database_managers_merge(world: World, role: str) -> None:
    a, b = (person(world.district, "Ana", "Lee") for _ in range(2))
    with pytest.raises(MergeError, match="may not"):
        do_merge_people(actor=world.users[role], survivor=a, merged=b, reason="dup")


@pytest.mark.parametrize("role", [Role.DATABASE_MANAGER, Role.BACKUP_ADMIN])
def test_database_managers_and_backup_admins_merge(world: World, role: str) -> None:
    a, b = (person(world.district, "Ana", "Lee") for _ in range(2))
    do_merge_people(actor=world.users[role], survivor=a, merged=b, reason="dup")


def test_a_merge_is_undone_once(world: World, leader: User) -> None:
    a, b = (person(world.district, "Ana", "Lee") for _ in range(2))
    merge = do_merge_people(actor=leader, survivor=a, merged=b, reason="dup")
    do_undo_merge(actor=leader, merge=merge, reason="no")
    with pytest.raises(MergeError, match="already been undone"):
        do_undo_merge(actor=leader, merge=merge, reason="no")
    assert AuditEvent.objects.filter(detail__change="merge_undone").count() == 1


def test_an_undo_needs_a_reason_and_the_role(world: World, leader: User) -> None:
    a, b = (person(world.district, "Ana", "Lee") for _ in range(2))
    merge = do_merge_people(actor=leader, survivor=a, merged=b, reason="dup")
    with pytest.raises(MergeError, match="reason"):
        do_undo_merge(actor=leader, merge=merge, reason=" ")
    with pytest.raises(MergeError, match="may not"):
        do_undo_merge(actor=world.users[Role.TEAM_MEMBER], merge=merge, reason="no")
    with pytest.raises(MergeError, match="may not"):
        do_undo_merge(actor=world.outsider, merge=merge, reason="no")
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
