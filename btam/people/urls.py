from django.urls import path

from btam.people import imports_views, views

app_name = "people"

# Numbers only in these paths: a person's name or id never goes in a URL (the search is a POST).
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/merge/", views.merge_pick, name="merge_pick"),
    path("<int:pk>/merge/<int:duplicate_pk>/", views.merge_confirm, name="merge_confirm"),
    path("merges/", views.merge_list, name="merge_list"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
    # Roster imports (imports_views.py).
    path("imports/", imports_views.import_list, name="import_list"),
    path("imports/new/", imports_views.import_new, name="import_new"),
    path("imports/<int:pk>/", imports_views.import_detail, name="import_detail"),
]
