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


def _kept_values() -> Any:
    return caches["local"]._cache  # type: ignore[attr-defined]  # noqa: SLF001 (LocMemCache's store)


def _kept_pages() -> list[tuple[str, ...]]:
    """The pages kept (each cut at its holes: text, hole, text, ...), not the school lookups."""
    values = [pickle.loads(v) for v in _kept_values().values()]  # noqa: S301 (our own cache)
    return [v for v in values if isinstance(v, tuple)]


def _request(path: str = "/report/") -> Any:
    request = RequestFactory().get(path)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
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
    holes = {name for parts in _kept_pages() for name in parts[1::2]}
    assert holes == {"csrf_token", "submission_token"}


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
    assert "Sign out" not in "".join(str(v) for v in _kept_values().values())  # noqa: SLF001


def test_a_page_that_shows_a_holes_value_elsewhere_is_never_kept() -> None:
    school = make_school()
    request = _request("/report/x/")
    context = {"school": school, "crisis": None, "followup_url": "https://example.test/"}
    # The template shows the code twice, both through the hole; a page that also showed it through
    # some other variable must not be kept (every visitor would get this code).
    page = pagecache.render(request, "intake/public/receipt.html", context, key="k", holes={"code": "AAAA"})
    assert "AAAA" in page.content.decode()
    assert pagecache.keepable(request)
    assert [set(parts[1::2]) for parts in _kept_pages()] == [{"code", "csrf_token"}]  # "AAAA" only in its holes

    caches["local"].clear()
    school.name = "Code AAAB High"  # shown on the receipt, outside the holes
    leaky = pagecache.render(request, "intake/public/receipt.html", context, key="k2", holes={"code": "AAAB"})
    assert leaky.content.decode().count("AAAB") >= 3
    assert not _kept_values()  # noqa: SLF001


def test_values_are_put_in_their_holes_in_one_pass() -> None:
    # A value that looks like another hole's marker stays as it is.
    school = make_school()
    request = _request("/report/x/")
    trick = pagecache.marker("csrf_token").replace(":", "_")  # a value may not hold ":"; close as it gets
    response = pagecache.render(
        request,
        "intake/public/receipt.html",
        {"school": school, "followup_url": "https://e.test/"},
        key="k3",
        holes={"code": trick},
    )
    assert trick in response.content.decode()
