"""The inbox, its preferences and (for database managers) failed deliveries. Numbers only in
paths: a notification's or a delivery's id, never its text."""

from django.urls import path

from btam.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("preferences/", views.preferences, name="preferences"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/requeue/", views.requeue_delivery, name="requeue_delivery"),
]
