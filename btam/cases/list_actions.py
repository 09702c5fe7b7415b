"""Saved filters of the case list: save the current filters under a name, delete one.

A saved filter is the user's own: it stores a name and the canonical query string of the list's
filters (:meth:`~btam.cases.list_filters.CaseFilterForm.query_string`), never search words (they
are student data). Each change is audited; the audit event holds the filter's id and which
filters it keeps, never its name (a name is typed text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError, clean_text
from btam.cases.models import SavedFilter
from btam.lib import clock

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_NAME_CHARS = 100
MAX_QUERY_CHARS = 1000
MAX_SAVED_FILTERS = 50


def _checked_query(query: str, allowed: Iterable[str]) -> str:
    if len(query) > MAX_QUERY_CHARS:
        raise CaseError(_("These filters are too many to save."))
    keys = {key for key, _value in parse_qsl(query, keep_blank_values=True)}
    if keys - set(allowed):
        # Search words (q) or anything else that is not a filter: never stored.
        raise CaseError(_("Only the filters can be saved, not the search words."))
    return query


def do_save_filter(*, actor: User, name: str, query: str, allowed: Iterable[str]) -> SavedFilter:
    """Save ``query`` (the list's canonical filters, ``allowed`` keys only) as the actor's filter
    ``name``."""
    name = clean_text(name, label=_("The name"), max_chars=MAX_NAME_CHARS, required=True)
    query = _checked_query(query, allowed)
    with transaction.atomic():
        # The user's row, locked: two saves at once cannot pass the limit together.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        mine = SavedFilter.objects.filter(user=actor)
        if mine.count() >= MAX_SAVED_FILTERS:
            raise CaseError(
                _("You have %(max)d saved filters, the most there can be: delete one first.")
                % {"max": MAX_SAVED_FILTERS}
            )
        if any(existing.casefold() == name.casefold() for existing in mine.values_list("name", flat=True)):
            raise CaseError(_("You already have a saved filter with this name: choose another name."))
        try:
            with transaction.atomic():
                saved = SavedFilter.objects.create(user=actor, name=name, query=query, created_at=clock.now())
        except IntegrityError:
            raise CaseError(_("You already have a saved filter with this name: choose another name.")) from None
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.CREATED,
            target=saved,
            detail={"filters": sorted({key for key, _value in parse_qsl(query)})},
        )
    return saved


def do_delete_filter(*, actor: User, saved_filter: SavedFilter) -> None:
    """Delete one of the actor's saved filters."""
    with transaction.atomic():
        locked = SavedFilter.objects.select_for_update().filter(pk=saved_filter.pk, user=actor).first()
        if locked is None:
            raise CaseError(_("This saved filter no longer exists."))
        AuditEvent.objects.record(actor=actor, verb=Verb.DELETED, target=locked, detail={})
        locked.delete()
