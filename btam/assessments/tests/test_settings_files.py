"""A district's own definition files: upload (validated with the shipped and the district's other
files), the list, the audited download, and delete only while nothing used the file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.assessments import definitions, levels
from btam.assessments.models import Assessment, CustomDefinition, InterventionKind, LevelChange
from btam.assessments.settings_actions import (
    MAX_DEFINITION_BYTES,
    SettingsError,
    do_add_intervention_kind,
    do_delete_definition,
    do_set_intervention_kind_active,
    do_update_assessment_settings,
    do_upload_definition,
)
from btam.assessments.tests.settings_helpers import (
    file_bytes,
    file_name,
    manager,
    scheme_json,
    tree_json,
    upload,
)
from btam.audit.models import AuditEvent, Verb
from btam.cases.tests.notes_tasks_helpers import open_case
from btam.lib import clock


def store(world: Any, data: dict[str, Any], *, district: Any = None, name: str | None = None) -> CustomDefinition:
    district = district or world.district
    actor = manager(world) if district == world.district else world.outsider
    return do_upload_definition(
        actor=actor, district_id=district.pk, file_name=name or file_name(data), data=file_bytes(data)
    )


def refused(world: Any, data: bytes, name: str = "district-scheme.v1.json") -> str:
    with pytest.raises(SettingsError) as exc:
        do_upload_definition(actor=manager(world), district_id=world.district.pk, file_name=name, data=data)
    assert not CustomDefinition.objects.exists()
    return str(exc.value)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Upload (the action) -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_districts_scheme_is_stored_audited_and_offered(world: Any) -> None:
    row = store(world, scheme_json())
    assert (row.definition_id, row.version, row.kind, row.file_name) == (
        "district-scheme",
        1,
        "level_scheme",
        "district-scheme.v1.json",
    )
    assert row.content == scheme_json()
    assert row.uploaded_by == manager(world)
    registry = levels.registry_for(world.district.pk)
    assert "district-scheme" in {s.id for s in registry.schemes()}
    # Not another district's.
    assert "district-scheme" not in {s.id for s in levels.registry_for(world.other_district.pk).schemes()}
    event = AuditEvent.objects.get(target_type="assessments.customdefinition", verb=Verb.CREATED)
    assert event.district_id == world.district.pk
    assert event.after == {"definition_id": "district-scheme", "version": 1, "kind": "level_scheme"}


@pytest.mark.django_db
def test_a_district_may_choose_its_own_scheme_and_instrument(world: Any) -> None:
    store(world, scheme_json())
    store(world, tree_json())
    do_update_assessment_settings(
        actor=manager(world),
        district_id=world.district.pk,
        level_scheme="district-scheme",
        instruments=["district-tree"],
        reassess_days={"red": 1},
        intervention_rules={},
    )
    scheme = levels.scheme_for(world.district.pk)
    assert scheme.id == "district-scheme"
    assert levels.reassess_days(world.district.pk, scheme, "red") == 1
    assert levels.reassess_days(world.district.pk, scheme, "amber") == 14
    assert levels.level_label("district-scheme", "amber", district_id=world.district.pk) == "Amber"


@pytest.mark.django_db
def test_a_revision_of_a_shipped_definition_is_allowed(world: Any) -> None:
    shipped = json.loads((definitions.INSTRUMENTS_DIR / "virginia.v1.json").read_text("utf-8"))
    shipped["version"] = 2
    shipped["levels"][0]["reassess_days"] = 120
    row = store(world, shipped)
    assert (row.definition_id, row.version) == ("virginia", 2)
    registry = levels.registry_for(world.district.pk)
    assert registry.scheme("virginia").version == 2
    assert registry.scheme("virginia", 1).level("low").reassess_days == 90  # the old version renders as it was
    assert levels.registry_for(world.other_district.pk).scheme("virginia").version == 1


@pytest.mark.django_db
def test_a_byte_order_mark_is_accepted(world: Any) -> None:
    row = do_upload_definition(
        actor=manager(world),
        district_id=world.district.pk,
        file_name="district-scheme.v1.json",
        data=b"\xef\xbb\xbf" + file_bytes(scheme_json()),
    )
    assert row.definition_id == "district-scheme"


@pytest.mark.django_db
def test_a_folder_in_the_uploaded_name_is_dropped(world: Any) -> None:
    row = store(world, scheme_json(), name="C:\\Users\\someone\\district-scheme.v1.json")
    assert row.file_name == "district-scheme.v1.json"


@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_json(world: Any) -> None:
    message = refused(world, b"levels: [low, high]\n")
    assert message.startswith("district-scheme.v1.json: line 1 column 1: invalid JSON")


@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_utf8(world: Any) -> None:
    message = refused(world, '{"title": "Niveles de preocupación"}'.encode("latin-1"))
    assert "is not UTF-8 text" in message and "district-scheme.v1.json" in message


@pytest.mark.django_db
def test_it_refuses_an_empty_file(world: Any) -> None:
    assert "is empty" in refused(world, b"")


@pytest.mark.django_db
def test_it_refuses_a_file_over_256_kb(world: Any) -> None:
    data = scheme_json(description="x" * (MAX_DEFINITION_BYTES + 1))
    message = refused(world, file_bytes(data))
    assert "too large" in message and "256 KB" in message


@pytest.mark.django_db
def test_it_refuses_a_tree_with_a_loop_naming_the_file_and_field(world: Any) -> None:
    message = refused(world, file_bytes(tree_json(loop=True)), name="district-tree.v1.json")
    assert message.startswith("district-tree.v1.json: steps[1].options[1].next:")
    assert "loop" in message


@pytest.mark.django_db
def test_it_refuses_an_unknown_field_naming_it(world: Any) -> None:
    data = scheme_json()
    data["levels"][1]["colour"] = "amber"
    message = refused(world, file_bytes(data))
    assert message.startswith("district-scheme.v1.json: levels[1].colour: unknown field")


@pytest.mark.django_db
def test_it_refuses_a_file_name_that_does_not_match_the_id(world: Any) -> None:
    message = refused(world, file_bytes(scheme_json()), name="our-scheme.json")
    assert "name the file district-scheme.v1.json" in message


@pytest.mark.django_db
def test_it_refuses_a_scheme_naming_an_unknown_intervention_kind(world: Any) -> None:
    data = scheme_json()
    data["levels"][2]["interventions"]["required"].append("peer-mentoring")
    message = refused(world, file_bytes(data))
    assert message.startswith("district-scheme.v1.json: levels[2].interventions.required")
    assert '"peer-mentoring" is not a known intervention kind' in message


@pytest.mark.django_db
def test_a_scheme_may_name_the_districts_own_active_kind_but_not_a_turned_off_one(world: Any) -> None:
    kind = do_add_intervention_kind(
        actor=manager(world), district_id=world.district.pk, code="peer-mentoring", label="Peer mentoring"
    )
    do_set_intervention_kind_active(actor=manager(world), kind=kind, active=False)
    data = scheme_json()
    data["levels"][0]["interventions"]["suggested"].append("peer-mentoring")
    assert "peer-mentoring" in refused(world, file_bytes(data))
    do_set_intervention_kind_active(actor=manager(world), kind=kind, active=True)
    row = store(world, data)
    assert (
        levels.registry_for(world.district.pk).scheme("district-scheme").level("green").suggested[-1]
        == "peer-mentoring"
    )
    # A scheme stored with a kind turned off later still loads (plans and levels refer to it).
    InterventionKind.objects.filter(pk=kind.pk).update(active=False)
    assert levels.registry_for(world.district.pk).scheme("district-scheme").version == row.version


@pytest.mark.django_db
def test_it_refuses_a_version_that_exists_in_the_district(world: Any) -> None:
    store(world, scheme_json())
    changed = scheme_json(title="Changed after publication")
    with pytest.raises(SettingsError) as exc:
        store(world, changed)
    assert "version 1 of “district-scheme” already exists" in str(exc.value)
    assert "publish it as version 2" in str(exc.value)
    assert CustomDefinition.objects.get().content["title"] == scheme_json()["title"]


@pytest.mark.django_db
def test_it_refuses_a_shipped_version(world: Any) -> None:
    shipped = (definitions.INSTRUMENTS_DIR / "virginia.v1.json").read_bytes()
    message = refused(world, shipped, name="virginia.v1.json")
    assert "version 1 of “virginia” already exists" in message and "publish it as version 2" in message


@pytest.mark.django_db
def test_it_refuses_a_lower_version_than_the_latest(world: Any) -> None:
    store(world, scheme_json(version=3))
    with pytest.raises(SettingsError, match="already at version 3: publish it as version 4"):
        store(world, scheme_json(version=2))


@pytest.mark.django_db
def test_the_same_id_and_version_in_another_district_is_its_own(world: Any) -> None:
    store(world, scheme_json())
    theirs = store(world, scheme_json(title="Theirs"), district=world.other_district)
    assert theirs.district == world.other_district


@pytest.mark.django_db
def test_it_refuses_an_id_of_another_kind(world: Any) -> None:
    data = scheme_json(definition_id="cstag-decision-tree")
    message = refused(world, file_bytes(data), name="cstag-decision-tree.v1.json")
    assert "cstag-decision-tree" in message


@pytest.mark.django_db
def test_it_refuses_an_outcome_map_naming_an_unknown_instrument(world: Any) -> None:
    data = scheme_json(outcome_map={"no-such-tree": {"high-concern": "red"}})
    message = refused(world, file_bytes(data))
    assert message == 'district-scheme.v1.json: outcome_map.no-such-tree: no instrument "no-such-tree" is defined'


@pytest.mark.django_db
def test_an_outcome_map_may_name_the_districts_own_instrument(world: Any) -> None:
    store(world, tree_json())
    store(world, scheme_json(outcome_map={"district-tree": {"high-concern": "red", "low-concern": "green"}}))
    scheme = levels.registry_for(world.district.pk).scheme("district-scheme")
    level = scheme.suggested_level("district-tree", "high-concern")
    assert level is not None and level.id == "red"


@pytest.mark.django_db
def test_a_stored_file_that_no_longer_validates_is_left_out_not_a_crash(world: Any) -> None:
    row = store(world, scheme_json())
    bad = scheme_json()
    bad["levels"][0]["colour"] = "green"
    CustomDefinition.objects.filter(pk=row.pk).update(content=bad)
    registry = levels.registry_for(world.district.pk)
    assert "district-scheme" not in {s.id for s in registry.schemes()}
    (entry,) = levels.district_files(world.district.pk)
    assert "levels[0].colour: unknown field" in entry.problem


@pytest.mark.django_db
def test_one_broken_file_leaves_the_districts_other_files_in_use(world: Any) -> None:
    store(world, tree_json(definition_id="zzz-tree"))
    store(world, scheme_json(definition_id="aaa-scheme", outcome_map={"zzz-tree": {"high-concern": "red"}}))
    broken = store(world, scheme_json())
    bad = scheme_json()
    bad["levels"][0]["colour"] = "green"
    CustomDefinition.objects.filter(pk=broken.pk).update(content=bad)
    registry = levels.registry_for(world.district.pk)
    assert registry.scheme("aaa-scheme").suggested_level("zzz-tree", "high-concern") is not None
    problems = {entry.row.definition_id: entry.problem for entry in levels.district_files(world.district.pk)}
    assert problems["aaa-scheme"] == problems["zzz-tree"] == ""
    assert "unknown field" in problems["district-scheme"]
    page = signed_in(manager(world)).get(reverse("assessments:settings_files"))
    assert "Not in use: it no longer validates." in page.content.decode()


@pytest.mark.django_db
def test_the_version_of_a_stored_file_that_no_longer_validates_stays_taken(world: Any) -> None:
    row = store(world, scheme_json())
    bad = scheme_json()
    bad["levels"][0]["colour"] = "green"
    CustomDefinition.objects.filter(pk=row.pk).update(content=bad)
    with pytest.raises(SettingsError, match="version 1 of “district-scheme” already exists"):
        store(world, scheme_json())
    assert store(world, scheme_json(version=2)).version == 2


# Delete ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unused_file_is_deleted_and_audited(world: Any) -> None:
    row = store(world, tree_json())
    do_delete_definition(actor=manager(world), definition=row)
    assert not CustomDefinition.objects.exists()
    event = AuditEvent.objects.get(target_type="assessments.customdefinition", verb=Verb.DELETED)
    assert event.before == {"definition_id": "district-tree", "version": 1, "kind": "decision_tree"}
    assert event.target_id == str(row.pk)


def _assessment(world: Any, **fields: Any) -> Assessment:
    case = open_case(world)
    now = clock.now()
    values = {
        "case": case,
        "district": world.district,
        "instrument_id": "cstag-decision-tree",
        "instrument_version": 1,
        "instrument_kind": "decision_tree",
        "started_by": world.users[Role.TEAM_MEMBER],
        "started_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return Assessment.objects.create(**values)


@pytest.mark.django_db
def test_an_instrument_version_an_assessment_used_is_never_deleted(world: Any) -> None:
    row = store(world, tree_json())
    _assessment(world, instrument_id="district-tree", instrument_version=1)
    with pytest.raises(SettingsError, match="Assessments were made with this version"):
        do_delete_definition(actor=manager(world), definition=row)
    assert CustomDefinition.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
def test_a_scheme_version_a_level_was_decided_with_is_never_deleted(world: Any) -> None:
    row = store(world, scheme_json())
    store(world, scheme_json(version=2))
    case = open_case(world)
    LevelChange.objects.create(
        case=case,
        scheme_id="district-scheme",
        scheme_version=1,
        level="red",
        rank=2,
        set_by=manager(world),
        set_at=clock.now(),
    )
    with pytest.raises(SettingsError, match="Levels were decided with this version"):
        do_delete_definition(actor=manager(world), definition=row)


@pytest.mark.django_db
def test_a_scheme_version_an_assessment_decided_with_is_never_deleted(world: Any) -> None:
    row = store(world, scheme_json())
    _assessment(world, scheme_id="district-scheme", scheme_version=1, level="amber")
    with pytest.raises(SettingsError, match="Levels were decided with this version"):
        do_delete_definition(actor=manager(world), definition=row)


@pytest.mark.django_db
def test_the_districts_current_scheme_is_not_deleted(world: Any) -> None:
    row = store(world, scheme_json())
    do_update_assessment_settings(
        actor=manager(world),
        district_id=world.district.pk,
        level_scheme="district-scheme",
        instruments=["cstag-decision-tree"],
        reassess_days={},
        intervention_rules={},
    )
    with pytest.raises(SettingsError, match="It is your district’s level scheme"):
        do_delete_definition(actor=manager(world), definition=row)


@pytest.mark.django_db
def test_an_instrument_offered_to_the_teams_is_not_deleted(world: Any) -> None:
    row = store(world, tree_json())
    do_update_assessment_settings(
        actor=manager(world),
        district_id=world.district.pk,
        level_scheme="virginia",
        instruments=["district-tree"],
        reassess_days={},
        intervention_rules={},
    )
    with pytest.raises(SettingsError, match="Your teams are offered this instrument"):
        do_delete_definition(actor=manager(world), definition=row)


@pytest.mark.django_db
def test_a_file_another_file_needs_is_not_deleted(world: Any) -> None:
    tree = store(world, tree_json())
    store(world, scheme_json(outcome_map={"district-tree": {"high-concern": "red"}}))
    with pytest.raises(SettingsError, match="Another of your files needs it"):
        do_delete_definition(actor=manager(world), definition=tree)


@pytest.mark.django_db
def test_another_districts_manager_cannot_delete_a_file(world: Any) -> None:
    from django.core.exceptions import PermissionDenied

    row = store(world, tree_json())
    with pytest.raises(PermissionDenied):
        do_delete_definition(actor=world.outsider, definition=row)
    assert CustomDefinition.objects.filter(pk=row.pk).exists()


# The pages -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_files_page_lists_the_districts_files(world: Any) -> None:
    store(world, scheme_json())
    store(world, tree_json(), district=world.other_district)
    response = signed_in(manager(world)).get(reverse("assessments:settings_files"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "district-scheme" in body
    assert "district-tree" not in body  # the other district's
    assert manager(world).get_full_name() in body


@pytest.mark.django_db
def test_uploading_through_the_page_stores_the_file(world: Any) -> None:
    client = signed_in(manager(world))
    response = upload(client, world.district.pk, "district-scheme.v1.json", file_bytes(scheme_json()))
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:settings_files") + f"?district={world.district.pk}"
    assert CustomDefinition.objects.filter(district=world.district, definition_id="district-scheme").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("district-scheme.v1.json", b"not json at all", "invalid JSON"),
        ("district-scheme.v1.json", b"\xff\xfe{}", "is not UTF-8 text"),
        ("district-tree.v1.json", file_bytes(tree_json(loop=True)), "the tree has a loop"),
        ("district-scheme.v1.json", b"", "is empty"),
    ],
)
def test_a_bad_file_through_the_page_is_a_400_with_the_message(
    world: Any, name: str, content: bytes, message: str
) -> None:
    response = upload(signed_in(manager(world)), world.district.pk, name, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CustomDefinition.objects.exists()


@pytest.mark.django_db
def test_a_duplicate_version_through_the_page_is_a_400(world: Any) -> None:
    client = signed_in(manager(world))
    upload(client, world.district.pk, "district-scheme.v1.json", file_bytes(scheme_json()))
    response = upload(client, world.district.pk, "district-scheme.v1.json", file_bytes(scheme_json(title="Again")))
    assert response.status_code == 400
    assert "publish it as version 2" in response.content.decode()


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused_with_a_413(world: Any) -> None:
    big = file_bytes(scheme_json(description="x" * (MAX_DEFINITION_BYTES + 1)))
    response = upload(signed_in(manager(world)), world.district.pk, "district-scheme.v1.json", big)
    assert response.status_code == 413
    assert "256 KB" in response.content.decode()
    assert not CustomDefinition.objects.exists()


@pytest.mark.django_db
def test_a_post_without_a_file_is_a_400(world: Any) -> None:
    response = signed_in(manager(world)).post(
        reverse("assessments:settings_files") + f"?district={world.district.pk}", {"district": world.district.pk}
    )
    assert response.status_code == 400
    assert "Choose a file to upload." in response.content.decode()


@pytest.mark.django_db
def test_uploading_to_another_district_is_a_403(world: Any) -> None:
    response = upload(
        signed_in(manager(world)), world.other_district.pk, "district-scheme.v1.json", file_bytes(scheme_json())
    )
    assert response.status_code == 403
    assert not CustomDefinition.objects.exists()


@pytest.mark.django_db
def test_a_team_member_cannot_upload(world: Any) -> None:
    client = signed_in(world.users[Role.TEAM_MEMBER])
    response = upload(client, world.district.pk, "district-scheme.v1.json", file_bytes(scheme_json()))
    assert response.status_code == 403
    assert not CustomDefinition.objects.exists()


@pytest.mark.django_db
def test_the_download_is_the_stored_json_and_is_audited(world: Any) -> None:
    row = store(world, scheme_json())
    response = signed_in(manager(world)).get(reverse("assessments:settings_file_download", args=[row.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="district-scheme.v1.json"'
    assert "no-store" in response["Cache-Control"]
    assert json.loads(response.content) == scheme_json()
    event = AuditEvent.objects.get(verb=Verb.DOWNLOADED, target_type="assessments.customdefinition")
    assert event.target_id == str(row.pk) and event.district_id == world.district.pk


@pytest.mark.django_db
def test_another_districts_file_is_a_404(world: Any) -> None:
    theirs = store(world, scheme_json(), district=world.other_district)
    client = signed_in(manager(world))
    assert client.get(reverse("assessments:settings_file_download", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("assessments:settings_file_delete", args=[theirs.pk])).status_code == 404
    assert CustomDefinition.objects.filter(pk=theirs.pk).exists()
    assert not AuditEvent.objects.filter(verb=Verb.DOWNLOADED).exists()


@pytest.mark.django_db
def test_deleting_through_the_page(world: Any) -> None:
    row = store(world, tree_json())
    client = signed_in(manager(world))
    page = client.get(reverse("assessments:settings_file_delete", args=[row.pk]))
    assert page.status_code == 200 and "Delete the file" in page.content.decode()
    response = client.post(reverse("assessments:settings_file_delete", args=[row.pk]))
    assert response.status_code == 302
    assert not CustomDefinition.objects.exists()


@pytest.mark.django_db
def test_deleting_a_used_file_through_the_page_is_a_400_with_the_reason(world: Any) -> None:
    row = store(world, tree_json())
    _assessment(world, instrument_id="district-tree", instrument_version=1)
    client = signed_in(manager(world))
    page = client.get(reverse("assessments:settings_file_delete", args=[row.pk]))
    assert "Assessments were made with this version" in page.content.decode()
    assert "Delete the file" not in page.content.decode()
    response = client.post(reverse("assessments:settings_file_delete", args=[row.pk]))
    assert response.status_code == 400
    assert CustomDefinition.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
def test_an_upload_without_the_csrf_token_is_refused(world: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager(world))
    response = upload(client, world.district.pk, "district-scheme.v1.json", file_bytes(scheme_json()))
    assert response.status_code == 403
    assert not CustomDefinition.objects.exists()
