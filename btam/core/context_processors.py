from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_NAME": settings.BTAM_SITE_NAME,
        "DEMO_MODE": settings.DEMO_MODE,
        "CRISIS_LINE": settings.BTAM_CRISIS_LINE,
    }
