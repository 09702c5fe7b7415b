"""Staff accounts from the roster: link roster teachers and administrators to their accounts.

Off by default, per district:

- ``District.link_staff_accounts``: after an import, each active roster teacher or administrator
  whose email is the email of an existing account is linked to it (``Person.account``).
- ``District.invite_staff_accounts`` (only with linking on): one with no account gets an
  *inactive* account with no usable password, linked, and an email (through the outbox) with a
  link to set its password (allauth's password-reset page). The account gives no access: it
  cannot sign in until a database manager activates it and gives it an access level.

A link is never removed here: the person may have left the roster, the account stays theirs.
Every link and every invitation is an audit event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.people.models import Person, SourceStatus
from btam.worker import outbox

if TYPE_CHECKING:
    from btam.orgs.models import District

logger = logging.getLogger(__name__)

# OneRoster roles (lower-case) of teachers and administrators.
ACCOUNT_ROLES = frozenset(
    {"teacher", "administrator", "principal", "districtadministrator", "siteadministrator", "systemadministrator"}
)
INVITE_KIND = "people.staff_invite"
SUMMARY_KEY = "staff accounts"
ACTOR_LABEL = "roster staff accounts"


@dataclass
class StaffAccountsResult:
    linked: int = 0
    invited: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"linked": self.linked, "invited": self.invited}


def _clean_email(value: str) -> str | None:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def unlinked_staff(district: District) -> dict[str, list[Person]]:
    """Active roster teachers and administrators without an account, by (valid, lower-case) email."""
    people = (
        Person.objects.filter(
            district=district,
            kind=Person.Kind.STAFF,
            status=SourceStatus.ACTIVE,
            account__isnull=True,
            merged_into__isnull=True,
        )
        .exclude(email="")
        .order_by("pk")
    )
    by_email: dict[str, list[Person]] = {}
    for person in people:
        if person.source_role.lower() not in ACCOUNT_ROLES:
            continue
        email = _clean_email(person.email)
        if email is not None:
            by_email.setdefault(email, []).append(person)
    return by_email


def sync_staff_accounts(*, district: District, actor: User | None, base_url: str = "") -> StaffAccountsResult:
    """Link (and, where the district invites, create and invite) the accounts of roster staff."""
    result = StaffAccountsResult()
    if not district.link_staff_accounts:
        return result
    with transaction.atomic():
        by_email = unlinked_staff(district)
        if not by_email:
            return result
        users: dict[str, User] = {
            user.email.lower(): user
            for user in User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=list(by_email))
        }
        for email, people in by_email.items():
            invited = False
            user = users.get(email)
            if user is None:
                if not district.invite_staff_accounts:
                    continue
                user = _invite(district=district, actor=actor, person=people[0], email=email, base_url=base_url)
                invited = True
                result.invited += 1
            for person in people:
                Person.objects.filter(pk=person.pk).update(account=user)
                AuditEvent.objects.record(
                    actor=actor,
                    actor_label=ACTOR_LABEL,
                    verb=Verb.UPDATED,
                    target=person,
                    reason="staff account invited from the roster" if invited else "staff account linked by email",
                    before={"account": None},
                    after={"account": user.pk},
                )
                result.linked += 1
    return result


def _invite(*, district: District, actor: User | None, person: Person, email: str, base_url: str) -> User:
    user = User.objects.create_user(email, None, full_name=person.display_name[:200], is_active=False)
    AuditEvent.objects.record(
        actor=actor,
        actor_label=ACTOR_LABEL,
        verb=Verb.CREATED,
        target=user,
        district_id=district.pk,
        reason="invited from the roster (inactive until given an access level)",
        after={"is_active": False},
    )
    outbox.enqueue(
        kind=INVITE_KIND,
        payload={"user_id": user.pk, "district_id": district.pk, "base_url": base_url},
        dedupe_key=f"staff-invite-{user.pk}",
        district_id=district.pk,
    )
    return user
