"""Shared set-up of the management-plan and safety-plan tests: a case at a level of a scheme, a
case in the management stage, the team's users, and the plan's URLs."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from btam.accounts.models import Role, User
from btam.assessments import definitions
from btam.assessments.models import Intervention
from btam.cases import actions
from btam.cases.models import Case, ScreeningDecision, Status
from btam.lib import clock

HTMX = {"HX-Request": "true"}
# A phrase no ciphertext holds by chance: found in a table dump only if stored in clear.
SECRET = "Quinby Marchetti-Oldfield walks home by the canal path"


def set_level(case: Case, level_id: str, *, scheme_id: str = "virginia", by: User | None = None) -> Case:
    """The case's current level as a decision leaves it (the risk fields only: the plan reads them)."""
    scheme = definitions.builtin().scheme(scheme_id)
    Case.objects.filter(pk=case.pk).update(
        risk_level=level_id,
        risk_scheme=scheme_id,
        risk_rank=scheme.rank(level_id),
        risk_rationale="Reviewed by the team: continuing intent, no capacity found.",
        risk_set_at=clock.now(),
        risk_set_by=by or case.opened_by,
    )
    case.refresh_from_db()
    return case


def to_management(case: Case, actor: User, level_id: str = "imminent", *, scheme_id: str = "virginia") -> Case:
    """Screened for evaluation, a level recorded, in the management stage."""
    actions.do_record_screening(
        actor=actor, case=case, decision=ScreeningDecision.EVALUATE, rationale="Needs a closer look."
    )
    actions.do_transition(actor=actor, case=case, to_status=Status.EVALUATION)
    set_level(case, level_id, scheme_id=scheme_id, by=actor)
    return actions.do_transition(actor=actor, case=case, to_status=Status.MANAGEMENT)


def url(name: str, case: Case, *extra: int) -> str:
    return reverse(f"assessments:{name}", args=[case.pk, *extra])


def member_of(world: Any) -> User:
    return world.users[Role.TEAM_MEMBER]


def intervention(case: Case, actor: User, kind: str = "wellness-check", **fields: Any) -> Intervention:
    """An intervention as the plan's action adds it (owner: the actor)."""
    from btam.assessments import plan_actions

    fields.setdefault("owner", actor)
    return plan_actions.do_add_intervention(actor=actor, case=case, kind=kind, **fields)
