from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from btam.accounts.models import Role, User
from btam.orgs.models import District
from btam.testing import DistrictFactory, make_member


@pytest.fixture(autouse=True)
def _clear_cache(db: None) -> Iterator[None]:
    """Rate-limit counters and used TOTP codes live in the (database) cache: start each test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def district(db: None) -> District:
    return DistrictFactory.create(name="Cedar Test District (fictitious)")


@pytest.fixture
def leader(district: District) -> User:
    """A team leader (case data) enrolled in TOTP with btam.testing.TOTP_SECRET."""
    return make_member(Role.TEAM_LEADER, district, full_name="Dana Test-Leader")


@pytest.fixture
def colleague(district: District) -> User:
    return make_member(Role.TEAM_MEMBER, district, full_name="Marcus Test-Member")
