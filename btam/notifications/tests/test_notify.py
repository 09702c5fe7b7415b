"""delivery.notify: one inbox item per recipient and event, one email each, idempotent."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from btam.notifications.delivery import email_text, is_internal_path, notify
from btam.notifications.models import Notification
from btam.notifications.tests.helpers import T0, Team
from btam.testing import UserFactory
from btam.worker import outbox
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def tell(
    team: Team, recipients: Any, *, scope: str = "event:1", email: bool = True, **kwargs: Any
) -> list[Notification]:
    fields: dict[str, Any] = {
        "recipients": recipients,
        "district_id": team.district.pk,
        "kind": Kind.URGENT_REPORT,
        "title": "A new urgent report for Lincoln Test High needs attention",
        "link": "/intake/reports/42/",
        "target": team.school,
        "urgent": True,
        "dedupe_scope": scope,
        "email": email,
    }
    fields.update(kwargs)
    return notify(**fields)


def test_it_makes_one_inbox_item_and_one_email_per_recipient(team: Team) -> None:
    items = tell(team, [team.rapid_named, team.rapid_wide, team.rapid_named])
    assert [i.recipient for i in items] == [team.rapid_named, team.rapid_wide]
    item = Notification.objects.get(recipient=team.rapid_named)
    assert (item.kind, item.urgent, item.created_at, item.read_at) == (Kind.URGENT_REPORT, True, T0, None)
    assert (item.target_type, item.target_id, item.district_id) == (
        "orgs.school",
        str(team.school.pk),
        team.district.pk,
    )
    emails = OutboxMessage.objects.filter(kind="email")
    assert emails.count() == 2
    assert item.email_outbox is not None
    assert item.email_outbox.payload["to"] == [team.rapid_named.email]
    assert item.email_outbox.state == OutboxMessage.State.PENDING
    assert item.email_outbox.district_id == team.district.pk


def test_notifying_the_same_event_again_doubles_nothing(team: Team) -> None:
    first = tell(team, [team.rapid_named])
    again = tell(team, [team.rapid_named, team.rapid_wide], title="Another title")
    assert again[0].pk == first[0].pk
    assert Notification.objects.count() == 2
    assert OutboxMessage.objects.filter(kind="email").count() == 2
    # Another event for the same person is another item.
    tell(team, [team.rapid_named], scope="event:2")
    assert Notification.objects.filter(recipient=team.rapid_named).count() == 2


def test_inactive_accounts_are_skipped_and_bad_addresses_get_no_email(team: Team) -> None:
    no_address = UserFactory.create(email="not-an-address")
    tell(team, [team.rapid_inactive, no_address, team.rapid_named])
    assert set(Notification.objects.values_list("recipient", flat=True)) == {no_address.pk, team.rapid_named.pk}
    assert Notification.objects.get(recipient=no_address).email_outbox is None
    assert OutboxMessage.objects.filter(kind="email").count() == 1


def test_in_app_only_queues_no_email(team: Team) -> None:
    tell(team, [team.rapid_named], email=False)
    assert Notification.objects.get().email_outbox is None
    assert not OutboxMessage.objects.exists()


def test_it_rolls_back_with_the_change_that_caused_it(team: Team) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        tell(team, [team.rapid_named])
        raise RuntimeError("the action failed")
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "link", ["https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)", "intake/"]
)
def test_it_refuses_a_link_off_the_site(team: Team, link: str) -> None:
    with pytest.raises(ValueError, match="path on this site"):
        tell(team, [team.rapid_named], link=link)
    assert not Notification.objects.exists()


def test_it_refuses_an_unknown_kind_and_a_missing_title(team: Team) -> None:
    with pytest.raises(ValueError, match="kind"):
        tell(team, [team.rapid_named], kind="gossip")
    with pytest.raises(ValueError, match="title"):
        tell(team, [team.rapid_named], title="")


def test_internal_paths() -> None:
    assert is_internal_path("/intake/reports/1/")
    assert not is_internal_path("//evil.test")
    assert not is_internal_path("http://127.0.0.1:8000/intake/")


def test_the_email_says_where_to_sign_in_and_nothing_more(settings: Any) -> None:
    settings.BTAM_PUBLIC_BASE_URL = "https://btam.example.test"
    subject, body = email_text("A new urgent report for Lincoln Test High needs attention", "/intake/reports/42/")
    assert subject == "[OpenBTAM] A new urgent report for Lincoln Test High needs attention"
    assert body.startswith(
        "A new urgent report for Lincoln Test High needs attention: open OpenBTAM "
        "https://btam.example.test/intake/reports/42/\n"
    )


def test_the_email_is_delivered_by_the_outbox(team: Team, mailoutbox: list[Any]) -> None:
    item = tell(team, [team.rapid_named])[0]
    assert item.email_outbox is not None
    assert outbox.deliver(item.email_outbox.pk) == OutboxMessage.State.SENT
    assert [m.to for m in mailoutbox] == [[team.rapid_named.email]]
    item.email_outbox.refresh_from_db()
    assert item.email_outbox.state == OutboxMessage.State.SENT
