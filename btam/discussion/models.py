"""A case's discussion: comments by the people working the case, threaded one level deep.

A comment is part of the case record: it is never edited or deleted (a follow-up reply corrects
it). Its body is case content, encrypted at rest. A comment is either a thread's first comment
(``parent`` empty) or a reply to one (``parent`` is always a first comment: a reply to a reply is
filed under the same thread, see :func:`btam.discussion.actions.do_post_comment`).

The people a comment mentions (``@handle``, see :mod:`btam.discussion.mentions`) are kept with it:
each could see the case when it was posted, and each was notified.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from btam.lib.encrypted import EncryptedTextField

if TYPE_CHECKING:
    from btam.accounts.models import User


class CommentQuerySet(models.QuerySet["Comment"]):
    def visible_to(self, user: User) -> CommentQuerySet:
        """Comments of the cases the user may see (the cases' access rules, nothing more)."""
        from btam.cases.models import Case

        return self.filter(case__in=Case.objects.visible_to(user))


class Comment(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="comments")
    district = models.ForeignKey("orgs.District", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The thread's first comment (replies are one level deep); a comment with replies is kept.
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="replies")
    body = EncryptedTextField(_("comment"))
    created_at = models.DateTimeField(db_index=True)
    mentioned = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="discussion_mentions")

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["case", "created_at", "pk"]
        indexes = [models.Index(fields=["case", "parent", "created_at"], name="comment_case_thread_idx")]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return f"Comment {self.pk} on case {self.case_id}"

    @property
    def anchor(self) -> str:
        """The element id of the comment on the discussion tab (and the fragment of links to it)."""
        return f"comment-{self.pk}"
