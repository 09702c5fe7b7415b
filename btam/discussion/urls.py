"""The Discussion tab of a case, under ``/cases/<pk>/discussion/`` (numbers only in paths)."""

from btam.discussion import views

app_name = "discussion"

urlpatterns = views.urlpatterns
