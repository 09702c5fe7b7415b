"""Forms of the tasks tab: a new task and a task's edit (the status moves are buttons)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.accounts.models import User
from btam.cases.forms import UserChoiceField
from btam.cases.note_forms import DateInput
from btam.cases.task_actions import MAX_TASK_TITLE_CHARS


class TaskForm(forms.Form):
    title = forms.CharField(
        label=_("Task"),
        max_length=MAX_TASK_TITLE_CHARS,
        help_text=_("What needs doing (the assignee's notification shows the case number only)."),
    )
    assignee = UserChoiceField(
        queryset=User.objects.none(),
        label=_("Assigned to"),
        required=False,
        empty_label=_("Nobody yet"),
        error_messages={"invalid_choice": _("Choose someone on the team working this case.")},
    )
    due_on = forms.DateField(
        label=_("Due"),
        required=False,
        widget=DateInput,
        error_messages={"invalid": _("Enter a real date, for example 2026-03-14.")},
        help_text=_("Optional. An open task past this day shows as overdue."),
    )

    def __init__(self, *args: Any, assignees: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(pk__in=[u.pk for u in assignees])  # type: ignore[attr-defined]
