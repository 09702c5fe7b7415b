from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "btam.meetings"
    label = "meetings"
