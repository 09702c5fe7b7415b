"""The case workflow's guards: what must be on record before a case may enter a stage.

The transition table is on the model (``Case.TRANSITIONS``); this module says what each move
needs. A guard takes the case and returns ``None`` when the move may go ahead, or a message for
the user saying what is missing.

Other modules add guards with :func:`register_guard` (in their ``AppConfig.ready``). The
assessments module records the risk level with its rationale on the case (``risk_level``,
``risk_rationale``): the built-in guard for management reads those fields, so a level decided
there satisfies it, and the assessments module may register a stricter guard of its own (an
approved assessment, say).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from btam.cases.models import ScreeningDecision, Status

if TYPE_CHECKING:
    from btam.cases.models import Case

Guard = Callable[["Case"], "str | None"]


def _screening_recorded(case: Case) -> str | None:
    if case.screening_decision != ScreeningDecision.EVALUATE:
        return _("Record a screening decision that the case needs a detailed evaluation first.")
    return None


def _risk_level_recorded(case: Case) -> str | None:
    if not case.risk_level or not case.risk_rationale.strip():
        return _("Record a risk level with its written rationale first.")
    return None


_GUARDS: dict[str, list[Guard]] = {
    Status.EVALUATION: [_screening_recorded],
    Status.MANAGEMENT: [_risk_level_recorded],
}


def register_guard(status: str, guard: Guard) -> None:
    """Add a condition for entering ``status`` (idempotent)."""
    guards = _GUARDS.setdefault(status, [])
    if guard not in guards:
        guards.append(guard)


def blocking_reasons(case: Case, status: str) -> list[str]:
    """Why ``case`` may not move to ``status`` now (empty: it may)."""
    if not case.can_transition_to(status):
        return [
            _("A case cannot move from “%(from)s” to “%(to)s”.")
            % {"from": case.get_status_display(), "to": Status(status).label}
        ]
    reasons: list[str] = []
    for guard in _GUARDS.get(status, []):
        message = guard(case)
        if message:
            reasons.append(message)
    return reasons


def next_steps(case: Case) -> list[tuple[str, str, list[str]]]:
    """The moves offered on the case page: (status, label, reasons it is blocked), closing excluded
    (it has its own form)."""
    steps: list[tuple[str, str, list[str]]] = []
    for status in Status:
        if status == Status.CLOSED or not case.can_transition_to(status):
            continue
        steps.append((status.value, str(status.label), blocking_reasons(case, status)))
    return steps
