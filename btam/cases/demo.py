"""Fictitious demo cases for the demo district, made only through the real actions.

:func:`load_demo_cases` plays the stories of ``demo_stories.py``: about twenty cases over every
stage (screening, evaluation, management, monitoring, closed; one reopened, one restricted to named
members, one transferred between schools, one waiting for the leader's approval to close), with
roster students and free-text people, notes of every type, tasks (some overdue, some done), a few
documents and reporter threads. Three of the intake demo's reports become cases (the others stay in
the triage queue); the other cases come from new demo reports or were opened by the team itself.
Each case's assessments, risk level, management plan, check-ins and reassessments match the stage
it reached (``btam/assessments/demo_plans.py``, played by ``btam.assessments.demo``): the level is
decided on an assessment before the case enters management, and the interventions its level
requires are in the plan before it enters monitoring.

Each story is played at its own moments: the clock is moved back (``btam.lib.clock.freeze``) for
every action, so the list shows cases of different ages, activity spread over months and tasks
that are overdue today; the clock is put back as it was at the end. What the worker does after a
report or a reporter's reply (grouping, the team's inbox item) is delivered at that moment too, as
the worker would have (emails are left to the worker), and inbox items older than two days are
opened by their recipients, as a working team would have.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
from collections.abc import Callable, Iterator
from functools import partial

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from btam.accounts.models import User
from btam.assessments.demo import PlanPlayer
from btam.cases import access, actions, document_actions, note_actions, participant_actions, task_actions
from btam.cases.access_actions import do_set_restricted, do_transfer_case
from btam.cases.actions import CaseError
from btam.cases.demo_stories import STORIES, DemoIncoming, DemoNote, DemoTask, Story
from btam.cases.models import Case, CaseParticipant, ScreeningDecision, Status, Task
from btam.cases.reporter_actions import do_mark_reporter_messages_read, do_message_reporter
from btam.core.demo import demo_accounts
from btam.intake import actions as intake_actions
from btam.intake.demo import REPORTS as INTAKE_REPORTS
from btam.intake.models import Channel, InvolvedPerson, Report
from btam.lib import clock
from btam.notifications.delivery import EMAIL_KIND
from btam.orgs.models import District, School
from btam.people.models import GuardianLink, Person
from btam.worker import outbox
from btam.worker.models import OutboxMessage

Role = CaseParticipant.Role
STAGES = [Status.SCREENING, Status.EVALUATION, Status.MANAGEMENT, Status.MONITORING]

# Inbox items older than this were read by their recipients (a working team reads its inbox).
READ_AFTER = dt.timedelta(days=2)


# Files ------------------------------------------------------------------------------------------------


def safety_plan_pdf(title: str) -> bytes:
    """A one-page, plainly fictitious safety plan (fpdf2's core font: ASCII text only)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Safety plan (fictitious demo)")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, "Safety plan - FICTITIOUS DEMO DOCUMENT", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    plain = title.encode("ascii", "replace").decode("ascii")
    lines = [
        f"Case: {plain}",
        "",
        "1. Supervision: an adult meets the student at arrival and at dismissal.",
        "2. Check-ins: the school counselor meets the student every week.",
        "3. Contact: no contact with the students concerned; seating and schedules changed.",
        "4. Home: the parents confirm weapons and medicines are locked away.",
        "5. If anything changes: call the team leader; in an emergency, call 911.",
        "",
        "Reviewed with the student and the parents. Next review in four weeks.",
        "Every name and fact in this demo is invented.",
    ]
    for line in lines:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def screenshot_png() -> bytes:
    """A drawn stand-in for a screenshot of a post (no real picture, no real person)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 270), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 470, 260), outline=(90, 90, 90), width=2)
    draw.text((24, 24), "FICTITIOUS DEMO SCREENSHOT", fill=(180, 0, 0))
    draw.text((24, 60), "@demo_account_0000 posted a video", fill=(20, 20, 20))
    draw.text((24, 90), "(video removed; this picture stands in for it)", fill=(90, 90, 90))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _upload(kind: str, title: str) -> tuple[str, SimpleUploadedFile]:
    if kind == "screenshot":
        return "Screenshot of the post (demo)", SimpleUploadedFile(
            "screenshot.png", screenshot_png(), content_type="image/png"
        )
    return "Safety plan (demo)", SimpleUploadedFile(
        "safety-plan.pdf", safety_plan_pdf(title), content_type="application/pdf"
    )


# The loader -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _own_clock() -> Iterator[None]:
    """Let the loader move the clock, and put it back as it was (a test may have moved it). The
    outbox's line per delivered message is left out of ``load_demo``'s output meanwhile."""
    log = logging.getLogger(outbox.__name__)
    level = log.level
    log.setLevel(max(level, logging.WARNING))
    try:
        with clock.restored():
            yield
    finally:
        log.setLevel(level)


class _Roster:
    """Roster students of each school, handed out in turn (a student is on one demo case)."""

    def __init__(self, district: District) -> None:
        self.students = Person.objects.filter(district=district, kind=Person.Kind.STUDENT, merged_into__isnull=True)
        # The intake demo's reports name the district's first students: kept for their own cases.
        self.used: set[int] = set(self.students.order_by("pk").values_list("pk", flat=True)[:4])

    def student(self, school: School) -> Person | None:
        """A student of ``school`` not on a demo case yet (any student when the roster has none there)."""
        free = self.students.exclude(pk__in=self.used)
        person = (
            free.filter(enrollments__school=school, enrollments__status="active").order_by("pk").first()
            or free.order_by("-pk").first()
        )
        if person is not None:
            self.used.add(person.pk)
        return person

    def guardian_of(self, student: Person) -> Person | None:
        link = GuardianLink.objects.filter(student=student, guardian__merged_into__isnull=True).order_by("pk").first()
        return link.guardian if link else None


def _intake_reports(district: District) -> dict[int, Report]:
    """The intake demo's reports still waiting in the queue, by their index in its REPORTS."""
    narratives = {item.narrative: index for index, item in enumerate(INTAKE_REPORTS)}
    found: dict[int, Report] = {}
    for report in Report.objects.filter(district=district, case_link__isnull=True, status__in=Report.OPEN_STATUSES):
        index = narratives.get(report.narrative)
        if index is not None and index not in found:
            found[index] = report
    return found


class _Player:
    """Plays one story: the case's actions in time order, each at its moment (time never goes back
    within a story, so the case's last activity is its last action)."""

    def __init__(
        self,
        story: Story,
        *,
        now: dt.datetime,
        accounts: dict[str, User],
        schools: dict[str, School],
        roster: _Roster,
        intake: dict[int, Report],
        outbox_from: int,
    ) -> None:
        self.story, self.now, self.accounts, self.roster = story, now, accounts, roster
        self.schools, self.intake, self.outbox_from = schools, intake, outbox_from
        self.school = schools[story.school]
        self.leader = accounts["leader"]
        manager = accounts.get(story.manager)
        self.manager = manager if manager and self.school.pk in manager.school_ids(*access.TEAM_ROLES) else self.leader
        self.start = now - dt.timedelta(days=story.opened)
        self.end = now - dt.timedelta(days=story.closed if story.closed is not None else story.quiet)
        self.last = self.start - dt.timedelta(hours=3)
        self.case: Case | None = None
        self.reports: list[Report] = []
        self.tasks: dict[int, Task] = {}
        # The case's assessments, plan and monitoring (btam/assessments/demo_plans.py).
        self.plan = PlanPlayer(self, story.plan) if story.plan is not None else None

    # Time ------------------------------------------------------------------------------------------

    def when(self, fraction: float) -> dt.datetime:
        end = self.end if self.end > self.start else self.start + (self.now - self.start) * 0.9
        return self.start + (end - self.start) * fraction

    def freeze(self, at: dt.datetime) -> None:
        clock.freeze(min(max(at, self.last), self.now))

    def today(self) -> dt.date:
        return timezone.localdate(clock.now())

    def settle(self) -> None:
        """What the worker does right after an action (emails excepted), at the same moment."""
        pending = OutboxMessage.objects.filter(pk__gt=self.outbox_from, state=OutboxMessage.State.PENDING)
        for pk in pending.exclude(kind=EMAIL_KIND).order_by("pk").values_list("pk", flat=True):
            outbox.deliver(pk)
        self.last = clock.now()

    # People ----------------------------------------------------------------------------------------

    def current(self) -> Case:
        assert self.case is not None
        self.case = Case.objects.select_related("manager").get(pk=self.case.pk)
        return self.case

    def account(self, key: str) -> User:
        """The account ``key`` if it may work the case now, else the case manager."""
        case = self.current()
        user = self.accounts.get(key) if key != "manager" else None
        if user is not None and access.can_write(user, case):
            return user
        return case.manager or self.manager

    # The story -------------------------------------------------------------------------------------

    def play(self) -> Case:
        story = self.story
        events: list[tuple[float, Callable[[], object]]] = []

        def at(fraction: float, action: Callable[[], object]) -> None:
            events.append((fraction, action))

        subject = self.roster.student(self.school) if (story.subject or story.incoming) else None
        self.open_case(subject)
        at(0.02, lambda: self.add_people(subject))
        if story.screening:
            at(0.08, self.record_screening)
        if story.restricted:
            at(0.1, self.restrict)
        reached = STAGES.index(Status(story.stage))
        if reached >= 1:
            at(0.12, lambda: self.move(Status.EVALUATION))
        if reached >= 2:  # the level was decided by then (the plan's assessment)
            at(0.42, lambda: self.move(Status.MANAGEMENT))
        if story.transfer:
            at(0.55, self.transfer)
        if reached >= 3:
            at(0.7, lambda: self.move(Status.MONITORING))
        for i, note in enumerate(story.notes):
            spread = 0.85 * i / (len(story.notes) - 1) if len(story.notes) > 1 else 0.25
            at(note.at if note.at is not None else 0.05 + spread, partial(self.add_note, note))
        for i, task in enumerate(story.tasks):
            created = task.at if task.at is not None else 0.1 + 0.5 * i / len(story.tasks)
            at(created, partial(self.add_task, i, task))
            if task.done or story.closed is not None:
                at(min(0.95, created + 0.25), partial(self.complete_task, i))
        for i, kind in enumerate(story.documents):
            at(0.45 + 0.1 * i, partial(self.add_document, kind))
        for i, (question, reply) in enumerate(story.thread):
            # A reply to what the team wrote on the report's page, before the case: the newest thing.
            at(0.2 + 0.3 * i if question else 1.0, partial(self.converse, question, reply))
        if self.plan is not None:  # after the case's own: its moves come first at the same moment
            for fraction, action in self.plan.events():
                at(fraction, action)
        # sorted() is stable: events at the same moment keep the order above.
        for fraction, action in sorted(events, key=lambda e: e[0]):
            self.freeze(self.when(fraction) if fraction < 1 else self.now)
            action()
            self.settle()
        self.finish()
        return self.current()

    def open_case(self, subject: Person | None) -> None:
        story = self.story
        if story.intake:
            self.reports = [self.intake[i] for i in story.intake if i in self.intake]
            if self.reports:  # opened after the reports came in
                self.start = max(self.start, max(r.created_at for r in self.reports) + dt.timedelta(minutes=3))
        elif story.incoming:
            self.freeze(self.start - dt.timedelta(hours=2))
            self.reports = [self.submit(story.incoming, subject)]
            self.settle()
        self.freeze(self.start)
        self.case = actions.do_open_case(
            actor=self.manager,
            school=self.school,
            title=story.title,
            summary=story.summary,
            reports=self.reports,
            manager=self.manager,
        )
        self.settle()

    def submit(self, incoming: DemoIncoming, subject: Person | None) -> Report:
        teacher = self.accounts.get("teacher") if incoming.staff_referral else None
        people = []
        if subject is not None and teacher is not None:  # a staff referral picks the student in the registry
            people.append(intake_actions.NamedPerson(role=InvolvedPerson.Role.SUBJECT, person_id=subject.pk))
        elif subject is not None:
            people.append(intake_actions.NamedPerson(name=subject.display_name, role=InvolvedPerson.Role.SUBJECT))
        submitted = intake_actions.do_submit_report(
            new=intake_actions.NewReport(
                school=self.school,
                narrative=incoming.narrative,
                channel=Channel.STAFF if teacher else Channel.WEB,
                weapon=incoming.weapon,
                self_harm=incoming.self_harm,
                how_known=incoming.how_known,
                location=incoming.location,
                people=people,
                reporter_role=incoming.reporter_role,
                reporter_name=teacher.full_name if teacher else "",
                with_receipt=teacher is None,
            ),
            actor=teacher,
        )
        return submitted.report

    def add_people(self, subject: Person | None) -> None:
        story = self.story
        case = self.current()
        actor = self.manager
        # Free-text names from the reports that are roster students: linked to their records (a
        # second report naming the same student in the same role: its entry is taken off).
        for row in CaseParticipant.objects.filter(case=case, person__isnull=True, removed_at__isnull=True):
            named = subject is not None and row.name == subject.display_name
            person = subject if named else self.registry_match(row.name)
            if person is None:
                continue
            self.roster.used.add(person.pk)
            try:
                participant_actions.do_link_participant(actor=actor, case=case, participant=row, person=person)
            except CaseError:
                participant_actions.do_remove_participant(actor=actor, case=case, participant=row)
            if row.role == Role.SUBJECT:
                subject = person
        on_case = set(
            CaseParticipant.objects.filter(case=case, removed_at__isnull=True, person__isnull=False).values_list(
                "person_id", flat=True
            )
        )
        if subject is not None and subject.pk not in on_case:
            participant_actions.do_add_participant(actor=actor, case=case, role=Role.SUBJECT, person=subject)
        if subject is not None:
            guardian = self.roster.guardian_of(subject)
            if guardian is not None:
                participant_actions.do_add_participant(actor=actor, case=case, role=Role.GUARDIAN, person=guardian)
        if story.target:
            target = self.roster.student(self.school)
            if target is not None:
                participant_actions.do_add_participant(actor=actor, case=case, role=Role.TARGET, person=target)
        for role, name, description in story.people:
            participant_actions.do_add_participant(
                actor=actor, case=case, role=role, name=name, description=description
            )

    def registry_match(self, name: str) -> Person | None:
        given, _, family = name.strip().partition(" ")
        if not given or not family:
            return None
        return (
            Person.objects.filter(
                district_id=self.school.district_id,
                kind=Person.Kind.STUDENT,
                merged_into__isnull=True,
                given_name=given,
                family_name=family,
            )
            .order_by("pk")
            .first()
        )

    def record_screening(self) -> None:
        story = self.story
        decision = ScreeningDecision.NO_FURTHER_ACTION if story.no_further_action else ScreeningDecision.EVALUATE
        actions.do_record_screening(
            actor=self.manager, case=self.current(), decision=decision, rationale=story.screening
        )

    def restrict(self) -> None:
        do_set_restricted(actor=self.leader, case=self.current(), restricted=True, reason=self.story.restricted)

    def move(self, to_status: str) -> None:
        actions.do_transition(actor=self.account("manager"), case=self.current(), to_status=to_status)

    def transfer(self) -> None:
        """The leader transfers the case; the new school's counselor becomes its manager."""
        assert self.story.transfer is not None
        slug, reason = self.story.transfer
        case = do_transfer_case(actor=self.leader, case=self.current(), to_school=self.schools[slug], reason=reason)
        counselor = self.accounts.get("counselor")
        if counselor is not None and counselor.pk in {u.pk for u in access.assignable_users(case)}:
            clock.advance(hours=1)
            actions.do_update_case(
                actor=self.leader, case=case, title=case.title, summary=case.summary, manager=counselor
            )

    def add_note(self, note: DemoNote) -> None:
        note_actions.do_add_note(
            actor=self.account(note.author),
            case=self.current(),
            kind=note.kind,
            occurred_on=self.today(),
            body=note.body,
        )

    def due_on(self, due: str, *, done: bool) -> dt.date | None:
        """A due date for a task written today (the frozen day): a task done since was due a week
        later; overdue ones fall before the real today, the others after it."""
        today, real_today = self.today(), timezone.localdate(self.now)
        if done and due:
            return today + dt.timedelta(days=7)
        if due == "overdue":
            return today + dt.timedelta(days=max(0, (real_today - today).days - 1) // 2)
        if due == "today":
            return max(today, real_today)
        if due == "soon":
            return real_today + dt.timedelta(days=3)
        if due == "later":
            return real_today + dt.timedelta(days=14)
        return None

    def add_task(self, index: int, task: DemoTask) -> None:
        self.tasks[index] = task_actions.do_add_task(
            actor=self.account("manager"),
            case=self.current(),
            title=task.title,
            assignee=self.account(task.assignee),
            due_on=self.due_on(task.due, done=task.done or self.story.closed is not None),
        )

    def complete_task(self, index: int) -> None:
        task = self.tasks[index]
        actor = task.assignee or self.account("manager")
        task_actions.do_set_task_status(actor=actor, task=task, status=Task.Status.DONE)

    def add_document(self, kind: str) -> None:
        title, upload = _upload(kind, self.story.title)
        document_actions.do_upload_document(
            actor=self.account("manager"), case=self.current(), title=title, upload=upload
        )

    def converse(self, question: str, reply: str) -> None:
        """The team writes to the reporter; the reporter reads it and answers hours later."""
        report = next((r for r in self.reports if r.receipt_hash), None)
        if report is None:
            return
        if question:
            do_message_reporter(actor=self.account("manager"), case=self.current(), report=report, body=question)
            clock.advance(hours=5)
        if reply:
            intake_actions.do_mark_thread_read_by_reporter(report=report)
            intake_actions.do_post_reporter_message(report=report, body=reply)
            if self.story.quiet > 0:  # on the newest case the reply is still new to the team
                self.settle()
                clock.advance(hours=2)
                do_mark_reporter_messages_read(actor=self.account("manager"), case=self.current())

    def finish(self) -> None:
        story = self.story
        if story.closure:
            reason, closure_note = story.closure
            self.freeze(self.end - dt.timedelta(hours=3))
            case = actions.do_request_closure(
                actor=self.account("manager"), case=self.current(), reason=reason, note=closure_note
            )
            self.settle()
            if not story.pending_closure and not case.is_closed:
                self.freeze(self.end)
                actions.do_approve_closure(actor=self.leader, case=self.current())
                self.settle()
        if story.reopened:
            days, reason = story.reopened
            self.freeze(self.now - dt.timedelta(days=days))
            actions.do_reopen_case(actor=self.leader, case=self.current(), reason=reason)
            for note in story.after_reopen:
                self.freeze(clock.now() + dt.timedelta(hours=20))
                self.add_note(note)
            self.settle()
            if self.plan is not None:
                self.plan.after_reopen(self.step)

    def step(self) -> None:
        """A few hours later (after what the worker does meanwhile)."""
        self.settle()
        self.freeze(clock.now() + dt.timedelta(hours=3))


def _read_old_notifications(since_pk: int, now: dt.datetime) -> int:
    """The demo team opened its inbox: items older than READ_AFTER are read (each by its recipient)."""
    from btam.notifications.actions import do_open_notification
    from btam.notifications.models import Notification

    opened = 0
    old = Notification.objects.filter(pk__gt=since_pk, read_at__isnull=True, created_at__lt=now - READ_AFTER)
    for item in old.select_related("recipient").order_by("created_at", "pk"):
        clock.freeze(item.created_at + dt.timedelta(hours=3))
        opened += do_open_notification(actor=item.recipient, notification=item)
    return opened


def load_demo_cases(district: District) -> int:
    """Add the demo cases once (nothing when the district already has cases). Returns how many."""
    from btam.notifications.models import Notification

    if Case.objects.filter(district=district).exists():
        return 0
    accounts = demo_accounts("leader", "counselor", "sro", "teacher")
    if "leader" not in accounts:
        return 0
    schools = {s.slug: s for s in School.objects.filter(district=district)}
    stories = [s for s in STORIES if s.school in schools and (s.transfer is None or s.transfer[0] in schools)]
    roster = _Roster(district)
    made = 0
    with _own_clock(), transaction.atomic():
        now = clock.now()
        last_notification = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        last_message = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        intake = _intake_reports(district)
        # Oldest first: case numbers follow the order the cases were opened in.
        for story in sorted(stories, key=lambda s: -s.opened):
            _Player(
                story,
                now=now,
                accounts=accounts,
                schools=schools,
                roster=roster,
                intake=intake,
                outbox_from=last_message,
            ).play()
            made += 1
        _read_old_notifications(last_notification, now)
    return made
