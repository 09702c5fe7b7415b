"""People on a case: add (a registry person, or a free-text name for someone not yet identified),
link a free-text entry to the registry later, change a role, remove (kept, marked removed).

Same pattern as ``actions.py``. A name or a description is case content: it is stored encrypted
on the row and never written to the audit trail (the events name the row, its role and the
registry record's id only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from btam.audit.models import Verb
from btam.cases.actions import CaseError, audit, clean_text, ensure_editable, lock_case, touch
from btam.cases.models import Case, CaseParticipant
from btam.lib import clock
from btam.people.models import Person

if TYPE_CHECKING:
    from btam.accounts.models import User

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 2_000

Role = CaseParticipant.Role


def _role(role: str) -> str:
    if role not in Role.values:
        raise CaseError(_("Choose the person's role on the case."))
    return role


def _registry_person(actor: User, case: Case, person: Person) -> Person:
    """The registry record, if the actor may see it and it belongs to the case's district (one
    message for both: a record of another district is not revealed)."""
    found = Person.objects.visible_to(actor).filter(pk=person.pk, district_id=case.district_id).first()
    if found is None:
        raise CaseError(_("That person is not in this district's registry."))
    if found.merged_into_id is not None:
        raise CaseError(_("That record was merged into another one: choose the record it was merged into."))
    return found


def _locked_participant(case: Case, participant: CaseParticipant | int) -> CaseParticipant:
    pk = participant if isinstance(participant, int) else participant.pk
    row = (
        CaseParticipant.objects.select_for_update(of=("self",))
        .filter(pk=pk, case_id=case.pk, removed_at__isnull=True)
        .select_related("person")
        .first()
    )
    if row is None:
        raise CaseError(_("That person is no longer on this case."))
    return row


def _ensure_not_twice(case: Case, person: Person, role: str, *, exclude: int | None = None) -> None:
    same = CaseParticipant.objects.filter(case_id=case.pk, person_id=person.pk, role=role, removed_at__isnull=True)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise CaseError(
            _("%(name)s is already on the case as %(role)s.")
            % {"name": person.display_name, "role": Role(role).label.lower()}
        )


def _detail(participant: CaseParticipant) -> dict[str, object]:
    return {"participant": participant.pk, "role": participant.role, "person": participant.person_id}


def do_add_participant(
    *,
    actor: User,
    case: Case,
    role: str,
    person: Person | None = None,
    name: str = "",
    description: str = "",
) -> CaseParticipant:
    """Add someone to the case: a registry ``person``, or a free-text ``name`` (and description)
    for someone not yet identified."""
    role = _role(role)
    description = clean_text(description, label=_("The description"), max_chars=MAX_DESCRIPTION_CHARS, required=False)
    name = "" if person is not None else clean_text(name, label=_("The name"), max_chars=MAX_NAME_CHARS, required=False)
    if person is None and not name:
        raise CaseError(_("Give a name, or choose the person from the registry."))
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        if person is not None:
            person = _registry_person(actor, case, person)
            _ensure_not_twice(case, person, role)
        at = clock.now()
        participant = CaseParticipant.objects.create(
            case=case, role=role, person=person, name=name, description=description, added_at=at, added_by=actor
        )
        touch(case, at)
        audit(actor=actor, case=case, verb=Verb.CREATED, target=participant, detail=_detail(participant))
    return participant


def do_link_participant(
    *, actor: User, case: Case, participant: CaseParticipant | int, person: Person
) -> CaseParticipant:
    """Link a free-text participant to the registry record of the person, once identified (the
    name as first written is kept on the row)."""
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        row = _locked_participant(case, participant)
        if row.person_id is not None:
            raise CaseError(_("This entry is already linked to a registry record."))
        person = _registry_person(actor, case, person)
        _ensure_not_twice(case, person, row.role, exclude=row.pk)
        row.person = person
        row.save(update_fields=["person"])
        at = clock.now()
        touch(case, at)
        audit(
            actor=actor,
            case=case,
            target=row,
            before={"person": None},
            after={"person": person.pk},
            detail=_detail(row),
        )
    return row


def do_change_participant_role(
    *, actor: User, case: Case, participant: CaseParticipant | int, role: str
) -> CaseParticipant:
    role = _role(role)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        row = _locked_participant(case, participant)
        if row.role == role:
            raise CaseError(_("That is already their role on the case."))
        if row.person is not None:
            _ensure_not_twice(case, row.person, role, exclude=row.pk)
        old = row.role
        row.role = role
        row.save(update_fields=["role"])
        at = clock.now()
        touch(case, at)
        audit(actor=actor, case=case, target=row, before={"role": old}, after={"role": role}, detail=_detail(row))
    return row


def do_remove_participant(*, actor: User, case: Case, participant: CaseParticipant | int) -> CaseParticipant:
    """Take someone off the case. The row is kept (marked removed) for the record."""
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        row = _locked_participant(case, participant)
        at = clock.now()
        row.removed_at = at
        row.save(update_fields=["removed_at"])
        touch(case, at)
        audit(actor=actor, case=case, verb=Verb.DELETED, target=row, detail=_detail(row))
    return row
