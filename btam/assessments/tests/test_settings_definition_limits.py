"""Uploads of definition files with what JSON allows but the database cannot store (review findings
3 and 4): NUL, unpaired surrogates and control characters, numbers beyond the columns, ids longer
than the columns. Each is a 400 naming the file and the field, nothing is stored, and the district's
pages still work. Runs on SQLite and on PostgreSQL (which refuses \\u0000 in JSON)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.assessments import definitions
from btam.assessments.models import CustomDefinition
from btam.assessments.settings_actions import SettingsError, do_upload_definition
from btam.assessments.tests.settings_helpers import manager, scheme_json, upload
from btam.audit.models import AuditEvent


def _scheme_text(**changes: Any) -> str:
    return json.dumps(scheme_json(**changes))


def _level(field: str, value: Any) -> str:
    data = scheme_json()
    data["levels"][0][field] = value
    return json.dumps(data)


def _checklist_with_outcome(outcome_id: str) -> tuple[str, str]:
    text = (definitions.INSTRUMENTS_DIR / "screening-checklist.v1.json").read_text(encoding="utf-8")
    text = text.replace('"screening-checklist"', '"our-checklist"').replace('"evaluate"', f'"{outcome_id}"')
    return "our-checklist.v1.json", text


SCHEME = "district-scheme.v1.json"
CASES: list[tuple[str, str, str, str]] = [
    # (name, file name, text, fragment of the message)
    (
        "nul escape",
        SCHEME,
        _level("description", "a\u0000b"),
        "levels[0].description: holds a control character (U+0000)",
    ),
    (
        "surrogate escape",
        SCHEME,
        _scheme_text().replace('"Green"', '"Gr\\ud800een"', 1),
        "levels[0].label: holds an unpaired surrogate (U+D800)",
    ),
    (
        "control character",
        SCHEME,
        _level("label", "Gre\u001fen"),
        "levels[0].label: holds a control character (U+001F)",
    ),
    (
        "surrogate in a field name",
        SCHEME,
        _scheme_text().replace('"approval": true', '"appr\\udc00oval": true', 1),
        "holds an unpaired surrogate (U+DC00)",
    ),
    (
        "version beyond the column",
        "district-scheme.v99999999999.json",
        _scheme_text(version=99999999999),
        "version: must be at most 1,000,000",
    ),
    ("huge interval", SCHEME, _level("reassess_days", 10**30), "levels[0].reassess_days: must be at most 365"),
    ("interval of 7.0", SCHEME, _level("reassess_days", 7.0), "without a decimal point (7, not 7.0)"),
    ("infinite number", SCHEME, _scheme_text()[:-1] + ', "x": 1e400}', "x: is a number too large to be stored"),
    ("level id of 41", SCHEME, _level("id", "g" * 41), "levels[0].id: "),
    ("outcome id of 61", *_checklist_with_outcome("e" * 61), "outcomes[0].id: "),
    ("a number of 5000 digits", SCHEME, _scheme_text()[:-1] + ', "x": ' + "9" * 5000 + "}", "a number is too long"),
]


def _client(world: Any) -> Client:
    client = Client(raise_request_exception=False)  # a 500 is a status here, not an exception
    client.force_login(manager(world))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "file_name", "text", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_an_unstorable_file_is_a_400_naming_file_and_field(
    world: Any, name: str, file_name: str, text: str, fragment: str
) -> None:
    client = _client(world)
    response = upload(client, world.district.pk, file_name, text.encode("utf-8"))
    assert response.status_code == 400
    body = response.content.decode()
    assert file_name in body
    assert fragment in body.replace("&quot;", '"').replace("&#x27;", "'")
    assert not CustomDefinition.objects.exists()
    assert not AuditEvent.objects.filter(target_type="assessments.customdefinition").exists()
    # The district's pages still render.
    query = f"?district={world.district.pk}"
    assert client.get(reverse("assessments:settings_files") + query).status_code == 200
    assert client.get(reverse("assessments:settings") + query).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "file_name", "text", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_the_action_refuses_them_too(world: Any, name: str, file_name: str, text: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        do_upload_definition(
            actor=manager(world), district_id=world.district.pk, file_name=file_name, data=text.encode("utf-8")
        )
    assert caught.value.field == "file"
    assert str(caught.value).startswith(f"{file_name}: ")
    assert fragment in str(caught.value)
    str(caught.value).encode("utf-8")  # the message can be shown
    assert not CustomDefinition.objects.exists()


@pytest.mark.django_db
def test_ids_and_version_at_the_limits_are_stored(world: Any) -> None:
    data = scheme_json(version=1_000_000)
    long_level = "g" * 40
    data["levels"][0]["id"] = long_level
    data["levels"][0]["description"] = "Two lines:\n\tindented."
    row = do_upload_definition(
        actor=manager(world),
        district_id=world.district.pk,
        file_name="district-scheme.v1000000.json",
        data=json.dumps(data).encode("utf-8"),
    )
    row.refresh_from_db()
    assert row.version == 1_000_000
    assert row.content["levels"][0]["id"] == long_level
    name, text = _checklist_with_outcome("e" * 60)
    stored = do_upload_definition(
        actor=manager(world), district_id=world.district.pk, file_name=name, data=text.encode("utf-8")
    )
    assert stored.definition_id == "our-checklist"
