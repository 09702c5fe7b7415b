"""Public pages kept rendered whole, with holes for the few values that differ between responses.

The empty report form of a school is the same page for every anonymous visitor in a language but
for two values (the CSRF token and the form's one-time submission token); a receipt is the same for
every report of a school but for the receipt code and the CSRF token. Such a page is rendered once
per process and key with a marker in place of each of those values, kept in the process's memory
(the "local" cache, which a saved school or district clears), and each response is the kept page
with the markers replaced by this response's values. Rendering the page in full took most of the
time of these requests.

What is kept never holds a token or a code: only markers, which carry a random part made when the
process starts, so no text on a page (a school's name, a crisis line) can contain one. A value put
in a hole must be made of letters, digits, "-" and "_" (tokens and codes are): it cannot change the
page's markup, and anything else is refused with ValueError.

A page is kept only where its full render would be the same for any visitor: never with DEBUG on
(an edited template shows at once), never for a signed-in user (the navigation is theirs), never
while messages wait to be shown (they are shown once). Those responses are rendered in full.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render as render_in_full
from django.template.loader import render_to_string
from django.utils import translation

KEEP_SECONDS = 600
CSRF = "csrf_token"  # the hole the {% csrf_token %} tag fills, always present
_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_NAME = re.compile(r"[A-Za-z_]+")
_PROCESS = secrets.token_hex(8)


def marker(name: str) -> str:
    """What stands in a kept page for the value of the hole ``name``."""
    return f"btamhole{_PROCESS}:{name}:"


_MARKERS = re.compile(f"btamhole{_PROCESS}:([A-Za-z_]+):")


def keepable(request: HttpRequest) -> bool:
    if settings.DEBUG:
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    return len(get_messages(request)) == 0  # counted, not read: they stay for the full render


def render(
    request: HttpRequest,
    template_name: str,
    context: dict[str, Any],
    *,
    key: str,
    holes: dict[str, str],
    status: int = 200,
) -> HttpResponse:
    """The page ``template_name`` with ``context`` and the ``holes`` (name -> this response's
    value, each also a context variable), from the kept copy for ``key`` when it can be kept.

    ``key`` names everything the page shows besides fixed text and the holes (the school, its name,
    its crisis line, addresses); the template, the language and the request's path are added here.
    """
    for name, value in holes.items():
        if name == CSRF or not _SAFE.fullmatch(value) or not _NAME.fullmatch(name):
            raise ValueError(f"The hole {name!r} of a kept page takes letters, digits, '-' and '_' only.")
    if not keepable(request):
        return render_in_full(request, template_name, {**context, **holes}, status=status)
    names = [CSRF, *holes]
    identity = "\x1f".join([template_name, key, translation.get_language() or "", request.path, *names])
    cache_key = "pagecache:" + hashlib.sha256(identity.encode()).hexdigest()
    local = caches["local"]
    parts = local.get(cache_key)
    if parts is None:
        page = render_to_string(template_name, {**context, **{n: marker(n) for n in names}}, request=request)
        if any(value in page for value in holes.values()):
            # A hole's value was rendered where no marker stood (say, through a form field made
            # with it): keeping this page would give that value to every visitor. Never kept.
            return render_in_full(request, template_name, {**context, **holes}, status=status)
        # Kept cut at its markers: text, hole name, text, hole name, ..., text.
        parts = tuple(_MARKERS.split(page))
        local.set(cache_key, parts, KEEP_SECONDS)
    values = {CSRF: get_token(request), **holes}  # get_token also has the CSRF cookie set
    filled = list(parts)
    filled[1::2] = [values[name] for name in parts[1::2]]  # a value is never searched for markers
    return HttpResponse("".join(filled), status=status)
