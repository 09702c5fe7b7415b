"""Short names that the public report pages use in their own paths are refused for schools and districts."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from btam.orgs.models import RESERVED_SLUGS, District, School
from btam.testing import DistrictFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_a_reserved_short_name_is_refused_with_a_clear_message(slug: str) -> None:
    district = DistrictFactory.create()
    with pytest.raises(ValidationError) as raised:
        School(district=district, slug=slug, name="Test School").full_clean()
    assert "public report pages" in str(raised.value)
    with pytest.raises(ValidationError):
        District(slug=slug, name="Test District").full_clean()


def test_ordinary_short_names_pass() -> None:
    district = DistrictFactory.create()
    School(district=district, slug="follow-up-academy", name="Follow-Up Academy").full_clean()
