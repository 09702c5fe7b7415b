"""Staff accounts from the roster: off by default; linking by email; invitations when turned on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent, Verb
from btam.orgs.models import District
from btam.people import imports, staff_accounts
from btam.people.models import ImportRun, Person
from btam.people.tasks import run_import_task
from btam.people.tests.import_helpers import (
    STUDENTS,
    bundle_bytes,
    close_progress_connection,
    upload,
    use_test_settings,
    user_row,
)
from btam.testing import UserFactory
from btam.worker import outbox
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db(databases="__all__")
SITE = "https://btam.example.test/"
ROSTER = [
    *STUDENTS,
    user_row("tch-1", "Lucia", "Ferrante", role="teacher", email="Lucia.Ferrante@Example.test"),
    user_row("adm-1", "Omar", "Reyes", role="administrator", email="omar.reyes@example.test"),
    user_row("aide-1", "Pat", "Lindgren", role="aide", email="pat.lindgren@example.test"),
    user_row("stu-4", "Sam", "Okafor", email="sam.okafor@example.test"),
    user_row("tch-2", "No", "Address", role="teacher", email="not an email"),
]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Iterator[Path]:
    yield use_test_settings(settings, tmp_path)
    close_progress_connection()


def import_roster(world: Any, *, dry_run: bool = False) -> ImportRun:
    run = imports.do_start_import(
        actor=world.users[Role.DATABASE_MANAGER],
        district=world.district,
        upload=upload(bundle_bytes(ROSTER)),
        dry_run=dry_run,
    )
    run_import_task.call(run.pk, SITE)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    return run


def turn_on(district: District, *, invite: bool = False) -> None:
    district.link_staff_accounts = True
    district.invite_staff_accounts = invite
    district.save()


def account_of(source_id: str) -> User | None:
    return Person.objects.get(source_id=source_id).account


def test_it_is_off_by_default(world: Any) -> None:
    assert not world.district.link_staff_accounts and not world.district.invite_staff_accounts
    UserFactory.create(email="lucia.ferrante@example.test")
    users = User.objects.count()
    run = import_roster(world)
    assert not Person.objects.filter(account__isnull=False).exists()
    assert User.objects.count() == users
    assert staff_accounts.SUMMARY_KEY not in run.summary
    assert not OutboxMessage.objects.exists()


def test_teachers_and_administrators_are_linked_by_email(world: Any) -> None:
    turn_on(world.district)
    lucia = UserFactory.create(email="lucia.ferrante@example.test")
    omar = UserFactory.create(email="omar.reyes@example.test")
    UserFactory.create(email="pat.lindgren@example.test")  # an aide: not a teacher or administrator
    UserFactory.create(email="sam.okafor@example.test")  # a student: never linked
    users = User.objects.count()

    run = import_roster(world)

    assert account_of("tch-1") == lucia  # the roster's capitals do not matter
    assert account_of("adm-1") == omar
    assert account_of("aide-1") is None and account_of("stu-4") is None and account_of("tch-2") is None
    assert User.objects.count() == users  # invitations are off: nobody was created
    assert not OutboxMessage.objects.exists()
    assert run.summary[staff_accounts.SUMMARY_KEY] == {"linked": 2, "invited": 0}
    linked = AuditEvent.objects.filter(verb=Verb.UPDATED, target_type="people.person", reason__contains="linked")
    assert linked.count() == 2
    assert {e.after["account"] for e in linked} == {lucia.pk, omar.pk}

    manager = Client()
    manager.force_login(world.users[Role.DATABASE_MANAGER])
    page = manager.get(reverse("people:import_detail", args=[run.pk])).content.decode()
    assert "Staff accounts: 2 roster records linked to accounts, 0 people invited." in page


def test_a_later_import_links_nothing_twice(world: Any) -> None:
    turn_on(world.district)
    UserFactory.create(email="lucia.ferrante@example.test")
    import_roster(world)
    events = AuditEvent.objects.count()
    run = import_roster(world)
    assert staff_accounts.SUMMARY_KEY not in run.summary
    assert AuditEvent.objects.filter(target_type="people.person").count() == 1
    assert AuditEvent.objects.count() > events  # the import's own events only


def test_a_dry_run_links_nothing(world: Any) -> None:
    turn_on(world.district, invite=True)
    UserFactory.create(email="lucia.ferrante@example.test")
    users = User.objects.count()
    import_roster(world, dry_run=True)
    assert not Person.objects.exists()
    assert User.objects.count() == users


def test_invitations_create_inactive_accounts_and_email_a_set_password_link(
    world: Any, mailoutbox: list[Any], settings: Any
) -> None:
    turn_on(world.district, invite=True)
    run = import_roster(world)

    lucia = account_of("tch-1")
    omar = account_of("adm-1")
    assert lucia is not None and omar is not None
    assert lucia.email == "lucia.ferrante@example.test" and lucia.full_name == "Lucia Ferrante"
    for user in (lucia, omar):
        assert not user.is_active and not user.has_usable_password()
        assert not user.memberships.exists()  # no access until a database manager gives it
    assert account_of("aide-1") is None and account_of("stu-4") is None
    assert run.summary[staff_accounts.SUMMARY_KEY] == {"linked": 2, "invited": 2}
    assert AuditEvent.objects.filter(verb=Verb.CREATED, target_type="accounts.user").count() == 2

    messages = OutboxMessage.objects.filter(kind=staff_accounts.INVITE_KIND)
    assert messages.count() == 2
    message = messages.get(payload__user_id=lucia.pk)
    assert message.district_id == world.district.pk
    assert outbox.deliver(message.pk) == OutboxMessage.State.SENT
    [email] = mailoutbox
    assert email.to == ["lucia.ferrante@example.test"]
    assert world.district.name in email.body
    link = re.search(r"https://btam\.example\.test/\S+", email.body)
    assert link is not None

    # The link is allauth's set-password page, and it works for the inactive account.
    client = Client()
    response = client.get(link.group(0).removeprefix("https://btam.example.test"))
    assert response.status_code == 302
    password = "a-long-new-passphrase-for-lucia-77"
    response = client.post(response["Location"], {"password1": password, "password2": password})
    assert response.status_code == 302, response.content.decode()[:1500]
    lucia.refresh_from_db()
    assert lucia.check_password(password)
    assert not lucia.is_active  # still no way in until a database manager activates it
    assert not Client().login(email=lucia.email, password=password)

    # Once the password is set, a late redelivery of the invitation sends nothing.
    OutboxMessage.objects.filter(pk=message.pk).update(state=OutboxMessage.State.PENDING)
    assert outbox.deliver(message.pk) == OutboxMessage.State.SENT
    assert len(mailoutbox) == 1


def test_an_invitation_needs_the_sites_address(world: Any) -> None:
    turn_on(world.district, invite=True)
    run = imports.do_start_import(
        actor=world.users[Role.DATABASE_MANAGER],
        district=world.district,
        upload=upload(bundle_bytes(ROSTER)),
        dry_run=False,
    )
    run_import_task.call(run.pk)  # no base_url: e.g. a run started outside a web request
    message = OutboxMessage.objects.filter(kind=staff_accounts.INVITE_KIND).first()
    assert message is not None
    assert outbox.deliver(message.pk) == OutboxMessage.State.FAILED


def test_an_existing_account_is_never_invited_again(world: Any) -> None:
    turn_on(world.district, invite=True)
    existing = UserFactory.create(email="omar.reyes@example.test")
    import_roster(world)
    assert account_of("adm-1") == existing
    assert existing.is_active
    assert not OutboxMessage.objects.filter(payload__user_id=existing.pk).exists()
