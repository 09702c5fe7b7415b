"""Kept pages (btam.lib.pagecache): values checked before they go in a hole; pages kept only where
every visitor would get the same full render (see also intake/tests/test_public_fast_paths.py)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.cache import caches
from django.test import Client, RequestFactory

from btam.intake.tests.public_helpers import form_url, isolated, make_school
from btam.lib import pagecache
from btam.testing import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path) -> Any:
    caches["local"].clear()
    with isolated(tmp_path):
        yield
    caches["local"].clear()


def _request(path: str = "/report/") -> Any:
    request = RequestFactory().get(path)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    return request


@pytest.mark.parametrize("value", ["", "a b", "<script>", 'x"y', "é", "a\nb", "x;y"])
def test_only_letters_digits_dash_and_underscore_go_in_a_hole(value: str) -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        pagecache.render(_request(), "intake/public/receipt.html", {}, key="k", holes={"code": value})


def test_the_csrf_hole_is_the_pages_own() -> None:
    with pytest.raises(ValueError):
        pagecache.render(_request(), "intake/public/receipt.html", {}, key="k", holes={"csrf_token": "abc"})


def test_a_kept_page_never_shows_a_marker_and_always_sets_the_csrf_cookie() -> None:
    school = make_school()
    for _ in range(3):
        client = Client()
        response = client.get(form_url(school))
        html = response.content.decode()
        assert "btamhole" not in html
        assert "csrftoken" in response.cookies
    kept = "".join(str(pickle.loads(v)) for v in caches["local"]._cache.values())  # noqa: S301, SLF001
    assert pagecache.marker("csrf_token") in kept and pagecache.marker("submission_token") in kept


def test_with_messages_waiting_the_page_is_rendered_in_full_and_they_are_kept_for_it() -> None:
    request = _request()
    from django.contrib import messages

    messages.info(request, "A message for this visitor only.")
    assert not pagecache.keepable(request)
    assert len(get_messages(request)) == 1


def test_a_signed_in_user_gets_the_page_in_full(world: Any) -> None:
    school = make_school()
    user = make_member("team_member", world.district, [world.school])
    anonymous = Client().get(form_url(school)).content.decode()
    client = Client()
    client.force_login(user)

    html = client.get(form_url(school)).content.decode()

    assert "Sign out" in html and "Sign out" not in anonymous
    assert "Sign out" not in "".join(str(v) for v in caches["local"]._cache.values())  # noqa: SLF001
