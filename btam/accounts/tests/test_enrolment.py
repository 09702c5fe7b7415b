"""TOTP is required: an account without it is sent to enrolment from every data page; enrolment
shows a QR code and the secret, then recovery codes; every change is audited."""

from __future__ import annotations

import base64
import re

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client, TestCase
from django.urls import reverse

from btam.accounts.models import Role, User
from btam.accounts.tests.helpers import submit_code, submit_password, totp_code, wrong_code
from btam.audit.models import AuditEvent, Verb
from btam.lib import crypto
from btam.orgs.models import District
from btam.testing import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(district: District) -> User:
    """A team leader whose account has no second factor yet."""
    return make_member(Role.TEAM_LEADER, district, totp=False, full_name="Nia Test-Newcomer")


@pytest.fixture
def newcomer_client(newcomer: User) -> Client:
    """Signed in with the password only (there is no second factor to ask for yet)."""
    client = Client()
    response = submit_password(client, newcomer.email)
    assert response.status_code == 302
    return client


def verbs_about(user: User) -> list[str]:
    qs = AuditEvent.objects.filter(target_type="accounts.user", target_id=str(user.pk)).order_by("id")
    return list(qs.values_list("verb", flat=True))


def enrol(client: Client) -> str:
    """Open the enrolment page and answer with a code from the secret it shows; returns the secret.

    allauth sends its "authenticator added" signals (and so our audit events) after the commit.
    """
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    return str(secret)


@pytest.mark.parametrize(
    "url_name", ["core:home", "accounts_security", "account_change_password", "audit:list", "admin:index"]
)
def test_an_account_without_totp_is_sent_to_enrolment_from_data_pages(newcomer_client: Client, url_name: str) -> None:
    response = newcomer_client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_enrolment_and_sign_out_stay_reachable_before_the_second_factor(newcomer_client: Client) -> None:
    assert newcomer_client.get(reverse("mfa_activate_totp")).status_code == 200
    assert newcomer_client.get(reverse("mfa_index")).status_code == 200
    assert newcomer_client.post(reverse("account_logout")).status_code == 302
    assert "_auth_user_id" not in newcomer_client.session


def test_the_enrolment_page_shows_a_qr_code_and_the_secret(newcomer_client: Client, newcomer: User) -> None:
    response = newcomer_client.get(reverse("mfa_activate_totp"))
    html = response.content.decode()
    secret = newcomer_client.session[SECRET_SESSION_KEY]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert f'value="{secret}"' in html

    match = re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)
    assert match, "no QR code image on the enrolment page"
    svg = base64.b64decode(match.group(1)).decode()
    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    assert "<svg" in svg and "<path" in svg or "<rect" in svg
    # The QR code carries the otpauth URL of this account with the issuer name.
    url = response.context["totp_url"]
    assert url.startswith("otpauth://totp/") and f"secret={secret}" in url and "issuer=OpenBTAM" in url


def test_enrolment_stores_the_secret_encrypted_then_shows_and_downloads_recovery_codes(
    newcomer_client: Client, newcomer: User
) -> None:
    secret = enrol(newcomer_client)

    totp = Authenticator.objects.get(user=newcomer, type=Authenticator.Type.TOTP)
    assert totp.data["secret"] != secret
    assert crypto.decrypt_text(totp.data["secret"]) == secret

    page = newcomer_client.get(reverse("mfa_view_recovery_codes"))
    assert page.status_code == 200
    codes = page.context["unused_codes"]
    assert len(codes) == 10
    html = page.content.decode()
    assert all(code in html for code in codes)

    download = newcomer_client.get(reverse("mfa_download_recovery_codes"))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/plain")
    assert "attachment" in download["Content-Disposition"]
    assert all(code in download.content.decode() for code in codes)

    assert Verb.MFA_ENABLED in verbs_about(newcomer)
    assert Verb.RECOVERY_CODES_GENERATED in verbs_about(newcomer)
    # Now the data pages open.
    assert newcomer_client.get(reverse("core:home")).status_code == 200


def test_a_wrong_enrolment_code_is_refused_and_nothing_is_saved(newcomer_client: Client, newcomer: User) -> None:
    newcomer_client.get(reverse("mfa_activate_totp"))
    secret = newcomer_client.session[SECRET_SESSION_KEY]
    response = newcomer_client.post(reverse("mfa_activate_totp"), {"code": wrong_code(totp_code(secret))})
    assert response.status_code == 200
    assert "That code is wrong" in response.content.decode()
    assert not Authenticator.objects.filter(user=newcomer).exists()
    assert Verb.MFA_ENABLED not in verbs_about(newcomer)


def test_regenerating_recovery_codes_replaces_them_and_is_audited(newcomer_client: Client, newcomer: User) -> None:
    enrol(newcomer_client)
    old = set(newcomer_client.get(reverse("mfa_view_recovery_codes")).context["unused_codes"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = newcomer_client.post(reverse("mfa_generate_recovery_codes"))
    assert response.status_code == 302
    new = set(newcomer_client.get(reverse("mfa_view_recovery_codes")).context["unused_codes"])
    assert new and not new & old
    assert verbs_about(newcomer).count(Verb.RECOVERY_CODES_GENERATED) == 2


def test_removing_totp_is_audited_and_sends_the_account_back_to_enrolment(
    newcomer_client: Client, newcomer: User
) -> None:
    enrol(newcomer_client)
    response = newcomer_client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=newcomer).exists()
    assert verbs_about(newcomer).count(Verb.MFA_DISABLED) == 2  # the TOTP and its recovery codes
    assert newcomer_client.get(reverse("core:home"))["Location"] == reverse("mfa_activate_totp")


def test_a_recovery_code_signs_in_once(newcomer: User) -> None:
    setup = Client()
    submit_password(setup, newcomer.email)
    enrol(setup)
    code = setup.get(reverse("mfa_view_recovery_codes")).context["unused_codes"][0]

    client = Client()
    assert submit_password(client, newcomer.email)["Location"] == reverse("mfa_authenticate")
    assert submit_code(client, code).status_code == 302
    assert client.session["_auth_user_id"] == str(newcomer.pk)

    again = Client()
    submit_password(again, newcomer.email)
    assert submit_code(again, code).status_code == 200
    assert "_auth_user_id" not in again.session


def test_after_five_minutes_second_factor_changes_ask_for_the_password_again(
    newcomer_client: Client, newcomer: User
) -> None:
    enrol(newcomer_client)
    session = newcomer_client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {**record, "at": record["at"] - 6 * 60} for record in session[AUTHENTICATION_METHODS_SESSION_KEY]
    ]
    session.save()
    before = Authenticator.objects.get(user=newcomer, type=Authenticator.Type.RECOVERY_CODES).pk
    response = newcomer_client.post(reverse("mfa_generate_recovery_codes"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert Authenticator.objects.get(user=newcomer, type=Authenticator.Type.RECOVERY_CODES).pk == before
