from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from btam.accounts.models import Role, User
from btam.lib import clock as clock_module
from btam.orgs.models import District, School
from btam.testing import DistrictFactory, SchoolFactory, UserFactory, make_member


@dataclass
class World:
    """Two districts; district A has two schools and one user per role; B has a team leader."""

    district: District
    school: School
    other_school: School
    other_district: District
    users: dict[str, User]
    outsider: User  # team leader of the other district
    no_role: User  # signed-in account with no access level


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Files a test stores (attachments, roster bundles) go to a temporary folder, never var/media."""
    storages = {**settings.STORAGES}
    default = {**storages["default"]}
    default["OPTIONS"] = {**default.get("OPTIONS", {}), "location": str(tmp_path_factory.mktemp("media"))}
    storages["default"] = default
    settings.STORAGES = storages


@pytest.fixture
def settings_for_demo(settings: Any, tmp_path: Any) -> None:
    """For tests that load the demo: a fast password hasher, uploaded files under tmp_path."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path / "media")}},
    }


@pytest.fixture
def world(db: None, settings: Any) -> World:
    # Argon2 takes a noticeable fraction of a second per password; the world's eleven accounts
    # use a fast hasher (tests of password hashing itself make their own users).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    district = DistrictFactory.create(name="Cedar Test District (fictitious)")
    school = SchoolFactory.create(district=district, name="North Test High")
    other_school = SchoolFactory.create(district=district, name="South Test Middle")
    other_district = DistrictFactory.create(name="Other Test District (fictitious)")
    SchoolFactory.create(district=other_district, name="Elsewhere High")
    users = {role.value: make_member(role.value, district) for role in Role}
    outsider = make_member(Role.TEAM_LEADER, other_district)
    no_role = UserFactory.create()
    from btam.testing import give_totp

    give_totp(no_role)
    return World(district, school, other_school, other_district, users, outsider, no_role)


@pytest.fixture
def clock() -> Iterator[object]:
    """Move time in domain code: ``clock.advance(minutes=15)``."""
    yield clock_module
    clock_module.reset()
