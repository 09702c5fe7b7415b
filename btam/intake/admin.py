"""Reports in /admin/: a read-only list of their metadata, for a district's database managers and
system administrators. No content (narrative, names, messages, files): that is read on the audited
report page, by the school's team. Reports change only through the triage actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from btam.core.admin_site import DistrictScopedAdmin
from btam.intake.models import Report

# Metadata only: every encrypted field (narrative, names, contact, reasons) is left out.
_FIELDS = (
    "district",
    "school",
    "channel",
    "status",
    "urgency",
    "urgency_set_by_staff",
    "is_abuse",
    "surge_group",
    "referred_from",
    "duplicate_of",
    "acknowledged_at",
    "created_at",
    "updated_at",
)


@admin.register(Report)
class ReportAdmin(DistrictScopedAdmin):
    list_display = ["reference", "school", "channel", "status", "urgency", "is_abuse", "created_at"]
    list_filter = ["status", "channel", "urgency", "is_abuse"]
    list_select_related = ["school"]
    date_hierarchy = "created_at"
    fields = _FIELDS
    readonly_fields = _FIELDS
    ordering = ["-created_at"]
    show_full_result_count = False

    @admin.display(description="reference")
    def reference(self, obj: Report) -> str:
        return obj.reference

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
