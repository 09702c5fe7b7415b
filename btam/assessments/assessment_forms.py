"""Forms of the assessment pages.

:class:`AnswersForm` is built from the definition of the instrument version the assessment uses
(never the latest one): checklist sections of items, NTAC themes with a finding and evidence entries
``{text, source, date}``, decision-tree steps as radio groups. It reads a POST into the engine's
answers format (docs/assessments.md) for the items posted only (a partial save merges those), with a
message per field; it renders the same values again after a refused save, so nothing typed is lost.

Each checklist item and tree step also has an optional evidence note (note, source, date), stored
as ``{"value": ..., "note": ..., "source": ..., "date": ...}`` (a plain value when there is none); a
save that does not post an item's note fields keeps the note saved.

Field names: ``item-<id>`` (checklist), ``step-<id>`` (decision tree), ``theme-<id>-finding``,
``theme-<id>-rows`` and ``theme-<id>-<n>-text|source|date`` (themes), ``note-item-<id>``,
``source-item-<id>``, ``date-item-<id>`` (an item's note; ``...-step-<id>`` for a step: the part
first, as ids may contain hyphens); ``revision`` and ``version`` are hidden. A posted name of that
shape that is not part of the version is refused, not ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from btam.assessments import engine
from btam.assessments.decision_actions import MAX_DISSENT_CHARS, MAX_RATIONALE_CHARS, MAX_REASON_CHARS
from btam.assessments.definitions import DATE, TEXT, Instrument, Item, Step, Theme
from btam.lib import clock

NOT_ANSWERED = ""
# Empty evidence rows offered under a theme's entries (more after each save).
BLANK_EVIDENCE_ROWS = 1
_NAME = re.compile(r"^(item|step|theme)-(.+?)(?:-(finding|rows|\d+-(?:text|source|date)))?$")
_NOTE_NAME = re.compile(r"^(?:note|source|date)-(item|step)-(.+)$")
NOTE_PARTS = ("note", "source", "date")


@dataclass
class ChoiceField:
    """A radio group (yes/no/unknown, a choice, a finding, a step): value "" is "not answered yet"."""

    name: str
    label: str
    help: str
    choices: list[tuple[str, str]]
    value: str = NOT_ANSWERED
    error: str = ""

    @property
    def id(self) -> str:
        return "f-" + self.name

    @property
    def value_label(self) -> str:
        return dict(self.choices).get(self.value, "")


@dataclass
class InputField:
    """A text area or a date input."""

    name: str
    label: str
    help: str
    kind: str  # "text", "line" (one line) or "date"
    value: str = ""
    error: str = ""
    max_length: int = 0  # the browser's limit too (0: the template's default)

    @property
    def id(self) -> str:
        return "f-" + self.name


@dataclass
class NoteFields:
    """The optional evidence note of a checklist item or a tree step (collapsed under it)."""

    legend: str
    note: InputField
    source: InputField
    date: InputField

    @property
    def id(self) -> str:
        return self.note.id + "-group"

    @property
    def parts(self) -> tuple[InputField, InputField, InputField]:
        return (self.note, self.source, self.date)

    @property
    def names(self) -> tuple[str, str, str]:
        return (self.note.name, self.source.name, self.date.name)

    @property
    def given(self) -> bool:
        return any(part.value for part in self.parts)

    @property
    def error(self) -> str:
        return " ".join(part.error for part in self.parts if part.error)

    def as_answer(self) -> dict[str, str]:
        return {key: part.value for key, part in zip(NOTE_PARTS, self.parts, strict=True) if part.value}


@dataclass
class ItemBlock:
    item: Item
    field: ChoiceField | InputField
    evidence: NoteFields


@dataclass
class SectionBlock:
    title: str
    help: str
    items: list[ItemBlock]


@dataclass
class EvidenceRow:
    index: int
    text: InputField
    source: InputField
    date: InputField

    @property
    def error(self) -> str:
        return " ".join(e for e in (self.text.error, self.source.error, self.date.error) if e)


@dataclass
class ThemeBlock:
    theme: Theme
    finding: ChoiceField
    rows: list[EvidenceRow]
    rows_name: str
    saved_entries: int = 0
    error: str = ""

    @property
    def id(self) -> str:
        return "theme-" + self.theme.id

    @property
    def entries(self) -> list[EvidenceRow]:
        """The rows holding evidence (not the empty ones offered for more)."""
        return [row for row in self.rows if row.text.value or row.source.value or row.date.value]


@dataclass
class StepBlock:
    step: Step
    field: ChoiceField
    evidence: NoteFields
    on_path: bool = False
    is_next: bool = False


@dataclass
class AnswersForm:
    """The answers of one assessment as a form (bound to a POST, or showing ``answers``)."""

    instrument: Instrument
    answers: Mapping[str, Any]
    data: QueryDict | None = None
    revision: int = 0
    errors: list[str] = field(default_factory=list)
    cleaned: dict[str, Any] = field(default_factory=dict)
    posted_version: int | None = None
    posted_revision: int | None = None
    sections: list[SectionBlock] = field(default_factory=list)
    themes: list[ThemeBlock] = field(default_factory=list)
    steps: list[StepBlock] = field(default_factory=list)

    def __post_init__(self) -> None:
        values: Mapping[str, Any] = self.answers
        if self.instrument.kind == "checklist":
            self.sections = [
                SectionBlock(
                    title=str(section.title),
                    help=str(section.help),
                    items=[
                        ItemBlock(
                            item=item,
                            field=self._item_field(item, engine.answer_value(values.get(item.id))),
                            evidence=_note_fields("item", item.id, str(item.text), values.get(item.id)),
                        )
                        for item in section.items
                    ],
                )
                for section in self.instrument.sections
            ]
        elif self.instrument.kind == "themes":
            self.themes = [self._theme_block(theme, values.get(theme.id)) for theme in self.instrument.themes]
        else:
            self.steps = [
                StepBlock(
                    step=step,
                    field=self._step_field(step, engine.answer_value(values.get(step.id))),
                    evidence=_note_fields(
                        "step", step.id, _("Step %(number)d") % {"number": step.step}, values.get(step.id)
                    ),
                )
                for step in self.instrument.steps
            ]
        if self.data is not None:
            self._read(self.data)

    # Building ----------------------------------------------------------------------------------

    @staticmethod
    def _item_field(item: Item, value: Any) -> ChoiceField | InputField:
        name = f"item-{item.id}"
        if item.answer in (TEXT, DATE):
            return InputField(
                name=name,
                label=str(item.text),
                help=str(item.help),
                kind="date" if item.answer == DATE else "text",
                value=str(value or ""),
            )
        return ChoiceField(
            name=name,
            label=str(item.text),
            help=str(item.help),
            choices=item.choices(),
            value=str(value or ""),
        )

    @staticmethod
    def _step_field(step: Step, value: Any) -> ChoiceField:
        return ChoiceField(
            name=f"step-{step.id}",
            label=str(step.text),
            help=str(step.help),
            choices=[(option.value, str(option.label)) for option in step.options],
            value=str(value or ""),
        )

    @staticmethod
    def _evidence_row(theme: Theme, index: int, entry: Mapping[str, Any]) -> EvidenceRow:
        prefix = f"theme-{theme.id}-{index}"
        return EvidenceRow(
            index=index,
            text=InputField(
                name=f"{prefix}-text",
                label=_("What was found"),
                help="",
                kind="text",
                value=str(entry.get("text") or ""),
            ),
            source=InputField(
                name=f"{prefix}-source",
                label=_("Source"),
                help=_("Who or what it comes from: an interview, a record, an observation."),
                kind="line",
                value=str(entry.get("source") or ""),
            ),
            date=InputField(
                name=f"{prefix}-date", label=_("Date"), help="", kind="date", value=str(entry.get("date") or "")
            ),
        )

    def _theme_block(self, theme: Theme, value: Any) -> ThemeBlock:
        entry = value if isinstance(value, Mapping) else {}
        evidence = [e for e in entry.get("evidence") or [] if isinstance(e, Mapping)]
        rows = [self._evidence_row(theme, index, e) for index, e in enumerate(evidence)]
        rows += [self._evidence_row(theme, len(rows) + n, {}) for n in range(BLANK_EVIDENCE_ROWS)]
        return ThemeBlock(
            theme=theme,
            finding=ChoiceField(
                name=f"theme-{theme.id}-finding",
                label=_("Finding"),
                help="",
                choices=theme.finding_choices(),
                value=str(entry.get("finding") or ""),
            ),
            rows=rows,
            rows_name=f"theme-{theme.id}-rows",
            saved_entries=len(evidence),
        )

    # Reading a POST ----------------------------------------------------------------------------

    def _read(self, data: QueryDict) -> None:
        self.posted_version = _int_or_none(data.get("version"))
        self.posted_revision = _int_or_none(data.get("revision"))
        if self.posted_revision is None:
            self.errors.append(_("The form is incomplete (its revision is missing): reload the page."))
        if data.get("version") and self.posted_version is None:
            self.errors.append(_("The form's instrument version could not be read: reload the page."))
        self._refuse_unknown_names(data)
        if self.instrument.kind == "checklist":
            for section in self.sections:
                for block in section.items:
                    self._read_item(block, data)
        elif self.instrument.kind == "themes":
            for theme in self.themes:
                self._read_theme(theme, data)
        else:
            for step in self.steps:
                self._read_answer(step.step.id, step.field, step.evidence, data)
        self._check_with_engine()

    def _refuse_unknown_names(self, data: QueryDict) -> None:
        """A posted answer name (``item-``, ``step-``, ``theme-``) of no item of this version."""
        kind = self.instrument.kind
        items = {b.item.id for s in self.sections for b in s.items}
        steps = {b.step.id for b in self.steps}
        themes = {t.theme.id for t in self.themes}
        unknown = []
        for name in data:
            note = _NOTE_NAME.match(name)
            if note is not None:
                prefix, ident = note.groups()
                if not ((prefix == "item" and ident in items) or (prefix == "step" and ident in steps)):
                    unknown.append(name)
                continue
            match = _NAME.match(name)
            if match is None:
                continue
            prefix, ident, suffix = match.groups()
            if prefix == "item" and kind == "checklist" and f"{ident}-{suffix}" in items:
                continue  # an item id that happens to end like a theme's field
            known = (
                (prefix == "item" and kind == "checklist" and suffix is None and ident in items)
                or (prefix == "step" and kind == "decision_tree" and suffix is None and ident in steps)
                or (prefix == "theme" and kind == "themes" and suffix is not None and ident in themes)
            )
            if not known:
                unknown.append(name.split("-", 1)[1])
        if unknown:
            self.errors.append(
                _("These answers are not part of version %(version)d of “%(title)s”: %(items)s.")
                % {
                    "version": self.instrument.version,
                    "title": self.instrument.title,
                    "items": ", ".join(sorted(unknown)),
                }
            )

    def _read_item(self, block: ItemBlock, data: QueryDict) -> None:
        self._read_answer(block.item.id, block.field, block.evidence, data)

    def _read_answer(self, key: str, f: ChoiceField | InputField, evidence: NoteFields, data: QueryDict) -> None:
        """An item's or a step's answer and its note, if posted (a partial save posts some items only).
        The note's fields not posted at all keep the saved note; posted empty, they clear it."""
        posted_note = any(name in data for name in evidence.names)
        if f.name not in data and not posted_note:
            return
        if f.name in data:
            f.value = data.get(f.name, "").strip()
        if isinstance(f, InputField) and f.kind == "date" and f.value:
            f.error = _date_error(f.value) or ""
        if posted_note:
            for part in evidence.parts:
                part.value = data.get(part.name, "").strip()
            _check_note(evidence)
        if f.error or evidence.error:
            return
        note = evidence.as_answer()
        self.cleaned[key] = {"value": f.value or None, **note} if note else (f.value or None)

    def _read_theme(self, block: ThemeBlock, data: QueryDict) -> None:
        if block.rows_name not in data and block.finding.name not in data:
            return
        block.finding.value = data.get(block.finding.name, "").strip()
        count = _int_or_none(data.get(block.rows_name))
        if count is None or not 0 <= count <= engine.MAX_EVIDENCE + BLANK_EVIDENCE_ROWS:
            block.error = _("The evidence rows of this theme could not be read: reload the page.")
            return
        rows: list[EvidenceRow] = []
        evidence: list[dict[str, str]] = []
        for index in range(count):
            row = self._evidence_row(block.theme, index, {})
            for part in (row.text, row.source, row.date):
                part.value = data.get(part.name, "").strip()
            rows.append(row)
            if not (row.text.value or row.source.value or row.date.value):
                continue  # an empty row: nothing to keep (clearing a row removes the entry)
            if not row.text.value:
                row.text.error = _("Write what was found.")
            if not row.source.value:
                row.source.error = _("Say where it comes from.")
            if not row.date.value:
                row.date.error = _("Give the date (YYYY-MM-DD).")
            else:
                row.date.error = _date_error(row.date.value) or ""
            if not row.error:
                evidence.append({"text": row.text.value, "source": row.source.value, "date": row.date.value})
        kept = len([r for r in rows if r.text.value or r.source.value or r.date.value])
        rows += [self._evidence_row(block.theme, len(rows) + n, {}) for n in range(BLANK_EVIDENCE_ROWS)]
        block.rows = rows
        block.saved_entries = kept
        if any(row.error for row in rows):
            block.error = _("Complete or clear the evidence marked below.")
            return
        if block.finding.value or evidence:
            self.cleaned[block.theme.id] = {"finding": block.finding.value or None, "evidence": evidence}
            if not block.finding.value:
                del self.cleaned[block.theme.id]["finding"]
        else:
            self.cleaned[block.theme.id] = None

    def _check_with_engine(self) -> None:
        given = {key: value for key, value in self.cleaned.items() if value is not None}
        for message in engine.validate_answers(self.instrument, given):
            self.errors.append(str(message))

    def field_errors(self) -> list[str]:
        messages: list[str] = []
        for section in self.sections:
            messages += [f"{block.field.label}: {block.field.error}" for block in section.items if block.field.error]
            messages += [
                f"{block.evidence.legend}: {block.evidence.error}" for block in section.items if block.evidence.error
            ]
        messages += [f"{block.evidence.legend}: {block.evidence.error}" for block in self.steps if block.evidence.error]
        for theme in self.themes:
            if theme.error:
                messages.append(f"{theme.theme.title}: {theme.error}")
        return messages

    def is_valid(self) -> bool:
        return self.data is not None and not self.errors and not self.field_errors()

    @property
    def all_errors(self) -> list[str]:
        return [*self.errors, *self.field_errors()]

    def mark_path(self, path_steps: list[str], next_step: str | None) -> None:
        """Order the decision tree's steps: the path taken (in order), the next step, then the others."""
        on_path = set(path_steps)
        order = {step_id: index for index, step_id in enumerate(path_steps)}
        for block in self.steps:
            block.on_path = block.step.id in on_path
            block.is_next = block.step.id == next_step
        self.steps.sort(
            key=lambda b: (0, order[b.step.id]) if b.on_path else ((1, 0) if b.is_next else (2, b.step.step))
        )

    @property
    def path_blocks(self) -> list[StepBlock]:
        return [b for b in self.steps if b.on_path or b.is_next]

    @property
    def other_blocks(self) -> list[StepBlock]:
        return [b for b in self.steps if not (b.on_path or b.is_next)]

    def differences(self, saved: Mapping[str, Any]) -> list[str]:
        """The items posted whose value differs from what is saved now (after a refused stale save)."""
        titles = {b.item.id: b.field.label for s in self.sections for b in s.items}
        titles.update({t.theme.id: str(t.theme.title) for t in self.themes})
        titles.update({b.step.id: f"{_('Step')} {b.step.step}" for b in self.steps})
        return [titles.get(key, key) for key, value in self.cleaned.items() if (saved.get(key) or None) != value]


def _note_fields(prefix: str, ident: str, title: str, answer: Any) -> NoteFields:
    """The note fields of an item (``prefix`` "item") or a step ("step"), showing the saved note."""
    saved = engine.answer_note(answer)
    return NoteFields(
        legend=_("Evidence: %(title)s") % {"title": title},
        note=InputField(
            name=f"note-{prefix}-{ident}",
            label=_("Note"),
            help=_("What supports this answer (at most %(limit)s characters).") % {"limit": f"{engine.MAX_NOTE:,}"},
            kind="text",
            value=saved.get("note", ""),
            max_length=engine.MAX_NOTE,
        ),
        source=InputField(
            name=f"source-{prefix}-{ident}",
            label=_("Source"),
            help=_("Who or what it comes from: an interview, a record, an observation."),
            kind="line",
            value=saved.get("source", ""),
            max_length=engine.MAX_NOTE_SOURCE,
        ),
        date=InputField(
            name=f"date-{prefix}-{ident}", label=_("Date"), help="", kind="date", value=saved.get("date", "")
        ),
    )


def _check_note(evidence: NoteFields) -> None:
    """Field messages for a note too long, a source too long, a bad or future date."""
    for part, limit in ((evidence.note, engine.MAX_NOTE), (evidence.source, engine.MAX_NOTE_SOURCE)):
        if len(part.value) > limit:
            part.error = _("At most %(limit)s characters (this is %(length)s).") % {
                "limit": f"{limit:,}",
                "length": f"{len(part.value):,}",
            }
    if evidence.date.value:
        evidence.date.error = _date_error(evidence.date.value) or ""


def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _date_error(value: str) -> str | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return _("“%(value)s” is not a date: write it as YYYY-MM-DD.") % {"value": value}
    if len(value) != 10:
        return _("“%(value)s” is not a date: write it as YYYY-MM-DD.") % {"value": value}
    if day > timezone.localdate(clock.now()):
        return _("The date cannot be in the future.")
    return None


# The other forms ---------------------------------------------------------------------------------


class StartForm(forms.Form):
    instrument = forms.CharField(
        label=gettext_lazy("Instrument"),
        max_length=60,
        error_messages={"required": gettext_lazy("Choose an instrument.")},
    )
    previous = forms.IntegerField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class DecisionForm(forms.Form):
    level = forms.CharField(
        label=gettext_lazy("Level"), max_length=40, error_messages={"required": gettext_lazy("Choose a level.")}
    )
    rationale = forms.CharField(
        label=gettext_lazy("Rationale"),
        max_length=MAX_RATIONALE_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Why the team decided this level: the facts and the reasoning. Required."),
        error_messages={"required": gettext_lazy("Write the rationale of the decision.")},
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Reason for differing from the suggestion"),
        max_length=MAX_REASON_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when the level is not the suggested one, or when there is no suggestion yet."),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for declining"),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The member who recorded the decision reads it. The assessment returns to in progress."),
        error_messages={"required": gettext_lazy("Write the reason for declining.")},
    )


class DissentForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your dissent"),
        max_length=MAX_DISSENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("What you disagree with and why. It is kept with the decision, under your name."),
        error_messages={"required": gettext_lazy("Write what you disagree with.")},
    )
