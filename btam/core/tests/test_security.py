"""Bad input gets a clear page and the right status, never a 500: tampered cookies and form
tokens, oversized requests. Every page carries the security headers; error pages reveal nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test import Client, override_settings
from django.urls import path, reverse

import btam.urls
from btam.accounts.models import Role, User
from btam.audit.models import AuditEvent
from btam.core import views as core_views
from btam.core.access import PUBLIC, policy
from btam.testing import TEST_PASSWORD, DistrictFactory, make_member

pytestmark = pytest.mark.django_db

SECRET_DETAIL = "internal-detail-7f3a"  # what a crash knows and a visitor must never see


@policy(PUBLIC)
def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(f"{SECRET_DETAIL} at /srv/openbtam/btam/secret_module.py")


# A URLconf for these tests: the real one plus a view that fails.
urlpatterns = [path("test-crash/", crash, name="test_crash"), *btam.urls.urlpatterns]
handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(db: None) -> User:
    """A team member with TOTP (a full account), in a district of their own."""
    return make_member(Role.TEAM_MEMBER, DistrictFactory.create())


def reveals_internals(html: str) -> bool:
    return any(s in html for s in ("Traceback", 'File "', ".py", "Exception", "Request Method", SECRET_DETAIL))


# Tampered cookies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cookie", ["garbage", "x" * 4096, "'; DROP TABLE django_session; --", "\u00e9\u00e8"])
def test_a_garbage_session_cookie_is_treated_as_signed_out(client: Client, cookie: str) -> None:
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get(reverse("account_login")).status_code == 200


def test_a_tampered_session_key_signs_nobody_in(client: Client, member: User) -> None:
    client.force_login(member)
    key = client.session.session_key
    assert key
    client.cookies[settings.SESSION_COOKIE_NAME] = key[:-1] + ("a" if key[-1] != "a" else "b")
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_tampered_messages_cookie_is_ignored(client: Client) -> None:
    client.cookies["messages"] = "forged:message:value"
    assert client.get(reverse("account_login")).status_code == 200


def test_a_tampered_form_token_gets_the_form_has_expired_page() -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("account_login"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    tampered = token.group(1)[:-4] + "AAAA"
    response = client.post(
        reverse("account_login"),
        {"csrfmiddlewaretoken": tampered, "login": "someone@example.test", "password": TEST_PASSWORD},
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form has expired" in html
    assert "CSRF" not in html and not reveals_internals(html)
    assert not AuditEvent.objects.exists()  # refused before anything was looked at or written


def test_a_post_without_the_form_token_cookie_gets_the_form_has_expired_page(member: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(reverse("accounts_sign_out_everywhere"), {"csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


# Oversized requests -------------------------------------------------------------------------------


def test_a_body_over_the_upload_limit_gets_400_and_nothing_is_written(client: Client) -> None:
    sessions_before = Session.objects.count()
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(
        reverse("account_login"),
        f"login={big}&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
    assert not reveals_internals(response.content.decode())
    assert not AuditEvent.objects.exists()
    assert Session.objects.count() == sessions_before


def test_a_multipart_field_over_the_limit_gets_400(client: Client) -> None:
    response = client.post(
        reverse("account_login"), {"login": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "password": "x"}
    )
    assert response.status_code == 400


def test_too_many_fields_gets_400(client: Client) -> None:
    fields = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.post(reverse("account_login"), fields, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_an_oversized_post_to_a_signed_in_form_gets_400_and_changes_nothing(member: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    page = client.get(reverse("accounts_security")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(
        reverse("accounts_sign_out_everywhere"),
        f"csrfmiddlewaretoken={token.group(1)}&a={big}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.session_generation == 0
    assert not AuditEvent.objects.exists()


# Security headers ---------------------------------------------------------------------------------


def assert_security_headers(response: HttpResponseBase) -> None:
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "no-store" in response["Cache-Control"]
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", response["X-Request-ID"])


def test_a_public_page_carries_the_security_headers(client: Client) -> None:
    assert_security_headers(client.get(reverse("account_login")))


def test_a_signed_in_data_page_carries_the_security_headers(client: Client, member: User) -> None:
    client.force_login(member)
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    assert_security_headers(response)


def test_a_well_formed_request_id_from_the_proxy_is_kept_and_a_malformed_one_replaced(client: Client) -> None:
    kept = client.get(reverse("account_login"), headers={"X-Request-ID": "proxy-id-12345678"})
    assert kept["X-Request-ID"] == "proxy-id-12345678"
    replaced = client.get(reverse("account_login"), headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert replaced["X-Request-ID"] != "<script>alert(1)</script>"
    assert re.fullmatch(r"[0-9a-f]{24}", replaced["X-Request-ID"])


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"|\son[a-z]+=\"", re.I)


@pytest.mark.parametrize("url_name", ["account_login", "account_reset_password", "core:home", "accounts_security"])
def test_pages_need_no_inline_script_or_style(client: Client, member: User, url_name: str) -> None:
    """The policy forbids inline code, so a page that relied on it would silently break."""
    if url_name not in {"account_login", "account_reset_password"}:
        client.force_login(member)
    html = client.get(reverse(url_name)).content.decode()
    assert not _INLINE_SCRIPT.search(html), _INLINE_SCRIPT.search(html)
    assert not _INLINE_STYLE.search(html), _INLINE_STYLE.search(html)


# Error pages --------------------------------------------------------------------------------------


def test_the_404_page_is_plain_and_carries_the_headers(client: Client) -> None:
    response = client.get("/no-such-page-z9q/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert not reveals_internals(html)
    assert_security_headers(response)


def test_the_403_page_is_plain(client: Client, member: User) -> None:
    client.force_login(member)
    response = client.get(reverse("audit:list"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Access denied" in html
    assert not reveals_internals(html)


@override_settings(ROOT_URLCONF=__name__)
def test_the_500_page_reveals_nothing(client: Client) -> None:
    client.raise_request_exception = False
    response = client.get("/test-crash/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert not reveals_internals(html)
    assert "test-crash" not in html
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/no-such-page-z9q/?q=echo-me", "/audit/?q=echo-me"])
def test_error_pages_do_not_echo_the_requested_path(client: Client, member: User, path: str) -> None:
    client.force_login(member)
    response = client.get(path)
    assert response.status_code in {403, 404}
    html = response.content.decode()
    assert "echo-me" not in html
    assert "no-such-page-z9q" not in html
