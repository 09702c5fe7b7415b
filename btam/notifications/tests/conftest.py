from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from btam.lib import clock as clock_module
from btam.notifications.tests.helpers import T0, Received, Team, free_port, make_team


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """A team is a dozen accounts; nobody here signs in with a password (force_login)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen(clock: Any) -> Iterator[Any]:
    """The clock, frozen at T0 (``frozen.advance(minutes=15)``)."""
    clock_module.freeze(T0)
    yield clock_module


@pytest.fixture
def team(db: None, frozen: Any) -> Team:
    return make_team()


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Received]:
    """A real SMTP server on a free local port, and Django's SMTP backend pointed at it."""
    received = Received()
    port = free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.BTAM_PUBLIC_BASE_URL = "https://btam.example.test"
    try:
        yield received
    finally:
        controller.stop()
