"""1EdTech OneRoster 1.1 and 1.2 CSV bundles (bulk and delta).

What is stored: orgs (every one as a SourceOrg; a ``school`` also as a School, a ``department``
mapped to its parent school when that is known), users (as Person: kind from the role, userIds
into other_ids, identifier as local id, preferred names and pronouns from 1.2), guardian links
from ``agentSourcedIds``, enrolments (with the school resolved through the org), birth dates from
demographics.csv and, only where the district turns demographics on, the rest of that file.
Classes, courses, sessions, user profiles and the rest are read and checked, not stored.
Passwords (users.csv, userProfiles.csv) are never read into anything that is stored.

Statuses: ``active`` (or blank, in a bulk file) creates or updates; ``tobedeleted`` makes an
existing row inactive; ``inactive`` (OneRoster 1.0) is taken as ``tobedeleted`` with a warning.
An enrolment whose end date is past is stored inactive: the person has left that class or school.

A bulk file does NOT deactivate the district's rows that it leaves out: exports are often split
by school or partial, and one such upload would otherwise retire half the registry. The summary
says how many existing rows a bulk file did not mention (``not_in_file``); retire them with a
delta file whose rows are ``tobedeleted``.
"""

from __future__ import annotations

from typing import ClassVar

from btam.people.importers.base import Bundle, FormatImporter, ImportContext
from btam.people.importers.oneroster.apply import Applier
from btam.people.importers.oneroster.checks import Checker
from btam.people.importers.oneroster.spec import MANIFEST, kind_for_role, parse_user_ids

__all__ = ["OneRosterImporter", "kind_for_role", "parse_user_ids"]


class OneRosterImporter(FormatImporter):
    name: ClassVar[str] = "oneroster"

    def __init__(self, ctx: ImportContext) -> None:
        super().__init__(ctx)
        self.checker = Checker(ctx)

    @classmethod
    def sniff(cls, bundle: Bundle) -> bool:
        return bundle.has(MANIFEST) or bundle.has("users.csv") or bundle.has("orgs.csv")

    def validate(self) -> None:
        self.checker.validate()

    def apply(self) -> None:
        Applier(self.ctx, self.checker).apply()
