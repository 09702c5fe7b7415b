"""Start-up check of the definition files: a broken instrument or level-scheme file stops
``manage.py check`` (and ``runserver``, ``migrate``...) with the file, the field and the problem."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from btam.assessments import definitions


@register("assessments")
def definition_files_are_valid(app_configs: Any, **kwargs: Any) -> list[Error]:
    if app_configs is not None and not any(config.name == "btam.assessments" for config in app_configs):
        return []
    return [
        Error(
            str(error),
            hint="Fix the file in btam/assessments/instruments/ (docs/assessments.md describes the format).",
            id="assessments.E001",
        )
        for error in definitions.check_all()
    ]
