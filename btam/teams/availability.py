"""Who is away, and where their urgent reports go meanwhile.

:func:`route_urgent` is called by ``btam.notifications.delivery.notify`` for an urgent
notification *about a report* (the kinds in :data:`ROUTED_KINDS`: a new urgent report and its
escalation steps): each recipient away today (an :class:`~btam.teams.models.Absence` running
today in the district, not ended early) is replaced by their backups who are not away themselves,
still hold a team role (``btam.cases.access.TEAM_ROLES``) in the district and can open the
notification's target (``visible_to``: the report's school is covered, the report is not on a case
restricted from them). An urgent notification is never lost: an away person with no such backup
(none named, all away too, gone, or unable to open it) still gets it. Backups get the same
generic title (the school's name and what needs doing, never the absent person's or a student's
name). Backups are one level deep: the backup of a backup is not followed.

Other urgent notifications (the break-glass alert to a case's leaders, say) are *not* routed: they
are addressed to a person because of what that person holds (leadership of a restricted case), so
the away person keeps their own inbox item and email, and nobody else learns the case's number.
We chose "route only the report kinds" over "add the backups too" because a backup is named for
urgent reports (chosen on the away page for their school coverage), not for case oversight, and
may not be allowed to see a restricted case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

from btam.accounts.models import Membership
from btam.cases.access import TEAM_ROLES
from btam.lib import clock
from btam.teams.models import Absence

if TYPE_CHECKING:
    from btam.accounts.models import User

# Notification kinds (btam.notifications.models.Notification.Kind values) that go to an away
# person's backups: the urgent report and its escalation steps.
ROUTED_KINDS = frozenset({"urgent_report", "escalation"})


def today() -> dt.date:
    return timezone.localdate(clock.now())


def away_today(user_ids: Iterable[int], district_id: int, *, day: dt.date | None = None) -> set[int]:
    """The ids among ``user_ids`` of people away on ``day`` (today) in the district."""
    ids = list(user_ids)
    if not ids:
        return set()
    return set(
        Absence.objects.on(day or today())
        .filter(district_id=district_id, user_id__in=ids)
        .values_list("user_id", flat=True)
    )


def can_see(user: User, target: models.Model | None) -> bool:
    """Whether ``user`` may open ``target`` (its model's ``visible_to``); True without a target or
    for a model that has no ``visible_to``."""
    if target is None:
        return True
    manager = type(target)._default_manager
    visible_to = getattr(manager, "visible_to", None)
    if visible_to is None:
        return True
    return bool(visible_to(user).filter(pk=target.pk).exists())


def who_can_see(users: Iterable[User], target: models.Model | None) -> list[User]:
    """The ``users`` (in order) who may open ``target``."""
    return [u for u in users if u.is_active and can_see(u, target)]


def route_urgent(users: Iterable[User], district_id: int, *, target: models.Model | None = None) -> list[User]:
    """``users``, each one away today replaced by their available backups (in order, once each):
    backups not away, with a team role in the district, who can open ``target``."""
    people = list(users)
    day = today()
    absences = list(
        Absence.objects.on(day)
        .filter(district_id=district_id, user_id__in=[u.pk for u in people])
        .prefetch_related("backups")
    )
    if not absences:
        return people
    backups_of: dict[int, list[User]] = {}
    for absence in absences:
        backups_of.setdefault(absence.user_id, []).extend(absence.backups.all())
    candidate_ids = {b.pk for group in backups_of.values() for b in group}
    unavailable = away_today(candidate_ids, district_id, day=day)
    with_team_role = set(
        Membership.objects.filter(
            user_id__in=candidate_ids, district_id=district_id, is_active=True, role__in=list(TEAM_ROLES)
        ).values_list("user_id", flat=True)
    )
    sees: dict[int, bool] = {}

    def qualifies(backup: User) -> bool:
        if not backup.is_active or backup.pk in unavailable or backup.pk not in with_team_role:
            return False
        if backup.pk not in sees:
            sees[backup.pk] = can_see(backup, target)
        return sees[backup.pk]

    routed: list[User] = []
    seen: set[int] = set()
    for user in people:
        chosen = [b for b in backups_of.get(user.pk, []) if qualifies(b)] or [user]
        for person in chosen:
            if person.pk not in seen:
                seen.add(person.pk)
                routed.append(person)
    return routed
