from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "btam.cases"
    label = "cases"
    verbose_name = "Cases"
