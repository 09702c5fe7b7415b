"""The Discussion tab of a case: its threads (oldest first, like a conversation; replies under
their comment), a new comment at the bottom, a reply in place under each thread (htmx swaps the
panel; without JS a POST and a redirect to the comment), and the people who may be mentioned.

Both views fetch the case through ``cases.access.get_case_for_user`` before looking at the method
(404 for a case the user cannot see; 403 for a POST by someone who may only read it) and render
through ``cases.pages.render_case`` (the read is audited; the header and tabs are the case's).
Opening the tab marks the reader's mention and reply notifications for this case read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from btam.cases import access
from btam.cases.models import Case
from btam.cases.pages import CASE_POLICY, lost_access, render_case, user_of
from btam.core.access import policy
from btam.discussion import actions
from btam.discussion.actions import CommentError
from btam.discussion.forms import CommentForm
from btam.discussion.mentions import Mentionable
from btam.discussion.models import Comment

PANEL = "discussion/partials/_panel.html"
NEW = "comment"
_REPLY_PREFIX = re.compile(r"^reply-(\d{1,11})$")


@dataclass
class Thread:
    comment: Comment
    replies: list[Comment] = field(default_factory=list)
    form: CommentForm | None = None  # the reply form (None when the user may not post)
    open: bool = False  # the reply form is shown open (it holds a refused reply)
    problems: list[str] = field(default_factory=list)  # why that reply was refused


SUGGESTIONS = 8
# The handle being typed: an "@" and what follows it, at the end of the text.
_TYPING = re.compile(r"(?:^|[^\w@.%+-])@([a-z0-9._%+-]{0,60})$", re.IGNORECASE)


def suggest_url(case: Case) -> str:
    return reverse("discussion:suggest", args=[case.pk])


def reply_form(case: Case, comment: Comment, data: Any = None) -> CommentForm:
    return CommentForm(
        data,
        prefix=f"reply-{comment.pk}",
        reply=True,
        initial={"parent": comment.pk},
        suggest_url=suggest_url(case),
    )


def threads_of(case: Case) -> list[Thread]:
    """The case's threads, oldest first, each with its replies (two queries and the mentions')."""
    comments = list(
        Comment.objects.filter(case=case)
        .select_related("author")
        .prefetch_related("mentioned")
        .order_by("created_at", "pk")
    )
    threads: dict[int, Thread] = {}
    for comment in comments:
        if comment.parent_id is None:
            threads[comment.pk] = Thread(comment=comment)
    for comment in comments:
        if comment.parent_id is not None and comment.parent_id in threads:
            threads[comment.parent_id].replies.append(comment)
    return list(threads.values())


def _page(
    request: HttpRequest,
    case: Case,
    *,
    new_form: CommentForm | None = None,
    failed: CommentForm | None = None,
    problems: list[str] | None = None,
    posted: Comment | None = None,
    status: int = 200,
    partial: str | None = None,
) -> HttpResponse:
    user = user_of(request)
    can_write = access.can_write(user, case)
    editable = can_write and not case.is_closed and not case.is_merged
    threads = threads_of(case)
    failed_reply = failed is not None and failed.prefix != NEW
    for thread in threads:
        if not editable:
            continue
        if failed_reply and failed is not None and failed.prefix == f"reply-{thread.comment.pk}":
            thread.form, thread.open, thread.problems = failed, True, problems or []
        else:
            thread.form = reply_form(case, thread.comment)
    if failed is not None and not any(t.open for t in threads) and new_form is None:
        # A refused new comment, or a reply to a thread not on this case: the text stays, in the
        # form at the bottom.
        if failed.prefix == NEW:
            new_form = failed
        else:
            typed = failed.data.get(failed.add_prefix("body"), "")
            new_form = CommentForm(prefix=NEW, initial={"body": typed}, suggest_url=suggest_url(case))
    reply_refused = any(t.open for t in threads)
    mentionable = Mentionable.of(case) if editable else Mentionable()
    context: dict[str, Any] = {
        "can_write": can_write,
        "threads": threads,
        "comment_count": sum(1 + len(t.replies) for t in threads),
        "new_form": new_form or CommentForm(prefix=NEW, suggest_url=suggest_url(case)),
        "new_problems": [] if reply_refused else (problems or []),
        "posted": posted,
        "mentionable": mentionable.people,
    }
    return render_case(request, case, "discussion/case.html", context, tab="discussion", status=status, partial=partial)


@policy(CASE_POLICY)
@never_cache
def case_discussion(request: HttpRequest, pk: int) -> HttpResponse:
    """The tab; reading it marks the reader's discussion notifications of this case read."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    actions.do_mark_discussion_read(actor=user, case=case)
    return _page(request, case)


def _posted_form(request: HttpRequest, case: Case) -> CommentForm:
    """The form the POST came from: the new comment's, or one thread's reply form."""
    prefix = str(request.POST.get("form", NEW))
    match = _REPLY_PREFIX.match(prefix)
    url = suggest_url(case)
    if match is None:
        return CommentForm(request.POST, prefix=NEW, suggest_url=url)
    return CommentForm(
        request.POST, prefix=prefix, reply=True, initial={"parent": int(match.group(1))}, suggest_url=url
    )


@policy(CASE_POLICY)
@never_cache
def post(request: HttpRequest, pk: int) -> HttpResponse:
    """Post a comment or a reply. Without JS: a redirect to the comment, or the tab again with the
    message, the text kept and a 400. With htmx: the panel (a 200 either way: htmx swaps only
    successful responses)."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    htmx = bool(getattr(request, "htmx", False))
    form = _posted_form(request, case)
    problems: list[str] = []
    if form.is_valid():
        parent_id = form.parent_id()
        if form.prefix != NEW:
            # A reply form answers its own thread, whatever its hidden field says.
            match = _REPLY_PREFIX.match(form.prefix or "")
            parent_id = int(match.group(1)) if match else 0
        try:
            comment = actions.do_post_comment(actor=user, case=case, body=form.cleaned_data["body"], parent=parent_id)
        except CommentError as exc:
            problems = exc.problems
        except actions.CaseError as exc:
            if (gone := lost_access(request, case, exc)) is not None:
                return gone
            problems = [str(exc)]
        else:
            if not htmx:
                messages.success(request, _("Comment posted."))
                return redirect(actions.discussion_path(case, comment))
            case.refresh_from_db()
            return _page(request, case, posted=comment, partial=PANEL)
    else:
        problems = [_("The comment was not posted: check the form.")]
    case.refresh_from_db()
    return _page(request, case, failed=form, problems=problems, status=200 if htmx else 400, partial=PANEL)


@policy(CASE_POLICY)
@never_cache
def suggest(request: HttpRequest, pk: int) -> HttpResponse:
    """While a comment is typed (htmx, a POST of its form): the people who may be mentioned whose
    handle or name starts with the "@..." at the end of the text. Nothing when no "@" is being
    typed. Names of the case's team only, no case content: not audited as a read of the case."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    prefix = str(request.POST.get("form", NEW))
    if prefix != NEW and _REPLY_PREFIX.match(prefix) is None:
        prefix = NEW
    text = str(request.POST.get(f"{prefix}-body", ""))[-200:]
    match = _TYPING.search(text)
    people: list[tuple[str, Any]] = []
    typed = ""
    if match is not None:
        typed = match.group(1).lower()
        for handle, person in Mentionable.of(case).people:
            words = [handle, *(person.full_name or "").lower().split()]
            if any(word.startswith(typed) for word in words):
                people.append((handle, person))
    context = {"people": people[:SUGGESTIONS], "typing": match is not None, "typed": typed}
    return render(request, "discussion/partials/_suggestions.html", context)


urlpatterns = [
    path("cases/<int:pk>/discussion/", case_discussion, name="case"),
    path("cases/<int:pk>/discussion/post/", post, name="post"),
    path("cases/<int:pk>/discussion/mentions/", suggest, name="suggest"),
]
