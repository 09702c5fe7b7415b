from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "btam.teams"
    label = "teams"
