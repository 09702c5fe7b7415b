from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "btam.orgs"
    label = "orgs"
