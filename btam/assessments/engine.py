"""Evaluation of answers against an instrument: the suggested outcome and the reasons for it.

Pure functions of (instrument, answers); no database. The engine never scores a person: a checklist
suggests an outcome from its rules, a decision tree follows the answered steps to an outcome, and the
themes instrument only says whether every theme has been looked at. The team decides.

Answers (the inner ``answers`` object of an answers file, see docs/assessments.md):
- checklist: ``{item id: "yes" | "no" | "unknown" | option value | text | "YYYY-MM-DD"}``
- themes: ``{theme id: {"finding": "concern" | "no_concern" | "not_yet_known",
  "evidence": [{"text": ..., "source": ..., "date": "YYYY-MM-DD"}]}}``
- decision_tree: ``{step id: option value}``
A checklist item or a tree step may instead carry an evidence note: ``{"value": <the answer above>,
"note": ..., "source": ..., "date": "YYYY-MM-DD"}`` (every key optional; the engine evaluates on
``value``). A missing item, ``null`` or ``""`` (as the value) is "not answered yet".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from btam.assessments.definitions import (
    CHOICE,
    CONCERN,
    DATE,
    FINDINGS,
    INFORMATION_COMPLETE,
    INFORMATION_GAPS,
    NO_CONCERN,
    NOT_YET_KNOWN,
    TEXT,
    YES_NO_UNKNOWN,
    Instrument,
    Item,
    Rule,
)
from btam.lib import clock

MAX_TEXT = 10_000
MAX_SOURCE = 300
MAX_EVIDENCE = 200
# The evidence note of a checklist item or a decision-tree step.
MAX_NOTE = 2_000
MAX_NOTE_SOURCE = 200
NOTE_KEYS = ("value", "note", "source", "date")
ANSWERS_FILE_KEYS = ("instrument", "version", "answers")


class AnswersError(ValueError):
    """Answers that do not fit the instrument; ``messages`` says what is wrong, one line each."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))


@dataclass(frozen=True)
class PathStep:
    """One answered step of a decision tree: the question, the answer and why it leads where it does."""

    step: str
    number: int
    question: str
    answer: str
    answer_label: str
    reason: str
    next: str | None
    outcome: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "number": self.number,
            "question": self.question,
            "answer": self.answer,
            "answer_label": self.answer_label,
            "reason": self.reason,
            "next": self.next,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class Evaluation:
    instrument_id: str
    version: int
    complete: bool
    outcome: str | None  # suggested outcome id (None until enough is answered)
    outcome_label: str
    reasons: list[str]  # human-readable, from the definition's texts
    path: list[PathStep]  # decision tree: each step asked, the answer, the reason; [] otherwise
    next_step: str | None  # decision tree: the step to answer next when incomplete
    # What is still unanswered: required checklist items, themes not looked at, the next tree step.
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument_id": self.instrument_id,
            "version": self.version,
            "complete": self.complete,
            "outcome": self.outcome,
            "outcome_label": self.outcome_label,
            "reasons": list(self.reasons),
            "path": [step.as_dict() for step in self.path],
            "next_step": self.next_step,
            "missing": list(self.missing),
        }


def _answered(value: object) -> bool:
    return value is not None and value != ""


def answer_value(answer: object) -> Any:
    """The answer itself of a checklist item or a tree step, with or without an evidence note."""
    if isinstance(answer, dict):
        return answer.get("value")
    return answer


def answer_note(answer: object) -> dict[str, str]:
    """The evidence note of a checklist item or a tree step: ``note``, ``source``, ``date`` given
    (empty when the answer is a plain value)."""
    if not isinstance(answer, dict):
        return {}
    return {key: answer[key] for key in NOTE_KEYS[1:] if isinstance(answer.get(key), str) and answer[key]}


def is_empty(answer: object) -> bool:
    """Nothing given: ``None``, ``""``, or an object (an item's note, a theme) whose fields are all empty.
    Saving an empty answer clears the item."""
    if isinstance(answer, dict):
        if set(answer) - {*NOTE_KEYS, "finding", "evidence"}:
            return False  # an unknown field is refused, not dropped
        return not any(_answered(value) and value != [] for value in answer.values())
    return not _answered(answer)


# ---------------------------------------------------------------------------------------------
# Validation of answers
# ---------------------------------------------------------------------------------------------


def validate_answers(instrument: Instrument, answers: object) -> list[str]:
    """Everything wrong with ``answers`` for this instrument, one clear message each ([] when fine)."""
    if not isinstance(answers, dict):
        return [_("The answers must be an object that maps each question to its answer.")]
    if instrument.kind == "checklist":
        return _checklist_errors(instrument, answers)
    if instrument.kind == "themes":
        return _themes_errors(instrument, answers)
    return _tree_errors(instrument, answers)


def _unknown(instrument: Instrument, key: str, what: str) -> str:
    return _('"%(key)s" is not %(what)s of version %(version)s of "%(instrument)s".') % {
        "key": key,
        "what": what,
        "version": instrument.version,
        "instrument": instrument.id,
    }


def _date_error(value: object, where: str) -> str | None:
    if not isinstance(value, str):
        return _("%(where)s: the date must be written as YYYY-MM-DD.") % {"where": where}
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return _('%(where)s: "%(value)s" is not a date (write it as YYYY-MM-DD).') % {"where": where, "value": value}
    if len(value) != 10:
        return _('%(where)s: "%(value)s" is not a date (write it as YYYY-MM-DD).') % {"where": where, "value": value}
    if day > timezone.localdate(clock.now()):
        return _("%(where)s: the date %(value)s is in the future.") % {"where": where, "value": value}
    return None


def _text_error(value: object, where: str, limit: int) -> str | None:
    if not isinstance(value, str):
        return _("%(where)s: the answer must be text.") % {"where": where}
    if len(value) > limit:
        return _("%(where)s: at most %(limit)s characters.") % {"where": where, "limit": f"{limit:,}"}
    return None


def _checklist_errors(instrument: Instrument, answers: dict[str, Any]) -> list[str]:
    items = {item.id: item for item in instrument.items()}
    errors: list[str] = []
    for key, answer in answers.items():
        item = items.get(key)
        if item is None:
            errors.append(_unknown(instrument, key, _("a question")))
            continue
        errors.extend(_note_errors(answer, key))
        value = answer_value(answer)
        if not _answered(value):
            continue
        if item.answer in (YES_NO_UNKNOWN, CHOICE):
            if not isinstance(value, str) or value not in item.values():
                errors.append(
                    _('"%(item)s": %(value)s is not one of the answers (%(choices)s).')
                    % {"item": key, "value": _show(value), "choices": ", ".join(item.values())}
                )
        elif item.answer == TEXT:
            error = _text_error(value, f'"{key}"', MAX_TEXT)
            if error:
                errors.append(error)
        elif item.answer == DATE:
            error = _date_error(value, f'"{key}"')
            if error:
                errors.append(error)
    return errors


def _note_errors(answer: object, key: str) -> list[str]:
    """What is wrong with the evidence note of an item or a step (its value is checked by the caller)."""
    if not isinstance(answer, dict):
        return []
    errors = [
        _('"%(item)s": unknown field "%(field)s" (an answer with evidence has "value", "note", "source" and "date").')
        % {"item": key, "field": extra}
        for extra in sorted(str(k) for k in set(answer) - set(NOTE_KEYS))
    ]
    for field_name, limit in (("note", MAX_NOTE), ("source", MAX_NOTE_SOURCE)):
        text = answer.get(field_name)
        if text is None:
            continue
        if not isinstance(text, str):
            errors.append(_('"%(item)s": the %(field)s must be text.') % {"item": key, "field": field_name})
        elif len(text) > limit:
            errors.append(
                _('"%(item)s": the %(field)s is %(length)s characters long; at most %(limit)s.')
                % {"item": key, "field": field_name, "length": f"{len(text):,}", "limit": f"{limit:,}"}
            )
    day = answer.get("date")
    if _answered(day):
        error = _date_error(day, f'"{key}" date')
        if error:
            errors.append(error)
    return errors


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _themes_errors(instrument: Instrument, answers: dict[str, Any]) -> list[str]:
    themes = {theme.id for theme in instrument.themes}
    errors: list[str] = []
    for key, value in answers.items():
        if key not in themes:
            errors.append(_unknown(instrument, key, _("a theme")))
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.append(
                _('"%(theme)s": the answer must be an object with "finding" and "evidence".') % {"theme": key}
            )
            continue
        for extra in sorted(set(value) - {"finding", "evidence"}):
            errors.append(_('"%(theme)s": unknown field "%(field)s".') % {"theme": key, "field": extra})
        finding = value.get("finding")
        if _answered(finding) and finding not in FINDINGS:
            errors.append(
                _('"%(theme)s": %(value)s is not a finding (%(choices)s).')
                % {"theme": key, "value": _show(finding), "choices": ", ".join(FINDINGS)}
            )
        evidence = value.get("evidence")
        if evidence is None:
            continue
        if not isinstance(evidence, list):
            errors.append(_('"%(theme)s": "evidence" must be a list.') % {"theme": key})
            continue
        if len(evidence) > MAX_EVIDENCE:
            errors.append(
                _('"%(theme)s": at most %(limit)s pieces of evidence.') % {"theme": key, "limit": MAX_EVIDENCE}
            )
        for index, entry in enumerate(evidence, start=1):
            errors.extend(_evidence_errors(entry, f'"{key}" evidence {index}'))
    return errors


def _evidence_errors(entry: object, where: str) -> list[str]:
    if not isinstance(entry, dict):
        return [_('%(where)s: must be an object with "text", "source" and "date".') % {"where": where}]
    errors = [
        _('%(where)s: unknown field "%(field)s".') % {"where": where, "field": extra}
        for extra in sorted(set(entry) - {"text", "source", "date"})
    ]
    for key, limit in (("text", MAX_TEXT), ("source", MAX_SOURCE)):
        value = entry.get(key)
        if not _answered(value) or (isinstance(value, str) and not value.strip()):
            errors.append(_('%(where)s: "%(field)s" is required.') % {"where": where, "field": key})
            continue
        error = _text_error(value, f'{where} "{key}"', limit)
        if error:
            errors.append(error)
    if not _answered(entry.get("date")):
        errors.append(_('%(where)s: "%(field)s" is required.') % {"where": where, "field": "date"})
    else:
        error = _date_error(entry["date"], f'{where} "date"')
        if error:
            errors.append(error)
    return errors


def _tree_errors(instrument: Instrument, answers: dict[str, Any]) -> list[str]:
    steps = {step.id: step for step in instrument.steps}
    errors: list[str] = []
    for key, answer in answers.items():
        step = steps.get(key)
        if step is None:
            errors.append(_unknown(instrument, key, _("a step")))
            continue
        errors.extend(_note_errors(answer, key))
        value = answer_value(answer)
        if not _answered(value):
            continue
        values = [option.value for option in step.options]
        if not isinstance(value, str) or value not in values:
            errors.append(
                _('"%(step)s": %(value)s is not one of the answers (%(choices)s).')
                % {"step": key, "value": _show(value), "choices": ", ".join(values)}
            )
    return errors


def load_answers(data: object, instrument: Instrument) -> dict[str, Any]:
    """The inner answers of an answers file ``{"instrument", "version", "answers"}``, checked against
    ``instrument`` (its id and version too); raises AnswersError with every problem found."""
    if not isinstance(data, dict):
        raise AnswersError([_('An answers file is a JSON object with "instrument", "version" and "answers".')])
    errors = [
        _('Unknown field "%(field)s" in the answers file.') % {"field": key}
        for key in data
        if key not in ANSWERS_FILE_KEYS
    ]
    errors += [
        _('The answers file has no "%(field)s".') % {"field": key} for key in ANSWERS_FILE_KEYS if key not in data
    ]
    if errors:
        raise AnswersError(errors)
    if data["instrument"] != instrument.id:
        raise AnswersError(
            [
                _('These answers are for "%(theirs)s", not "%(ours)s".')
                % {"theirs": data["instrument"], "ours": instrument.id}
            ]
        )
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise AnswersError([_('"version" must be a whole number.')])
    if version != instrument.version:
        raise AnswersError(
            [
                _('These answers are for version %(theirs)s of "%(instrument)s"; this is version %(ours)s.')
                % {"theirs": version, "instrument": instrument.id, "ours": instrument.version}
            ]
        )
    answers = data["answers"]
    errors = validate_answers(instrument, answers)
    if errors:
        raise AnswersError(errors)
    assert isinstance(answers, dict)
    return answers


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def evaluate(instrument: Instrument, answers: dict[str, Any]) -> Evaluation:
    """The suggested outcome of ``answers`` (the inner answers dict); AnswersError if they do not fit."""
    errors = validate_answers(instrument, answers)
    if errors:
        raise AnswersError(errors)
    if instrument.kind == "checklist":
        return _evaluate_checklist(instrument, answers)
    if instrument.kind == "themes":
        return _evaluate_themes(instrument, answers)
    return _evaluate_tree(instrument, answers)


def _result(
    instrument: Instrument,
    *,
    complete: bool,
    outcome: str | None,
    reasons: list[str],
    path: list[PathStep] | None = None,
    next_step: str | None = None,
    missing: list[str] | None = None,
) -> Evaluation:
    return Evaluation(
        instrument_id=instrument.id,
        version=instrument.version,
        complete=complete,
        outcome=outcome,
        outcome_label=str(instrument.outcome(outcome).label) if outcome else "",
        reasons=reasons,
        path=path or [],
        next_step=next_step,
        missing=missing or [],
    )


def _evaluate_checklist(instrument: Instrument, answers: dict[str, Any]) -> Evaluation:
    """Rules are read in order; the first that matches decides. While answers are missing, a matching
    rule decides only if no earlier rule with another outcome could still match."""
    given = {key: answer_value(value) for key, value in answers.items() if _answered(answer_value(value))}
    items: list[Item] = list(instrument.items())
    missing = [item.id for item in items if item.required and item.id not in given]
    complete = not missing

    def holds(item_id: str, values: tuple[str, ...]) -> bool:
        return given.get(item_id) in values

    def matches(rule: Rule) -> bool:
        results = [holds(cond.item, cond.answers) for cond in rule.conditions]
        return any(results) if rule.match == "any" else all(results)

    def could_match(rule: Rule) -> bool:
        results = [cond.item not in given or holds(cond.item, cond.answers) for cond in rule.conditions]
        return any(results) if rule.match == "any" else all(results)

    outcome: str | None = None
    pending: set[str] = set()  # outcomes of earlier rules that further answers could still trigger
    for rule in instrument.rules:
        if matches(rule):
            if complete or pending <= {rule.outcome}:
                outcome = rule.outcome
            break
        if not complete and could_match(rule):
            pending.add(rule.outcome)
    if outcome is None and complete:
        assert instrument.default_outcome is not None
        return _result(
            instrument, complete=True, outcome=instrument.default_outcome, reasons=[str(instrument.default_reason)]
        )
    reasons = [str(rule.reason) for rule in instrument.rules if outcome and rule.outcome == outcome and matches(rule)]
    return _result(instrument, complete=complete, outcome=outcome, reasons=reasons, missing=missing)


def _evaluate_themes(instrument: Instrument, answers: dict[str, Any]) -> Evaluation:
    """No score and no level: the themes with concern, the protective factors, and what is not yet known."""
    concerns: list[str] = []
    protective: list[str] = []
    gaps: list[str] = []
    missing: list[str] = []
    for theme in instrument.themes:
        entry = answers.get(theme.id) or {}
        finding = entry.get("finding") or NOT_YET_KNOWN
        evidence = entry.get("evidence") or []
        title = str(theme.title)
        if finding == NOT_YET_KNOWN:
            gaps.append(_("Not yet looked at: %(theme)s") % {"theme": title})
            missing.append(theme.id)
        elif not evidence:
            gaps.append(_("A finding without evidence: %(theme)s") % {"theme": title})
            missing.append(theme.id)
        elif theme.protective:
            if finding == NO_CONCERN:
                protective.append(_("Protective factor in place: %(theme)s") % {"theme": title})
            else:
                protective.append(_("Protective factor missing or weak: %(theme)s") % {"theme": title})
        elif finding == CONCERN:
            concerns.append(_("Concern: %(theme)s") % {"theme": title})
    outcome = INFORMATION_GAPS if missing else INFORMATION_COMPLETE
    return _result(
        instrument, complete=not missing, outcome=outcome, reasons=concerns + protective + gaps, missing=missing
    )


def _evaluate_tree(instrument: Instrument, answers: dict[str, Any]) -> Evaluation:
    """Follow the answered steps from the start. Answers to steps off the path are kept but not used."""
    assert instrument.start is not None
    path: list[PathStep] = []
    step_id = instrument.start
    for _count in range(len(instrument.steps)):  # the tree is acyclic: at most one visit per step
        step = instrument.step(step_id)
        value = answer_value(answers.get(step_id))
        if not _answered(value):
            return _result(
                instrument,
                complete=False,
                outcome=None,
                reasons=[entry.reason for entry in path],
                path=path,
                next_step=step_id,
                missing=[step_id],
            )
        option = step.option(str(value))
        path.append(
            PathStep(
                step=step.id,
                number=step.step,
                question=str(step.text),
                answer=option.value,
                answer_label=str(option.label),
                reason=str(option.reason),
                next=option.next,
                outcome=option.outcome,
            )
        )
        if option.outcome is not None:
            return _result(
                instrument, complete=True, outcome=option.outcome, reasons=[entry.reason for entry in path], path=path
            )
        assert option.next is not None
        step_id = option.next
    raise AssertionError(f"{instrument.id} v{instrument.version}: the tree has a loop")  # load_definition prevents it
