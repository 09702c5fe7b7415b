"""@mentions in a case's discussion: who may be mentioned, their handles, and reading them from text.

**Handles.** A person's handle is the part of their email address before the ``@``, in lower case
(``marcus.oyelaran@district.example`` is ``@marcus.oyelaran``). When two people who may be
mentioned on the same case share it, both are mentioned by their whole address instead
(``@jo@north.example``); a whole address is always accepted.

**Who may be mentioned.** The people who can see the case as its team: active accounts holding a
team role (team member, leader, rapid response) in the case's district, for the whole district or
for a school on the case (a read-only school included: they read the discussion). A restricted case
only its named members and its case manager. Break-glass access is temporary and not a team
membership: it does not make a person mentionable.

Mentions are read on the server (:func:`resolve`): a handle nobody in the district has, or a person
who cannot see the case, is refused with a message naming the handle, and nothing is posted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from btam.accounts.models import User
from btam.cases.access import TEAM_ROLES

if TYPE_CHECKING:
    from btam.cases.models import Case

# "@" at the start or after a character that cannot be part of an address (so "jo@x.org" in a
# sentence is not a mention); a local part whose dots sit between characters (the full stop that
# ends a sentence is not part of the handle); optionally a whole address.
MENTION = re.compile(
    r"(?<![\w@.%+-])@([a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)+)?)",
    re.IGNORECASE,
)
MAX_MENTIONS = 20


def local_part(user: User) -> str:
    return user.email.split("@", 1)[0].lower()


def parse_handles(text: str) -> list[str]:
    """The handles mentioned in ``text``, lower case, each once, in the order they first appear."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(text or ""):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def mentionable_users(case: Case) -> list[User]:
    """The people who can see ``case`` as its team (see the module's docstring), by name."""
    from btam.cases.models import CaseSchool

    school_ids = list(
        CaseSchool.objects.filter(case_id=case.pk, removed_at__isnull=True).values_list("school_id", flat=True)
    )
    users = User.objects.filter(
        Q(memberships__schools__in=school_ids) | Q(memberships__schools__isnull=True),
        is_active=True,
        memberships__is_active=True,
        memberships__role__in=TEAM_ROLES,
        memberships__district_id=case.district_id,
    )
    if case.restricted:
        named = User.objects.filter(
            Q(case_memberships__case_id=case.pk) | Q(pk=case.manager_id),
            is_active=True,
            memberships__is_active=True,
            memberships__role__in=TEAM_ROLES,
            memberships__district_id=case.district_id,
        )
        users = named
    return list(users.exclude(email="").distinct().order_by("full_name", "email"))


@dataclass
class Mentionable:
    """The people who may be mentioned on a case, with their handles."""

    people: list[tuple[str, User]] = field(default_factory=list)  # (handle, user), by name
    shared: set[str] = field(default_factory=set)  # local parts that name more than one of them

    @classmethod
    def of(cls, case: Case) -> Mentionable:
        users = mentionable_users(case)
        counts: dict[str, int] = {}
        for user in users:
            counts[local_part(user)] = counts.get(local_part(user), 0) + 1
        people = [(local_part(u) if counts[local_part(u)] == 1 else u.email.lower(), u) for u in users]
        return cls(people=people, shared={local for local, n in counts.items() if n > 1})

    def by_handle(self) -> dict[str, User]:
        found: dict[str, User] = {}
        for handle, user in self.people:
            found[handle] = user
            found[user.email.lower()] = user
        return found


@dataclass
class Resolved:
    users: list[User]
    errors: list[str]


def _district_people(case: Case, handle: str) -> bool:
    """Whether someone with an access level in the case's district has this handle (or address)."""
    people = User.objects.filter(memberships__district_id=case.district_id, memberships__is_active=True, is_active=True)
    if "@" in handle:
        return people.filter(email__iexact=handle).exists()
    return people.filter(email__istartswith=f"{handle}@").exists()


def resolve(case: Case, text: str, mentionable: Mentionable | None = None) -> Resolved:
    """The people ``text`` mentions, and a message for each handle that cannot be mentioned."""
    handles = parse_handles(text)
    if not handles:
        return Resolved(users=[], errors=[])
    if len(handles) > MAX_MENTIONS:
        return Resolved(
            users=[],
            errors=[_("Mention at most %(max)d people in one comment.") % {"max": MAX_MENTIONS}],
        )
    mentionable = mentionable or Mentionable.of(case)
    known, mentionable_shared = mentionable.by_handle(), mentionable.shared
    users: list[User] = []
    errors: list[str] = []
    for handle in handles:
        user = known.get(handle)
        if user is not None:
            if user not in users:
                users.append(user)
        elif handle in mentionable_shared:
            errors.append(
                _("@%(handle)s is the handle of more than one person here: mention them by their whole address.")
                % {"handle": handle}
            )
        elif _district_people(case, handle):
            errors.append(
                _(
                    "@%(handle)s cannot see this case; they were not mentioned. "
                    "Remove the mention or give them access first."
                )
                % {"handle": handle}
            )
        else:
            errors.append(
                _("Nobody who can be mentioned has the handle @%(handle)s. Check the list of people you can mention.")
                % {"handle": handle}
            )
    return Resolved(users=users, errors=errors)
