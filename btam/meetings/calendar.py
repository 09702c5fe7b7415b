"""A person's private calendar feed: the secret link, and the iCalendar text it answers with.

The link carries a token of 256 random bits (``secrets.token_urlsafe(32)``), shown once when it is
made. Only ``HMAC-SHA256(BTAM_RECEIPT_KEY, "calendar-feed" + token)`` is stored (the intake's
receipt codes use the same keyed hash), so a copy of the database opens nobody's calendar and a
lookup is one indexed equality. Making a new link revokes the old one; a revoked link answers 404.

The feed holds, for the person, on the cases they still see at the moment of the fetch (access is
recomputed every time; an inactive account gets nothing):

- their open tasks with a due date (all-day, on the due date): "Task due: case 2026-0042";
- reassessments due on the open cases they manage (all-day): "Reassessment due: case 2026-0042";
- the case conferences they are invited to (timed, UTC; cancelled ones marked CANCELLED so that
  calendar programs remove them): "Case conference: case 2026-0042".

No names and no case content (no task titles, agendas or places): calendar programs sync to phones
and to other companies' servers. The text is RFC 5545: CRLF line ends, TEXT values escaped, lines
folded at 75 octets (without splitting a UTF-8 character), a stable UID per item and a DTSTAMP.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from btam.intake.receipt import keyed_hash

TOKEN_BYTES = 32  # 256 random bits
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # what token_urlsafe(32) gives
FOLD_OCTETS = 75
# Conferences older than this are left out of the feed (it stays small; they are in OpenBTAM).
PAST_MEETING_DAYS = 180


# The link ------------------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str | None:
    """The stored form of a token, or None when the text cannot be a token at all."""
    if not TOKEN_RE.match(token or ""):
        return None
    return keyed_hash(token, purpose="calendar-feed")


# iCalendar text ------------------------------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded at 75 octets (RFC 5545 3.1): CRLF then a space starts each
    continuation, and a multi-byte UTF-8 character is never split."""
    parts: list[str] = []
    current = ""
    size = 0
    limit = FOLD_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size = " ", 1  # the continuation's leading space counts
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)


def utc_stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def date_value(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    url: str
    day: dt.date | None = None  # all-day event
    starts_at: dt.datetime | None = None  # timed event
    ends_at: dt.datetime | None = None
    sequence: int = 0
    cancelled: bool = False


def _event_lines(event: Event, stamp: str) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{escape_text(event.uid)}", f"DTSTAMP:{stamp}"]
    if event.day is not None:
        lines.append(f"DTSTART;VALUE=DATE:{date_value(event.day)}")
        lines.append(f"DTEND;VALUE=DATE:{date_value(event.day + dt.timedelta(days=1))}")
        lines.append("TRANSP:TRANSPARENT")
    else:
        assert event.starts_at is not None and event.ends_at is not None
        lines.append(f"DTSTART:{utc_stamp(event.starts_at)}")
        lines.append(f"DTEND:{utc_stamp(event.ends_at)}")
    lines.append(f"SEQUENCE:{event.sequence}")
    lines.append(f"SUMMARY:{escape_text(event.summary)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.cancelled:
        lines.append("STATUS:CANCELLED")
    lines.append("CLASS:PRIVATE")
    lines.append("END:VEVENT")
    return lines


def render_calendar(events: Iterable[Event], *, name: str, stamp_at: dt.datetime) -> str:
    """The iCalendar text of ``events`` (CRLF line ends, folded lines)."""
    stamp = utc_stamp(stamp_at)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//OpenBTAM//Calendar feed//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for event in events:
        lines.extend(_event_lines(event, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


# What a person's feed holds ------------------------------------------------------------------------


@dataclass
class FeedContent:
    events: list[Event]
    task_ids: list[int]
    meeting_ids: list[int]
    reassessment_case_ids: list[int]
    case_ids: list[int]
    # The district of each case in the feed (for the audit of a read, filed per district).
    case_districts: dict[int, int] = field(default_factory=dict)
    # The case of each task and meeting in the feed.
    task_cases: dict[int, int] = field(default_factory=dict)
    meeting_cases: dict[int, int] = field(default_factory=dict)

    def district_ids(self) -> set[int]:
        return set(self.case_districts.values())

    def ids_in(self, district_id: int) -> dict[str, list[int]]:
        """What the feed showed of one district: the audit detail of that district's event."""
        cases = {pk for pk, d in self.case_districts.items() if d == district_id}
        return {
            "cases": [pk for pk in self.case_ids if pk in cases],
            "tasks": [pk for pk in self.task_ids if self.task_cases.get(pk) in cases],
            "meetings": [pk for pk in self.meeting_ids if self.meeting_cases.get(pk) in cases],
            "reassessments": [pk for pk in self.reassessment_case_ids if pk in cases],
        }


def _uid_host() -> str:
    from btam.notifications.delivery import public_base_url

    return urlsplit(public_base_url()).hostname or "openbtam"


def feed_content(user: object, *, now: dt.datetime) -> FeedContent:
    """The events of ``user``'s feed, on the cases they see now (nothing for an inactive account)."""
    from django.urls import reverse

    from btam.accounts.models import User
    from btam.cases.models import Case, Status, Task
    from btam.meetings.models import Meeting
    from btam.notifications.delivery import public_base_url

    assert isinstance(user, User)
    if not user.is_active:
        return FeedContent([], [], [], [], [])
    base, host = public_base_url(), _uid_host()
    visible = Case.objects.visible_to(user)
    working = visible.exclude(status=Status.CLOSED).filter(merged_into__isnull=True)
    events: list[Event] = []
    cases: set[int] = set()

    tasks = list(
        Task.objects.filter(
            assignee_id=user.pk,
            status__in=Task.OPEN_STATUSES,
            due_on__isnull=False,
            case_id__in=working.values("pk"),
        )
        .select_related("case")
        .only("pk", "due_on", "case__year", "case__seq", "case__id", "case__district_id")
        .order_by("due_on", "pk")
    )
    for task in tasks:
        assert task.due_on is not None
        cases.add(task.case_id)
        events.append(
            Event(
                uid=f"task-{task.pk}@{host}",
                summary=_("Task due: case %(number)s") % {"number": task.case.number},
                url=base + reverse("cases:tasks", args=[task.case_id]),
                day=task.due_on,
            )
        )

    due = list(
        working.filter(manager_id=user.pk, reassess_due_on__isnull=False)
        .only("pk", "year", "seq", "reassess_due_on", "district_id")
        .order_by("reassess_due_on", "pk")
    )
    for case in due:
        assert case.reassess_due_on is not None
        cases.add(case.pk)
        events.append(
            Event(
                uid=f"reassessment-case-{case.pk}@{host}",
                summary=_("Reassessment due: case %(number)s") % {"number": case.number},
                url=base + reverse("assessments:monitoring", args=[case.pk]),
                day=case.reassess_due_on,
            )
        )

    meetings = list(
        Meeting.objects.filter(
            invitees__user_id=user.pk,
            case_id__in=visible.values("pk"),
            starts_at__gte=now - dt.timedelta(days=PAST_MEETING_DAYS),
        )
        .select_related("case")
        .only(
            "pk",
            "state",
            "starts_at",
            "ends_at",
            "sequence",
            "case_id",
            "case__year",
            "case__seq",
            "case__id",
            "case__district_id",
        )
        .order_by("starts_at", "pk")
    )
    for meeting in meetings:
        cases.add(meeting.case_id)
        events.append(
            Event(
                uid=f"meeting-{meeting.pk}@{host}",
                summary=_("Case conference: case %(number)s") % {"number": meeting.case.number},
                url=base + reverse("meetings:detail", args=[meeting.case_id, meeting.pk]),
                starts_at=meeting.starts_at,
                ends_at=meeting.ends_at,
                sequence=meeting.sequence,
                cancelled=meeting.is_cancelled,
            )
        )
    return FeedContent(
        events=events,
        task_ids=[t.pk for t in tasks],
        meeting_ids=[m.pk for m in meetings],
        reassessment_case_ids=[c.pk for c in due],
        case_ids=sorted(cases),
        case_districts={
            **{t.case_id: t.case.district_id for t in tasks},
            **{c.pk: c.district_id for c in due},
            **{m.case_id: m.case.district_id for m in meetings},
        },
        task_cases={t.pk: t.case_id for t in tasks},
        meeting_cases={m.pk: m.case_id for m in meetings},
    )
