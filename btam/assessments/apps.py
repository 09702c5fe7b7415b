from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "btam.assessments"
    label = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from btam.assessments import hooks

        hooks.connect()
