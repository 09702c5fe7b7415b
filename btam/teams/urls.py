from django.urls import path

from btam.teams import views

app_name = "teams"

urlpatterns = [
    path("", views.team_list, name="list"),
    path("new/", views.team_create, name="create"),
    path("settings/", views.team_settings, name="settings"),
    path("settings/disciplines/", views.discipline_add, name="discipline_add"),
    path("settings/disciplines/<int:discipline_pk>/", views.discipline_active, name="discipline_active"),
    path("away/", views.away, name="away"),
    path("away/<int:absence_pk>/end/", views.away_end, name="away_end"),
    path("<int:pk>/", views.team_detail, name="detail"),
    path("<int:pk>/members/add/", views.member_add, name="member_add"),
    path("<int:pk>/members/<int:member_pk>/", views.member_edit, name="member_edit"),
    path("<int:pk>/members/<int:member_pk>/remove/", views.member_remove, name="member_remove"),
    path("<int:pk>/leaders/", views.leaders, name="leaders"),
]
