from django.contrib import admin

from btam.accounts.models import Membership, User
from btam.core.admin_site import DistrictScopedAdmin


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    filter_horizontal = ["schools"]


@admin.register(User)
class UserAdmin(DistrictScopedAdmin):
    district_lookup = "memberships__district"
    list_display = ["email", "full_name", "is_active", "is_demo"]
    search_fields = ["email", "full_name"]
    fields = ["email", "full_name", "is_active"]
    inlines = [MembershipInline]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).distinct()
