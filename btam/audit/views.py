from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from btam.audit.access import AUDIT_READER_ROLES
from btam.audit.models import AuditEvent
from btam.core.access import policy, roles


@policy(roles(*AUDIT_READER_ROLES))
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.visible_to(request.user)[:100]  # type: ignore[arg-type]
    return render(request, "audit/event_list.html", {"events": events})
