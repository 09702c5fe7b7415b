"""The management plan: the intervention catalogue, the rules of the case's level, the guard that
keeps a case out of monitoring while a required intervention is missing, and the sections of the
safety plan.

The catalogue is the twelve kinds the guidance names (``CATALOGUE``; ids exactly
``definitions.KNOWN_INTERVENTION_KINDS``, which the level schemes' rules refer to); a district adds
its own (:class:`~btam.assessments.models.InterventionKind`, managed on the district settings pages).
The rules of a level (``levels.rules``: the district's settings over the scheme's defaults) say
which kinds a plan at that level requires and which it suggests. A required kind counts as in the
plan while an intervention of that kind is planned, in place or completed; a stopped one does not.

The case enters monitoring only with every required kind in the plan (``required_interventions_guard``),
and while it is monitored the plan stays so: the last intervention of a required kind can be neither
stopped nor changed to another kind (``plan_actions``). A decision that raises the level of a
monitored case may still require kinds the plan lacks: the Plan and Monitoring tabs then warn, naming
them (``required_missing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from btam.assessments.models import Intervention, InterventionKind
from btam.cases.models import Status

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.utils.functional import Promise

    from btam.assessments.definitions import Level, LevelScheme
    from btam.cases.models import Case


@dataclass(frozen=True)
class Kind:
    """An intervention kind: a built-in one of the catalogue or a district's own."""

    code: str
    label: str | Promise
    description: str | Promise = ""
    builtin: bool = True

    @property
    def label_in_sentence(self) -> str:
        """The label inside a sentence ("… first: law-enforcement referral, …"). A district's own
        label is kept as written (it may start with a name)."""
        text = str(self.label)
        return text[:1].lower() + text[1:] if self.builtin else text


def _kind(code: str, label: Promise, description: Promise) -> tuple[str, Kind]:
    return code, Kind(code=code, label=label, description=description)


# The built-in catalogue, in the order the plan offers it.
CATALOGUE: dict[str, Kind] = dict(
    [
        _kind(
            "resource-connection",
            gettext_lazy("Resource connection"),
            gettext_lazy("Connect the student or the family with school or community services."),
        ),
        _kind(
            "wellness-check",
            gettext_lazy("Wellness check"),
            gettext_lazy("A check on the student's well-being by a counselor, a nurse or another trusted adult."),
        ),
        _kind(
            "crisis-intervention",
            gettext_lazy("Crisis intervention"),
            gettext_lazy("Immediate help for a student in crisis: de-escalation, the crisis team, mobile crisis."),
        ),
        _kind(
            "community-protection",
            gettext_lazy("Community protection measure"),
            gettext_lazy("Steps that protect the school and the people concerned: supervision of places, access."),
        ),
        _kind(
            "support-coordination",
            gettext_lazy("Support service coordination"),
            gettext_lazy("One person keeps the services involved (school, health, child services) working together."),
        ),
        _kind(
            "safety-plan",
            gettext_lazy("Safety plan"),
            gettext_lazy("A written plan of supervision, restrictions and trusted adults, printable for its readers."),
        ),
        _kind(
            "supervision-check-in",
            gettext_lazy("Supervision / check-in"),
            gettext_lazy("Regular check-in and check-out with a named adult; supervision at agreed times and places."),
        ),
        _kind(
            "schedule-change",
            gettext_lazy("Schedule or placement change"),
            gettext_lazy("A change of classes, routes, breaks or placement to avoid a target or a trigger."),
        ),
        _kind(
            "parent-conference",
            gettext_lazy("Parent conference"),
            gettext_lazy("A meeting with the parents or guardians about the concern, the plan and their part in it."),
        ),
        _kind(
            "mental-health-evaluation",
            gettext_lazy("Mental-health evaluation"),
            gettext_lazy("A referral for an evaluation by a qualified mental-health professional."),
        ),
        _kind(
            "law-enforcement-referral",
            gettext_lazy("Law-enforcement referral"),
            gettext_lazy("A consultation with, or a referral to, the school resource officer or the police."),
        ),
        _kind(
            "target-protection-plan",
            gettext_lazy("Target protection plan"),
            gettext_lazy("A plan to protect the people threatened: telling them and their parents, safe routes."),
        ),
    ]
)

# An intervention in one of these statuses fulfils a required kind; a stopped one does not.
FULFILLING_STATUSES: tuple[str, ...] = (
    Intervention.Status.PLANNED,
    Intervention.Status.ACTIVE,
    Intervention.Status.COMPLETED,
)


def kinds_for(district_id: int) -> list[Kind]:
    """The kinds a plan of the district may use: the catalogue, then the district's active own
    kinds (by name; a code that repeats a built-in one is the built-in one)."""
    own = [
        Kind(code=row.code, label=row.label, description=row.description, builtin=False)
        for row in InterventionKind.objects.filter(district_id=district_id, active=True).order_by("label", "code")
        if row.code not in CATALOGUE
    ]
    return [*CATALOGUE.values(), *own]


def all_kinds(district_id: int) -> dict[str, Kind]:
    """Every kind an intervention of the district may carry, the district's retired ones included
    (an intervention keeps its kind when the district stops offering it)."""
    kinds = dict(CATALOGUE)
    for row in InterventionKind.objects.filter(district_id=district_id).order_by("label", "code"):
        kinds.setdefault(row.code, Kind(code=row.code, label=row.label, description=row.description, builtin=False))
    return kinds


def unknown_kind(code: str) -> Kind:
    """A kind no longer known anywhere (a rule naming a code nobody defines): its code in words."""
    return Kind(code=code, label=code.replace("-", " ").replace("_", " ").capitalize(), builtin=False)


def kind_of(code: str, kinds: dict[str, Kind]) -> Kind:
    return kinds.get(code) or unknown_kind(code)


# The rules of the case's level ---------------------------------------------------------------------


def case_level(case: Case) -> tuple[LevelScheme, Level] | None:
    """The scheme and level the case's current level belongs to (None without a level, or when the
    scheme or level is no longer known)."""
    if not case.risk_level:
        return None
    from btam.assessments import levels

    registry = levels.registry_for(case.district_id)
    try:
        scheme = registry.scheme(case.risk_scheme or levels.DEFAULT_SCHEME)
        return scheme, scheme.level(case.risk_level)
    except KeyError:
        return None


def level_rules(case: Case) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, suggested) kind codes at the case's current level; empty without a level."""
    found = case_level(case)
    if found is None:
        return (), ()
    from btam.assessments import levels

    scheme, level = found
    try:
        required, suggested = levels.rules(case.district_id, scheme, level.id)
    except KeyError:
        return (), ()
    required = tuple(dict.fromkeys(str(code) for code in required))
    suggested = tuple(code for code in dict.fromkeys(str(code) for code in suggested) if code not in required)
    return required, suggested


def fulfilled_kinds(case: Case, interventions: Iterable[Intervention] | None = None) -> set[str]:
    """The kinds the plan provides: of its interventions planned, in place or completed (read from
    ``interventions`` when the caller has the case's interventions already, else one query)."""
    if interventions is not None:
        return {item.kind for item in interventions if item.status in FULFILLING_STATUSES}
    return set(
        Intervention.objects.filter(case_id=case.pk, status__in=FULFILLING_STATUSES).values_list("kind", flat=True)
    )


def required_missing(case: Case, interventions: Iterable[Intervention] | None = None) -> list[str]:
    """The kinds the rules of the case's current level require that no intervention of the plan
    (planned, in place or completed) provides, in the rules' order. ``interventions``: all of the
    case's interventions when the caller has them loaded (no query for them then)."""
    required, _suggested = level_rules(case)
    if not required:
        return []
    present = fulfilled_kinds(case, interventions)
    return [code for code in required if code not in present]


def is_monitored(case: Case) -> bool:
    return case.status == Status.MONITORING


def last_required_of_its_kind(case: Case, item: Intervention) -> bool:
    """Whether ``item`` is the only intervention of the plan providing a kind the case's level
    requires (so stopping it, or changing its kind, leaves that kind missing)."""
    if item.status not in FULFILLING_STATUSES:
        return False
    required, _suggested = level_rules(case)
    if item.kind not in required:
        return False
    others = Intervention.objects.filter(case_id=case.pk, kind=item.kind, status__in=FULFILLING_STATUSES)
    return not others.exclude(pk=item.pk).exists()


def still_required_message(case: Case, item: Intervention) -> str:
    kind = kind_of(item.kind, all_kinds(case.district_id))
    return _(
        "“%(kind)s” is required at this level while the case is monitored: add another one first, "
        "or move the case back to management."
    ) % {"kind": kind.label}


def missing_message(case: Case, missing: list[str]) -> str:
    kinds = all_kinds(case.district_id)
    names = ", ".join(kind_of(code, kinds).label_in_sentence for code in missing)
    return _("Add the required interventions first: %(kinds)s.") % {"kinds": names}


def required_interventions_guard(case: Case) -> str | None:
    """The case workflow's guard for entering monitoring (registered in ``hooks.py``): every kind
    the level requires is in the plan."""
    missing = required_missing(case)
    if not missing:
        return None
    return missing_message(case, missing)


@dataclass(frozen=True)
class RuleRow:
    """One kind the rules of the level name, and how the plan stands on it."""

    kind: Kind
    required: bool
    interventions: list[Intervention]  # of this kind that fulfil it (planned, in place, completed)

    @property
    def in_plan(self) -> bool:
        return bool(self.interventions)


def rule_rows(case: Case, interventions: list[Intervention], kinds: dict[str, Kind]) -> list[RuleRow]:
    """The required kinds, then the suggested ones, each with the plan's interventions of it."""
    required, suggested = level_rules(case)
    by_kind: dict[str, list[Intervention]] = {}
    for item in interventions:
        if item.status in FULFILLING_STATUSES:
            by_kind.setdefault(item.kind, []).append(item)
    return [
        RuleRow(kind=kind_of(code, kinds), required=code in required, interventions=by_kind.get(code, []))
        for code in (*required, *suggested)
    ]


# The safety plan ------------------------------------------------------------------------------------

STAFF = "staff"
FAMILY = "family"
READERS: dict[str, Any] = {
    STAFF: gettext_lazy("Staff supervising the plan"),
    FAMILY: gettext_lazy("The student and family"),
}
REVIEW_KEY = "review_on"  # the review date, stored with the sections (ISO date)


@dataclass(frozen=True)
class SafetySection:
    id: str
    label: str | Promise
    help: str | Promise
    readers: tuple[str, ...]

    @property
    def reader_labels(self) -> list[str]:
        return [str(READERS[r]) for r in self.readers]

    @property
    def readers_in_sentence(self) -> str:
        """The readers inside a sentence, after "Printed for:" ("staff supervising the plan, …")."""
        return ", ".join(label[:1].lower() + label[1:] for label in self.reader_labels)


# The sections of a safety plan, in the order printed. Each names its readers: a copy printed for
# the family never holds what only the staff need (how the people threatened are protected, what
# staff watch for).
SAFETY_SECTIONS: tuple[SafetySection, ...] = (
    SafetySection(
        "warning_signs",
        gettext_lazy("Warning signs and triggers"),
        gettext_lazy("What staff should watch for, and the situations that have set things off before."),
        (STAFF,),
    ),
    SafetySection(
        "supervision",
        gettext_lazy("Supervision and check-in arrangements"),
        gettext_lazy("Who checks in with the student, when and where; supervised times and places."),
        (STAFF, FAMILY),
    ),
    SafetySection(
        "trusted_adults",
        gettext_lazy("Who the student goes to"),
        gettext_lazy("The adults the student can go to when upset or worried, and how to reach them."),
        (STAFF, FAMILY),
    ),
    SafetySection(
        "restrictions",
        gettext_lazy("Restrictions"),
        gettext_lazy("Areas, times and items that are off limits, and what happens at arrival and dismissal."),
        (STAFF, FAMILY),
    ),
    SafetySection(
        "target_protection",
        gettext_lazy("Protecting the people concerned"),
        gettext_lazy("How the people threatened are kept safe (separation, routes, who watches)."),
        (STAFF,),
    ),
    SafetySection(
        "parent_role",
        gettext_lazy("The parents' or guardians' part"),
        gettext_lazy("What the family agreed to do: at home, with the school, and whom to call."),
        (STAFF, FAMILY),
    ),
)
SECTION_IDS: tuple[str, ...] = tuple(s.id for s in SAFETY_SECTIONS)


def sections_for(readers: str) -> list[SafetySection]:
    """The sections printed for ``readers`` (``STAFF`` or ``FAMILY``)."""
    return [s for s in SAFETY_SECTIONS if readers in s.readers]
