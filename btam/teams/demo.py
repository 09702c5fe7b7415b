"""The demo district's teams: one per demo school, made through the real actions.

Every name is invented. A few extra staff accounts (no password: they cannot sign in) fill the
tables. Cedar Ridge High is led by the demo team leader (leader@...), has a deputy, a
rapid-response subgroup with the SRO and covers every discipline of the district's own rule;
Juniper Middle misses mental health, Alder Elementary misses more and is too small, Ridgeview has
no leader yet. A school psychologist is away this week with the demo counselor as backup.
Idempotent: nothing is done when the district has teams already.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from btam.accounts.models import Membership, Role, User
from btam.core.demo import DEMO_DOMAIN
from btam.lib import clock
from btam.orgs.models import District, School
from btam.teams import actions
from btam.teams.models import Team


@dataclass(frozen=True)
class DemoStaff:
    local: str  # the address before @DEMO_DOMAIN
    full_name: str
    school: str  # slug
    role: str = Role.TEAM_MEMBER


# Extra staff (not sign-in accounts): team members named on one school.
STAFF = [
    DemoStaff("ray.okafor", "Ray Okafor (demo school psychologist)", "cedar-ridge-high"),
    DemoStaff("helen.vasquez", "Helen Vasquez (demo assistant principal)", "cedar-ridge-high"),
    DemoStaff("jordan.blake", "Jordan Blake (demo classroom teacher)", "cedar-ridge-high"),
    DemoStaff("nadia.karim", "Nadia Karim (demo school nurse)", "cedar-ridge-high"),
    DemoStaff("sofia.reyes", "Sofia Reyes (demo counselor)", "juniper-middle"),
    DemoStaff("liam.chen", "Liam Chen (demo school resource officer)", "juniper-middle"),
    DemoStaff("grace.muller", "Grace Muller (demo teacher)", "juniper-middle"),
    DemoStaff("owen.pruitt", "Owen Pruitt (demo assistant principal)", "juniper-middle"),
    DemoStaff("ben.adler", "Ben Adler (demo counselor)", "alder-elementary"),
    DemoStaff("ana.torres", "Ana Torres (demo teacher)", "alder-elementary"),
    DemoStaff("kwame.mensah", "Kwame Mensah (demo dean)", "ridgeview-academy"),
    DemoStaff("iris.novak", "Iris Novak (demo counselor)", "ridgeview-academy"),
    DemoStaff("theo.grant", "Theo Grant (demo teacher)", "ridgeview-academy"),
    DemoStaff("maya.ellis", "Maya Ellis (demo school resource officer)", "ridgeview-academy"),
    DemoStaff("lucas.ward", "Lucas Ward (demo behavior specialist)", "ridgeview-academy"),
]

FAMILY = "family_engagement"

# school slug -> [(local, disciplines, membership, rapid response)]; "leader", "counselor", "sro" are
# the demo sign-in accounts.
TEAMS: dict[str, list[tuple[str, list[str], str, bool]]] = {
    "cedar-ridge-high": [
        ("leader", ["administration"], "core", False),
        ("helen.vasquez", ["administration", FAMILY], "core", True),
        ("counselor", ["counseling"], "core", False),
        ("sro", ["public_safety"], "core", True),
        ("ray.okafor", ["mental_health"], "core", False),
        ("jordan.blake", ["instruction"], "core", False),
        ("nadia.karim", ["healthcare"], "extended", False),
    ],
    "juniper-middle": [
        ("leader", ["administration"], "core", False),
        ("owen.pruitt", ["administration"], "core", False),
        ("sofia.reyes", ["counseling"], "core", False),
        ("liam.chen", ["public_safety"], "core", True),
        ("grace.muller", ["instruction"], "core", False),
    ],
    "alder-elementary": [
        ("leader", ["administration"], "core", False),
        ("ben.adler", ["counseling"], "core", False),
        ("ana.torres", ["instruction"], "core", False),
    ],
    "ridgeview-academy": [
        ("kwame.mensah", ["administration"], "core", False),
        ("iris.novak", ["counseling", "mental_health"], "core", False),
        ("theo.grant", ["instruction", "special_education"], "core", False),
        ("maya.ellis", ["public_safety"], "core", True),
        ("lucas.ward", ["behavior_management"], "extended", False),
    ],
}
LEADS = {
    "cedar-ridge-high": ("leader", "helen.vasquez"),
    "juniper-middle": ("leader", "owen.pruitt"),
    "alder-elementary": ("leader", None),
}
RULE = ["counseling", "instruction", "public_safety", "administration", "mental_health"]


def _email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


def _staff(district: District, schools: dict[str, School]) -> None:
    for person in STAFF:
        user = User.objects.filter(email=_email(person.local)).first()
        if user is None:
            user = User.objects.create_user(_email(person.local), None, full_name=person.full_name)
        membership, created = Membership.objects.get_or_create(user=user, district=district, role=person.role)
        if created:
            membership.schools.set([schools[person.school]])


def load_demo_teams(district: District) -> int:
    """Add the demo teams to the district; returns how many were added (0 when already loaded)."""
    if Team.objects.filter(district=district).exists():
        return 0
    manager = User.objects.filter(email=_email("dbmanager")).first()
    if manager is None:
        return 0
    schools = {s.slug: s for s in School.objects.filter(district=district)}
    with clock.restored(), transaction.atomic():
        now = clock.now()
        clock.freeze(now - dt.timedelta(days=120))
        _staff(district, schools)
        people = {u.email.split("@")[0]: u for u in User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")}
        actions.do_add_discipline(actor=manager, district=district, label="Family engagement")
        actions.do_save_settings(actor=manager, district=district, rule="own", required=RULE)
        made = 0
        for slug, members in TEAMS.items():
            if slug not in schools:
                continue
            clock.advance(days=1)
            team = actions.do_create_team(actor=manager, district=district, school=schools[slug])
            made += 1
            for local, codes, membership, rapid in members:
                actions.do_add_member(
                    actor=manager,
                    team=team,
                    user=people[local],
                    disciplines=codes,
                    membership=membership,
                    rapid_response=rapid,
                )
            if slug in LEADS:
                leader, deputy = LEADS[slug]
                actions.do_set_leaders(
                    actor=manager, team=team, leader=people[leader], deputy=people[deputy] if deputy else None
                )
        # This week: the school psychologist is away, the demo counselor covers.
        clock.freeze(now)
        today = timezone.localdate(now)
        actions.do_mark_away(
            actor=people["ray.okafor"],
            district=district,
            starts_on=today - dt.timedelta(days=1),
            ends_on=today + dt.timedelta(days=3),
            backups=[people["counselor"]],
        )
    return made
