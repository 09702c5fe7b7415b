"""The fictitious demo district. Every name here is invented; never put real data in it.

Idempotent: running it again changes nothing. Later issues add students and cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from btam.accounts.models import Membership, Role, User
from btam.audit.models import AuditEvent, Verb
from btam.orgs.models import District, School

DEMO_PASSWORD = "Cedar-Ridge-demo-2026"  # noqa: S105 (fictitious demo accounts, refused unless DEMO_MODE)
DEMO_DOMAIN = "cedar-ridge.demo.test"

SCHOOLS = [
    ("cedar-ridge-high", "Cedar Ridge High School (demo)", School.Level.HIGH),
    ("juniper-middle", "Juniper Middle School (demo)", School.Level.MIDDLE),
    ("alder-elementary", "Alder Elementary School (demo)", School.Level.ELEMENTARY),
    ("ridgeview-academy", "Ridgeview Alternative Academy (demo)", School.Level.ALTERNATIVE),
]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: str
    schools: tuple[str, ...] = ()  # empty: the whole district


ACCOUNTS = [
    DemoAccount(f"leader@{DEMO_DOMAIN}", "Dana Whitfield (demo team leader)", Role.TEAM_LEADER),
    DemoAccount(
        f"counselor@{DEMO_DOMAIN}", "Marcus Oyelaran (demo counselor)", Role.TEAM_MEMBER, ("cedar-ridge-high",)
    ),
    DemoAccount(f"sro@{DEMO_DOMAIN}", "Priya Castellanos (demo SRO)", Role.RAPID_RESPONSE, ("cedar-ridge-high",)),
    DemoAccount(f"dbmanager@{DEMO_DOMAIN}", "Tomás Lindqvist (demo database manager)", Role.DATABASE_MANAGER),
    DemoAccount(f"backup@{DEMO_DOMAIN}", "Grace Abernathy (demo backup administrator)", Role.BACKUP_ADMIN),
    DemoAccount(f"auditor@{DEMO_DOMAIN}", "Wendell Park (demo auditor)", Role.AUDITOR),
    DemoAccount(f"teacher@{DEMO_DOMAIN}", "Lucia Ferrante (demo teacher)", Role.REFERRING_STAFF, ("juniper-middle",)),
    DemoAccount(f"viewer@{DEMO_DOMAIN}", "Harold Nakamura (demo district viewer)", Role.DISTRICT_VIEWER),
    DemoAccount(f"sysadmin@{DEMO_DOMAIN}", "Ines Moreau (demo system administrator)", Role.SYSTEM_ADMIN),
]


@transaction.atomic
def load_demo_district() -> tuple[District, bool]:
    """Create the demo district, its schools and one account per role. Returns (district, created)."""
    district, created = District.objects.get_or_create(
        slug="cedar-ridge-demo",
        defaults={
            "name": "Cedar Ridge Unified School District (fictitious demo)",
            "kind": District.Kind.K12,
            "state": "VA",
            "crisis_line": "988",
            "is_demo": True,
        },
    )
    schools = {}
    for slug, name, level in SCHOOLS:
        schools[slug], _ = School.objects.get_or_create(
            district=district, slug=slug, defaults={"name": name, "level": level}
        )
    for account in ACCOUNTS:
        user = User.objects.filter(email=account.email).first()
        if user is None:
            user = User.objects.create_user(account.email, DEMO_PASSWORD, full_name=account.full_name, is_demo=True)
        membership, m_created = Membership.objects.get_or_create(user=user, district=district, role=account.role)
        if m_created and account.schools:
            membership.schools.set([schools[s] for s in account.schools])
    if created:
        AuditEvent.objects.record(actor=None, actor_label="load_demo", verb=Verb.DEMO_LOADED, target=district)
    return district, created
