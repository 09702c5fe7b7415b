"""The floor: what any Django form page costs on this machine with this stack.

GET renders a small form with a CSRF token (through a template, as the report form does); POST
checks the token (the CSRF middleware), inserts one row into ``bench_floor`` (a table made with raw
SQL by bench/intake.py) and renders a small page with a receipt-like code, so the benchmark's client
checks it exactly as it checks a report's receipt. No model, no encryption, no audit, no outbox.
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template import engines
from django.views.decorators.http import require_http_methods

from btam.core.access import PUBLIC, policy

FORM = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>
<body><main>
<form method="post" action="{{ request.path }}">{% csrf_token %}
<label for="body">What happened</label>
<textarea id="body" name="body" required></textarea>
<button type="submit">Send</button>
</form>
</main></body></html>
"""
RECEIPT = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>
<body><main><p>Received. Your code: <strong>{{ code }}</strong></p></main></body></html>
"""


@cache
def _template(source: str) -> Any:  # a backend template, compiled once
    return engines["django"].from_string(source)


def _code() -> str:
    raw = secrets.token_hex(8).upper()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


@policy(PUBLIC)
@require_http_methods(["GET", "POST"])
def floor(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        body = request.POST.get("body", "")
        if not body.strip():
            return HttpResponseBadRequest("body is required")
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_floor (body) VALUES (%s)", [body])
        return HttpResponse(_template(RECEIPT).render({"code": _code()}, request))
    return HttpResponse(_template(FORM).render({}, request))
