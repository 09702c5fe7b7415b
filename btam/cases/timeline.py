"""The case's timeline: everything that happened on it, newest first, derived from the rows that
record it (nothing is stored twice).

Each source is a query over one table giving ``(sub, at, ref, actor)`` rows: what kind of entry
(``sub``), when, the row's id and who did it. The sources of the kinds asked for are joined with
``UNION ALL`` and ordered and paged in the database; then the page's rows are read back, one query
per table present on the page, and one for the people who acted. A page therefore costs the same
number of queries whatever the size of the case: the count, the page, at most one per table
(:data:`SOURCES` reads 21 tables) and the users.

Kinds (the filter's codes, :data:`KINDS`) group the sources: stage changes, decisions, reports,
notes, discussion comments, case conferences, tasks, documents, messages with the reporter,
people, links and merges, schools, and break-glass access.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import CharField, F, IntegerField, Model, Q, QuerySet, Value
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from btam.accounts.models import User
from btam.assessments.models import Assessment, CheckIn, DeclinedDecision, Dissent, Intervention
from btam.audit.models import AuditEvent, Verb
from btam.cases import documents
from btam.cases.models import (
    BreakGlassGrant,
    Case,
    CaseLink,
    CaseMerge,
    CaseParticipant,
    CaseReport,
    CaseSchool,
    DocumentVersion,
    Note,
    ScreeningDecision,
    Status,
    StatusChange,
    Task,
)
from btam.discussion.models import Comment
from btam.intake.models import ReporterMessage
from btam.meetings.models import Meeting, MeetingChange

PAGE_SIZE = 100
EXCERPT_CHARS = 160

# The filter's kind codes (GET ?kind=...), in the order the form lists them.
KINDS: dict[str, Any] = {
    "status": gettext_lazy("Opening, stages and closure"),
    "decision": gettext_lazy("Screening and risk-level decisions"),
    "assessment": gettext_lazy("Assessments"),
    "plan": gettext_lazy("Interventions and check-ins"),
    "report": gettext_lazy("Reports"),
    "note": gettext_lazy("Notes and corrections"),
    "discussion": gettext_lazy("Discussion comments"),
    "meeting": gettext_lazy("Case conferences"),
    "task": gettext_lazy("Tasks"),
    "document": gettext_lazy("Documents"),
    "message": gettext_lazy("Messages with the reporter"),
    "person": gettext_lazy("People"),
    "link": gettext_lazy("Related and merged cases"),
    "school": gettext_lazy("Schools"),
    "access": gettext_lazy("Break-glass access"),
}

Rows = QuerySet[Any, Any]


def _rows(qs: QuerySet[Any], sub: str, *, at: str, actor: str | None) -> Rows:
    """``(sub, at, ref, actor)`` of each row of ``qs`` (every column an annotation, in this order)."""
    return (
        qs.order_by()
        .annotate(
            tl_sub=Value(sub, output_field=CharField()),
            tl_at=F(at),
            tl_ref=F("pk"),
            tl_actor=F(actor) if actor else Value(None, output_field=IntegerField()),
        )
        .values_list("tl_sub", "tl_at", "tl_ref", "tl_actor")
    )


def _audit_decisions(case: Case, key: str) -> QuerySet[AuditEvent]:
    # Changes only: the case's many VIEWED events are left out before the detail is looked at.
    return AuditEvent.objects.filter(
        target_type="cases.case", target_id=str(case.pk), verb__in=[Verb.CREATED, Verb.UPDATED], detail__has_key=key
    )


# sub -> (kind, model the ref points to, the source's rows for a case)
SOURCES: dict[str, tuple[str, type[Model], Callable[[Case], Rows]]] = {
    "opened": (
        "status",
        Case,
        lambda c: _rows(Case.objects.filter(pk=c.pk), "opened", at="opened_at", actor="opened_by_id"),
    ),
    "status": (
        "status",
        StatusChange,
        lambda c: _rows(
            StatusChange.objects.filter(case=c).exclude(from_status=""), "status", at="created_at", actor="actor_id"
        ),
    ),
    "screening": (
        "decision",
        AuditEvent,
        lambda c: _rows(_audit_decisions(c, "screening"), "screening", at="created_at", actor="actor_id"),
    ),
    "risk": (
        "decision",
        AuditEvent,
        lambda c: _rows(_audit_decisions(c, "risk_level"), "risk", at="created_at", actor="actor_id"),
    ),
    "report": (
        "report",
        CaseReport,
        lambda c: _rows(
            CaseReport.objects.filter(case=c), "report", at="report__created_at", actor="report__submitted_by_id"
        ),
    ),
    "note": (
        "note",
        Note,
        lambda c: _rows(Note.objects.filter(case=c, corrects__isnull=True), "note", at="created_at", actor="author_id"),
    ),
    "correction": (
        "note",
        Note,
        lambda c: _rows(
            Note.objects.filter(case=c, corrects__isnull=False), "correction", at="created_at", actor="author_id"
        ),
    ),
    "note_edited": (
        "note",
        Note,
        lambda c: _rows(
            Note.objects.filter(case=c, edited_at__isnull=False), "note_edited", at="edited_at", actor="author_id"
        ),
    ),
    "comment": (
        "discussion",
        Comment,
        lambda c: _rows(Comment.objects.filter(case=c), "comment", at="created_at", actor="author_id"),
    ),
    "meeting_scheduled": (
        "meeting",
        Meeting,
        lambda c: _rows(Meeting.objects.filter(case=c), "meeting_scheduled", at="created_at", actor="created_by_id"),
    ),
    "meeting_changed": (
        "meeting",
        MeetingChange,
        lambda c: _rows(
            MeetingChange.objects.filter(meeting__case=c), "meeting_changed", at="created_at", actor="actor_id"
        ),
    ),
    "meeting_held": (
        "meeting",
        Meeting,
        lambda c: _rows(
            Meeting.objects.filter(case=c, recorded_at__isnull=False),
            "meeting_held",
            at="recorded_at",
            actor="recorded_by_id",
        ),
    ),
    "task_created": (
        "task",
        Task,
        lambda c: _rows(Task.objects.filter(case=c), "task_created", at="created_at", actor="created_by_id"),
    ),
    "task_completed": (
        "task",
        Task,
        lambda c: _rows(
            Task.objects.filter(
                case=c, completed_at__isnull=False, status__in=[Task.Status.DONE, Task.Status.CANCELLED]
            ),
            "task_completed",
            at="completed_at",
            actor="completed_by_id",
        ),
    ),
    "document": (
        "document",
        DocumentVersion,
        lambda c: _rows(
            DocumentVersion.objects.filter(document__case=c), "document", at="uploaded_at", actor="uploaded_by_id"
        ),
    ),
    "message": (
        "message",
        ReporterMessage,
        lambda c: _rows(
            ReporterMessage.objects.filter(report__case_link__case=c), "message", at="created_at", actor="author_id"
        ),
    ),
    "person_added": (
        "person",
        CaseParticipant,
        lambda c: _rows(CaseParticipant.objects.filter(case=c), "person_added", at="added_at", actor="added_by_id"),
    ),
    "person_removed": (
        "person",
        CaseParticipant,
        lambda c: _rows(
            CaseParticipant.objects.filter(case=c, removed_at__isnull=False),
            "person_removed",
            at="removed_at",
            actor=None,
        ),
    ),
    "link": (
        "link",
        CaseLink,
        lambda c: _rows(
            CaseLink.objects.filter(Q(from_case=c) | Q(to_case=c)), "link", at="created_at", actor="created_by_id"
        ),
    ),
    "merge": (
        "link",
        CaseMerge,
        lambda c: _rows(
            CaseMerge.objects.filter(Q(source=c) | Q(target=c)), "merge", at="created_at", actor="created_by_id"
        ),
    ),
    "unmerge": (
        "link",
        CaseMerge,
        lambda c: _rows(
            CaseMerge.objects.filter(Q(source=c) | Q(target=c), undone_at__isnull=False),
            "unmerge",
            at="undone_at",
            actor="undone_by_id",
        ),
    ),
    "school_added": (
        "school",
        CaseSchool,
        # The school the case was opened at is part of "case opened".
        lambda c: _rows(
            CaseSchool.objects.filter(case=c).exclude(added_at=c.opened_at),
            "school_added",
            at="added_at",
            actor="added_by_id",
        ),
    ),
    "school_removed": (
        "school",
        CaseSchool,
        lambda c: _rows(
            CaseSchool.objects.filter(case=c, removed_at__isnull=False),
            "school_removed",
            at="removed_at",
            actor="removed_by_id",
        ),
    ),
    "assessment_started": (
        "assessment",
        Assessment,
        lambda c: _rows(
            Assessment.objects.filter(case=c), "assessment_started", at="started_at", actor="started_by_id"
        ),
    ),
    "assessment_decided": (
        "assessment",
        Assessment,
        lambda c: _rows(
            Assessment.objects.filter(case=c, decided_at__isnull=False),
            "assessment_decided",
            at="decided_at",
            actor="decided_by_id",
        ),
    ),
    "assessment_approved": (
        "assessment",
        Assessment,
        # A leader's own decision is its own approval: only another leader's approval is an entry.
        lambda c: _rows(
            Assessment.objects.filter(case=c, approved_at__isnull=False).exclude(approved_at=F("decided_at")),
            "assessment_approved",
            at="approved_at",
            actor="approved_by_id",
        ),
    ),
    "assessment_declined": (
        "assessment",
        DeclinedDecision,
        # Each decline is a row of its own (the decision declined stays in the record).
        lambda c: _rows(
            DeclinedDecision.objects.filter(assessment__case=c),
            "assessment_declined",
            at="declined_at",
            actor="declined_by_id",
        ),
    ),
    "dissent": (
        "assessment",
        Dissent,
        lambda c: _rows(Dissent.objects.filter(assessment__case=c), "dissent", at="created_at", actor="author_id"),
    ),
    "intervention": (
        "plan",
        Intervention,
        lambda c: _rows(Intervention.objects.filter(case=c), "intervention", at="created_at", actor="created_by_id"),
    ),
    "check_in": (
        "plan",
        CheckIn,
        lambda c: _rows(CheckIn.objects.filter(case=c), "check_in", at="created_at", actor="author_id"),
    ),
    "break_glass": (
        "access",
        BreakGlassGrant,
        lambda c: _rows(BreakGlassGrant.objects.filter(case=c), "break_glass", at="created_at", actor="user_id"),
    ),
}

# What each table's rows need joined when the page reads them back.
_RELATED: dict[type[Model], tuple[str, ...]] = {
    CaseReport: ("report",),
    Note: ("corrects",),
    Task: ("assignee",),
    DocumentVersion: ("document",),
    ReporterMessage: ("report",),
    CaseParticipant: ("person",),
    CaseLink: ("from_case", "to_case"),
    CaseMerge: ("source", "target"),
    CaseSchool: ("school",),
    Dissent: ("assessment",),
    MeetingChange: ("meeting",),
}
# What a page's rows of a table need once read, in one go (not per row).
_PREPARE: dict[type[Model], Callable[[Iterable[Any], Case], None]] = {}
# AuditEvent rows are read with their detail only.
_ONLY: dict[type[Model], tuple[str, ...]] = {AuditEvent: ("id", "detail", "actor_name", "created_at")}


def chosen_kinds(values: Iterable[str]) -> list[str]:
    """The known kind codes among ``values`` (unknown codes are ignored), in the form's order."""
    wanted = set(values)
    return [code for code in KINDS if code in wanted]


def _union(case: Case, kinds: list[str]) -> Rows:
    subs = [sub for sub, (kind, _model, _source) in SOURCES.items() if not kinds or kind in kinds]
    queries = [SOURCES[sub][2](case) for sub in subs]
    first, rest = queries[0], queries[1:]
    # Newest first; then by kind and id, for a stable order of entries made at the same moment.
    ordering = ("-tl_at", "tl_sub", "-tl_ref")
    return first.union(*rest, all=True).order_by(*ordering) if rest else first.order_by(*ordering)


@dataclass
class Entry:
    at: dt.datetime
    kind: str
    sub: str
    who: str
    what: str
    excerpt: str = ""
    link: str = ""
    link_label: str = ""


def page_of(
    case: Case, *, kinds: list[str], page_number: Any, viewer: User | None = None
) -> tuple[Page[Any], list[Entry]]:
    """One page of the case's timeline (newest first), for the kinds asked (all when none). With
    ``viewer``, a related case they may not see is not named (as on the overview)."""
    paginator = Paginator(_union(case, kinds), PAGE_SIZE)
    page = paginator.get_page(page_number)
    rows: list[tuple[str, dt.datetime, int, int | None]] = list(page.object_list)
    by_model: dict[type[Model], set[int]] = {}
    for sub, _at, ref, _actor in rows:
        by_model.setdefault(SOURCES[sub][1], set()).add(ref)
    objects: dict[type[Model], dict[int, Any]] = {}
    for model, refs in by_model.items():
        if model is Case:
            objects[model] = {case.pk: case}
            continue
        qs = model._default_manager.filter(pk__in=refs)
        if model in _RELATED:
            qs = qs.select_related(*_RELATED[model])
        if model in _ONLY:
            qs = qs.only(*_ONLY[model])
        objects[model] = {obj.pk: obj for obj in qs}
        if model in _PREPARE:
            _PREPARE[model](objects[model].values(), case)
    hidden: set[int] = set()
    if viewer is not None and objects.get(CaseLink):
        others = {_other(case, link.from_case, link.to_case).pk for link in objects[CaseLink].values()}
        hidden = others - set(Case.objects.visible_to(viewer).filter(pk__in=others).values_list("pk", flat=True))
    actor_ids = {actor for *_rest, actor in rows if actor is not None}
    users = (
        {u.pk: u for u in User.objects.filter(pk__in=actor_ids).only("id", "full_name", "email")} if actor_ids else {}
    )
    entries = []
    for sub, at, ref, actor in rows:
        obj = objects[SOURCES[sub][1]].get(ref)
        if obj is None:  # removed between the two queries
            continue
        user = users.get(actor) if actor is not None else None
        entry = Entry(at=at, kind=SOURCES[sub][0], sub=sub, who=str(user) if user else "", what="")
        if sub == "link" and _other(case, obj.from_case, obj.to_case).pk in hidden:
            entry.what = _("Linked to a case you cannot see")
        else:
            _DESCRIBE[sub](entry, obj, case)
        entries.append(entry)
    return page, entries


# Describing one entry -----------------------------------------------------------------------------


def _excerpt(text: str | None) -> str:
    return Truncator(" ".join((text or "").split())).chars(EXCERPT_CHARS)


def _status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


def _opened(entry: Entry, case: Case, _case: Case) -> None:
    entry.what = _("Case opened at %(school)s") % {"school": case.school.name}


def _status(entry: Entry, change: StatusChange, case: Case) -> None:
    if change.to_status == Status.CLOSED:
        entry.what = _("Case closed")
    elif change.from_status == Status.CLOSED:
        entry.what = _("Case reopened (back to %(stage)s)") % {"stage": _status_label(change.to_status)}
    elif change.from_status == change.to_status:
        entry.what = _("Closure declined")
    else:
        entry.what = _("Stage changed from %(old)s to %(new)s") % {
            "old": _status_label(change.from_status),
            "new": _status_label(change.to_status),
        }
    entry.excerpt = _excerpt(change.reason)


def _screening(entry: Entry, event: AuditEvent, case: Case) -> None:
    value = (event.detail or {}).get("screening", "")
    label = ScreeningDecision(value).label if value in ScreeningDecision.values else value
    entry.what = _("Screening decision: %(decision)s") % {"decision": label}
    entry.who = entry.who or event.actor_name


def _risk(entry: Entry, event: AuditEvent, case: Case) -> None:
    from btam.assessments.levels import level_label

    detail = event.detail or {}
    value = detail.get("risk_level", "")
    scheme_id = str(detail.get("risk_scheme") or "")
    label = level_label(scheme_id, str(value), district_id=case.district_id) if value else value
    entry.what = _("Risk level recorded: %(level)s") % {"level": label}
    entry.who = entry.who or event.actor_name


def _report(entry: Entry, link: CaseReport, case: Case) -> None:
    report = link.report
    entry.what = _("Report %(ref)s received (%(channel)s); on this case since %(date)s") % {
        "ref": report.reference,
        "channel": report.get_channel_display(),
        "date": link.linked_at.date().isoformat(),
    }
    if not entry.who:
        entry.who = _("The reporter")


def _note_link(entry: Entry, note: Note, case: Case) -> None:
    entry.link = reverse("cases:notes", args=[case.pk]) + f"#note-{note.pk}"
    entry.link_label = _("Read the note")


def _note(entry: Entry, note: Note, case: Case) -> None:
    entry.what = _("%(kind)s note (dated %(date)s)") % {
        "kind": note.get_kind_display(),
        "date": note.occurred_on.isoformat(),
    }
    entry.excerpt = _excerpt(note.body)
    _note_link(entry, note, case)


def _correction(entry: Entry, note: Note, case: Case) -> None:
    original = note.corrects
    entry.what = (
        _("Correction to the %(kind)s note of %(date)s")
        % {"kind": original.get_kind_display().lower(), "date": original.occurred_on.isoformat()}
        if original
        else _("Correction to a note")
    )
    entry.excerpt = _excerpt(note.body)
    _note_link(entry, note, case)


def _note_edited(entry: Entry, note: Note, case: Case) -> None:
    entry.what = _("%(kind)s note edited by its author") % {"kind": note.get_kind_display()}
    _note_link(entry, note, case)


def _comment(entry: Entry, comment: Comment, case: Case) -> None:
    entry.what = _("Reply in the discussion") if comment.parent_id else _("Comment in the discussion")
    entry.excerpt = _excerpt(comment.body)
    entry.link = reverse("discussion:case", args=[case.pk]) + f"#comment-{comment.pk}"
    entry.link_label = _("Read the comment")


def _meeting_link(entry: Entry, meeting: Meeting, case: Case) -> None:
    entry.link = reverse("meetings:detail", args=[case.pk, meeting.pk])
    entry.link_label = _("Open the conference")


def _meeting_when(meeting_starts_at: dt.datetime) -> str:
    return date_format(timezone.localtime(meeting_starts_at), "DATETIME_FORMAT")


def _meeting_scheduled(entry: Entry, meeting: Meeting, case: Case) -> None:
    entry.what = _("Case conference scheduled for %(when)s") % {"when": _meeting_when(meeting.starts_at)}
    _meeting_link(entry, meeting, case)


def _meeting_changed(entry: Entry, change: MeetingChange, case: Case) -> None:
    if change.kind == MeetingChange.Kind.CANCELLED:
        entry.what = _("Case conference of %(when)s cancelled") % {"when": _meeting_when(change.from_starts_at)}
    else:
        entry.what = _("Case conference moved from %(from)s to %(to)s") % {
            "from": _meeting_when(change.from_starts_at),
            "to": _meeting_when(change.to_starts_at or change.from_starts_at),
        }
    entry.excerpt = _excerpt(change.reason)
    _meeting_link(entry, change.meeting, case)


def _meeting_held(entry: Entry, meeting: Meeting, case: Case) -> None:
    entry.what = _("Case conference held: minutes and decisions recorded")
    entry.excerpt = _excerpt(meeting.minutes)
    _meeting_link(entry, meeting, case)


def _task_created(entry: Entry, task: Task, case: Case) -> None:
    entry.what = _("Task created: %(title)s") % {"title": _excerpt(task.title)}
    details = []
    if task.assignee:
        details.append(_("assigned to %(who)s") % {"who": task.assignee})
    if task.due_on:
        details.append(_("due %(date)s") % {"date": task.due_on.isoformat()})
    entry.excerpt = ", ".join(details)


def _task_completed(entry: Entry, task: Task, case: Case) -> None:
    template = _("Task done: %(title)s") if task.status == Task.Status.DONE else _("Task cancelled: %(title)s")
    entry.what = template % {"title": _excerpt(task.title)}


def _document(entry: Entry, version: DocumentVersion, case: Case) -> None:
    values = {
        "title": _excerpt(version.document.title),
        "type": documents.LABELS.get(version.content_type, version.content_type),
        "size": filesizeformat(version.size),
        "number": version.number,
    }
    if version.number == 1:
        entry.what = _("Document added: %(title)s (%(type)s, %(size)s)") % values
    else:
        entry.what = _("Version %(number)d of %(title)s uploaded (%(type)s, %(size)s)") % values
    entry.link = reverse("cases:document_download", args=[case.pk, version.pk])
    entry.link_label = _("Download")


def _message(entry: Entry, message: ReporterMessage, case: Case) -> None:
    ref = message.report.reference
    if message.direction == ReporterMessage.Direction.FROM_REPORTER:
        entry.what = _("Message from the reporter (report %(ref)s)") % {"ref": ref}
        entry.who = _("The reporter")
    else:
        entry.what = _("Message to the reporter (report %(ref)s)") % {"ref": ref}
    entry.excerpt = _excerpt(message.body)
    entry.link = reverse("cases:reporter", args=[case.pk]) + f"#report-{message.report_id}"
    entry.link_label = _("Open the thread")


def _participant_name(p: CaseParticipant) -> str:
    if p.person is not None:
        return p.person.display_name
    return p.name or _("someone not yet named")


def _person_added(entry: Entry, p: CaseParticipant, case: Case) -> None:
    entry.what = _("%(role)s added: %(name)s") % {"role": p.get_role_display(), "name": _participant_name(p)}


def _person_removed(entry: Entry, p: CaseParticipant, case: Case) -> None:
    entry.what = _("%(role)s removed: %(name)s") % {"role": p.get_role_display(), "name": _participant_name(p)}


def _other(case: Case, a: Case, b: Case) -> Case:
    return b if a.pk == case.pk else a


def _link(entry: Entry, link: CaseLink, case: Case) -> None:
    other = _other(case, link.from_case, link.to_case)
    entry.what = _("Linked to case %(number)s") % {"number": other.number}
    entry.link = reverse("cases:detail", args=[other.pk])
    entry.link_label = _("Open case %(number)s") % {"number": other.number}


def _merge(entry: Entry, merge: CaseMerge, case: Case) -> None:
    if merge.source_id == case.pk:
        entry.what = _("This case was merged into case %(number)s") % {"number": merge.target.number}
    else:
        entry.what = _("Case %(number)s was merged into this case") % {"number": merge.source.number}


def _unmerge(entry: Entry, merge: CaseMerge, case: Case) -> None:
    entry.what = _("Merge of case %(source)s into case %(target)s undone") % {
        "source": merge.source.number,
        "target": merge.target.number,
    }


def _school_added(entry: Entry, link: CaseSchool, case: Case) -> None:
    entry.what = _("%(school)s added to the case") % {"school": link.school.name}


def _school_removed(entry: Entry, link: CaseSchool, case: Case) -> None:
    entry.what = _("%(school)s no longer has access") % {"school": link.school.name}


def _break_glass(entry: Entry, grant: BreakGlassGrant, case: Case) -> None:
    entry.what = _("Break-glass access (until %(until)s)") % {"until": grant.expires_at.strftime("%Y-%m-%d %H:%M")}
    entry.excerpt = _excerpt(grant.reason)


def _assessment_link(entry: Entry, assessment: Assessment) -> None:
    entry.link = reverse("assessments:detail", args=[assessment.case_id, assessment.pk])
    entry.link_label = _("Open the assessment")


def _instrument_title(assessment: Assessment) -> str:
    from btam.assessments.levels import registry_for

    try:
        instrument = registry_for(assessment.district_id).instrument(
            assessment.instrument_id, assessment.instrument_version
        )
    except KeyError:
        return assessment.instrument_id
    return str(instrument.title)


def _assessment_started(entry: Entry, assessment: Assessment, case: Case) -> None:
    title = _instrument_title(assessment)
    if assessment.previous_id:
        entry.what = _("Reassessment started: %(instrument)s") % {"instrument": title}
    else:
        entry.what = _("Assessment started: %(instrument)s") % {"instrument": title}
    _assessment_link(entry, assessment)


def _level_name(assessment: Assessment) -> str:
    from btam.assessments.levels import level_label

    if not assessment.level:
        return ""
    return level_label(
        assessment.scheme_id, assessment.level, district_id=assessment.district_id, version=assessment.scheme_version
    )


def _assessment_decided(entry: Entry, assessment: Assessment, case: Case) -> None:
    entry.what = _("Decision recorded: %(level)s") % {"level": _level_name(assessment)}
    if assessment.override_reason:
        entry.what += " " + _("(differs from the suggestion)")
    entry.excerpt = _excerpt(assessment.rationale)
    _assessment_link(entry, assessment)


def _assessment_approved(entry: Entry, assessment: Assessment, case: Case) -> None:
    entry.what = _("Decision approved: %(level)s") % {"level": _level_name(assessment)}
    _assessment_link(entry, assessment)


def _assessment_declined(entry: Entry, declined: DeclinedDecision, case: Case) -> None:
    from btam.assessments.levels import level_label

    if declined.level:
        label = level_label(
            declined.scheme_id, declined.level, district_id=case.district_id, version=declined.scheme_version
        )
        entry.what = _("Decision declined by the leader: %(level)s") % {"level": label}
    else:
        entry.what = _("Decision declined by the leader")
    entry.excerpt = _excerpt(declined.reason)
    entry.link = reverse("assessments:detail", args=[case.pk, declined.assessment_id])
    entry.link_label = _("Open the assessment")


def _dissent(entry: Entry, dissent: Dissent, case: Case) -> None:
    entry.what = _("Dissent recorded")
    entry.excerpt = _excerpt(dissent.text)
    _assessment_link(entry, dissent.assessment)


def _intervention(entry: Entry, intervention: Intervention, case: Case) -> None:
    entry.what = _("Intervention added: %(kind)s (%(status)s)") % {
        "kind": getattr(intervention, "kind_label", intervention.kind),
        "status": intervention.get_status_display(),
    }
    entry.link = reverse("assessments:plan", args=[case.pk])
    entry.link_label = _("Open the plan")


def _label_interventions(interventions: Iterable[Intervention], case: Case) -> None:
    """The kinds' names (the catalogue's, or the district's own: one query for the page)."""
    from btam.assessments.plan import all_kinds

    kinds = all_kinds(case.district_id)
    for intervention in interventions:
        kind = kinds.get(intervention.kind)
        intervention.kind_label = str(kind.label) if kind else intervention.kind  # type: ignore[attr-defined]


def _check_in(entry: Entry, check_in: CheckIn, case: Case) -> None:
    entry.what = _("Check-in (%(how)s)") % {"how": check_in.get_method_display()}
    if check_in.concern:
        entry.what += " " + _("— a new concern was raised")
    entry.excerpt = _excerpt(check_in.summary)


_DESCRIBE: dict[str, Callable[[Entry, Any, Case], None]] = {
    "opened": _opened,
    "status": _status,
    "screening": _screening,
    "risk": _risk,
    "report": _report,
    "note": _note,
    "correction": _correction,
    "note_edited": _note_edited,
    "comment": _comment,
    "meeting_scheduled": _meeting_scheduled,
    "meeting_changed": _meeting_changed,
    "meeting_held": _meeting_held,
    "task_created": _task_created,
    "task_completed": _task_completed,
    "document": _document,
    "message": _message,
    "person_added": _person_added,
    "person_removed": _person_removed,
    "link": _link,
    "merge": _merge,
    "unmerge": _unmerge,
    "school_added": _school_added,
    "school_removed": _school_removed,
    "assessment_started": _assessment_started,
    "assessment_decided": _assessment_decided,
    "assessment_approved": _assessment_approved,
    "assessment_declined": _assessment_declined,
    "dissent": _dissent,
    "intervention": _intervention,
    "check_in": _check_in,
    "break_glass": _break_glass,
}
_PREPARE[Intervention] = _label_interventions
assert set(_DESCRIBE) == set(SOURCES)
assert {kind for kind, _m, _s in SOURCES.values()} == set(KINDS)
