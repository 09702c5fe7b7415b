"""The fictitious demo district. Every name here is invented; never put real data in it.

Idempotent: running it again changes nothing. Its people come from a generated roster imported
through the real importer (``load_demo_roster``). Later issues add cases.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from btam.accounts.models import Membership, Role, User
from btam.audit.models import AuditEvent, Verb
from btam.orgs.models import District, School
from btam.people.models import ImportRun

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
def demo_accounts(*keys: str) -> dict[str, User]:
    """The active demo accounts named by the start of their address (``"leader"`` for
    leader@<DEMO_DOMAIN>), by that name; those missing are left out."""
    wanted = {f"{key}@{DEMO_DOMAIN}": key for key in keys}
    return {wanted[u.email]: u for u in User.objects.filter(email__in=list(wanted), is_demo=True, is_active=True)}


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


# The demo roster: made by btam.people.roster_gen with a fixed seed (the same people every time).
DEMO_STUDENTS = 3000
DEMO_ROSTER_SEED = 2026
# Which generated school (by level, in the roster's order) becomes which demo school.
_LEVEL_OF = {
    School.Level.ELEMENTARY: "elementary",
    School.Level.MIDDLE: "middle",
    School.Level.HIGH: "high",
}


def load_demo_roster(district: District, *, students: int = DEMO_STUDENTS) -> ImportRun | None:
    """Import a generated roster of ``students`` fictitious students into the demo district.

    Through ``run_import``, as an upload would be. Once: when the district already has an
    imported roster nothing is done (None is returned), so a second ``load_demo`` is quick.
    """
    from btam.people.importers import run_import
    from btam.people.roster_gen import write_bundle

    if ImportRun.objects.filter(district=district, dry_run=False, status=ImportRun.Status.SUCCEEDED).exists():
        return None
    with tempfile.TemporaryDirectory(prefix="btam-demo-roster-") as folder:
        bundle = Path(folder) / "roster"
        write_bundle(bundle, students=students, schools=len(SCHOOLS), seed=DEMO_ROSTER_SEED)
        _map_schools(district, bundle / "orgs.csv")
        run = ImportRun.objects.create(district=district)
        return run_import(run, bundle, actor=None, actor_label="load_demo")


def _map_schools(district: District, orgs_csv: Path) -> None:
    """Make the generated schools the demo district's own four: each demo school takes the source id
    of a generated school of its level (the alternative academy takes the one left over), and the
    bundle carries the demo school's name, so the importer neither adds schools nor renames them."""
    with orgs_csv.open(encoding="utf-8", newline="") as text:
        rows = list(csv.reader(text))
    header, body = rows[0], rows[1:]
    i_sid, i_name, i_type = header.index("sourcedId"), header.index("name"), header.index("type")
    generated = [row for row in body if row[i_type] == "school"]
    demo = list(School.objects.filter(district=district).order_by("pk"))
    chosen: dict[int, list[str]] = {}
    for school in demo:
        level = _LEVEL_OF.get(School.Level(school.level))
        match = next((r for r in generated if level and level in r[i_name].lower() and r not in chosen.values()), None)
        if match is not None:
            chosen[school.pk] = match
    leftovers = [r for r in generated if r not in chosen.values()]
    for school in demo:
        if school.pk not in chosen and leftovers:
            chosen[school.pk] = leftovers.pop(0)
    for school in demo:
        row = chosen.get(school.pk)
        if row is None:
            continue
        row[i_name] = school.name
        if school.source_id != row[i_sid]:
            school.source_id = row[i_sid]
            school.save(update_fields=["source_id"])
    with orgs_csv.open("w", encoding="utf-8", newline="") as text:
        csv.writer(text, lineterminator="\r\n").writerows([header, *body])
