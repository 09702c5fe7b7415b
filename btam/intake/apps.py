from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "btam.intake"
    label = "intake"
