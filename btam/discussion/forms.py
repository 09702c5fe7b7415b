"""The discussion's one form: a comment, or a reply (``parent`` names the thread's comment)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from btam.discussion.actions import MAX_COMMENT_CHARS


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        max_length=MAX_COMMENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Write @ and a person's handle to mention them: they are told in their inbox. "
            "A comment is part of the case record: it cannot be edited or deleted, so correct it with a reply."
        ),
        error_messages={"required": _("Write the comment before posting it.")},
    )
    parent = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, reply: bool = False, suggest_url: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if reply:
            self.fields["body"].label = _("Reply")
            self.fields["body"].error_messages["required"] = _("Write the reply before posting it.")
        if suggest_url:
            # While typing "@mar", the people whose handle or name starts so are listed under the
            # field (a POST: the text never goes in a URL).
            self.fields["body"].widget.attrs.update(
                {
                    "hx-post": suggest_url,
                    "hx-trigger": "keyup changed delay:400ms",
                    "hx-target": f"#{self.suggestions_id}",
                    "hx-swap": "innerHTML",
                    "hx-include": "closest form",
                }
            )

    @property
    def suggestions_id(self) -> str:
        return f"{self.prefix or 'comment'}-suggestions"

    def parent_id(self) -> int | None:
        """The comment replied to (None: a new thread; 0: a value that is not a comment's id)."""
        raw = str(self.data.get(self.add_prefix("parent"), "") or "").strip()
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) < 12 else 0
