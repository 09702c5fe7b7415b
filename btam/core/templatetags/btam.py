from __future__ import annotations

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString

register = template.Library()

_CLASSES = {
    forms.CheckboxInput: "usa-checkbox__input",
    forms.RadioSelect: "usa-radio__input",
    forms.Select: "usa-select",
    forms.SelectMultiple: "usa-select",
    forms.Textarea: "usa-textarea",
    # The browser's own file picker, not USWDS's enhanced one: its script replaces the field's
    # accessible name with its own English text ("Drag files here or choose from folder"), so a
    # screen reader would not hear the question and a Spanish page would speak English.
    forms.ClearableFileInput: "btam-file-input",
    forms.FileInput: "btam-file-input",
}


@register.filter
def uswds(field: BoundField) -> SafeString:
    """Render a form field's widget with USWDS classes and its hint/error ids in aria-describedby."""
    widget = field.field.widget
    css = next((c for cls, c in _CLASSES.items() if isinstance(widget, cls)), "usa-input")
    if field.errors:
        css += " usa-input--error"
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_helptext")
    if field.errors:
        described.append(f"{field.auto_id}_errors")
    attrs: dict[str, str | bool] = {"class": css}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)
