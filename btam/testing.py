"""Shared test data: districts, schools and one user per access level (see conftest.py)."""

from __future__ import annotations

import factory
from allauth.mfa.models import Authenticator
from django.db.models import Model

from btam.accounts.models import Membership, Role, User
from btam.lib import crypto
from btam.orgs.models import District, School

TEST_PASSWORD = "correct-horse-battery-staple-42"  # noqa: S105
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 (base32 test secret)


class DistrictFactory(factory.django.DjangoModelFactory[District]):
    class Meta:
        model = District

    slug = factory.Sequence(lambda n: f"district-{n}")
    name = factory.Sequence(lambda n: f"Test District {n} (fictitious)")


class SchoolFactory(factory.django.DjangoModelFactory[School]):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    slug = factory.Sequence(lambda n: f"school-{n}")
    name = factory.Sequence(lambda n: f"Test School {n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj: Model, create: bool, extracted: object, **kwargs: object) -> None:  # noqa: N805
        if create:
            obj.save()


def give_totp(user: User, secret: str = TOTP_SECRET) -> Authenticator:
    """Enrol a TOTP authenticator, as the enrolment page would (secret encrypted at rest)."""
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": crypto.encrypt_text(secret)}
    )


def make_member(
    role: str, district: District, schools: list[School] | None = None, *, totp: bool = True, **user_kwargs: object
) -> User:
    user = UserFactory.create(**user_kwargs)
    membership = Membership.objects.create(user=user, district=district, role=role)
    if schools:
        membership.schools.set(schools)
    if totp:
        give_totp(user)
    return user


ALL_ROLES = [r.value for r in Role]


# Principals of the access walk (btam/core/tests/test_access_walk.py): each role of the first
# district, plus these. Apps declare who may reach their URLs in tests/access_expectations*.py.
ANON = "anonymous"
OUTSIDER = "outsider"  # team leader in another district
NO_ROLE = "no_role"  # signed in, second factor set, no access level
ALL_SIGNED_IN = frozenset([*(r.value for r in Role), OUTSIDER, NO_ROLE])
EVERYONE = ALL_SIGNED_IN | {ANON}
