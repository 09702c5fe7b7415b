"""The Assessments tab of a case (its assessments, the risk-level history and its chart, starting an
assessment or a reassessment) and the assessment page (the form rendered from the definition of the
version it uses, partial saves, the engine's suggestion, the decision, approval, dissent, discard).

Every view fetches the case through ``access.get_case`` before it looks at the method (404 for a
case the user cannot see, whatever the method; 403 when they may only read it and the view changes
something), and an assessment through its case (one of another case is a 404). Pages render
through ``render_case`` (the read is audited). Saving answers and the live suggestion work with htmx
(the work panel comes back, a 200 either way: htmx swaps only successful answers) and without JS (a
redirect, or the page with the message, the values posted and a 400). Decisions, approvals,
dissents and discarding are plain posts answered by a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from btam.accounts.models import User
from btam.assessments import access, decision_actions, engine, history, levels
from btam.assessments.assessment_forms import AnswersForm, DecisionForm, DeclineForm, DissentForm, StartForm
from btam.assessments.decision_actions import AssessmentError, PendingDecision, StaleSave
from btam.assessments.definitions import Instrument, Level, LevelScheme
from btam.assessments.models import Assessment, Contribution, DeclinedDecision, Dissent
from btam.cases import access as case_access
from btam.cases.actions import CaseError
from btam.cases.models import Case
from btam.cases.pages import CASE_POLICY, lost_access, render_case, user_of
from btam.core.access import policy

TAB = "assessments"
TAB_PAGE = "assessments/case.html"
PAGE = "assessments/assessment.html"
WORK_PANEL = "assessments/partials/_assess_work.html"
EVALUATION_PANEL = "assessments/partials/_assess_evaluation.html"


# Shared ------------------------------------------------------------------------------------------


def _assessment_of(case: Case, assessment_pk: int) -> Assessment:
    found = (
        Assessment.objects.filter(pk=assessment_pk, case=case)
        .select_related("started_by", "decided_by", "approved_by", "declined_by", "previous", "previous__decided_by")
        .first()
    )
    if found is None:
        raise Http404
    return found


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _decision_form(data: Any = None) -> DecisionForm:
    """The decision form, its revision required: a decision is made on the answers of one revision
    (a post without it comes from an incomplete or old page)."""
    form = DecisionForm(data)
    field = form.fields["revision"]
    field.required = True
    missing = _("The form is incomplete (its revision is missing): reload the page.")
    field.error_messages.update({"required": missing, "invalid": missing})
    return form


@dataclass(frozen=True)
class DeclinedRow:
    """A declined decision as the assessment page lists it."""

    declined: DeclinedDecision
    level_label: str


def _declined_rows(assessment: Assessment, labels: history.Labels) -> list[DeclinedRow]:
    rows = (
        DeclinedDecision.objects.filter(assessment=assessment)
        .select_related("decided_by", "declined_by")
        .order_by("-declined_at", "-pk")
    )
    return [
        DeclinedRow(declined=row, level_label=labels.label(row.scheme_id, row.level, row.scheme_version))
        for row in rows
    ]


@dataclass(frozen=True)
class LevelMove:
    """A decided level compared with the previous decision's ("Level changed: moderate → high")."""

    before: str
    after: str
    direction: str  # "up", "down" or "changed"


def level_move(assessment: Assessment, labels: history.Labels) -> LevelMove | None:
    """The change of level of a decided reassessment (None when it is the same level, or not one)."""
    previous = assessment.previous
    if assessment.status != Assessment.Status.DECIDED or previous is None or not previous.level:
        return None
    if previous.level == assessment.level and previous.scheme_id == assessment.scheme_id:
        return None
    direction = "changed"
    if previous.scheme_id == assessment.scheme_id and None not in (previous.level_rank, assessment.level_rank):
        direction = "up" if (assessment.level_rank or 0) > (previous.level_rank or 0) else "down"
    return LevelMove(
        before=labels.label(previous.scheme_id, previous.level, previous.scheme_version),
        after=labels.label(assessment.scheme_id, assessment.level, assessment.scheme_version),
        direction=direction,
    )


# The tab -----------------------------------------------------------------------------------------


@dataclass
class AssessmentRow:
    assessment: Assessment
    title: str
    level_label: str
    move: LevelMove | None
    previous_title: str


def _instrument_title(labels: history.Labels, instrument_id: str, version: int) -> str:
    try:
        return str(labels.registry.instrument(instrument_id, version).title)
    except KeyError:
        return instrument_id


def _tab_page(
    request: HttpRequest, case: Case, *, start_form: StartForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    labels = history.Labels(case.district_id)
    assessments = list(
        Assessment.objects.filter(case=case)
        .select_related("started_by", "decided_by", "previous")
        .annotate(dissent_count=Count("dissents"))
        .order_by("-started_at", "-pk")
    )
    rows = [
        AssessmentRow(
            assessment=a,
            title=_instrument_title(labels, a.instrument_id, a.instrument_version),
            level_label=labels.label(a.scheme_id, a.level, a.scheme_version) if a.level else "",
            move=level_move(a, labels),
            previous_title=(
                _instrument_title(labels, a.previous.instrument_id, a.previous.instrument_version) if a.previous else ""
            ),
        )
        for a in assessments
    ]
    decided = [a for a in assessments if a.status == Assessment.Status.DECIDED]
    latest = max(decided, key=lambda a: (a.approved_at or a.decided_at, a.pk), default=None)
    offered = decision_actions.offered_instruments(case.district_id, labels.registry)
    under_way = {a.instrument_id: a for a in assessments if a.status in decision_actions.OPEN_STATUSES}
    level_rows = history.level_history(case, labels)
    context: dict[str, Any] = {
        "rows": rows,
        "latest_decided": latest,
        "latest_title": _instrument_title(labels, latest.instrument_id, latest.instrument_version) if latest else "",
        "offered": offered,
        "under_way": under_way,
        # A reassessment already under way with the latest decision's instrument: continue it.
        "reassess_open": under_way.get(latest.instrument_id) if latest else None,
        "start_form": start_form or StartForm(),
        "error": error,
        "history": level_rows,
        "chart": history.chart(case, level_rows, labels),
        "current_label": labels.label(case.risk_scheme, case.risk_level) if case.risk_level else "",
        "level_moves": {row.change.pk: row for row in level_rows},
    }
    return render_case(request, case, TAB_PAGE, context, tab=TAB, status=status)


@policy(CASE_POLICY)
@never_cache
def case_tab(request: HttpRequest, pk: int) -> HttpResponse:
    """The Assessments tab of a case."""
    case = access.get_case(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _tab_page(request, case)


@policy(CASE_POLICY)
@never_cache
def start(request: HttpRequest, pk: int) -> HttpResponse:
    """Start an assessment (``previous``: reassess the latest decided one)."""
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = StartForm(request.POST)
    if not form.is_valid():
        return _tab_page(
            request, case, start_form=form, error=_("The assessment was not started: check the form."), status=400
        )
    try:
        assessment = decision_actions.do_start_assessment(
            actor=user,
            case=case,
            instrument_id=form.cleaned_data["instrument"],
            previous=form.cleaned_data.get("previous"),
            version=form.cleaned_data.get("version"),
        )
    except CaseError as exc:
        if (gone := lost_access(request, case, exc)) is not None:
            return gone
        case.refresh_from_db()
        return _tab_page(request, case, start_form=form, error=str(exc), status=400)
    messages.success(
        request,
        _("Reassessment started: the previous decision is shown for reference.")
        if assessment.previous_id
        else _("Assessment started. Answers are saved as you go; colleagues can add theirs."),
    )
    return redirect("assessments:detail", pk=case.pk, assessment_pk=assessment.pk)


# The assessment page -----------------------------------------------------------------------------


@dataclass
class LevelChoice:
    level: Level
    suggested: bool
    checked: bool


@dataclass
class SuggestionView:
    """What the page says about the engine's suggestion (live for a draft, frozen once decided)."""

    evaluation: engine.Evaluation | None
    outcome_label: str
    reasons: list[str]
    level_label: str
    scheme_title: str
    maps_levels: bool
    frozen: bool
    next_step_label: str = ""
    missing_count: int = 0
    error: str = ""


def _live_suggestion(
    instrument: Instrument, answers: dict[str, Any], scheme: LevelScheme
) -> tuple[SuggestionView, decision_actions.Suggestion | None]:
    try:
        found = decision_actions.suggestion_for(instrument, answers, scheme)
    except engine.AnswersError as exc:
        view = SuggestionView(
            evaluation=None,
            outcome_label="",
            reasons=[],
            level_label="",
            scheme_title=str(scheme.title),
            maps_levels=bool(scheme.outcome_map.get(instrument.id)),
            frozen=False,
            error=" ".join(exc.messages),
        )
        return view, None
    evaluation = found.evaluation
    next_label = ""
    if evaluation.next_step:
        try:
            next_label = _("Step %(number)d") % {"number": instrument.step(evaluation.next_step).step}
        except KeyError:
            next_label = evaluation.next_step
    return (
        SuggestionView(
            evaluation=evaluation,
            outcome_label=evaluation.outcome_label,
            reasons=list(evaluation.reasons),
            level_label=str(found.level.label) if found.level else "",
            scheme_title=str(scheme.title),
            maps_levels=found.maps_levels,
            frozen=False,
            next_step_label=next_label,
            missing_count=len(evaluation.missing),
        ),
        found,
    )


def _frozen_suggestion(
    assessment: Assessment, instrument: Instrument, scheme: LevelScheme | None, labels: history.Labels
) -> SuggestionView:
    """The suggestion as it was when the decision was recorded (and the path, from the answers)."""
    try:
        evaluation: engine.Evaluation | None = engine.evaluate(instrument, assessment.answers)
    except engine.AnswersError:
        evaluation = None
    try:
        outcome_label = (
            str(instrument.outcome(assessment.suggested_outcome).label) if assessment.suggested_outcome else ""
        )
    except KeyError:
        outcome_label = assessment.suggested_outcome
    return SuggestionView(
        evaluation=evaluation,
        outcome_label=outcome_label,
        reasons=[str(r) for r in assessment.suggestion_reasons or []],
        level_label=labels.label(assessment.scheme_id, assessment.suggested_level, assessment.scheme_version),
        scheme_title=str(scheme.title) if scheme else assessment.scheme_id,
        maps_levels=bool(scheme and scheme.outcome_map.get(instrument.id)),
        frozen=True,
    )


def _detail_page(
    request: HttpRequest,
    case: Case,
    assessment: Assessment,
    *,
    form: AnswersForm | None = None,
    decision_form: DecisionForm | None = None,
    decline_form: DeclineForm | None = None,
    dissent_form: DissentForm | None = None,
    error: str = "",
    error_part: str = "",
    error_link: tuple[str, str] | None = None,
    notice: str = "",
    differences: list[str] | None = None,
    preview: bool = False,
    status: int = 200,
    partial: str | None = None,
    audit: bool = True,
) -> HttpResponse:
    user = user_of(request)
    labels = history.Labels(case.district_id)
    try:
        instrument: Instrument | None = decision_actions.instrument_of(assessment, labels.registry)
    except AssessmentError as exc:
        instrument, error = None, str(exc)
    draft = assessment.status == Assessment.Status.DRAFT
    can_write = case_access.can_write(user, case)
    editable = can_write and not case.is_closed and not case.is_merged
    has_decision = assessment.status in (Assessment.Status.DECIDED, Assessment.Status.PENDING_APPROVAL)
    shown_parts = {
        "answers": draft and editable and instrument is not None,
        "decision": draft and editable and instrument is not None,
        "approval": has_decision,
        "dissent": has_decision and editable,
        "discard": draft and editable,
    }
    if not shown_parts.get(error_part, False):
        error_part = ""  # the part is not on the page (any more): the message goes to the top
    context: dict[str, Any] = {
        "can_write": can_write,
        "assessment": assessment,
        "instrument": instrument,
        "title": str(instrument.title) if instrument else assessment.instrument_id,
        "error": error,
        "error_part": error_part,
        # (url, label) of what the error names (the decision waiting for approval).
        "error_link": error_link,
        "notice": notice,
        "differences": differences or [],
        "preview": preview,
        "move": level_move(assessment, labels),
        "can_approve": assessment.status == Assessment.Status.PENDING_APPROVAL and access.can_approve(user, case),
        # A level took effect after this pending decision was recorded: it cannot be approved.
        "superseded": decision_actions.superseded(assessment),
        "declined_decisions": _declined_rows(assessment, labels),
        "decline_form": decline_form or DeclineForm(),
        "dissent_form": dissent_form or DissentForm(),
        "dissents": list(
            Dissent.objects.filter(assessment=assessment).select_related("author").order_by("created_at", "pk")
        ),
        "contributions": list(
            Contribution.objects.filter(assessment=assessment).select_related("user").order_by("-at", "-pk")
        ),
        "level_label": labels.label(assessment.scheme_id, assessment.level, assessment.scheme_version),
        "previous": assessment.previous,
        "previous_title": (
            _instrument_title(labels, assessment.previous.instrument_id, assessment.previous.instrument_version)
            if assessment.previous
            else ""
        ),
        "previous_label": (
            labels.label(assessment.previous.scheme_id, assessment.previous.level, assessment.previous.scheme_version)
            if assessment.previous
            else ""
        ),
    }
    if instrument is not None:
        answers_form = form or AnswersForm(
            instrument=instrument, answers=assessment.answers, revision=assessment.revision
        )
        if draft:
            scheme = levels.scheme_for(case.district_id)
            shown = {**assessment.answers, **{k: v for k, v in answers_form.cleaned.items()}} if preview else None
            if shown is not None:
                shown = {k: v for k, v in shown.items() if v is not None}
            suggestion, found = _live_suggestion(instrument, shown if shown is not None else assessment.answers, scheme)
            chosen = decision_form["level"].value() if decision_form is not None else ""
            context["level_choices"] = [
                LevelChoice(
                    level=lv,
                    suggested=bool(found and found.level and found.level.id == lv.id),
                    checked=(chosen == lv.id),
                )
                for lv in scheme.levels
            ]
            context["scheme"] = scheme
            context["pending_elsewhere"] = decision_actions.pending_decision(case, exclude=assessment)
            context["decision_form"] = decision_form or DecisionForm(
                initial={
                    "rationale": assessment.rationale,
                    "override_reason": assessment.override_reason,
                    "revision": assessment.revision,
                }
            )
        else:
            scheme_used = decision_actions.scheme_of(assessment, labels.registry)
            suggestion = _frozen_suggestion(assessment, instrument, scheme_used, labels)
            context["scheme"] = scheme_used
        if instrument.kind == "decision_tree" and suggestion.evaluation is not None:
            answers_form.mark_path([p.step for p in suggestion.evaluation.path], suggestion.evaluation.next_step)
        context["form"] = answers_form
        context["suggestion"] = suggestion
    return render_case(request, case, PAGE, context, tab=TAB, status=status, partial=partial, audit=audit)


@policy(CASE_POLICY)
@never_cache
def detail(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    """An assessment: its form (in progress) or its record (decided), the suggestion, the decision."""
    case = access.get_case(user_of(request), pk)
    assessment = _assessment_of(case, assessment_pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _detail_page(request, case, assessment)


def _bound_form(request: HttpRequest, case: Case, assessment: Assessment) -> AnswersForm | HttpResponse:
    try:
        instrument = decision_actions.instrument_of(assessment)
    except AssessmentError as exc:
        return _detail_page(request, case, assessment, error=str(exc), status=400)
    return AnswersForm(
        instrument=instrument, answers=assessment.answers, data=request.POST, revision=assessment.revision
    )


@policy(CASE_POLICY)
@never_cache
def save(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    """Save the answers posted (a partial save: the items on the form are merged)."""
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    assessment = _assessment_of(case, assessment_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    htmx = _htmx(request)
    form = _bound_form(request, case, assessment)
    if isinstance(form, HttpResponse):
        return form
    # htmx swaps only successful answers: a refused save comes back as a 200 with its message.
    status = 200 if htmx else 400
    if not form.is_valid():
        form.revision = form.posted_revision if form.posted_revision is not None else assessment.revision
        return _detail_page(
            request,
            case,
            assessment,
            form=form,
            error=_("Nothing was saved: %(problems)s") % {"problems": " ".join(form.all_errors)},
            error_part="answers",
            status=status,
            partial=WORK_PANEL,
        )
    try:
        saved, changed = decision_actions.do_save_answers(
            actor=user,
            assessment=assessment,
            answers=form.cleaned,
            revision=form.posted_revision or 0,
            version=form.posted_version,
        )
    except StaleSave as exc:
        assessment = _assessment_of(case, assessment_pk)
        form.revision = exc.current_revision
        return _detail_page(
            request,
            case,
            assessment,
            form=form,
            error=str(exc),
            error_part="answers",
            differences=form.differences(assessment.answers),
            status=status,
            partial=WORK_PANEL,
        )
    except CaseError as exc:
        if (gone := lost_access(request, case, exc)) is not None:
            return gone
        assessment = _assessment_of(case, assessment_pk)
        case.refresh_from_db()
        form.revision = assessment.revision
        return _detail_page(
            request,
            case,
            assessment,
            form=form,
            error=str(exc),
            error_part="answers",
            status=status,
            partial=WORK_PANEL,
        )
    notice = (
        ngettext("Saved: %(count)d answer changed.", "Saved: %(count)d answers changed.", len(changed))
        % {"count": len(changed)}
        if changed
        else _("Nothing had changed.")
    )
    if not htmx:
        messages.success(request, notice)
        return redirect("assessments:detail", pk=case.pk, assessment_pk=assessment.pk)
    case.refresh_from_db()
    return _detail_page(request, case, _assessment_of(case, saved.pk), notice=notice, partial=WORK_PANEL)


@policy(CASE_POLICY)
@never_cache
def preview(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    """The suggestion for the answers on the form, without saving them. With htmx (as the form
    changes): the suggestion panel only, which shows nothing but the definition's texts for the
    answers just posted (no read of the record: not audited). Without JS: the page, the answers as
    posted and their suggestion."""
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    assessment = _assessment_of(case, assessment_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = _bound_form(request, case, assessment)
    if isinstance(form, HttpResponse):
        return form
    form.revision = form.posted_revision if form.posted_revision is not None else assessment.revision
    htmx = _htmx(request)
    error = "" if form.is_valid() else " ".join(form.all_errors)
    if htmx:
        return _detail_page(
            request,
            case,
            assessment,
            form=form,
            error=error,
            error_part="answers",
            preview=True,
            partial=EVALUATION_PANEL,
            audit=False,
        )
    return _detail_page(
        request,
        case,
        assessment,
        form=form,
        error=error,
        error_part="answers",
        preview=True,
        notice=_("Not saved yet: this is the suggestion for the answers on the form. Save them to keep them."),
        status=400 if error else 200,
    )


@policy(CASE_POLICY)
@never_cache
def decide(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    """Record the team's decision."""
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    assessment = _assessment_of(case, assessment_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = _decision_form(request.POST)
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _detail_page(
            request,
            case,
            assessment,
            decision_form=form,
            error=_("Nothing was recorded: %(problems)s") % {"problems": problems},
            error_part="decision",
            status=400,
        )
    try:
        decided = decision_actions.do_record_decision(
            actor=user,
            assessment=assessment,
            level_id=form.cleaned_data["level"],
            rationale=form.cleaned_data["rationale"],
            override_reason=form.cleaned_data["override_reason"],
            revision=form.cleaned_data["revision"],
        )
    except CaseError as exc:
        if (gone := lost_access(request, case, exc)) is not None:
            return gone
        case.refresh_from_db()
        assessment = _assessment_of(case, assessment_pk)
        if isinstance(exc, StaleSave):
            data = request.POST.copy()
            data["revision"] = str(exc.current_revision)
            form = _decision_form(data)
            form.is_valid()
        return _detail_page(
            request,
            case,
            assessment,
            decision_form=form,
            error=str(exc),
            error_part="decision",
            error_link=(exc.link, str(exc.link_label)) if isinstance(exc, PendingDecision) else None,
            status=400,
        )
    label = levels.level_label(
        decided.scheme_id, decided.level, district_id=decided.district_id, version=decided.scheme_version
    )
    if decided.status == Assessment.Status.PENDING_APPROVAL:
        messages.success(
            request,
            _("Decision recorded: %(level)s needs a team leader's approval. The case's leaders were told.")
            % {"level": label},
        )
    else:
        messages.success(request, _("Decision recorded: the case's level is now %(level)s.") % {"level": label})
    return redirect("assessments:detail", pk=case.pk, assessment_pk=decided.pk)


@policy(CASE_POLICY)
@never_cache
def approve(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    """A team leader approves a decision waiting for approval."""
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    assessment = _assessment_of(case, assessment_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        approved = decision_actions.do_approve_decision(actor=user, assessment=assessment)
    except CaseError as exc:
        if (gone := lost_access(request, case, exc)) is not None:
            return gone
        case.refresh_from_db()
        return _detail_page(
            request, case, _assessment_of(case, assessment_pk), error=str(exc), error_part="approval", status=400
        )
    messages.success(
        request,
        _("Decision approved: the case's level is now %(level)s.")
        % {
            "level": levels.level_label(
                approved.scheme_id, approved.level, district_id=approved.district_id, version=approved.scheme_version
            )
        },
    )
    return redirect("assessments:detail", pk=case.pk, assessment_pk=approved.pk)


def _text_form_action(
    request: HttpRequest,
    pk: int,
    assessment_pk: int,
    *,
    form_class: type[forms.Form],
    field: str,
    run: Callable[[User, Assessment, str], object],
    success: str,
    refused: str,
    error_part: str,
) -> HttpResponse:
    """A POST of one text (a decline's reason, a dissent) on an assessment: the action, then the
    assessment page; on a refusal the page again, with the typed text kept and the reason why."""
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    assessment = _assessment_of(case, assessment_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = form_class(request.POST)
    error = ""
    if form.is_valid():
        try:
            run(user, assessment, form.cleaned_data[field])
        except CaseError as exc:
            if (gone := lost_access(request, case, exc)) is not None:
                return gone
            error = str(exc)
        else:
            messages.success(request, success)
            return redirect("assessments:detail", pk=case.pk, assessment_pk=assessment.pk)
    else:
        error = refused % {"problems": " ".join(str(e) for e in form.errors.get(field, []))}
    case.refresh_from_db()
    return _detail_page(
        request,
        case,
        _assessment_of(case, assessment_pk),
        decline_form=form if isinstance(form, DeclineForm) else None,
        dissent_form=form if isinstance(form, DissentForm) else None,
        error=error,
        error_part=error_part,
        status=400,
    )


@policy(CASE_POLICY)
@never_cache
def decline(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    """A team leader declines a decision waiting for approval, with a reason."""
    return _text_form_action(
        request,
        pk,
        assessment_pk,
        form_class=DeclineForm,
        field="reason",
        run=lambda user, assessment, text: decision_actions.do_decline_decision(
            actor=user, assessment=assessment, reason=text
        ),
        success=_("Decision declined: the assessment is in progress again, and its recorder was told."),
        refused=_("The decision was not declined: %(problems)s"),
        error_part="approval",
    )


@policy(CASE_POLICY)
@never_cache
def dissent(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    """Record a dissent with the decision."""
    return _text_form_action(
        request,
        pk,
        assessment_pk,
        form_class=DissentForm,
        field="text",
        run=lambda user, assessment, text: decision_actions.do_record_dissent(
            actor=user, assessment=assessment, text=text
        ),
        success=_("Your dissent is recorded with the decision."),
        refused=_("The dissent was not recorded: %(problems)s"),
        error_part="dissent",
    )


@policy(CASE_POLICY)
@never_cache
def discard(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    """Discard an assessment in progress."""
    user = user_of(request)
    case = access.get_case(user, pk, write=True)
    assessment = _assessment_of(case, assessment_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        decision_actions.do_discard_assessment(actor=user, assessment=assessment)
    except CaseError as exc:
        if (gone := lost_access(request, case, exc)) is not None:
            return gone
        case.refresh_from_db()
        return _detail_page(
            request, case, _assessment_of(case, assessment_pk), error=str(exc), error_part="discard", status=400
        )
    messages.success(request, _("Assessment discarded. It stays in the case's list, marked discarded."))
    return redirect("assessments:case", pk=case.pk)


_ONE = "cases/<int:pk>/assessments/<int:assessment_pk>/"

urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/assessments/", case_tab, name="case"),
    path("cases/<int:pk>/assessments/start/", start, name="start"),
    path(_ONE, detail, name="detail"),
    path(_ONE + "save/", save, name="save"),
    path(_ONE + "preview/", preview, name="preview"),
    path(_ONE + "decide/", decide, name="decide"),
    path(_ONE + "approve/", approve, name="approve"),
    path(_ONE + "decline/", decline, name="decline"),
    path(_ONE + "dissent/", dissent, name="dissent"),
    path(_ONE + "discard/", discard, name="discard"),
]
