"""The size guidance and the coverage check of a team, and the district's data roles.

* **Size**: a warning under ``MIN_CORE`` (4) or over ``MAX_CORE`` (12) core members.
* **Coverage**: for each discipline the district's rule requires (a preset of
  ``disciplines.PRESETS`` or its own list), whether a core member holds it, only an extended
  member, or nobody (missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from btam.accounts.models import Membership, Role, User
from btam.teams import disciplines
from btam.teams.models import TeamMember, TeamSettings

CORE = "core"
EXTENDED = "extended"
MISSING = "missing"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    source: str  # "" for the district's own list
    requirements: list[tuple[str, str]]  # (discipline code, label as the rule names it)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Covered:
    discipline: str
    label: str
    status: str  # CORE, EXTENDED or MISSING
    holders: list[str]

    @property
    def missing(self) -> bool:
        return self.status == MISSING


@dataclass(frozen=True)
class Check:
    rule: Rule
    items: list[Covered]

    @property
    def missing(self) -> list[Covered]:
        return [item for item in self.items if item.status == MISSING]

    @property
    def extended_only(self) -> list[Covered]:
        return [item for item in self.items if item.status == EXTENDED]

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Size:
    core: int
    extended: int
    too_few: bool
    too_many: bool

    @property
    def warning(self) -> str:
        if self.too_few:
            return _(
                "%(count)d core members: the guidance is at least %(min)d, so every discipline is at the table."
            ) % {
                "count": self.core,
                "min": disciplines.MIN_CORE,
            }
        if self.too_many:
            return _(
                "%(count)d core members: the guidance is at most %(max)d, so the team stays able to act quickly."
            ) % {
                "count": self.core,
                "max": disciplines.MAX_CORE,
            }
        return ""


def rule_for(district_id: int) -> Rule:
    from btam.teams.actions import discipline_labels, settings_for

    row = settings_for(district_id)
    if row.rule == TeamSettings.Rule.OWN:
        labels = discipline_labels(district_id)
        return Rule(
            id=row.rule,
            name=str(TeamSettings.Rule.OWN.label),
            source="",
            requirements=[(code, labels.get(code, code)) for code in row.required or []],
        )
    preset = disciplines.PRESETS.get(row.rule, disciplines.GUIDANCE)
    return _from_preset(preset)


def _from_preset(preset: disciplines.Preset) -> Rule:
    return Rule(
        id=preset.id,
        name=str(preset.name),
        source=str(preset.source),
        requirements=[(r.discipline, str(r.label)) for r in preset.requirements],
        notes=[str(n) for n in preset.notes],
    )


def rule_for_preset(preset_id: str) -> Rule:
    return _from_preset(disciplines.PRESETS[preset_id])


def presets_for_page() -> list[Rule]:
    return [_from_preset(p) for p in disciplines.PRESETS.values()]


def builtin_labels() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in disciplines.BUILTIN.items()]


def check(members: Sequence[TeamMember], rule: Rule) -> Check:
    items = []
    for code, label in rule.requirements:
        core = [str(m.user) for m in members if code in m.disciplines and m.is_core]
        extended = [str(m.user) for m in members if code in m.disciplines and not m.is_core]
        status = CORE if core else EXTENDED if extended else MISSING
        items.append(Covered(code, label, status, core + extended))
    return Check(rule, items)


def size_check(members: Sequence[TeamMember]) -> Size:
    core = sum(1 for m in members if m.is_core)
    return Size(
        core=core,
        extended=len(members) - core,
        too_few=core < disciplines.MIN_CORE,
        too_many=core > disciplines.MAX_CORE,
    )


@dataclass(frozen=True)
class DataRoles:
    database_managers: list[User]
    backup_admins: list[User]
    district_leaders: list[User]


def _holders(district_id: int, role: str, *, district_wide: bool = False) -> list[User]:
    memberships = Membership.objects.filter(is_active=True, district_id=district_id, role=role)
    if district_wide:
        memberships = memberships.filter(schools__isnull=True)
    return list(User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by("full_name"))


def data_roles(district_id: int) -> DataRoles:
    """Who holds the district's data roles (and leads its teams district-wide)."""
    return DataRoles(
        database_managers=_holders(district_id, Role.DATABASE_MANAGER),
        backup_admins=_holders(district_id, Role.BACKUP_ADMIN),
        district_leaders=_holders(district_id, Role.TEAM_LEADER, district_wide=True),
    )
