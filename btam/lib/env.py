"""Typed helpers that read settings from environment variables.

Every helper fails with a clear :class:`SettingsError` naming the variable and what was wrong,
so a misconfigured deployment stops at start-up instead of misbehaving later.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ImproperlyConfigured):
    """A setting read from the environment is missing or malformed."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value is not None else None


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number; got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}; got {number}.")
    if maximum is not None and number > maximum:
        raise SettingsError(f"{name} must be at most {maximum}; got {number}.")
    return number


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_choice(name: str, default: str, choices: list[str] | tuple[str, ...]) -> str:
    """One of a fixed set of words (compared case-insensitively, returned as spelled in ``choices``)."""
    value = env_str(name, default)
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the contents of the file named by NAME_FILE (for Docker/systemd secrets)."""
    file_name = _raw(f"{name}_FILE")
    direct = _raw(name)
    if file_name and direct:
        raise SettingsError(f"Set either {name} or {name}_FILE, not both.")
    if file_name:
        path = Path(file_name)
        try:
            content = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE points to {file_name!r}, which cannot be read: {exc.strerror}.") from None
        if not content:
            raise SettingsError(f"{name}_FILE points to {file_name!r}, which is empty.")
        return content
    if direct:
        return direct
    return default


_EMAIL_SCHEMES = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def parse_email_url(name: str, value: str) -> dict[str, object]:
    """Turn ``smtp://user:pass@host:587?tls=1`` (and friends) into Django EMAIL_* settings."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in _EMAIL_SCHEMES:
        known = ", ".join(sorted(_EMAIL_SCHEMES))
        raise SettingsError(f"{name} has an unknown scheme {scheme!r}; use one of: {known}.")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(f"{name} has an invalid port.") from None
    try:
        timeout = int(query.get("timeout", "10"))
    except ValueError:
        raise SettingsError(f"{name} has an invalid timeout (seconds, a whole number).") from None
    config: dict[str, object] = {"EMAIL_BACKEND": _EMAIL_SCHEMES[scheme]}
    if scheme.startswith("smtp"):
        if not parts.hostname:
            raise SettingsError(f"{name} needs a host, e.g. smtp://mail.example.org:587?tls=1.")
        config.update(
            EMAIL_HOST=parts.hostname,
            EMAIL_PORT=port or (465 if scheme == "smtps" else 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=scheme == "smtps",
            EMAIL_USE_TLS=scheme == "smtp+tls" or query.get("tls", "").lower() in _TRUE,
            EMAIL_TIMEOUT=timeout,
        )
    elif scheme == "file":
        config["EMAIL_FILE_PATH"] = parts.path or "var/mail"
    return config


def env_email(name: str, default: str) -> dict[str, object]:
    return parse_email_url(name, env_str(name, default))
