"""Deployment checks: `manage.py check --deploy` fails on a demo setting in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def demo_mode_off_in_production(app_configs: Any, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.DEMO_MODE:
        errors.append(
            Error(
                "DEMO_MODE is on: demo accounts may sign in without a second factor.",
                hint="Unset DEMO_MODE in production.",
                id="btam.E001",
            )
        )
    if settings.BTAM_ENCRYPTION_KEYS and settings.BTAM_ENCRYPTION_KEYS[0].startswith("ZGV2ZWxvcG1lbnQ"):
        errors.append(
            Error(
                "BTAM_ENCRYPTION_KEYS uses the development key.",
                hint="Run `manage.py generate_encryption_key` and set BTAM_ENCRYPTION_KEYS.",
                id="btam.E002",
            )
        )
    return errors
