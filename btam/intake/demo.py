"""Fictitious demo reports for the demo district, made through the real intake action.

Every text here is invented. The people named are fictitious students of the generated demo
roster, so the triage queue shows surge grouping and a person's page connects the dots.
One demo report gets a fixed, published receipt code (``DEMO_RECEIPT_CODE``) so a newcomer can try
the reporter's follow-up page; a real report's code is random and never stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from btam.accounts.models import User
from btam.intake import receipt
from btam.intake.actions import NamedPerson, NewReport, do_post_team_message, do_submit_report
from btam.intake.models import Channel, HowKnown, InvolvedPerson, Report, ReporterRole, YesNoUnknown
from btam.lib import clock
from btam.orgs.models import District, School
from btam.people.models import Person

DEMO_RECEIPT_CODE = "DEM0-2026-0000-0001"


@dataclass(frozen=True)
class DemoReport:
    school: str
    narrative: str
    hours_ago: float
    student: int | None = None  # index of a demo student to name (the same index: the same person)
    role: str = InvolvedPerson.Role.SUBJECT
    danger_now: bool = False
    weapon: str = YesNoUnknown.NO
    self_harm: str = YesNoUnknown.NO
    threat_in_days: int | None = None
    how_known: str = HowKnown.HEARD
    reporter_role: str = ReporterRole.UNSAID
    location: str = ""
    team_messages: list[str] = field(default_factory=list)
    channel: str = Channel.WEB


REPORTS = [
    DemoReport(
        "cedar-ridge-high",
        "A student said at lunch that he would bring his dad's gun to the game on Friday and that "
        "everyone would be sorry. Some people laughed but he did not look like he was joking.",
        0.3,
        student=0,
        weapon=YesNoUnknown.YES,
        threat_in_days=3,
        location="Cafeteria, second lunch",
        reporter_role=ReporterRole.STUDENT,
        team_messages=["Thank you for telling us. Did anyone else hear what he said? You can answer here."],
    ),
    DemoReport(
        "cedar-ridge-high",
        "There is a post going around with a picture of the school and the words 'you will see on Friday'. "
        "It was shared in the class group chat. https://example.invalid/post/4821",
        2,
        how_known=HowKnown.ONLINE,
        reporter_role=ReporterRole.STUDENT,
    ),
    DemoReport(
        "cedar-ridge-high",
        "Everyone is sharing this post about Friday: https://example.invalid/post/4821?utm_source=share "
        "I am scared to come to school.",
        1.5,
        how_known=HowKnown.ONLINE,
    ),
    DemoReport(
        "cedar-ridge-high",
        "My friend wrote in a message tonight that she does not want to be here anymore and that she has "
        "been giving her things away.",
        0.1,
        student=1,
        role=InvolvedPerson.Role.TARGET,
        self_harm=YesNoUnknown.YES,
        how_known=HowKnown.ONLINE,
        reporter_role=ReporterRole.STUDENT,
    ),
    DemoReport(
        "juniper-middle",
        "Two boys keep pushing a younger student into the lockers after PE and calling him names. "
        "It happens almost every day.",
        26,
        student=2,
        role=InvolvedPerson.Role.TARGET,
        how_known=HowKnown.SAW,
        reporter_role=ReporterRole.PARENT,
    ),
    DemoReport(
        "juniper-middle",
        "A student drew pictures of people being hurt in his notebook and wrote the names of teachers next to them.",
        50,
        student=3,
        weapon=YesNoUnknown.UNKNOWN,
        how_known=HowKnown.SAW,
        reporter_role=ReporterRole.STAFF,
    ),
    DemoReport(
        "alder-elementary",
        "A parent at pickup was shouting that he would 'deal with' the principal and hit the office window.",
        5,
        how_known=HowKnown.SAW,
        reporter_role=ReporterRole.PARENT,
        location="Front office, afternoon pickup",
    ),
    DemoReport(
        "ridgeview-academy",
        "Someone said there is a knife in a backpack in room 12 right now.",
        0.05,
        danger_now=True,
        weapon=YesNoUnknown.YES,
        how_known=HowKnown.TOLD,
    ),
    DemoReport(
        "cedar-ridge-high",
        "He said at lunch he would bring a gun to the game on Friday and everyone would be sorry.",
        0.2,
        student=0,
        weapon=YesNoUnknown.YES,
        threat_in_days=3,
        reporter_role=ReporterRole.STUDENT,
    ),
    DemoReport(
        "juniper-middle",
        "A girl in my class said someone is going to 'get what is coming' after the dance. I don't know who she meant.",
        72,
        threat_in_days=10,
        how_known=HowKnown.HEARD,
    ),
]


def _students(district: District, count: int) -> list[Person]:
    return list(
        Person.objects.filter(district=district, kind=Person.Kind.STUDENT, merged_into__isnull=True).order_by("pk")[
            :count
        ]
    )


def load_demo_reports(district: District) -> int:
    """Add the demo reports once (nothing when the district already has reports). Returns how many."""
    if Report.objects.filter(district=district).exists():
        return 0
    schools = {s.slug: s for s in School.objects.filter(district=district)}
    students = _students(district, 4)
    team_writer = User.objects.filter(email__startswith="counselor@", is_demo=True).first()
    made = 0
    with transaction.atomic():
        for index, item in enumerate(REPORTS):
            school = schools.get(item.school)
            if school is None:
                continue
            people = []
            if item.student is not None and item.student < len(students):
                person = students[item.student]
                people.append(NamedPerson(name=f"{person.given_name} {person.family_name}", role=item.role))
            threat_date = (
                clock.now().date() + dt.timedelta(days=item.threat_in_days) if item.threat_in_days is not None else None
            )
            submitted = do_submit_report(
                new=NewReport(
                    school=school,
                    narrative=item.narrative,
                    channel=item.channel,
                    danger_now=item.danger_now,
                    weapon=item.weapon,
                    self_harm=item.self_harm,
                    threat_date=threat_date,
                    how_known=item.how_known,
                    location=item.location,
                    people=people,
                    reporter_role=item.reporter_role,
                ),
                actor=None,
            )
            report = submitted.report
            # Spread the demo over the last days (the queue sorts by age within an urgency).
            created_at = clock.now() - dt.timedelta(hours=item.hours_ago)
            updates: dict[str, object] = {"created_at": created_at}
            if index == 0:
                updates["receipt_hash"] = receipt.hash_code(DEMO_RECEIPT_CODE)
            Report.objects.filter(pk=report.pk).update(**updates)
            if team_writer is not None:
                for text in item.team_messages:
                    do_post_team_message(actor=team_writer, report=report, body=text)
            made += 1
    return made
