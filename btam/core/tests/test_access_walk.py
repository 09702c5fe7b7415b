"""Walk every URL pattern as every role, a user of another district, a user with no access level
and an anonymous visitor, and check the expected allow or deny.

A new URL pattern must be added to EXPECTED (with its sample arguments): the completeness test
fails otherwise, so no page can ship without a declared policy and a test of it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from btam.accounts.models import Role
from btam.testing import ALL_SIGNED_IN, ANON, EVERYONE, NO_ROLE, OUTSIDER

ADMINS = frozenset({Role.DATABASE_MANAGER.value, Role.SYSTEM_ADMIN.value})
AUDIT_READERS = frozenset({Role.AUDITOR.value, Role.SYSTEM_ADMIN.value})
IMPORTERS = frozenset({Role.DATABASE_MANAGER.value, Role.BACKUP_ADMIN.value})
# The people registry: case roles and referring staff search it (each within their scope); team
# leaders and database managers (and backup admins) merge records. OUTSIDER leads a team elsewhere.
PEOPLE_SEARCHERS = frozenset(
    {
        Role.TEAM_MEMBER.value,
        Role.TEAM_LEADER.value,
        Role.RAPID_RESPONSE.value,
        Role.DATABASE_MANAGER.value,
        Role.BACKUP_ADMIN.value,
        Role.REFERRING_STAFF.value,
        OUTSIDER,
    }
)
PEOPLE_MERGERS = frozenset({Role.TEAM_LEADER.value, Role.DATABASE_MANAGER.value, Role.BACKUP_ADMIN.value, OUTSIDER})

# url name -> who may reach it. Names of admin patterns are matched by the "admin:" prefix.
EXPECTED: dict[str, frozenset[str]] = {
    "core:home": ALL_SIGNED_IN,
    "healthz": EVERYONE,
    "set_language": EVERYONE,
    "accounts_security": ALL_SIGNED_IN,
    "accounts_sign_out_everywhere": ALL_SIGNED_IN,
    "audit:list": AUDIT_READERS,
    "audit:export": AUDIT_READERS,
    "people:import_list": IMPORTERS,
    "people:import_new": IMPORTERS,
    "people:import_detail": IMPORTERS,
    "people:search": PEOPLE_SEARCHERS,
    "people:detail": PEOPLE_SEARCHERS,
    "people:merge_pick": PEOPLE_MERGERS,
    "people:merge_confirm": PEOPLE_MERGERS,
    "people:merge_list": PEOPLE_MERGERS,
    "people:merge_undo": PEOPLE_MERGERS,
    # allauth: signing in and recovering an account are public; the rest is the user's own account.
    "account_login": EVERYONE,
    "account_signup": EVERYONE,
    "account_inactive": EVERYONE,
    "account_reset_password": EVERYONE,
    "account_reset_password_done": EVERYONE,
    "account_reset_password_from_key": EVERYONE,
    "account_reset_password_from_key_done": EVERYONE,
    "account_confirm_email": EVERYONE,
    "account_email_verification_sent": EVERYONE,
    "account_confirm_login_code": EVERYONE,
    "mfa_authenticate": EVERYONE,
    "mfa_login_webauthn": EVERYONE,
    "account_logout": ALL_SIGNED_IN,
    "account_reauthenticate": ALL_SIGNED_IN,
    "account_request_reauthentication_code": ALL_SIGNED_IN,
    "account_confirm_reauthentication_code": ALL_SIGNED_IN,
    "account_email": ALL_SIGNED_IN,
    "account_change_password": ALL_SIGNED_IN,
    "account_set_password": ALL_SIGNED_IN,
    "mfa_index": ALL_SIGNED_IN,
    "mfa_reauthenticate": ALL_SIGNED_IN,
    "mfa_activate_totp": ALL_SIGNED_IN,
    "mfa_deactivate_totp": ALL_SIGNED_IN,
    "mfa_view_recovery_codes": ALL_SIGNED_IN,
    "mfa_generate_recovery_codes": ALL_SIGNED_IN,
    "mfa_download_recovery_codes": ALL_SIGNED_IN,
    "mfa_list_webauthn": ALL_SIGNED_IN,
    "mfa_add_webauthn": ALL_SIGNED_IN,
    "mfa_reauthenticate_webauthn": ALL_SIGNED_IN,
    "mfa_remove_webauthn": ALL_SIGNED_IN,
    "mfa_edit_webauthn": ALL_SIGNED_IN,
    "admin:": ADMINS,
    # Deleting rows and adding districts is for the deployment operator (superuser) only.
    "admin:orgs_district_add": frozenset(),
    "admin:orgs_district_delete": frozenset(),
    "admin:orgs_school_delete": frozenset(),
    "admin:accounts_user_delete": frozenset(),
    # Autocomplete answers only well-formed lookups of configured fields; a bare GET is refused.
    "admin:autocomplete": frozenset(),
}

SAMPLE_ARGS = {
    "pk": "1",
    "duplicate_pk": "2",
    "object_id": "1",
    "content_type_id": "1",
    "app_label": "orgs",
    "url": "no-such-page/",
    "uidb36": "1",
    "key": "not-a-valid-key",
}


def _app_tables() -> None:
    """Merge the tables of each app's ``tests/access_expectations*.py`` (EXPECTED, SAMPLE_ARGS), so
    apps add their URLs without all editing this file. A name declared twice is an error."""
    root = Path(__file__).resolve().parents[2]
    for path in sorted(root.glob("*/tests/access_expectations*.py")):
        module = importlib.import_module(f"btam.{path.parent.parent.name}.tests.{path.stem}")
        for name, allowed in getattr(module, "EXPECTED", {}).items():
            assert name not in EXPECTED, f"{name} is declared twice in the access tables ({path.name})"
            EXPECTED[name] = allowed
        for arg, value in getattr(module, "SAMPLE_ARGS", {}).items():
            assert SAMPLE_ARGS.get(arg, value) == value, f"sample argument {arg} declared twice with other values"
            SAMPLE_ARGS[arg] = value


_app_tables()

_GROUP = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _concrete(pattern: str) -> str:
    path = _GROUP.sub(lambda m: SAMPLE_ARGS[m.group(1) or m.group(2)], pattern)
    return "/" + path.replace("^", "").replace("$", "")


def walk(patterns: list[Any] | None = None, prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns + (f"{p.namespace}:" if p.namespace else ""))
        elif isinstance(p, URLPattern):
            yield ns + (p.name or ""), _concrete(prefix + str(p.pattern))


def expected_for(name: str) -> frozenset[str] | None:
    if name in EXPECTED:
        return EXPECTED[name]
    if name.startswith("admin:"):
        return EXPECTED["admin:"]
    return None


ALL_URLS = sorted(set(walk()))


def test_every_url_pattern_has_a_declared_expectation() -> None:
    missing = [name or path for name, path in ALL_URLS if expected_for(name) is None]
    assert not missing, f"URL patterns without an entry in EXPECTED (declare their policy and test): {missing}"


def test_the_walk_covers_every_pattern() -> None:
    assert len(ALL_URLS) >= 60  # allauth + admin + ours; a collapse of the walk would show here


def _client_for(principal: str, world: Any) -> Client:
    client = Client()
    if principal == ANON:
        return client
    user = {OUTSIDER: world.outsider, NO_ROLE: world.no_role}.get(principal) or world.users[principal]
    client.force_login(user)
    return client


def _policy_refused(response: Any) -> bool:
    """403, or the redirect to sign in that the policy gives an anonymous visitor."""
    location = response.get("Location", "")
    return response.status_code == 403 or (
        response.status_code == 302 and location.startswith("/accounts/login/?next=")
    )


@pytest.mark.django_db
@pytest.mark.parametrize("principal", sorted(EVERYONE))
def test_walk_every_url_as(principal: str, world: Any) -> None:
    client = _client_for(principal, world)
    wrong: list[str] = []
    for name, path in ALL_URLS:
        allowed = expected_for(name)
        assert allowed is not None
        response = client.get(path)
        assert response.status_code < 500, f"{path} answered {response.status_code} to {principal}"
        # Allowed: the policy lets the request through (the view may still answer 404 for an object
        # that does not exist). Denied: refused by the policy, or 404 (not visible to this user).
        refused = _policy_refused(response)
        ok = not refused if principal in allowed else (refused or response.status_code == 404)
        if not ok:
            wrong.append(
                f"{path} ({name}): expected {'allow' if principal in allowed else 'deny'}, "
                f"got {response.status_code} {response.get('Location', '')}"
            )
    assert not wrong, f"{principal}:\n" + "\n".join(wrong)
