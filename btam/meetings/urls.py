"""Case conferences under /cases/<pk>/meetings/ and the calendar feed under /calendar/ (included at
the site root)."""

from btam.meetings import calendar_views, views

app_name = "meetings"

urlpatterns = [*views.urlpatterns, *calendar_views.urlpatterns]
