from django.contrib import admin

from btam.core.admin_site import DistrictScopedAdmin
from btam.orgs.models import District, School


@admin.register(District)
class DistrictAdmin(DistrictScopedAdmin):
    district_lookup = "pk"
    list_display = ["name", "slug", "kind", "state"]
    search_fields = ["name", "slug"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return bool(request.user.is_superuser)


@admin.register(School)
class SchoolAdmin(DistrictScopedAdmin):
    list_display = ["name", "district", "level", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "slug"]
