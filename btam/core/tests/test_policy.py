"""Deny by default: a view without a declared policy answers 403 to everyone; PUBLIC opens a view
to all; roles(...) opens it to holders of those roles, sends anonymous visitors to sign in and
refuses everyone else."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from django.views import View

import btam.urls
from btam.accounts.models import Role, User
from btam.core import views as core_views
from btam.core.access import PUBLIC, SIGNED_IN, policy, roles

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def no_policy(request: HttpRequest) -> HttpResponse:
    return HttpResponse("should never be seen")


@policy(PUBLIC)
def public(request: HttpRequest) -> HttpResponse:
    return HttpResponse("public page")


@policy(SIGNED_IN)
def signed_in(request: HttpRequest) -> HttpResponse:
    return HttpResponse("signed-in page")


@policy(roles(Role.TEAM_LEADER, Role.RAPID_RESPONSE))
def leaders_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("leaders page")


class NoPolicyView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("should never be seen")


@policy(roles(Role.AUDITOR))
class AuditorView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("auditor page")


urlpatterns = [
    path("t/no-policy/", no_policy, name="t_no_policy"),
    path("t/public/", public, name="t_public"),
    path("t/signed-in/", signed_in, name="t_signed_in"),
    path("t/leaders/", leaders_only, name="t_leaders"),
    path("t/class-no-policy/", NoPolicyView.as_view(), name="t_class_no_policy"),
    path("t/class-auditor/", AuditorView.as_view(), name="t_class_auditor"),
    *btam.urls.urlpatterns,
]
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found


def everyone_signed_in(world: Any) -> dict[str, User]:
    return {**world.users, "outsider": world.outsider, "no_role": world.no_role}


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_a_view_without_a_policy_is_refused_to_every_role_and_to_anonymous(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="btam.core.access"):
        for who, user in everyone_signed_in(world).items():
            client = client_for(user)
            for url in ("/t/no-policy/", "/t/class-no-policy/"):
                response = client.get(url)
                assert response.status_code == 403, f"{url} as {who}"
                assert b"should never be seen" not in response.content
        anonymous = Client()
        assert anonymous.get("/t/no-policy/").status_code == 403
        assert anonymous.post("/t/no-policy/").status_code == 403
    assert "No access policy declared" in caplog.text


def test_a_public_view_is_open_to_everyone(world: Any) -> None:
    for user in [None, *everyone_signed_in(world).values()]:
        response = client_for(user).get("/t/public/")
        assert response.status_code == 200
        assert response.content == b"public page"


def test_a_signed_in_view_is_open_to_every_account_and_sends_anonymous_to_sign_in(world: Any) -> None:
    for user in everyone_signed_in(world).values():
        assert client_for(user).get("/t/signed-in/").status_code == 200
    response = Client().get("/t/signed-in/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/t/signed-in/"


def test_a_roles_view_is_open_only_to_those_roles(world: Any) -> None:
    allowed = {Role.TEAM_LEADER.value, Role.RAPID_RESPONSE.value, "outsider"}  # outsider leads another district
    for who, user in everyone_signed_in(world).items():
        response = client_for(user).get("/t/leaders/")
        expected = 200 if who in allowed else 403
        assert response.status_code == expected, f"/t/leaders/ as {who}"
    anonymous = Client().get("/t/leaders/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/accounts/login/?next=/t/leaders/"


def test_a_class_based_view_takes_its_policy_from_the_class(world: Any) -> None:
    assert client_for(world.users[Role.AUDITOR]).get("/t/class-auditor/").status_code == 200
    assert client_for(world.users[Role.TEAM_LEADER]).get("/t/class-auditor/").status_code == 403
    assert Client().get("/t/class-auditor/").status_code == 302


def test_an_inactive_account_is_refused(world: Any) -> None:
    leader = world.users[Role.TEAM_LEADER]
    client = client_for(leader)
    User.objects.filter(pk=leader.pk).update(is_active=False)
    response = client.get("/t/leaders/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_refusal_page_says_access_denied_and_nothing_more(world: Any) -> None:
    response = client_for(world.users[Role.TEAM_MEMBER]).get("/t/leaders/")
    html = response.content.decode()
    assert "Access denied" in html
    assert "leaders page" not in html and "Traceback" not in html


@override_settings(DEMO_MODE=False)
def test_a_signed_in_account_without_a_second_factor_is_sent_to_enrolment_before_the_policy(world: Any) -> None:
    from allauth.mfa.models import Authenticator

    leader = world.users[Role.TEAM_LEADER]
    Authenticator.objects.filter(user=leader).delete()
    client = client_for(leader)
    assert client.get("/t/leaders/")["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/t/public/").status_code == 200
