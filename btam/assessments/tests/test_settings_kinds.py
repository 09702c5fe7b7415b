"""A district's own intervention kinds: add, rename, turn off and on again (never deleted)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.assessments import plan
from btam.assessments.models import InterventionKind
from btam.assessments.settings_actions import (
    SettingsError,
    do_add_intervention_kind,
    do_edit_intervention_kind,
    do_set_intervention_kind_active,
    do_update_assessment_settings,
)
from btam.assessments.tests.settings_helpers import manager
from btam.audit.models import AuditEvent, Verb


def add(world: Any, code: str = "peer-mentoring", label: str = "Peer mentoring", **kwargs: Any) -> InterventionKind:
    return do_add_intervention_kind(
        actor=manager(world), district_id=world.district.pk, code=code, label=label, **kwargs
    )


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_kind_is_added_to_the_districts_catalogue_and_audited(world: Any) -> None:
    kind = add(world, description="A trained older student meets the student weekly.")
    assert kind.active and kind.created_by == manager(world)
    assert "peer-mentoring" in {k.code for k in plan.kinds_for(world.district.pk)}
    assert "peer-mentoring" not in {k.code for k in plan.kinds_for(world.other_district.pk)}
    event = AuditEvent.objects.get(target_type="assessments.interventionkind", verb=Verb.CREATED)
    assert event.after == {"code": "peer-mentoring", "active": True}
    assert "Peer mentoring" not in str(event.detail) + str(event.after)  # no free text in the trail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "label", "message"),
    [
        ("Peer Mentoring", "Peer mentoring", "lowercase letters, digits and hyphens"),
        ("-peer", "Peer mentoring", "lowercase letters, digits and hyphens"),
        ("p", "Peer mentoring", "lowercase letters, digits and hyphens"),
        ("peer_mentoring", "Peer mentoring", "lowercase letters, digits and hyphens"),
        ("x" * 61, "Peer mentoring", "lowercase letters, digits and hyphens"),
        ("safety-plan", "Our safety plan", "is an intervention of the built-in catalogue"),
        ("peer-mentoring", "   ", "The name is required"),
        ("peer-mentoring", "x" * 121, "The name is too long"),
        ("peer-mentoring", "Safety plan", "An intervention is already called “Safety plan”"),
        ("peer-mentoring", "Bad\x00name", "cannot be stored"),
    ],
)
def test_it_refuses_a_bad_kind(world: Any, code: str, label: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        add(world, code=code, label=label)
    assert not InterventionKind.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_code_or_name_the_district_has(world: Any) -> None:
    kind = add(world)
    with pytest.raises(SettingsError, match="already has an intervention with the code"):
        add(world, label="Another name")
    with pytest.raises(SettingsError, match="already called"):
        add(world, code="peer-support", label="PEER MENTORING")
    do_set_intervention_kind_active(actor=manager(world), kind=kind, active=False)
    with pytest.raises(SettingsError, match="turned off: turn it on"):
        add(world, label="Another name")


@pytest.mark.django_db
def test_another_district_may_use_the_same_code(world: Any) -> None:
    add(world)
    theirs = do_add_intervention_kind(
        actor=world.outsider, district_id=world.other_district.pk, code="peer-mentoring", label="Peer mentoring"
    )
    assert theirs.district == world.other_district


@pytest.mark.django_db
def test_a_description_is_at_most_500_characters(world: Any) -> None:
    with pytest.raises(SettingsError, match="The description is too long"):
        add(world, description="x" * 501)


@pytest.mark.django_db
def test_a_team_member_cannot_add_a_kind(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        do_add_intervention_kind(
            actor=world.users[Role.TEAM_MEMBER], district_id=world.district.pk, code="peer-mentoring", label="Peer"
        )


@pytest.mark.django_db
def test_turning_a_kind_off_and_on_again(world: Any) -> None:
    kind = add(world)
    do_set_intervention_kind_active(actor=manager(world), kind=kind, active=False)
    assert "peer-mentoring" not in {k.code for k in plan.kinds_for(world.district.pk)}
    assert "peer-mentoring" in plan.all_kinds(world.district.pk)  # interventions of it keep it
    do_set_intervention_kind_active(actor=manager(world), kind=kind, active=False)  # no change: no event
    do_set_intervention_kind_active(actor=manager(world), kind=kind, active=True)
    assert InterventionKind.objects.get(pk=kind.pk).active
    events = AuditEvent.objects.filter(target_type="assessments.interventionkind", verb=Verb.UPDATED).order_by("id")
    assert [(e.before, e.after) for e in events] == [
        ({"active": True}, {"active": False}),
        ({"active": False}, {"active": True}),
    ]


@pytest.mark.django_db
def test_a_kind_the_rules_name_cannot_be_turned_off(world: Any) -> None:
    kind = add(world)
    do_update_assessment_settings(
        actor=manager(world),
        district_id=world.district.pk,
        level_scheme="virginia",
        instruments=["cstag-decision-tree"],
        reassess_days={},
        intervention_rules={"high": {"required": ["peer-mentoring"], "suggested": []}},
    )
    with pytest.raises(SettingsError, match="The intervention rules name it at High"):
        do_set_intervention_kind_active(actor=manager(world), kind=kind, active=False)
    assert InterventionKind.objects.get(pk=kind.pk).active


@pytest.mark.django_db
def test_renaming_a_kind_keeps_its_code(world: Any) -> None:
    kind = add(world)
    add(world, code="mentor-lunch", label="Lunch with a mentor")
    with pytest.raises(SettingsError, match="already called"):
        do_edit_intervention_kind(actor=manager(world), kind=kind, label="Lunch with a mentor", description="")
    renamed = do_edit_intervention_kind(actor=manager(world), kind=kind, label="Peer mentor", description="Weekly.")
    assert (renamed.code, renamed.label, renamed.description) == ("peer-mentoring", "Peer mentor", "Weekly.")
    event = AuditEvent.objects.filter(target_type="assessments.interventionkind", verb=Verb.UPDATED).get()
    assert event.detail == {"code": "peer-mentoring", "fields": ["label", "description"]}
    # Saving the same name (in another case) is not a clash with itself.
    do_edit_intervention_kind(actor=manager(world), kind=kind, label="PEER MENTOR", description="Weekly.")


# The pages -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_kinds_page_lists_the_catalogue_and_the_districts_kinds(world: Any) -> None:
    add(world)
    do_add_intervention_kind(
        actor=world.outsider, district_id=world.other_district.pk, code="theirs", label="Their kind"
    )
    response = signed_in(manager(world)).get(reverse("assessments:settings_kinds"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Peer mentoring" in body and "Law-enforcement referral" in body
    assert "Their kind" not in body


@pytest.mark.django_db
def test_adding_through_the_page(world: Any) -> None:
    response = signed_in(manager(world)).post(
        reverse("assessments:settings_kinds"),
        {"district": world.district.pk, "code": "peer-mentoring", "label": "Peer mentoring", "description": ""},
    )
    assert response.status_code == 302
    assert InterventionKind.objects.filter(district=world.district, code="peer-mentoring").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "", "label": "Peer mentoring"}, "Enter a code."),
        ({"code": "safety-plan", "label": "Peer mentoring"}, "built-in catalogue"),
        ({"code": "Peer Mentoring!", "label": "Peer mentoring"}, "lowercase letters"),
        ({"code": "peer-mentoring", "label": ""}, "Enter a name."),
        ({"code": "peer-mentoring", "label": "x" * 200}, "At most 120 characters."),
    ],
)
def test_a_bad_kind_through_the_page_is_a_400(world: Any, data: dict[str, str], message: str) -> None:
    response = signed_in(manager(world)).post(
        reverse("assessments:settings_kinds"), {"district": world.district.pk, **data}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not InterventionKind.objects.exists()


@pytest.mark.django_db
def test_turning_off_and_editing_through_the_page(world: Any) -> None:
    kind = add(world)
    client = signed_in(manager(world))
    assert client.post(reverse("assessments:settings_kind_active", args=[kind.pk]), {"active": "0"}).status_code == 302
    assert not InterventionKind.objects.get(pk=kind.pk).active
    assert (
        client.post(reverse("assessments:settings_kind_active", args=[kind.pk]), {"active": "maybe"}).status_code == 400
    )
    assert client.get(reverse("assessments:settings_kind_active", args=[kind.pk])).status_code == 405
    assert client.get(reverse("assessments:settings_kind_edit", args=[kind.pk])).status_code == 200
    response = client.post(reverse("assessments:settings_kind_edit", args=[kind.pk]), {"label": "Peer mentor"})
    assert response.status_code == 302
    assert InterventionKind.objects.get(pk=kind.pk).label == "Peer mentor"
    response = client.post(reverse("assessments:settings_kind_edit", args=[kind.pk]), {"label": ""})
    assert response.status_code == 400


@pytest.mark.django_db
def test_turning_off_a_kind_the_rules_need_through_the_page_is_a_400(world: Any) -> None:
    kind = add(world)
    do_update_assessment_settings(
        actor=manager(world),
        district_id=world.district.pk,
        level_scheme="virginia",
        instruments=["cstag-decision-tree"],
        reassess_days={},
        intervention_rules={"low": {"required": [], "suggested": ["peer-mentoring"]}},
    )
    response = signed_in(manager(world)).post(
        reverse("assessments:settings_kind_active", args=[kind.pk]), {"active": "0"}
    )
    assert response.status_code == 400
    assert "The intervention rules name it at Low" in response.content.decode()


@pytest.mark.django_db
def test_another_districts_kind_is_a_404(world: Any) -> None:
    theirs = do_add_intervention_kind(
        actor=world.outsider, district_id=world.other_district.pk, code="theirs", label="Their kind"
    )
    client = signed_in(manager(world))
    assert (
        client.post(reverse("assessments:settings_kind_active", args=[theirs.pk]), {"active": "0"}).status_code == 404
    )
    assert (
        client.post(reverse("assessments:settings_kind_edit", args=[theirs.pk]), {"label": "Mine"}).status_code == 404
    )
    assert InterventionKind.objects.get(pk=theirs.pk).active


@pytest.mark.django_db
def test_adding_to_another_district_is_a_403(world: Any) -> None:
    response = signed_in(manager(world)).post(
        reverse("assessments:settings_kinds"),
        {"district": world.other_district.pk, "code": "peer-mentoring", "label": "Peer mentoring"},
    )
    assert response.status_code == 403
    assert not InterventionKind.objects.exists()
