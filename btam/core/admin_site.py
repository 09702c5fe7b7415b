"""/admin/ for database managers and system administrators, scoped to their own districts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from btam.accounts.models import ADMIN_ROLES


def admin_district_ids(request: HttpRequest) -> set[int]:
    user = request.user
    if not user.is_authenticated:
        return set()
    return user.district_ids(*ADMIN_ROLES)  # type: ignore[union-attr]


class BtamAdminSite(admin.AdminSite):
    site_header = "OpenBTAM administration"
    site_title = "OpenBTAM administration"
    index_title = "District data"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Deny by default: only admins that scope rows to the user's districts are registered.

        Third-party apps (auth groups, allauth email addresses and authenticators, task results)
        register admins that would show every district's rows; they are left out.
        """
        if admin_class is None or not issubclass(admin_class, DistrictScopedAdmin):
            return
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and (user.is_superuser or admin_district_ids(request)))


class DistrictScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows of the administrator's own districts only; no permission tables to maintain.

    ``district_lookup`` names the path from the model to its district.
    """

    district_lookup = "district"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.district_lookup}__in": admin_district_ids(request)})

    def _allowed(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser or admin_district_ids(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)

    # Every change made here is in the audit trail, like changes made through actions.
    def _audit(self, request: HttpRequest, obj: Model, verb: str, message: Any) -> None:
        from btam.audit.models import AuditEvent

        AuditEvent.objects.record(
            actor=request.user,  # type: ignore[arg-type]
            verb=verb,
            target=obj,
            district_id=self._district_id(obj),
            detail={"via": "admin", "change": str(message)[:2000]},
        )

    def _district_id(self, obj: Model) -> int | None:
        if self.district_lookup == "pk":
            return obj.pk  # type: ignore[no-any-return]
        value = getattr(obj, "district_id", None)
        return value if isinstance(value, int) else None

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, obj, "created", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, obj, "updated", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, obj, "deleted", "deleted")
        return super().log_deletions(request, queryset)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        if request.method == "GET":
            obj = self.get_object(request, object_id)
            if obj is not None:
                self._audit(request, obj, "viewed", "")
        return super().change_view(request, object_id, form_url, extra_context)
