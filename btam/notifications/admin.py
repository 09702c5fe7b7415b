"""Escalations in /admin/, read-only, for database managers checking who was told and when."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from btam.core.admin_site import DistrictScopedAdmin
from btam.notifications.models import Escalation


@admin.register(Escalation)
class EscalationAdmin(DistrictScopedAdmin):
    list_display = ["__str__", "district", "state", "step", "next_step_at", "started_at", "acknowledged_at"]
    list_filter = ["state"]
    readonly_fields = [
        "district",
        "target_type",
        "target_id",
        "state",
        "step",
        "next_step_at",
        "started_at",
        "acknowledged_at",
        "acknowledged_by",
        "history",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
