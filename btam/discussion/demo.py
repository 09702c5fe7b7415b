"""The demo district's case discussions: a few fictitious threads on open Cedar Ridge High cases,
posted through :func:`~btam.discussion.actions.do_post_comment` with the clock moved into each
case's past (between its opening and its last activity, so the case's ``updated_at`` stays as the
cases demo left it). One thread mentions the demo counselor (``@counselor``), who finds the
mention unread in the inbox.

Idempotent: nothing is added when the district already has comments (returns 0).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from btam.accounts.models import User
from btam.cases.models import Case, Status
from btam.core.demo import demo_accounts
from btam.discussion.actions import do_post_comment
from btam.discussion.models import Comment
from btam.lib import clock
from btam.orgs.models import District

CASES = 3  # the open Cedar Ridge High cases (most recently active first) that get a discussion

# Per case: threads of (author, text, replies [(author, text)]), at fractions of the case's life.
THREADS: list[list[tuple[str, str, list[tuple[str, str]]]]] = [
    [
        (
            "leader",
            "@counselor can you check in with the student's teachers this week and add a note with "
            "anything new? I would like an update before Thursday's conference.",
            [
                ("counselor", "Spoke with two teachers: nothing new in class. Note added. I will check again Monday."),
                ("sro", "Nothing on our side since the last report."),
            ],
        ),
        (
            "counselor",
            "The family asked whether the safety plan changes the bus schedule. @leader who answers that?",
            [("leader", "I will call them tomorrow and bring in transportation.")],
        ),
    ],
    [
        (
            "sro",
            "The parking-lot camera footage for that afternoon is saved until the end of the month.",
            [("leader", "Thank you. @sro please note who reviewed it once it is done.")],
        ),
    ],
    [
        (
            "counselor",
            "Weekly check-in done; the student asked to keep the same lunch period. @leader any objection?",
            [("leader", "None. Keep it as it is.")],
        ),
    ],
]


def _cases(district: District, accounts: dict[str, User]) -> list[Case]:
    """Open, unrestricted cases every demo author may write to, most recently active first."""
    cases = Case.objects.filter(district=district, restricted=False, merged_into__isnull=True).exclude(
        status=Status.CLOSED
    )
    for user in accounts.values():
        cases = cases.filter(pk__in=Case.objects.writable_by(user).values("pk"))
    return list(cases.order_by("-updated_at", "-pk")[:CASES])


def _moments(case: Case, count: int) -> list[dt.datetime]:
    """``count`` moments spread over the case's life, the last well before its last activity."""
    start, end = case.opened_at, case.updated_at
    span = max(end - start, dt.timedelta(0))
    return [start + span * (0.2 + 0.6 * i / max(count - 1, 1)) for i in range(count)]


def load_demo_discussion(district: District) -> int:
    """Add the demo discussion to the district; returns how many comments were added (0 when
    already loaded, or when the demo cases or accounts are missing)."""
    if Comment.objects.filter(district=district).exists():
        return 0
    accounts = demo_accounts("leader", "counselor", "sro")
    if set(accounts) != {"leader", "counselor", "sro"}:
        return 0
    made = 0
    with clock.restored(), transaction.atomic():
        for case, threads in zip(_cases(district, accounts), THREADS, strict=False):
            steps = sum(1 + len(replies) for _a, _t, replies in threads)
            moments = iter(_moments(case, steps))
            for author, text, replies in threads:
                clock.freeze(next(moments))
                first = do_post_comment(actor=accounts[author], case=case, body=text)
                made += 1
                for reply_author, reply_text in replies:
                    clock.freeze(next(moments))
                    do_post_comment(actor=accounts[reply_author], case=case, body=reply_text, parent=first)
                    made += 1
    return made
