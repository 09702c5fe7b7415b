"""A district's assessment settings: its level scheme, the instruments offered to its teams, the
reassessment interval and the intervention rules of each level, its own definition files and its
own intervention kinds.

Managed by the district's database managers and district-wide team leaders
(``access.settings_district_ids``). Every action is keyword-only with ``actor=``, checks that the
actor manages the district, validates everything before it writes, and writes its audit event in
the same transaction (codes, ids and numbers only: never a label, a description or a file's text).
A change that cannot be made raises :class:`SettingsError` with a message for the user; nothing is
written then.

Changing the scheme changes what *new* decisions use: a case keeps the level and the scheme it was
decided with (``Case.risk_scheme``, ``LevelChange``) until the team's next decision.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from btam.assessments import access, definitions, levels, plan
from btam.assessments.models import (
    Assessment,
    AssessmentSettings,
    CustomDefinition,
    InterventionKind,
    LevelChange,
)
from btam.assessments.plan import Kind
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case
from btam.lib import clock
from btam.orgs.models import District

if TYPE_CHECKING:
    from btam.accounts.models import User

MIN_DAYS: Final = 1
MAX_DAYS: Final = 365
MAX_DEFINITION_BYTES: Final = 256 * 1024
MAX_FILE_NAME_CHARS: Final = 200
MAX_KIND_LABEL_CHARS: Final = 120
MAX_KIND_DESCRIPTION_CHARS: Final = 500
KIND_CODE_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
REQUIRED: Final = "required"
SUGGESTED: Final = "suggested"


class SettingsError(Exception):
    """A settings change that cannot be made; the message is for the user. ``field`` names the
    form field it is about ("" for the whole form)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


# Reading the district's choices -------------------------------------------------------------------


def builtin_codes() -> frozenset[str]:
    """The catalogue's codes (``definitions.KNOWN_INTERVENTION_KINDS``, which the plan's catalogue uses)."""
    return frozenset(definitions.KNOWN_INTERVENTION_KINDS)


def kinds_for(district_id: int) -> list[Kind]:
    """The kinds a rule may name: the plan's catalogue, then the district's active kinds."""
    return plan.kinds_for(district_id)


def offered_instruments(settings_row: AssessmentSettings, registry: definitions.Registry) -> list[str]:
    """The instrument ids the district's teams are offered (every available one when none is chosen)."""
    return levels.offered_instrument_ids(settings_row.instruments or [], registry)


def snapshot(row: AssessmentSettings) -> dict[str, Any]:
    """The audited state of the settings (codes and numbers only)."""
    return {
        "level_scheme": row.level_scheme,
        "instruments": list(row.instruments or []),
        "reassess_days": dict(row.reassess_days or {}),
        "intervention_rules": dict(row.intervention_rules or {}),
    }


def _require(actor: User, district_id: int) -> None:
    """The actor manages the district's settings (PermissionDenied otherwise: a 403)."""
    access.require_settings_district(actor, district_id)


def _lock_district(district_id: int) -> District:
    """Serialize the changes of one district's settings, files and kinds (call inside atomic)."""
    return District.objects.select_for_update().get(pk=district_id)


# The settings ------------------------------------------------------------------------------------


def _clean_scheme(registry: definitions.Registry, scheme_id: str) -> definitions.LevelScheme:
    try:
        return registry.scheme(scheme_id)
    except KeyError:
        raise SettingsError(_("Choose one of the level schemes in the list."), field="level_scheme") from None


def _clean_instruments(registry: definitions.Registry, instruments: Sequence[str]) -> list[str]:
    available = [instrument.id for instrument in registry.instruments()]
    chosen = list(dict.fromkeys(instruments))
    if not chosen:
        raise SettingsError(_("Choose at least one instrument for your teams."), field="instruments")
    unknown = [i for i in chosen if i not in available]
    if unknown:
        raise SettingsError(
            _("“%(id)s” is not an instrument available to your district.") % {"id": unknown[0]}, field="instruments"
        )
    return [i for i in available if i in chosen]  # in the registry's order


def _clean_days(scheme: definitions.LevelScheme, days: Mapping[str, int | None]) -> dict[str, int]:
    result: dict[str, int] = {}
    for level_id, value in days.items():
        try:
            level = scheme.level(level_id)
        except KeyError:
            raise SettingsError(
                _("“%(level)s” is not a level of the scheme %(scheme)s.") % {"level": level_id, "scheme": scheme.title}
            ) from None
        if value is None:
            continue  # blank: the scheme's default
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_DAYS <= value <= MAX_DAYS:
            raise SettingsError(
                _("The reassessment interval at %(level)s must be a whole number of days from %(min)d to %(max)d.")
                % {"level": level.label, "min": MIN_DAYS, "max": MAX_DAYS},
                field=f"days_{level_id}",
            )
        result[level_id] = value
    return result


def _clean_rules(
    scheme: definitions.LevelScheme, rules: Mapping[str, Mapping[str, Sequence[str]]], known: Mapping[str, str]
) -> dict[str, dict[str, list[str]]]:
    """The rules that differ from the scheme's defaults, by level (a level left out keeps its defaults)."""
    result: dict[str, dict[str, list[str]]] = {}
    for level_id, rule in rules.items():
        try:
            level = scheme.level(level_id)
        except KeyError:
            raise SettingsError(
                _("“%(level)s” is not a level of the scheme %(scheme)s.") % {"level": level_id, "scheme": scheme.title}
            ) from None
        unexpected = set(rule) - {REQUIRED, SUGGESTED}
        if unexpected:
            raise SettingsError(_("A rule says only which interventions are required and which are suggested."))
        required = list(dict.fromkeys(rule.get(REQUIRED, ())))
        suggested = list(dict.fromkeys(rule.get(SUGGESTED, ())))
        for code in (*required, *suggested):
            if code not in known:
                raise SettingsError(
                    _("“%(code)s” (at %(level)s) is not an intervention of your district’s catalogue.")
                    % {"code": code, "level": level.label},
                    field=f"rules_{level_id}",
                )
        both = [code for code in required if code in suggested]
        if both:
            raise SettingsError(
                _("%(kind)s cannot be both required and suggested at %(level)s.")
                % {"kind": known[both[0]], "level": level.label},
                field=f"rules_{level_id}",
            )
        if set(required) == set(level.required) and set(suggested) == set(level.suggested):
            continue  # the scheme's defaults: nothing to override
        result[level_id] = {REQUIRED: sorted(required), SUGGESTED: sorted(suggested)}
    return result


def do_update_assessment_settings(
    *,
    actor: User,
    district_id: int,
    level_scheme: str,
    instruments: Sequence[str],
    reassess_days: Mapping[str, int | None],
    intervention_rules: Mapping[str, Mapping[str, Sequence[str]]],
) -> AssessmentSettings:
    """Set the district's scheme, instruments, intervals and rules (all of them at once).

    ``reassess_days``: {level id: days or None (the scheme's default)} for levels of ``level_scheme``;
    ``intervention_rules``: {level id: {"required": [codes], "suggested": [codes]}} (a level left
    out keeps the scheme's rules; rules equal to the scheme's are not stored as overrides).

    They are stored by scheme ({scheme id: {level id: ...}}, ``levels.day_overrides``): those given
    replace ``level_scheme``'s; another scheme's stay, for the cases still decided with it.
    """
    _require(actor, district_id)
    with transaction.atomic():
        _lock_district(district_id)  # the files and kinds stay as they are while this is checked
        registry = levels.registry_for(district_id)
        scheme = _clean_scheme(registry, level_scheme)
        chosen = _clean_instruments(registry, instruments)
        days = _clean_days(scheme, reassess_days)
        known = {k.code: str(k.label) for k in kinds_for(district_id)}
        rules = _clean_rules(scheme, intervention_rules, known)
        row, created = AssessmentSettings.objects.get_or_create(
            district_id=district_id, defaults={"level_scheme": levels.DEFAULT_SCHEME}
        )
        before = snapshot(row)
        # Read before level_scheme changes: old flat overrides are the current scheme's.
        all_days = {**levels.day_overrides_by_scheme(row), scheme.id: days}
        all_rules = {**levels.rule_overrides_by_scheme(row), scheme.id: rules}
        row.level_scheme, row.instruments = scheme.id, chosen
        row.reassess_days = {scheme_id: value for scheme_id, value in sorted(all_days.items()) if value}
        row.intervention_rules = {scheme_id: value for scheme_id, value in sorted(all_rules.items()) if value}
        after = snapshot(row)
        if before == after and not created:
            return row
        row.updated_at, row.updated_by = clock.now(), actor
        row.save()
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=row,
            district_id=district_id,
            before=before,
            after=after,
            detail={"scheme_changed": before["level_scheme"] != after["level_scheme"]},
        )
    return row


# The district's own definition files -------------------------------------------------------------


def clean_file_name(name: str) -> str:
    """The uploaded file's own name (no folders, no control characters), at most 200 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:MAX_FILE_NAME_CHARS]


def _decode(data: bytes, name: str) -> str:
    if not data:
        raise SettingsError(_("%(file)s is empty.") % {"file": name}, field="file")
    if len(data) > MAX_DEFINITION_BYTES:
        raise SettingsError(
            _("%(file)s is too large: a definition file may be at most %(max)d KB.")
            % {"file": name, "max": MAX_DEFINITION_BYTES // 1024},
            field="file",
        )
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark some editors write is not an error
    except UnicodeDecodeError as exc:
        raise SettingsError(
            _("%(file)s is not UTF-8 text (byte %(position)d). Save it as UTF-8 and upload it again.")
            % {"file": name, "position": exc.start + 1},
            field="file",
        ) from None
    if "\x00" in text:
        raise SettingsError(_("%(file)s holds a character that cannot be stored.") % {"file": name}, field="file")
    return text


def _check_version(
    registry: definitions.Registry, definition: definitions.Definition, name: str, district_id: int
) -> None:
    """A published version never changes; a new version is higher than every existing one (the
    district's stored files count, even one that no longer validates)."""
    stored = CustomDefinition.objects.filter(district_id=district_id, definition_id=definition.id)
    versions = sorted({*registry.versions(definition.id), *stored.values_list("version", flat=True)})
    if not versions:
        return
    latest = max(versions)
    if definition.version in versions:
        raise SettingsError(
            _(
                "%(file)s: version: version %(version)d of “%(id)s” already exists. A published version never "
                "changes (assessments render with it): publish it as version %(next)d."
            )
            % {"file": name, "version": definition.version, "id": definition.id, "next": latest + 1},
            field="file",
        )
    if definition.version < latest:
        raise SettingsError(
            _("%(file)s: version: “%(id)s” is already at version %(latest)d: publish it as version %(next)d.")
            % {"file": name, "id": definition.id, "latest": latest, "next": latest + 1},
            field="file",
        )


def do_upload_definition(*, actor: User, district_id: int, file_name: str, data: bytes) -> CustomDefinition:
    """Store a district's own instrument or level-scheme file once it validates with the shipped
    files and the district's other files. A new id, or a higher version of an existing one (a
    district's revision of a shipped definition is allowed); never a version that exists."""
    _require(actor, district_id)
    name = clean_file_name(file_name) or "definition.json"
    text = _decode(data, name)
    kinds = levels.district_kind_codes(district_id, active_only=True)
    try:
        definition = definitions.parse_json(text, source=name, extra_interventions=kinds)
    except definitions.DefinitionError as exc:
        raise SettingsError(str(exc), field="file") from None
    content = json.loads(text)  # valid: parse_json read it
    with transaction.atomic():
        _lock_district(district_id)
        registry = levels.registry_for(district_id)
        _check_version(registry, definition, name, district_id)
        try:
            registry.with_extra([definition])
        except definitions.DefinitionError as exc:
            raise SettingsError(str(exc), field="file") from None
        try:
            with transaction.atomic():
                row = CustomDefinition.objects.create(
                    district_id=district_id,
                    definition_id=definition.id,
                    version=definition.version,
                    kind=definition.kind,
                    content=content,
                    file_name=name,
                    uploaded_by=actor,
                    uploaded_at=clock.now(),
                )
        except IntegrityError:
            raise SettingsError(
                _("%(file)s: version %(version)d of “%(id)s” was stored meanwhile: publish it as version %(next)d.")
                % {"file": name, "version": definition.version, "id": definition.id, "next": definition.version + 1},
                field="file",
            ) from None
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.CREATED,
            target=row,
            district_id=district_id,
            after={"definition_id": row.definition_id, "version": row.version, "kind": row.kind},
            detail={"bytes": len(data)},
        )
    return row


def definition_in_use(row: CustomDefinition) -> str:
    """Why the file cannot be deleted ("" when it can): assessments or levels used it, the district
    uses it now, or another of its files depends on it."""
    d, ident, version = row.district_id, row.definition_id, row.version
    if row.kind in definitions.INSTRUMENT_KINDS:
        if Assessment.objects.filter(district_id=d, instrument_id=ident, instrument_version=version).exists():
            return _("Assessments were made with this version: it stays, as they are always shown with it.")
    else:
        used = (
            Assessment.objects.filter(district_id=d, scheme_id=ident, scheme_version=version).exists()
            or LevelChange.objects.filter(case__district_id=d, scheme_id=ident, scheme_version=version).exists()
        )
        if used:
            return _("Levels were decided with this version: it stays, as they are always shown with it.")
    shipped = definitions.builtin()
    shipped_ids = {s.id for s in shipped.schemes()} | {i.id for i in shipped.instruments()}
    others = CustomDefinition.objects.filter(district_id=d, definition_id=ident).exclude(pk=row.pk)
    last_of_its_id = ident not in shipped_ids and not others.exists()
    if last_of_its_id:
        settings_row = levels.settings_for(d)
        if row.kind == "level_scheme":
            if settings_row.level_scheme == ident:
                return _("It is your district’s level scheme: choose another scheme in the settings first.")
            if Case.objects.filter(district_id=d, risk_scheme=ident).exists():
                return _("Cases have a level of this scheme: it stays while they do.")
        elif ident in (settings_row.instruments or []):
            return _("Your teams are offered this instrument: take it out of the instruments in the settings first.")
    remaining = [r for r in levels.district_files(d) if r.row.pk != row.pk and not r.problem]
    kinds = levels.district_kind_codes(d)
    try:
        definitions.builtin().with_extra(
            definitions.load_definition(r.row.content, source=r.row.file_name, extra_interventions=kinds)
            for r in remaining
        )
    except definitions.DefinitionError as exc:
        return _("Another of your files needs it: %(problem)s") % {"problem": str(exc)}
    return ""


def do_delete_definition(*, actor: User, definition: CustomDefinition) -> None:
    """Delete a district's file that nothing used (audited); refused with the reason otherwise."""
    _require(actor, definition.district_id)
    with transaction.atomic():
        _lock_district(definition.district_id)
        row = CustomDefinition.objects.filter(pk=definition.pk, district_id=definition.district_id).first()
        if row is None:
            raise SettingsError(_("This file was already deleted."))
        reason = definition_in_use(row)
        if reason:
            raise SettingsError(reason)
        before = {"definition_id": row.definition_id, "version": row.version, "kind": row.kind}
        pk = row.pk
        row.delete()
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.DELETED,
            target_type=CustomDefinition._meta.label_lower,
            target_id=str(pk),
            district_id=definition.district_id,
            before=before,
        )


def record_definition_download(*, actor: User, definition: CustomDefinition) -> None:
    """A download of a district's file is in the audit trail."""
    _require(actor, definition.district_id)
    with transaction.atomic():
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.DOWNLOADED,
            target=definition,
            district_id=definition.district_id,
            detail={"definition_id": definition.definition_id, "version": definition.version},
        )


# The district's own intervention kinds -----------------------------------------------------------


def _clean_label(label: str, *, field: str, name: str, max_chars: int, required: bool) -> str:
    value = " ".join((label or "").split())
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise SettingsError(_("%(name)s holds a character that cannot be stored.") % {"name": name}, field=field)
    if required and not value:
        raise SettingsError(_("%(name)s is required.") % {"name": name}, field=field)
    if len(value) > max_chars:
        raise SettingsError(
            _("%(name)s is too long: at most %(max)d characters (it has %(count)d).")
            % {"name": name, "max": max_chars, "count": len(value)},
            field=field,
        )
    return value


def _clean_kind_texts(
    district_id: int, label: str, description: str, *, exclude_pk: int | None = None
) -> tuple[str, str]:
    label = _clean_label(label, field="label", name=_("The name"), max_chars=MAX_KIND_LABEL_CHARS, required=True)
    description = _clean_label(
        description,
        field="description",
        name=_("The description"),
        max_chars=MAX_KIND_DESCRIPTION_CHARS,
        required=False,
    )
    taken = {str(k.label).casefold() for k in kinds_for(district_id) if k.builtin}
    others = InterventionKind.objects.filter(district_id=district_id)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    taken.update(other.casefold() for other in others.values_list("label", flat=True))
    if label.casefold() in taken:
        raise SettingsError(
            _("An intervention is already called “%(label)s”: choose another name.") % {"label": label}, field="label"
        )
    return label, description


def do_add_intervention_kind(
    *, actor: User, district_id: int, code: str, label: str, description: str = ""
) -> InterventionKind:
    """Add one of the district's own kinds to the catalogue its plans and rules use."""
    _require(actor, district_id)
    code = (code or "").strip()
    if not KIND_CODE_RE.match(code):
        raise SettingsError(
            _(
                "The code must be 2 to 60 lowercase letters, digits and hyphens, starting with a letter or a digit "
                "(for example “peer-mentoring”)."
            ),
            field="code",
        )
    if code in builtin_codes():
        raise SettingsError(
            _("“%(code)s” is an intervention of the built-in catalogue: choose another code.") % {"code": code},
            field="code",
        )
    label, description = _clean_kind_texts(district_id, label, description)
    with transaction.atomic():
        _lock_district(district_id)
        existing = InterventionKind.objects.filter(district_id=district_id, code=code).first()
        if existing is not None:
            if existing.active:
                message = _("Your district already has an intervention with the code “%(code)s”.")
            else:
                message = _(
                    "Your district already has an intervention with the code “%(code)s” (turned off: turn it on)."
                )
            raise SettingsError(message % {"code": code}, field="code")
        row = InterventionKind.objects.create(
            district_id=district_id,
            code=code,
            label=label,
            description=description,
            active=True,
            created_by=actor,
            created_at=clock.now(),
        )
        AuditEvent.objects.record(
            actor=actor, verb=Verb.CREATED, target=row, district_id=district_id, after={"code": code, "active": True}
        )
    return row


def do_edit_intervention_kind(*, actor: User, kind: InterventionKind, label: str, description: str) -> InterventionKind:
    """Rename a district kind or change its description (its code never changes: plans refer to it)."""
    _require(actor, kind.district_id)
    label, description = _clean_kind_texts(kind.district_id, label, description, exclude_pk=kind.pk)
    with transaction.atomic():
        _lock_district(kind.district_id)
        row = InterventionKind.objects.get(pk=kind.pk)
        changed = [
            name
            for name, old, new in (("label", row.label, label), ("description", row.description, description))
            if old != new
        ]
        if not changed:
            return row
        row.label, row.description = label, description
        row.save(update_fields=["label", "description"])
        # That it changed and which fields; never the texts.
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=row,
            district_id=row.district_id,
            detail={"code": row.code, "fields": changed},
        )
    return row


def kind_in_rules(district_id: int, code: str) -> str:
    """Where the district's rules or its scheme name ``code`` ("" when nowhere): a kind turned off
    could never be added to a plan, so a level requiring it could never be met."""
    scheme = levels.scheme_for(district_id)
    for level in scheme.levels:
        required, suggested = levels.rules(district_id, scheme, level.id)
        if code in required or code in suggested:
            return _("The intervention rules name it at %(level)s: take it out of the rules in the settings first.") % {
                "level": level.label
            }
    return ""


def do_set_intervention_kind_active(*, actor: User, kind: InterventionKind, active: bool) -> InterventionKind:
    """Turn a district kind off (no new interventions of it; existing ones keep it) or on again.
    A kind is never deleted: interventions refer to it."""
    _require(actor, kind.district_id)
    with transaction.atomic():
        _lock_district(kind.district_id)
        row = InterventionKind.objects.get(pk=kind.pk)
        if row.active == active:
            return row
        if not active:
            reason = kind_in_rules(row.district_id, row.code)
            if reason:
                raise SettingsError(reason)
        row.active = active
        row.save(update_fields=["active"])
        AuditEvent.objects.record(
            actor=actor,
            verb=Verb.UPDATED,
            target=row,
            district_id=row.district_id,
            before={"active": not active},
            after={"active": active},
            detail={"code": row.code},
        )
    return row
