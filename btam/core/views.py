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
    from btam.cases.workspace import summary

    return render(
        request,
        "core/home.html",
        {
            "schools": schools,
            "districts": districts,
            "memberships": memberships,
            "cases": summary(user),  # type: ignore[arg-type]
        },
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
    """For a load balancer: can this web node serve requests?

    503 ("error") when the database does not answer or migrations are pending: the node cannot
    serve. 200 otherwise. A stale or missing worker heartbeat is reported (status "degraded",
    ``checks.worker.status`` "stale" or "none") but keeps 200: the worker is a separate process,
    and taking every web node out of the load balancer because it is behind would turn delayed
    emails into an outage. Alert on ``checks.worker.status`` from monitoring instead.
    """
    from btam.worker.heartbeat import worker_status

    checks: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        pending = _pending_migrations()
    except DatabaseError as exc:
        logger.error("Health check: database unreachable (%s)", type(exc).__name__)
        checks["database"] = "unreachable"
        return JsonResponse({"status": "error", "checks": checks}, status=503)
    checks["migrations"] = "ok" if pending == 0 else f"{pending} pending"
    try:
        worker: dict[str, object] = dict(worker_status())
    except DatabaseError:  # e.g. the heartbeat table is one of the pending migrations
        worker = {"status": "unknown"}
    checks["worker"] = worker
    if pending:
        status, code = "error", 503
    elif worker["status"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", {"error_page": True}, status=403)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "400.html", {"error_page": True}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", {"error_page": True}, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", {"error_page": True}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors, no request data: the page must not fail or reveal anything.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
