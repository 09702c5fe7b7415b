"""Demo accounts skip the second factor only in demo mode, which shows a DEMO banner and which
`manage.py check --deploy` refuses (btam.E001). Outside demo mode they cannot sign in at all."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import Client, override_settings
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.accounts.tests.helpers import submit_password
from btam.audit.models import AuditEvent, Verb
from btam.orgs.models import District
from btam.testing import make_member

pytestmark = pytest.mark.django_db

BANNER = "btam-demo-banner"


@pytest.fixture
def demo_user(district: District) -> User:
    return make_member(Role.TEAM_LEADER, district, totp=False, is_demo=True, full_name="Dana Demo-Leader")


@override_settings(DEMO_MODE=True)
def test_in_demo_mode_a_demo_account_signs_in_without_totp_and_sees_the_banner(client: Client, demo_user: User) -> None:
    response = submit_password(client, demo_user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    home = client.get(reverse("core:home"))
    assert home.status_code == 200
    html = home.content.decode()
    assert BANNER in html and "DEMO" in html
    assert AuditEvent.objects.filter(verb=Verb.LOGIN, target_id=str(demo_user.pk)).count() == 1


@override_settings(DEMO_MODE=True)
def test_demo_mode_does_not_excuse_real_accounts_from_totp(client: Client, district: District) -> None:
    real = make_member(Role.TEAM_MEMBER, district, totp=False)
    submit_password(client, real.email)
    assert client.get(reverse("core:home"))["Location"] == reverse("mfa_activate_totp")


@override_settings(DEMO_MODE=False)
def test_outside_demo_mode_a_demo_account_cannot_sign_in(client: Client, demo_user: User) -> None:
    response = submit_password(client, demo_user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("account_login")).content.decode()
    assert "Demo accounts can only sign in while demo mode is on." in page
    assert BANNER not in page
    [refused] = AuditEvent.objects.filter(verb=Verb.LOGIN_FAILED)
    assert refused.target_id == str(demo_user.pk) and "DEMO_MODE is off" in refused.reason


@override_settings(DEMO_MODE=False)
def test_outside_demo_mode_a_demo_account_is_refused_even_with_totp(client: Client, district: District) -> None:
    demo_with_totp = make_member(Role.TEAM_LEADER, district, is_demo=True)
    response = submit_password(client, demo_with_totp.email)
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session


def test_a_demo_session_left_over_from_demo_mode_is_signed_out(client: Client, demo_user: User) -> None:
    with override_settings(DEMO_MODE=True):
        client.force_login(demo_user)
        assert client.get(reverse("core:home")).status_code == 200
    with override_settings(DEMO_MODE=False):
        response = client.get(reverse("core:home"))
        assert response.status_code == 302
        assert response["Location"] == reverse("account_login")
        assert "_auth_user_id" not in client.session
        # Not even the enrolment page is reachable.
        client.force_login(demo_user)
        assert client.get(reverse("mfa_activate_totp"))["Location"] == reverse("account_login")


def test_the_deploy_check_refuses_demo_mode() -> None:
    with override_settings(DEMO_MODE=True):
        assert "btam.E001" in {m.id for m in run_checks(include_deployment_checks=True)}
    with override_settings(DEMO_MODE=False):
        assert "btam.E001" not in {m.id for m in run_checks(include_deployment_checks=True)}
