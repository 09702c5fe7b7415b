"""The settings page: who reaches it, which district it is about, the form and its bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Membership, Role
from btam.assessments import definitions, levels
from btam.assessments.models import AssessmentSettings
from btam.assessments.tests.settings_helpers import leader, manager
from btam.audit.models import AuditEvent
from btam.testing import make_member

URL = reverse("assessments:settings")


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(district_id: int, scheme_id: str = "virginia", **changes: Any) -> dict[str, Any]:
    """What the page posts when nothing is changed: the scheme's defaults, every instrument."""
    scheme = definitions.builtin().scheme(scheme_id)
    data: dict[str, Any] = {
        "district": str(district_id),
        "level_scheme": scheme_id,
        "form_scheme": scheme_id,
        "instruments": [i.id for i in definitions.builtin().instruments()],
    }
    for level in scheme.levels:
        data[f"days.{level.id}"] = ""
        for code in level.required:
            data[f"rule.{level.id}.{code}"] = "required"
        for code in level.suggested:
            data[f"rule.{level.id}.{code}"] = "suggested"
    data.update(changes)
    return data


# Who, and which district --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_sees_the_settings_of_their_district(world: Any) -> None:
    response = signed_in(manager(world)).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert world.district.name in body
    assert "Every case keeps the level and the scheme it was decided with" in body
    for scheme in definitions.builtin().schemes():
        assert f'value="{scheme.id}"' in body
    # Every instrument is offered until the district chooses; blank intervals show the default.
    for instrument in definitions.builtin().instruments():
        assert (
            f'id="instrument-{instrument.id}" type="checkbox" name="instruments" value="{instrument.id}" checked'
            in body
        )
    assert 'name="days.imminent"' in body and 'placeholder="1"' in body
    assert 'name="rule.imminent.law-enforcement-referral"' in body
    # Nothing of a case on this page: no read is audited.
    assert not AuditEvent.objects.filter(verb="viewed").exists()


@pytest.mark.django_db
def test_a_district_wide_leader_reaches_it(world: Any) -> None:
    assert signed_in(leader(world)).get(URL).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.TEAM_MEMBER, Role.RAPID_RESPONSE, Role.AUDITOR, Role.SYSTEM_ADMIN])
def test_other_roles_get_a_403(world: Any, role: str) -> None:
    client = signed_in(world.users[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(world.district.pk)).status_code == 403
    assert not AssessmentSettings.objects.exists()


@pytest.mark.django_db
def test_a_leader_of_named_schools_gets_a_403(world: Any) -> None:
    school_leader = make_member(Role.TEAM_LEADER, world.district, schools=[world.school])
    client = signed_in(school_leader)
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(world.district.pk)).status_code == 403
    assert client.get(reverse("assessments:settings_files")).status_code == 403
    assert client.get(reverse("assessments:settings_kinds")).status_code == 403


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(world: Any) -> None:
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_another_districts_id_is_a_403(world: Any) -> None:
    client = signed_in(manager(world))
    assert client.get(URL + f"?district={world.other_district.pk}").status_code == 403
    response = client.post(URL, form_data(world.other_district.pk, "florida"))
    assert response.status_code == 403
    assert not AssessmentSettings.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "9" * 30])
def test_a_malformed_district_is_a_400(world: Any, value: str) -> None:
    assert signed_in(manager(world)).get(URL, {"district": value}).status_code == 400


@pytest.mark.django_db
def test_a_manager_of_two_districts_picks_one(world: Any) -> None:
    user = manager(world)
    Membership.objects.create(user=user, district=world.other_district, role=Role.DATABASE_MANAGER)
    client = signed_in(user)
    body = client.get(URL).content.decode()
    assert 'name="district"' in body and world.other_district.name in body and world.district.name in body
    response = client.post(URL, form_data(world.other_district.pk, "florida"))
    assert response.status_code == 302
    assert response["Location"] == URL + f"?district={world.other_district.pk}"
    assert levels.scheme_for(world.other_district.pk).id == "florida"
    assert levels.scheme_for(world.district.pk).id == "virginia"


# Saving --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_intervals_rules_and_instruments(world: Any) -> None:
    data = form_data(
        world.district.pk,
        instruments=["cstag-decision-tree", "screening-checklist"],
        **{"days.high": "3", "rule.low.wellness-check": "required", "rule.low.parent-conference": ""},
    )
    response = signed_in(manager(world)).post(URL, data, follow=True)
    assert response.status_code == 200
    assert "Settings saved." in response.content.decode()
    row = AssessmentSettings.objects.get(district=world.district)
    assert row.instruments == ["cstag-decision-tree", "screening-checklist"]
    assert row.reassess_days == {"virginia": {"high": 3}}
    assert row.intervention_rules == {
        "virginia": {"low": {"required": ["wellness-check"], "suggested": ["resource-connection"]}}
    }
    body = response.content.decode()
    assert 'name="days.high" value="3"' in body


@pytest.mark.django_db
def test_changing_the_scheme_without_javascript_starts_from_its_defaults(world: Any) -> None:
    client = signed_in(manager(world))
    client.post(URL, form_data(world.district.pk, **{"days.high": "3"}))
    # The page showed Virginia's levels; the scheme is switched to Florida in the same post.
    data = form_data(
        world.district.pk, level_scheme="florida", **{"days.high": "5", "rule.high.wellness-check": "required"}
    )
    response = client.post(URL, data, follow=True)
    assert "Its intervals and intervention rules are its own defaults: review them below." in response.content.decode()
    row = AssessmentSettings.objects.get(district=world.district)
    # Florida starts from its defaults; Virginia's interval stays Virginia's (cases decided with it).
    assert (row.level_scheme, row.reassess_days, row.intervention_rules) == ("florida", {"virginia": {"high": 3}}, {})
    assert levels.day_overrides(row, "florida") == {}


@pytest.mark.django_db
def test_the_scheme_preview_swaps_in_the_levels_of_the_scheme(world: Any) -> None:
    response = signed_in(manager(world)).get(
        URL, {"district": world.district.pk, "level_scheme": "salem-keizer"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="set-levels"')
    assert 'name="form_scheme" value="salem-keizer"' in body
    assert 'name="days.level-2"' in body and 'name="days.imminent"' not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"days.high": "0"}, "At least 1 day."),
        ({"days.high": "999"}, "At most 365 days."),
        ({"days.high": "a week"}, "Enter a whole number of days, or leave it blank."),
        ({"days.high": "7.5"}, "Enter a whole number of days, or leave it blank."),
        ({"instruments": []}, "Choose at least one instrument for your teams."),
        ({"instruments": ["no-such-instrument"]}, "Choose instruments from the list."),
        ({"level_scheme": "no-such-scheme"}, "Choose one of the level schemes in the list."),
        ({"level_scheme": ""}, "Choose a level scheme."),
        ({"rule.high.safety-plan": "mandatory"}, "Choose required, suggested or neither."),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_saves_nothing(world: Any, changes: dict[str, Any], message: str) -> None:
    response = signed_in(manager(world)).post(URL, form_data(world.district.pk, **changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "The settings were not saved" in body
    assert not AssessmentSettings.objects.exists()


@pytest.mark.django_db
def test_a_rule_naming_an_unknown_kind_is_not_a_field_and_changes_nothing(world: Any) -> None:
    response = signed_in(manager(world)).post(
        URL, form_data(world.district.pk, **{"rule.high.no-such-kind": "required"})
    )
    assert response.status_code == 302
    scheme = levels.scheme_for(world.district.pk)
    assert "no-such-kind" not in levels.rules(world.district.pk, scheme, "high")[0]


@pytest.mark.django_db
def test_a_put_is_refused(world: Any) -> None:
    assert signed_in(manager(world)).put(URL).status_code == 405
