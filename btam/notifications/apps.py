from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "btam.notifications"
    label = "notifications"
