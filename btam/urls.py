from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from btam.core import views as core_views

urlpatterns = [
    path("", include("btam.core.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("btam.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("audit/", include("btam.audit.urls")),
    path("people/", include("btam.people.urls")),
    path("report/", include("btam.intake.urls_public")),
    path("intake/", include("btam.intake.urls")),
    path("cases/", include("btam.cases.urls")),
    path("", include("btam.assessments.urls")),
    path("inbox/", include("btam.notifications.urls")),
    path("teams/", include("btam.teams.urls")),
    path("", include("btam.discussion.urls")),
    path("", include("btam.meetings.urls")),
    path("board/", include("btam.board.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
]

handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error
