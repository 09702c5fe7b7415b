"""Case pages. Numbers only in these paths: no name or case content ever goes in a URL (searches
and filters of the case list are query strings of words the user typed, kept out of the logs'
reach by the list view's POST-to-GET handling, see list_views.py).

One namespace ("cases"); each area keeps its patterns in its own module."""

from django.urls import path

from btam.cases import (
    access_views,
    document_views,
    link_views,
    list_views,
    note_views,
    participant_views,
    task_views,
    timeline_views,
    views,
)

app_name = "cases"

urlpatterns = [
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/screening/", views.screening, name="screening"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/closure/", views.request_closure, name="request_closure"),
    path("<int:pk>/closure/approve/", views.approve_closure, name="approve_closure"),
    path("<int:pk>/closure/decline/", views.decline_closure, name="decline_closure"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    *list_views.urlpatterns,
    *note_views.urlpatterns,
    *task_views.urlpatterns,
    *document_views.urlpatterns,
    *timeline_views.urlpatterns,
    *participant_views.urlpatterns,
    *link_views.urlpatterns,
    *access_views.urlpatterns,
]
