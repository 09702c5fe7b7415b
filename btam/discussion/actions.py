"""Changes to a case's discussion: posting a comment (or a reply), and reading one's discussion
notifications.

A comment is part of the case record: never edited, never deleted (a follow-up reply corrects it).
Posting takes the case's write access (:func:`btam.cases.actions.lock_case`) and an editable case
(a closed or merged case is a record, as for notes). Mentions are read on the server
(:mod:`btam.discussion.mentions`): one that cannot be honoured refuses the whole comment, with a
message naming the handle, so nobody is told of a comment that was not posted.

Each mentioned person gets an inbox item (and an email, through the outbox, that says only that
they were mentioned in case 2026-0042's discussion); a reply tells the author of the comment
replied to, unless they were mentioned already, wrote the reply or no longer see the case (a
follow-up never goes to someone who lost access). Audit events hold ids, never the text.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError, audit, clean_text, ensure_editable, lock_case
from btam.cases.models import Case
from btam.discussion import mentions
from btam.discussion.models import Comment
from btam.lib import clock
from btam.notifications.delivery import in_site_language, notify
from btam.notifications.models import Notification

if TYPE_CHECKING:
    from btam.accounts.models import User

MAX_COMMENT_CHARS = 10_000
# The inbox items that opening a case's discussion marks read.
DISCUSSION_KINDS = (Notification.Kind.MENTIONED, Notification.Kind.DISCUSSION_REPLY)


class CommentError(CaseError):
    """A comment that cannot be posted; ``problems`` lists each reason for the user."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def discussion_path(case: Case, comment: Comment | None = None) -> str:
    path = reverse("discussion:case", args=[case.pk])
    return f"{path}#{comment.anchor}" if comment is not None else path


def _clean_body(body: str) -> str:
    try:
        return clean_text(body, label=_("The comment"), max_chars=MAX_COMMENT_CHARS, required=True)
    except CaseError as exc:
        raise CommentError([str(exc)]) from exc


def _replied_to(case: Case, parent: Comment | int | None) -> Comment | None:
    """The comment replied to, as it is now; refused unless it is in this case's discussion (a
    comment of another case gets the same answer as one that does not exist)."""
    if parent is None:
        return None
    pk = parent if isinstance(parent, int) else parent.pk
    found = Comment.objects.filter(pk=pk, case_id=case.pk).select_related("author").first()
    if found is None:
        raise CommentError([_("The comment you are replying to is not in this case's discussion. Nothing was posted.")])
    return found


def sees_case(case: Case, user: User) -> bool:
    """The access module's own answer (``Case.objects.visible_to``) for one person."""
    return Case.objects.visible_to(user).filter(pk=case.pk).exists()


def _check_sees_case(case: Case, users: list[User]) -> list[str]:
    """The access module's own answer, person by person (mentions.mentionable_users mirrors it)."""
    problems = []
    for user in users:
        if not sees_case(case, user):
            handle = mentions.local_part(user)
            problems.append(
                _(
                    "@%(handle)s cannot see this case; they were not mentioned. "
                    "Remove the mention or give them access first."
                )
                % {"handle": handle}
            )
    return problems


def _touch_forward(case: Case, at: dt.datetime) -> None:
    """Record activity on the case; a comment dated in the past (the demo) never moves it back."""
    Case.objects.filter(pk=case.pk, updated_at__lt=at).update(updated_at=at)
    if case.updated_at < at:
        case.updated_at = at


@in_site_language
def _notify(*, case: Case, comment: Comment, mentioned: list[User], replied_to: Comment | None) -> None:
    link = discussion_path(case, comment)
    if mentioned:
        notify(
            recipients=mentioned,
            district_id=case.district_id,
            kind=Notification.Kind.MENTIONED,
            title=_("You were mentioned in the discussion of case %(number)s") % {"number": case.number},
            link=link,
            target=case,
            urgent=False,
            dedupe_scope=f"comment:{comment.pk}:mention",
            email=True,
        )
    if replied_to is not None:
        author = replied_to.author
        if (
            author.pk != comment.author_id
            and author.pk not in {u.pk for u in mentioned}
            and sees_case(case, author)  # the author may have lost access since (left the school, ...)
        ):
            notify(
                recipients=[author],
                district_id=case.district_id,
                kind=Notification.Kind.DISCUSSION_REPLY,
                title=_("New reply to your comment in the discussion of case %(number)s") % {"number": case.number},
                link=link,
                target=case,
                urgent=False,
                dedupe_scope=f"comment:{comment.pk}:reply",
                email=True,
            )


def do_post_comment(*, actor: User, case: Case, body: str, parent: Comment | int | None = None) -> Comment:
    """Post a comment on the case's discussion, or a reply to one of its comments (a reply to a
    reply joins the same thread). Notifies the people mentioned and the author replied to."""
    body = _clean_body(body)
    with transaction.atomic():
        case = lock_case(case, actor)
        ensure_editable(case)
        replied_to = _replied_to(case, parent)
        resolved = mentions.resolve(case, body)
        problems = resolved.errors or _check_sees_case(case, resolved.users)
        if problems:
            raise CommentError(problems)
        thread = replied_to.parent_id if replied_to is not None and replied_to.parent_id else None
        at = clock.now()
        comment = Comment.objects.create(
            case=case,
            district_id=case.district_id,
            author=actor,
            parent_id=thread or (replied_to.pk if replied_to is not None else None),
            body=body,
            created_at=at,
        )
        mentioned = list(resolved.users)
        if mentioned:
            comment.mentioned.set(mentioned)
        audit(
            actor=actor,
            case=case,
            verb=Verb.CREATED,
            target=comment,
            # Ids only: the comment's text is case content.
            detail={
                "comment": comment.pk,
                "parent": comment.parent_id,
                "replied_to": replied_to.pk if replied_to is not None else None,
                "mentioned": [u.pk for u in mentioned],
            },
        )
        _notify(
            case=case,
            comment=comment,
            mentioned=[u for u in mentioned if u.pk != actor.pk],
            replied_to=replied_to,
        )
        _touch_forward(case, at)
    return comment


def do_mark_discussion_read(*, actor: User, case: Case) -> int:
    """The actor opened the case's discussion: their unread mention and reply items for this case
    are read. Returns how many (no audit event when none)."""
    at = clock.now()
    with transaction.atomic():
        unread = (
            Notification.objects.for_user(actor)
            .unread()
            .filter(kind__in=DISCUSSION_KINDS, target_type=Case._meta.label_lower, target_id=str(case.pk))
        )
        count = unread.update(read_at=at)
        if count:
            AuditEvent.objects.record(
                actor=actor,
                verb=Verb.UPDATED,
                target_type=Notification._meta.label_lower,
                district_id=case.district_id,
                after={"read": True},
                detail={"case": case.pk, "case_number": case.number, "discussion": True, "count": count},
            )
    return count
