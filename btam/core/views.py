"""The signed-in home page, health check and error pages."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from btam.core.access import PUBLIC, SIGNED_IN, policy
from btam.orgs.models import District, School

logger = logging.getLogger(__name__)


@policy(SIGNED_IN)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The workspace: the user's districts and schools, and (later issues) their cases."""
    user = request.user
    schools = School.objects.visible_to(user).select_related("district")  # type: ignore[arg-type]
    districts = District.objects.visible_to(user)  # type: ignore[arg-type]
    memberships = user.active_memberships  # type: ignore[union-attr]
    return render(
        request,
        "core/home.html",
        {"schools": schools, "districts": districts, "memberships": memberships},
    )


_migrations_applied = False


def _pending_migrations() -> int:
    global _migrations_applied
    if _migrations_applied:
        return 0
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        _migrations_applied = True
    return len(plan)


@policy(PUBLIC)
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For a load balancer: 200 when the database answers and the schema is current, else 503."""
    from btam.worker.heartbeat import worker_status

    checks: dict[str, object] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        pending = _pending_migrations()
        checks["migrations"] = "ok" if pending == 0 else f"{pending} pending"
        healthy = pending == 0
        checks["worker"] = worker_status()
    except DatabaseError:
        logger.exception("Health check: database unreachable")
        checks["database"] = "unreachable"
        healthy = False
    body = {"status": "ok" if healthy else "error", "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors, no request data: the page must not fail or reveal anything.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
