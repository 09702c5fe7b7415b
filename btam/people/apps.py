from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "btam.people"
    label = "people"
