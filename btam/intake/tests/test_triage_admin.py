"""Reports in /admin/: a read-only list of metadata for the district's administrators."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role
from btam.intake.tests.triage_helpers import FAST_HASHERS, submit

SECRET = "Tamsin Vellacourt keeps a knife in her locker"


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.mark.parametrize("role", [Role.DATABASE_MANAGER, Role.SYSTEM_ADMIN])
def test_admins_see_report_metadata_of_their_district_never_content(world: Any, client: Client, role: str) -> None:
    mine = submit(world.school, SECRET, names=("Tamsin Vellacourt",))
    elsewhere = submit(world.other_district.schools.get(), "Another district's report about the gym.")
    client.force_login(world.users[role])

    listing = client.get(reverse("admin:intake_report_changelist"))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert reverse("admin:intake_report_change", args=[mine.pk]) in body
    assert reverse("admin:intake_report_change", args=[elsewhere.pk]) not in body
    assert "Vellacourt" not in body

    page = client.get(reverse("admin:intake_report_change", args=[mine.pk]))
    assert page.status_code == 200
    assert "Vellacourt" not in page.content.decode() and "knife" not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()  # read-only

    assert client.get(reverse("admin:intake_report_add")).status_code == 403
    assert client.post(reverse("admin:intake_report_delete", args=[mine.pk]), {"post": "yes"}).status_code == 403
    assert (
        client.post(reverse("admin:intake_report_change", args=[mine.pk]), {"status": "screened_out"}).status_code
        == 403
    )
