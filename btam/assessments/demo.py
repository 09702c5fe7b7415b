"""A demo case's assessments, plan and monitoring: what a plan is made of (the data of each case is
in ``demo_plans.py``), and :class:`PlanPlayer`, which plays one through the real actions.

The case player (``btam.cases.demo``) asks :meth:`PlanPlayer.events` for the plan's moments and
plays them with the case's own, the clock moved to each (``clock.freeze``); what the team does
after a reopened case comes back is :meth:`PlanPlayer.after_reopen`. Answers of the themes are
dated the day they are saved; a safety plan is reviewed two weeks after the real today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from django.utils import timezone

from btam.assessments import decision_actions, monitoring_actions, plan_actions
from btam.assessments.models import Assessment, CheckIn, Intervention
from btam.lib import clock

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.cases.models import Case

Event = tuple[float, Callable[[], object]]
SAFETY_PLAN_REVIEW = dt.timedelta(days=14)  # after the real today

# What a plan is made of ----------------------------------------------------------------------------

TREE, THEMES, CHECKLIST = "cstag-decision-tree", "ntac-themes", "screening-checklist"
CONCERN, NO_CONCERN, NOT_YET_KNOWN = "concern", "no_concern", "not_yet_known"
Method = CheckIn.Method


@dataclass(frozen=True)
class Evidence:
    """A theme's finding with one piece of evidence (dated the day it is saved); no text: none yet."""

    finding: str
    text: str = ""
    source: str = ""


@dataclass(frozen=True)
class Save:
    """One member's partial save of answers (a contribution)."""

    at: float
    answers: Mapping[str, str | Evidence]
    by: str = "manager"


@dataclass(frozen=True)
class Decision:
    at: float
    level: str
    rationale: str
    override: str = ""  # the reason for differing from the suggested level
    by: str = "manager"
    approved_at: float | None = None  # a leader approves it then (when it waits for approval)
    dissent: tuple[float, str, str] | None = None  # (when, account key, text)


@dataclass(frozen=True)
class DemoAssessment:
    instrument: str
    start: float
    saves: tuple[Save, ...]
    decision: Decision | None = None  # None: still in progress (or waiting, see Decision)
    reassessment: bool = False  # follows the case's latest decided assessment
    by: str = "manager"


@dataclass(frozen=True)
class LinkedTask:
    """A task of the case added to an intervention (due: as the stories' tasks)."""

    title: str
    at: float
    assignee: str = "manager"
    due: str = "soon"


@dataclass(frozen=True)
class DemoIntervention:
    kind: str
    at: float
    details: str
    owner: str = "manager"
    active: float | None = None  # put in place then
    ended: float | None = None  # completed (or stopped) then, with its outcome
    stopped: bool = False
    outcome: str = ""
    task: LinkedTask | None = None


@dataclass(frozen=True)
class DemoCheckIn:
    at: float
    summary: str
    method: str = Method.IN_PERSON
    by: str = "manager"
    concern: bool = False
    intervention: str = ""  # the kind of the plan's intervention it is for


@dataclass(frozen=True)
class Reschedule:
    """The next reassessment moved by hand to ``days`` after the real today, for ``reason``."""

    days: int
    reason: str
    by: str = "leader"


@dataclass(frozen=True)
class AfterReopen:
    """What the team does in the hours after reopening the case, in this order (the moments of
    these are not used: each follows the one before)."""

    check_in: DemoCheckIn
    reschedule: Reschedule
    reassessment: DemoAssessment


@dataclass(frozen=True)
class CasePlan:
    assessments: tuple[DemoAssessment, ...] = ()
    interventions: tuple[DemoIntervention, ...] = ()
    safety_plan: Mapping[str, str] = field(default_factory=dict)  # section id: text
    safety_plan_at: float = 0.5
    check_ins: tuple[DemoCheckIn, ...] = ()
    after_reopen: AfterReopen | None = None


# Decision-tree paths (the Virginia scheme maps transient to low, serious to moderate, very serious to high).
EVALUATE = "step-1-evaluate"
RESOLVE = "step-2-resolve"
RESPOND = "step-3-respond"
SAFETY = "step-4-safety-evaluation"
PLAN = "step-5-safety-plan"
TRANSIENT = {EVALUATE: "expression-only", RESOLVE: "resolved"}
SERIOUS = {EVALUATE: "intent-or-unclear", RESPOND: "hurt-without-weapon"}


# Playing it ----------------------------------------------------------------------------------------


class CasePlayer(Protocol):
    """What the case player (``btam.cases.demo._Player``) offers the plan's moments."""

    leader: User
    now: dt.datetime

    def account(self, key: str) -> User: ...

    def current(self) -> Case: ...

    def today(self) -> dt.date: ...

    def due_on(self, due: str, *, done: bool) -> dt.date | None: ...


def answers_of(save: Save, day: dt.date) -> dict[str, Any]:
    """A save's answers as the instrument takes them (a theme's evidence dated ``day``)."""
    answers: dict[str, Any] = {}
    for key, value in save.answers.items():
        if isinstance(value, Evidence):
            evidence = [{"text": value.text, "source": value.source, "date": day.isoformat()}] if value.text else []
            answers[key] = {"finding": value.finding, "evidence": evidence}
        else:
            answers[key] = value
    return answers


class PlanPlayer:
    def __init__(self, player: CasePlayer, plan: CasePlan) -> None:
        self.player, self.plan = player, plan
        self.assessments: dict[int, Assessment] = {}
        self.interventions: dict[str, Intervention] = {}  # by kind

    def events(self) -> list[Event]:
        """The plan's moments (in the plan's order: events at the same moment keep it)."""
        plan = self.plan
        events: list[Event] = []
        for index, item in enumerate(plan.assessments):
            events.append((item.start, partial(self.start, index, item)))
            events.extend((save.at, partial(self.save, index, save)) for save in item.saves)
            decision = item.decision
            if decision is not None:
                events.append((decision.at, partial(self.decide, index, item)))
                if decision.approved_at is not None:
                    events.append((decision.approved_at, partial(self.approve, index)))
                if decision.dissent is not None:
                    at, who, text = decision.dissent
                    events.append((at, partial(self.dissent, index, who, text)))
        for intervention in plan.interventions:
            events.append((intervention.at, partial(self.add_intervention, intervention)))
            if intervention.active is not None:
                events.append((intervention.active, partial(self.put_in_place, intervention)))
            if intervention.task is not None:
                events.append((intervention.task.at, partial(self.add_task, intervention)))
            if intervention.ended is not None:
                events.append((intervention.ended, partial(self.end, intervention)))
        if plan.safety_plan:
            events.append((plan.safety_plan_at, self.save_safety_plan))
        events.extend((item.at, partial(self.check_in, item)) for item in plan.check_ins)
        return events

    # Assessments --------------------------------------------------------------------------------------

    def start(self, index: int, item: DemoAssessment) -> None:
        case = self.player.current()
        previous = decision_actions.latest_decided(case) if item.reassessment else None
        self.assessments[index] = decision_actions.do_start_assessment(
            actor=self.player.account(item.by), case=case, instrument_id=item.instrument, previous=previous
        )

    def save(self, index: int, save: Save) -> None:
        assessment = self.assessments[index]
        assessment.refresh_from_db()
        self.assessments[index], _changed = decision_actions.do_save_answers(
            actor=self.player.account(save.by),
            assessment=assessment,
            answers=answers_of(save, self.player.today()),
            revision=assessment.revision,
        )

    def decide(self, index: int, item: DemoAssessment) -> None:
        decision = item.decision
        assert decision is not None
        assessment = self.assessments[index]
        assessment.refresh_from_db()
        self.assessments[index] = decision_actions.do_record_decision(
            actor=self.player.account(decision.by),
            assessment=assessment,
            level_id=decision.level,
            rationale=decision.rationale,
            override_reason=decision.override,
            revision=assessment.revision,
        )

    def approve(self, index: int) -> None:
        self.assessments[index] = decision_actions.do_approve_decision(
            actor=self.player.leader, assessment=self.assessments[index]
        )

    def dissent(self, index: int, who: str, text: str) -> None:
        decision_actions.do_record_dissent(
            actor=self.player.account(who), assessment=self.assessments[index], text=text
        )

    # The plan -----------------------------------------------------------------------------------------

    def add_intervention(self, item: DemoIntervention) -> None:
        self.interventions[item.kind] = plan_actions.do_add_intervention(
            actor=self.player.account("manager"),
            case=self.player.current(),
            kind=item.kind,
            owner=self.player.account(item.owner),
            details=item.details,
        )

    def put_in_place(self, item: DemoIntervention) -> None:
        self.interventions[item.kind] = plan_actions.do_set_intervention_status(
            actor=self.player.account(item.owner),
            intervention=self.interventions[item.kind],
            status=Intervention.Status.ACTIVE,
        )

    def end(self, item: DemoIntervention) -> None:
        status = Intervention.Status.STOPPED if item.stopped else Intervention.Status.COMPLETED
        self.interventions[item.kind] = plan_actions.do_set_intervention_status(
            actor=self.player.account(item.owner),
            intervention=self.interventions[item.kind],
            status=status,
            outcome=item.outcome,
        )

    def add_task(self, item: DemoIntervention) -> None:
        task = item.task
        assert task is not None
        plan_actions.do_add_intervention_task(
            actor=self.player.account(item.owner),
            intervention=self.interventions[item.kind],
            title=task.title,
            assignee=self.player.account(task.assignee),
            due_on=self.player.due_on(task.due, done=False),
        )

    def save_safety_plan(self) -> None:
        plan_actions.do_save_safety_plan(
            actor=self.player.account("manager"),
            case=self.player.current(),
            sections=self.plan.safety_plan,
            review_on=timezone.localdate(self.player.now) + SAFETY_PLAN_REVIEW,
        )

    # Monitoring ---------------------------------------------------------------------------------------

    def check_in(self, item: DemoCheckIn) -> None:
        monitoring_actions.do_add_check_in(
            actor=self.player.account(item.by),
            case=self.player.current(),
            occurred_on=self.player.today(),
            method=item.method,
            summary=item.summary,
            concern=item.concern,
            intervention=self.interventions.get(item.intervention) if item.intervention else None,
        )

    def after_reopen(self, step: Callable[[], None]) -> None:
        """A reopened case: a check-in raising the new concern, the reassessment moved by hand to
        this week, a reassessment started. ``step`` moves the clock on between them."""
        after = self.plan.after_reopen
        if after is None:
            return
        step()
        self.check_in(after.check_in)
        step()
        reschedule = after.reschedule
        monitoring_actions.do_set_reassessment_date(
            actor=self.player.account(reschedule.by),
            case=self.player.current(),
            due_on=timezone.localdate(self.player.now) + dt.timedelta(days=reschedule.days),
            reason=reschedule.reason,
        )
        step()
        index = len(self.plan.assessments)
        self.start(index, after.reassessment)
        for save in after.reassessment.saves:
            clock.advance(minutes=20)
            self.save(index, save)
