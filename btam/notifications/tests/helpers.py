"""Shared test data of the notifications tests: one district with a school's whole team."""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from btam.accounts.models import Membership, Role, User
from btam.intake.actions import NamedPerson, NewReport, do_submit_report
from btam.intake.models import Report
from btam.orgs.models import District, School
from btam.testing import DistrictFactory, SchoolFactory, make_member
from btam.worker import outbox

T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)

# Case content that must never reach an email, a title or an outbox payload.
NARRATIVE = "Synthetic narrative: Quillon Testperson said he would bring something to the gym."
PERSON_NAME = "Quillon Testperson"
LOCATION = "Behind the synthetic gymnasium"
REPORTER_NAME = "Rhea Fictional-Reporter"
REPORTER_EMAIL = "reporter-notify@example.test"


@dataclass
class Team:
    district: District
    school: School  # "Lincoln Test High"
    other_school: School
    other_district: District
    rapid_named: User  # rapid response named on the school
    rapid_wide: User  # rapid response across the district
    rapid_other_school: User
    rapid_other_district: User
    rapid_inactive: User  # account switched off
    leader_named: User
    leader_wide: User
    leader_other_school: User
    member_named: User
    member_wide: User
    referring: User  # referring staff: never told about reports

    @property
    def rapid(self) -> set[User]:
        return {self.rapid_named, self.rapid_wide}

    @property
    def school_team(self) -> set[User]:
        """Everyone whose triage access covers the school."""
        return {
            self.rapid_named,
            self.rapid_wide,
            self.leader_named,
            self.leader_wide,
            self.member_named,
            self.member_wide,
        }

    @property
    def district_team(self) -> set[User]:
        return {self.leader_wide, self.member_wide}


def member(role: str, district: District, schools: list[School] | None = None, **kwargs: Any) -> User:
    return make_member(role, district, schools, totp=False, **kwargs)


def make_team() -> Team:
    district = DistrictFactory.create(name="Cedar Test District (fictitious)")
    school = SchoolFactory.create(district=district, name="Lincoln Test High")
    other_school = SchoolFactory.create(district=district, name="Maple Test Middle")
    other_district = DistrictFactory.create(name="Other Test District (fictitious)")
    other_district_school = SchoolFactory.create(district=other_district, name="Elsewhere Test High")
    inactive = member(Role.RAPID_RESPONSE, district, [school], is_active=False)
    # A switched-off access level of an active account counts for nothing either.
    switched_off = member(Role.RAPID_RESPONSE, district, [school])
    Membership.objects.filter(user=switched_off).update(is_active=False)
    return Team(
        district=district,
        school=school,
        other_school=other_school,
        other_district=other_district,
        rapid_named=member(Role.RAPID_RESPONSE, district, [school]),
        rapid_wide=member(Role.RAPID_RESPONSE, district),
        rapid_other_school=member(Role.RAPID_RESPONSE, district, [other_school]),
        rapid_other_district=member(Role.RAPID_RESPONSE, other_district, [other_district_school]),
        rapid_inactive=inactive,
        leader_named=member(Role.TEAM_LEADER, district, [school]),
        leader_wide=member(Role.TEAM_LEADER, district),
        leader_other_school=member(Role.TEAM_LEADER, district, [other_school]),
        member_named=member(Role.TEAM_MEMBER, district, [school]),
        member_wide=member(Role.TEAM_MEMBER, district),
        referring=member(Role.REFERRING_STAFF, district),
    )


def submit(school: School, **kwargs: Any) -> Report:
    """A report from the public form, with names, a place and a reporter's contact in it."""
    fields: dict[str, Any] = {
        "school": school,
        "narrative": NARRATIVE,
        "location": LOCATION,
        "people": [NamedPerson(name=PERSON_NAME, description="Synthetic grade 10 student")],
        "reporter_name": REPORTER_NAME,
        "notify_email": REPORTER_EMAIL,
    }
    fields.update(kwargs)
    return do_submit_report(new=NewReport(**fields), actor=None).report


def drain(rounds: int = 20) -> dict[str, int]:
    """Deliver everything due now, including what the deliveries queue (as the sweep does, 30 s
    apart; the clock does not move here)."""
    total: dict[str, int] = {}
    for _ in range(rounds):
        counts = outbox.sweep()
        if not counts:
            return total
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    raise AssertionError(f"the outbox did not settle after {rounds} sweeps: {total}")


@dataclass
class Received:
    """What a local SMTP server (aiosmtpd) accepted; ``refuse`` makes it refuse every recipient."""

    envelopes: list[Any] = field(default_factory=list)
    refuse: str = ""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[Message]:
        return [message_from_bytes(e.original_content or e.content) for e in self.envelopes]

    def bodies(self) -> list[str]:
        """The text of each message (single-part plain text, as Django sends it)."""
        texts = []
        for message in self.messages():
            payload = message.get_payload(decode=True)
            assert isinstance(payload, bytes)
            texts.append(payload.decode())
        return texts


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
