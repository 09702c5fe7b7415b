"""Forms of the public reporting pages: the report, the receipt code, a reply in the thread.

Plain words for a 14-year-old, in English and Spanish (every string is marked for translation).
Limits are the ones :mod:`btam.intake.actions` enforces, so a form error is shown before the
action would refuse; files are checked by :func:`btam.intake.attachments.prepare_upload`, and
each refused file is named in its own message.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.forms.boundfield import BoundField
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from btam.intake.actions import (
    MAX_ATTACHMENTS,
    MAX_MESSAGE_CHARS,
    MAX_NARRATIVE_CHARS,
    NamedPerson,
    NewReport,
)
from btam.intake.attachments import MAX_BYTES, AttachmentError, PreparedAttachment, prepare_upload
from btam.intake.models import Channel, HowKnown, InvolvedPerson, ReporterRole, YesNoUnknown
from btam.orgs.models import School

PEOPLE_ROWS = 3  # rows for people offered without JavaScript
SHORT_TEXT_CHARS = 500  # actions.MAX_SHORT_TEXT_CHARS
NAME_CHARS = 200
EMAIL_CHARS = 254
MAX_FILE_MB = MAX_BYTES // (1024 * 1024)
ACCEPTED_TYPES = "image/jpeg,image/png,image/gif,image/webp,application/pdf,.jpg,.jpeg,.png,.gif,.webp,.pdf"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
# A date outside these years is a typing mistake (and some would overflow date arithmetic).
_FIRST_YEAR, _LAST_YEAR = 2000, 2100

TOO_LONG = _("This is too long: at most %(limit_value)d characters (you wrote %(show_value)d). Shorten it.")


def _lazy_format(text: Any, **params: Any) -> Any:
    """``text % params``, translated when shown (a lazy string would be translated at import)."""
    return lazy(lambda: str(text) % params, str)()


def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


class TextField(forms.CharField):
    """A text answer: line breaks counted as one character, as the browser counts them."""

    def __init__(self, **kwargs: Any) -> None:
        messages = {"max_length": TOO_LONG, **kwargs.pop("error_messages", {})}
        kwargs.setdefault("required", False)
        super().__init__(error_messages=messages, **kwargs)

    def to_python(self, value: Any) -> str:
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        return str(super().to_python(value))

    def validate(self, value: Any) -> None:
        super().validate(value)
        # Bytes that were not UTF-8 arrive as U+FFFD: a browser never sends them; say so rather than
        # keep text that lost characters.
        if isinstance(value, str) and "\ufffd" in value:
            raise forms.ValidationError(
                _("Some characters of this text could not be read. Check it and send it again."), code="unreadable"
            )


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.Field):
    """Up to MAX_ATTACHMENTS files, each checked by prepare_upload; cleans to PreparedAttachments."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos, screenshots or PDF files (optional)"))
        kwargs.setdefault(
            "help_text",
            _lazy_format(
                _("Up to %(count)d files, %(size)d MB each: photos (JPEG, PNG, GIF, WebP) or PDF documents."),
                count=MAX_ATTACHMENTS,
                size=MAX_FILE_MB,
            ),
        )
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {
            **super().widget_attrs(widget),
            "multiple": True,
            "accept": ACCEPTED_TYPES,
            "data-max-files": MAX_ATTACHMENTS,
            "data-max-bytes": MAX_BYTES,
        }

    def clean(self, value: Any) -> list[PreparedAttachment]:
        files: list[UploadedFile] = [f for f in (value or []) if f is not None]
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(
                ngettext(
                    "You can attach up to %(max)d files. You chose %(count)d file: choose again.",
                    "You can attach up to %(max)d files. You chose %(count)d files: choose again.",
                    len(files),
                )
                % {"max": MAX_ATTACHMENTS, "count": len(files)},
                code="too_many_files",
            )
        prepared: list[PreparedAttachment] = []
        problems: list[forms.ValidationError] = []
        for uploaded in files:
            try:
                prepared.append(prepare_upload(uploaded))
            except AttachmentError as exc:
                problems.append(forms.ValidationError(str(exc), code="bad_file"))
        if problems:
            raise forms.ValidationError(problems)
        return prepared


def _radio(choices: Any, label: Any, **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=choices, widget=forms.RadioSelect, **kwargs)


class ReportForm(forms.Form):
    """The public report form. Every question except "what happened" and the two yes/no/don't-know
    questions may be left empty; the reporter stays anonymous unless they fill in who they are."""

    narrative = TextField(
        label=_("What happened?"),
        required=True,
        max_length=MAX_NARRATIVE_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Tell us in your own words: what was said or done, and by whom. Include what you saw online."),
        error_messages={"required": _("Tell us what happened.")},
    )
    location = TextField(
        label=_("Where did it happen? (optional)"),
        max_length=SHORT_TEXT_CHARS,
        help_text=_("For example: the cafeteria, the bus, a group chat, a game."),
    )
    occurred = TextField(
        label=_("When did it happen? (optional)"),
        max_length=SHORT_TEXT_CHARS,
        help_text=_("For example: this morning, last Friday after school."),
    )
    how_known = _radio(HowKnown.choices, _("How do you know about it? (optional)"), required=False)
    danger_now = forms.BooleanField(label=_("Someone is in danger right now."), required=False)
    weapon = _radio(
        YesNoUnknown.choices,
        _("Does it involve a weapon, or did someone talk about using one?"),
        error_messages={"required": _("Say if there is a weapon: yes, no or I don't know.")},
    )
    self_harm = _radio(
        YesNoUnknown.choices,
        _("Might someone hurt themselves?"),
        error_messages={"required": _("Say if someone might hurt themselves: yes, no or I don't know.")},
    )
    threat_date = forms.DateField(
        label=_("Did someone say they would do something on a certain day? Which day? (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave it empty if there is no date."),
        error_messages={"invalid": _("Enter a real date, for example 2025-05-14.")},
    )
    attachments = AttachmentsField()
    reporter_role = _radio(ReporterRole.choices, _("You are … (optional)"), required=False, initial=ReporterRole.UNSAID)
    reporter_name = TextField(label=_("Your name (optional)"), max_length=NAME_CHARS)
    reporter_contact = TextField(
        label=_("Your phone number or email (optional)"),
        max_length=NAME_CHARS,
        help_text=_("Only if you want the team to be able to contact you directly."),
    )
    notify_email = forms.EmailField(
        label=_("Email to be told when the team writes to you (optional)"),
        required=False,
        max_length=EMAIL_CHARS,
        help_text=_(
            "We only send a short note that there is a new message: it never says what the report is about. "
            "You read the message on this site with your receipt code. This email is kept secret from "
            "everyone except the school team."
        ),
        error_messages={
            "invalid": _("Enter an email address like name@example.com, or leave it empty."),
            "max_length": TOO_LONG,
        },
    )
    # A field people never see (hidden by CSS, out of the tab order, hidden from screen readers):
    # something that fills it in is most likely a bot. Its report is kept, marked as abuse.
    website = forms.CharField(label=_("Website"), required=False, strip=True)
    submission_token = forms.CharField(required=False, widget=forms.HiddenInput)

    # The rows of people (person_1_name ... person_3_description) follow these fields: they are
    # added to the class once, below it, as are the attributes of the private fields.

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("submission_token"):
            self.initial["submission_token"] = new_submission_token()

    # Rendering helpers -------------------------------------------------------------------------
    def people_rows(self) -> list[tuple[int, BoundField, BoundField, BoundField]]:
        return [
            (i, self[f"person_{i}_name"], self[f"person_{i}_role"], self[f"person_{i}_description"])
            for i in range(1, PEOPLE_ROWS + 1)
        ]

    # Cleaning ----------------------------------------------------------------------------------
    def clean_threat_date(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("threat_date")
        if value is not None and not _FIRST_YEAR <= value.year <= _LAST_YEAR:
            raise forms.ValidationError(_("Enter a real date, for example 2025-05-14."), code="invalid")
        return value

    def clean_submission_token(self) -> str:
        token = str(self.cleaned_data.get("submission_token") or "")
        # A token we did not make (a bot, a tampered form) is ignored: the report is still taken.
        return token if _TOKEN.match(token) else ""

    def clean_reporter_role(self) -> str:
        return str(self.cleaned_data.get("reporter_role") or ReporterRole.UNSAID)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for i in range(1, PEOPLE_ROWS + 1):
            if not cleaned.get(f"person_{i}_role"):
                cleaned[f"person_{i}_role"] = InvolvedPerson.Role.UNKNOWN
        return cleaned

    @property
    def honeypot_filled(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def new_report(self, school: School) -> NewReport:
        data = self.cleaned_data
        people = [
            NamedPerson(
                name=data[f"person_{i}_name"],
                role=data[f"person_{i}_role"],
                description=data[f"person_{i}_description"],
            )
            for i in range(1, PEOPLE_ROWS + 1)
            if data[f"person_{i}_name"].strip() or data[f"person_{i}_description"].strip()
        ]
        return NewReport(
            school=school,
            channel=Channel.WEB,
            narrative=data["narrative"],
            danger_now=bool(data["danger_now"]),
            weapon=data["weapon"],
            self_harm=data["self_harm"],
            threat_date=data["threat_date"],
            how_known=data["how_known"] or "",
            location=data["location"],
            occurred=data["occurred"],
            people=people,
            reporter_role=data["reporter_role"],
            reporter_name=data["reporter_name"],
            reporter_contact=data["reporter_contact"],
            notify_email=data["notify_email"],
            attachments=data["attachments"],
            submission_token=data["submission_token"],
            with_receipt=True,
            suspected_abuse=self.honeypot_filled,
        )


class HelpText:
    """A field's help text, translated when it is shown, and true without being translated: Django
    makes a bound field of every field each time a form is cleaned and asks whether it has help
    text (``field.help_text or ""``), which translated the 11 help texts of the report form on
    every report (a tenth of the form's cleaning)."""

    __slots__ = ("text",)

    def __init__(self, text: Any) -> None:
        self.text = text

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return str(self.text)


class SharedFields(dict[str, forms.Field]):
    """The ``base_fields`` of a form whose fields never change per form: each form gets the class's
    field objects rather than deep copies of them (their widgets, choices and messages), which took
    0.4 ms of every public report. Nothing may change ``form.fields[...]`` of such a form: rendering
    and cleaning only read fields (Django builds new attribute dicts for each widget it renders)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


def _complete_report_form(form: type[ReportForm]) -> None:
    """Add the rows of people after the declared fields, set the attributes of the private fields,
    once for the class, and share the fields between forms (:class:`SharedFields`)."""
    for i in range(1, PEOPLE_ROWS + 1):
        form.base_fields[f"person_{i}_name"] = TextField(label=_("Name"), max_length=NAME_CHARS)
        form.base_fields[f"person_{i}_role"] = forms.ChoiceField(
            label=_("Their part in this"),
            choices=InvolvedPerson.Role.choices,
            required=False,
            initial=InvolvedPerson.Role.UNKNOWN,
        )
        form.base_fields[f"person_{i}_description"] = TextField(
            label=_("Anything that helps us know who they are (optional)"),
            max_length=SHORT_TEXT_CHARS,
            help_text=_("For example: grade, class, a username online."),
        )
    honeypot = form.base_fields["website"].widget
    honeypot.attrs.update({"tabindex": "-1", "autocomplete": "off"})
    for name in ("reporter_name", "reporter_contact", "notify_email", "website"):
        form.base_fields[name].widget.attrs.setdefault("autocomplete", "off")
    form.base_fields["notify_email"].widget.attrs["spellcheck"] = "false"
    for field in form.base_fields.values():
        if field.help_text:
            field.help_text = HelpText(field.help_text)  # type: ignore[assignment]
    form.base_fields = SharedFields(form.base_fields)


_complete_report_form(ReportForm)


class CodeForm(forms.Form):
    """The receipt code, typed any way (case, spaces and dashes do not matter)."""

    # No max_length: any code that is not a receipt's gets the one generic answer, long or not.
    code = forms.CharField(
        label=_("Your receipt code"),
        help_text=_("16 letters and numbers, like 7KQ4-M2XD-9PTA-HW3E. Small letters and missing dashes are fine."),
        error_messages={"required": _("Enter the code from your receipt.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "maxlength": "40",
                "class": "btam-code-input",
            }
        )


class ReplyForm(forms.Form):
    """A reply of the reporter in the thread: text, files, or both."""

    body = TextField(
        label=_("Your message"),
        max_length=MAX_MESSAGE_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachments = AttachmentsField()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not (cleaned.get("body") or "").strip() and not cleaned.get("attachments"):
            self.add_error("body", forms.ValidationError(_("Write a message or attach a file."), code="required"))
        return cleaned


def error_summary(form: forms.Form) -> list[tuple[str, str]]:
    """(link target, message) for the error summary at the top of a page, in field order: the link
    moves focus to the field (the first option of a group of choices)."""
    items: list[tuple[str, str]] = [("", str(message)) for message in form.non_field_errors()]
    for name, field in form.fields.items():
        if name not in form.errors or name == "website":
            continue
        bound = form[name]
        target = f"{bound.auto_id}_0" if isinstance(field.widget, forms.RadioSelect) else str(bound.auto_id)
        items.extend((f"#{target}", str(message)) for message in form.errors[name])
    return items
