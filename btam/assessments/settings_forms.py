"""Forms of a district's assessment settings: the scheme, instruments, intervals and rules; a
definition file's upload; an intervention kind of the district's own.

The settings form is built for one scheme (``form_scheme``, a hidden field): one interval field per
level and one rule choice per level and intervention kind. When the posted scheme is not the one the
form showed (the scheme was changed without JavaScript), the posted intervals and rules are about
the other scheme's levels and are not used: the new scheme starts from its own defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from btam.assessments import definitions, levels
from btam.assessments.models import AssessmentSettings
from btam.assessments.plan import Kind
from btam.assessments.settings_actions import (
    MAX_DAYS,
    MAX_KIND_DESCRIPTION_CHARS,
    MAX_KIND_LABEL_CHARS,
    MIN_DAYS,
    REQUIRED,
    SUGGESTED,
)

RULE_CHOICES = [("", _("Not in the rules")), (SUGGESTED, _("Suggested")), (REQUIRED, _("Required"))]


def days_field_name(level_id: str) -> str:
    return f"days.{level_id}"


def rule_field_name(level_id: str, code: str) -> str:
    return f"rule.{level_id}.{code}"


@dataclass
class RuleRow:
    """One intervention kind's row of the rules table: its choice at each level."""

    kind: Kind
    cells: list[tuple[definitions.Level, forms.BoundField]]


class SettingsForm(forms.Form):
    level_scheme = forms.ChoiceField(
        label=_("Level scheme"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a level scheme."),
            "invalid_choice": _("Choose one of the level schemes in the list."),
        },
    )
    form_scheme = forms.CharField(widget=forms.HiddenInput, required=False)
    instruments = forms.MultipleChoiceField(
        label=_("Instruments offered to your teams"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one instrument for your teams."),
            "invalid_choice": _("Choose instruments from the list."),
        },
    )

    def __init__(
        self,
        *args: Any,
        registry: definitions.Registry,
        scheme: definitions.LevelScheme,
        kinds: Sequence[Kind],
        current: AssessmentSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.registry = registry
        self.scheme = scheme
        self.kinds = list(kinds)
        schemes = [(s.id, str(s.title)) for s in registry.schemes()]
        instruments = [(i.id, str(i.title)) for i in registry.instruments()]
        self.fields["level_scheme"].choices = schemes  # type: ignore[attr-defined]
        self.fields["instruments"].choices = instruments  # type: ignore[attr-defined]
        self.initial.setdefault("form_scheme", scheme.id)
        same_scheme = current.level_scheme == scheme.id
        days = levels.day_overrides(current, scheme.id) if same_scheme else {}
        overrides = levels.rule_overrides(current, scheme.id) if same_scheme else {}
        for level in scheme.levels:
            name = days_field_name(level.id)
            self.fields[name] = forms.IntegerField(
                label=_("Reassess at %(level)s after (days)") % {"level": level.label},
                required=False,
                min_value=MIN_DAYS,
                max_value=MAX_DAYS,
                help_text=ngettext(
                    "Blank: the scheme’s %(days)d day.", "Blank: the scheme’s %(days)d days.", level.reassess_days
                )
                % {"days": level.reassess_days},
                error_messages={
                    "invalid": _("Enter a whole number of days, or leave it blank."),
                    "min_value": _("At least %(limit_value)s day."),
                    "max_value": _("At most %(limit_value)s days."),
                },
                widget=forms.NumberInput(attrs={"placeholder": str(level.reassess_days), "inputmode": "numeric"}),
            )
            if isinstance(days.get(level.id), int):
                self.initial.setdefault(name, days[level.id])
            rule = overrides.get(level.id)
            required = rule.get(REQUIRED, ()) if isinstance(rule, dict) else level.required
            suggested = rule.get(SUGGESTED, ()) if isinstance(rule, dict) else level.suggested
            for kind in self.kinds:
                field = rule_field_name(level.id, kind.code)
                self.fields[field] = forms.ChoiceField(
                    label=_("%(kind)s at %(level)s") % {"kind": kind.label, "level": level.label},
                    choices=RULE_CHOICES,
                    required=False,
                    error_messages={"invalid_choice": _("Choose required, suggested or neither.")},
                )
                self.initial.setdefault(
                    field, REQUIRED if kind.code in required else SUGGESTED if kind.code in suggested else ""
                )

    # What the template shows --------------------------------------------------------------------

    def scheme_options(self) -> list[tuple[definitions.LevelScheme, bool]]:
        chosen = self["level_scheme"].value() or self.scheme.id
        return [(s, s.id == chosen) for s in self.registry.schemes()]

    def instrument_options(self) -> list[tuple[definitions.Instrument, bool]]:
        chosen = set(self["instruments"].value() or [])
        return [(i, i.id in chosen) for i in self.registry.instruments()]

    def level_rows(self) -> list[tuple[definitions.Level, forms.BoundField]]:
        return [(level, self[days_field_name(level.id)]) for level in self.scheme.levels]

    def rule_rows(self) -> list[RuleRow]:
        return [
            RuleRow(
                kind=kind, cells=[(level, self[rule_field_name(level.id, kind.code)]) for level in self.scheme.levels]
            )
            for kind in self.kinds
        ]

    # What the action gets -----------------------------------------------------------------------

    def levels_posted(self) -> bool:
        """Whether the posted intervals and rules are about the chosen scheme's levels."""
        return self.cleaned_data.get("form_scheme") == self.cleaned_data.get("level_scheme") == self.scheme.id

    def reassess_days(self) -> dict[str, int | None]:
        if not self.levels_posted():
            return {}
        return {level.id: self.cleaned_data.get(days_field_name(level.id)) for level in self.scheme.levels}

    def intervention_rules(self) -> dict[str, dict[str, list[str]]]:
        if not self.levels_posted():
            return {}
        rules: dict[str, dict[str, list[str]]] = {}
        for level in self.scheme.levels:
            rule: dict[str, list[str]] = {REQUIRED: [], SUGGESTED: []}
            for kind in self.kinds:
                choice = self.cleaned_data.get(rule_field_name(level.id, kind.code)) or ""
                if choice in rule:
                    rule[choice].append(kind.code)
            rules[level.id] = rule
        return rules


class DefinitionUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Definition file (JSON)"),
        allow_empty_file=True,  # an empty file gets the action's message, naming it
        help_text=_("Name it ID.vVERSION.json, for example my-checklist.v1.json. At most 256 KB, UTF-8."),
        error_messages={"required": _("Choose a file to upload.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )


class KindForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=60,
        help_text=_("Lowercase letters, digits and hyphens, for example “peer-mentoring”. It never changes."),
        error_messages={"required": _("Enter a code."), "max_length": _("At most %(limit_value)d characters.")},
    )
    label = forms.CharField(
        label=_("Name"),
        max_length=MAX_KIND_LABEL_CHARS,
        error_messages={"required": _("Enter a name."), "max_length": _("At most %(limit_value)d characters.")},
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=MAX_KIND_DESCRIPTION_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or two lines: what the intervention is. No student information."),
        error_messages={"max_length": _("At most %(limit_value)d characters.")},
    )


class KindEditForm(KindForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["code"]
