"""OneRoster CSV: file names, required columns per version, vocabularies and small parsers."""

from __future__ import annotations

import re

from btam.people.models import Person

MANIFEST = "manifest.csv"
VERSIONS = {"1.0": "1.1", "1.1": "1.1", "1.2": "1.2"}
COMMON = ("sourcedId", "status", "dateLastModified")

# Columns that must be present, per file and version (others may be absent; extra ones are ignored).
REQUIRED: dict[str, dict[str, tuple[str, ...]]] = {
    "orgs.csv": {"1.1": (*COMMON, "name", "type"), "1.2": (*COMMON, "name", "type")},
    "users.csv": {
        "1.1": (*COMMON, "orgSourcedIds", "role", "username", "givenName", "familyName"),
        "1.2": (*COMMON, "username", "givenName", "familyName"),
    },
    "roles.csv": {"1.2": (*COMMON, "userSourcedId", "roleType", "role", "orgSourcedId")},
    "demographics.csv": {"1.1": COMMON, "1.2": COMMON},
    "enrollments.csv": {
        "1.1": (*COMMON, "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
        "1.2": (*COMMON, "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
    },
}
# Read in this order (references point backwards), then the files that are only checked.
IMPORTED = ("orgs.csv", "users.csv", "roles.csv", "demographics.csv", "enrollments.csv")
CHECKED_ONLY = (
    "academicSessions.csv",
    "categories.csv",
    "classes.csv",
    "classResources.csv",
    "courses.csv",
    "courseResources.csv",
    "lineItems.csv",
    "lineItemLearningObjectiveIds.csv",
    "lineItemScoreScales.csv",
    "resources.csv",
    "results.csv",
    "resultLearningObjectiveIds.csv",
    "resultScoreScales.csv",
    "scoreScales.csv",
    "userProfiles.csv",
    "userResources.csv",
)
KNOWN_FILES = frozenset(IMPORTED + CHECKED_ONLY)
LINKS = "users.csv (guardian links)"  # the summary line of the links made from agentSourcedIds

STUDENT_ROLES = frozenset({"student"})
GUARDIAN_ROLES = frozenset({"parent", "guardian", "relative"})
STAFF_ROLES = frozenset(
    {
        "teacher",
        "administrator",
        "aide",
        "proctor",
        "counselor",
        "principal",
        "districtadministrator",
        "siteadministrator",
        "systemadministrator",
    }
)
ROLES = STUDENT_ROLES | GUARDIAN_ROLES | STAFF_ROLES
ORG_TYPES = frozenset({"department", "school", "district", "local", "state", "national"})
ROLE_TYPES = frozenset({"primary", "secondary"})
DEMOGRAPHIC_COLUMNS = (
    "sex",
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
    "countryOfBirthCode",
    "stateOfBirthAbbreviation",
    "cityOfBirth",
    "publicSchoolResidenceStatus",
)
DEMOGRAPHIC_FLAGS = frozenset(DEMOGRAPHIC_COLUMNS[1:8])
# users.csv column -> (Person field, max length); checked in pass 1 so the database never truncates.
USER_TEXT = (
    ("username", "username", 255),
    ("givenName", "given_name", 150),
    ("middleName", "middle_name", 150),
    ("familyName", "family_name", 150),
    ("identifier", "local_id", 255),
    ("email", "email", 254),
    ("userMasterIdentifier", "state_id", 100),
    ("preferredGivenName", "preferred_given_name", 150),
    ("preferredMiddleName", "preferred_middle_name", 150),
    ("preferredFamilyName", "preferred_family_name", 150),
    ("pronouns", "pronouns", 60),
)
MAX_ID = 255
_USER_ID = re.compile(r"\{([^{}:]*):([^{}]*)\}")
STATE_ID_TYPES = frozenset({"state", "stateid", "state_id", "ssid", "statestudentid"})
PERSON_FIELDS = [
    "kind",
    "source_role",
    "state_id",
    "local_id",
    "username",
    "email",
    "other_ids",
    "given_name",
    "middle_name",
    "family_name",
    "preferred_given_name",
    "preferred_middle_name",
    "preferred_family_name",
    "pronouns",
    "grade",
    "status",
    "search_name",
    "source_modified",
    "updated_at",
]
ENROLLMENT_FIELDS = [
    "person",
    "school",
    "org_source_id",
    "class_source_id",
    "role",
    "primary",
    "begin_date",
    "end_date",
    "status",
]
SOURCEORG_FIELDS = ["name", "type", "identifier", "parent_source_id", "school", "status"]


def kind_for_role(role: str) -> str:
    low = role.lower()
    if low in STUDENT_ROLES:
        return Person.Kind.STUDENT
    if low in GUARDIAN_ROLES:
        return Person.Kind.GUARDIAN
    return Person.Kind.STAFF  # teachers, administrators, aides... and ext: roles


def parse_user_ids(value: str) -> tuple[list[dict[str, str]], str]:
    """``{LDAP:12},{LTI:15}`` -> ([{"type": "LDAP", "id": "12"}, ...], text that was not understood)."""
    found = [{"type": t.strip(), "id": i.strip()} for t, i in _USER_ID.findall(value)]
    rest = _USER_ID.sub("", value).replace(",", "").strip()
    return found, rest


def valid_role(role: str) -> bool:
    low = role.lower()
    return low in ROLES or low.startswith("ext:")


class Aggregate:
    """A warning that may occur on many rows, reported once with a count and the first line."""

    def __init__(self) -> None:
        self.count = 0
        self.first = 0

    def hit(self, line: int) -> None:
        self.count += 1
        if not self.first:
            self.first = line


def get(row: list[str], index: int | None) -> str:
    """The stripped value of an optional column (blank when the file has no such column)."""
    return row[index].strip() if index is not None else ""
