"""The app's URLs unchanged (same order, same error handlers), plus ``bench-floor/``."""

from django.urls import path

from bench.floor import views
from btam.urls import handler400, handler403, handler404, handler500
from btam.urls import urlpatterns as app_urlpatterns

urlpatterns = [*app_urlpatterns, path("bench-floor/", views.floor, name="bench_floor")]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
