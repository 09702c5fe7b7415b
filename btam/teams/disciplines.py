"""The disciplines a team member can hold, and the coverage presets: data in code, with their sources.

A discipline is a code: one of :data:`BUILTIN` or one of the district's own
(:class:`~btam.teams.models.DistrictDiscipline`). A coverage rule names the disciplines a school
team must have at its table: a preset below (each names the public source it comes from) or the
district's own list (``TeamSettings.required``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# code -> label. Codes are stored on members and in coverage rules: never rename one.
BUILTIN: dict[str, Promise] = {
    "public_safety": _("Public safety / law enforcement (SRO)"),
    "mental_health": _("Mental health"),
    "administration": _("Administration"),
    "residence_life": _("Residence life"),
    "healthcare": _("Healthcare"),
    "disability_services": _("Disability services"),
    "legal_counsel": _("Legal counsel"),
    "title_ix": _("Title IX"),
    "student_support": _("Student support services"),
    "counseling": _("Counseling"),
    "instruction": _("Instruction"),
    "special_education": _("Special education"),
    "emergency_management": _("Emergency management"),
    "behavior_management": _("Behavior management"),
    "school_safety": _("School safety and security"),
}


@dataclass(frozen=True)
class Requirement:
    """One discipline a rule requires, named as the source names it."""

    discipline: str
    label: Promise | str


@dataclass(frozen=True)
class Preset:
    id: str
    name: Promise
    source: Promise
    requirements: tuple[Requirement, ...]
    notes: tuple[Promise, ...] = field(default=())


FLORIDA = Preset(
    id="florida",
    name=_("Florida: the four required roles"),
    source=_("Florida State Board of Education Rule 6A-1.0019, F.A.C. (school threat management teams)"),
    requirements=(
        Requirement("counseling", _("Counseling")),
        Requirement("instruction", _("Instruction")),
        Requirement("public_safety", _("Law enforcement")),
        Requirement("administration", _("School administration (an administrator other than the principal)")),
    ),
    notes=(
        _("The administrator on the team must be someone other than the principal: check this by hand."),
        _("For each case, someone who knows the student joins the team (a teacher, coach or counselor)."),
        _("The district names a threat management coordinator."),
    ),
)

TEXAS = Preset(
    id="texas",
    name=_("Texas: the expertise list"),
    source=_("Texas Education Code § 37.115 (threat assessment and safe and supportive school team)"),
    requirements=(
        Requirement("counseling", _("Counseling")),
        Requirement("behavior_management", _("Behavior management")),
        Requirement("mental_health", _("Mental health and substance use")),
        Requirement("instruction", _("Classroom instruction")),
        Requirement("special_education", _("Special education")),
        Requirement("administration", _("School administration")),
        Requirement("school_safety", _("School safety and security")),
        Requirement("emergency_management", _("Emergency management")),
        Requirement("public_safety", _("Law enforcement")),
    ),
)

GUIDANCE = Preset(
    id="guidance",
    name=_("The guidance's nine disciplines"),
    source=_(
        "Behavioral threat assessment and management guidance: the disciplines it names for a "
        "multidisciplinary team (residence life applies to colleges with housing)"
    ),
    requirements=(
        Requirement("public_safety", _("Public safety / campus police")),
        Requirement("mental_health", _("Mental health")),
        Requirement("administration", _("Administrative authority (dean or assistant principal)")),
        Requirement("residence_life", _("Residence life")),
        Requirement("healthcare", _("Healthcare")),
        Requirement("disability_services", _("Disability services")),
        Requirement("legal_counsel", _("Legal counsel")),
        Requirement("title_ix", _("Title IX")),
        Requirement("student_support", _("Student support services")),
    ),
)

PRESETS: dict[str, Preset] = {p.id: p for p in (FLORIDA, TEXAS, GUIDANCE)}

# Size guidance: a warning under MIN_CORE or over MAX_CORE core members.
MIN_CORE = 4
MAX_CORE = 12
