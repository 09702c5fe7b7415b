"""Configuration comes from environment variables only. Production mode is DEBUG and DEMO_MODE
off; with SECRET_KEY, ALLOWED_HOSTS and BTAM_ENCRYPTION_KEYS set, `manage.py check --deploy
--fail-level WARNING` passes. A malformed value stops start-up with one line naming the variable.

The subprocess tests need no database: `manage.py check` does not connect.
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from btam.lib import env
from btam.lib.env import SettingsError

REPO = Path(settings.BASE_DIR)
# Every variable the settings read that a developer's shell or CI might have set.
_CONFIG_VARS = {
    "DEBUG",
    "DEMO_MODE",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "BTAM_ENCRYPTION_KEYS",
    "BTAM_RECEIPT_KEY",
    "BTAM_RECEIPT_KEY_FILE",
    "BTAM_PUBLIC_BASE_URL",
    "BTAM_REPORTS_PER_ADDRESS",
    "BTAM_ESCALATION_MINUTES",
    "DATABASE_URL",
    "EMAIL_URL",
    "TIME_ZONE",
    "LOG_LEVEL",
    "BTAM_SESSION_IDLE_MINUTES",
    "BTAM_MAX_REQUEST_BYTES",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "DJANGO_SETTINGS_MODULE",
}


def random_secret_key(length: int = 60) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def production_env() -> dict[str, str]:
    return {
        "DEBUG": "0",
        "DEMO_MODE": "0",
        "SECRET_KEY": random_secret_key(),
        "ALLOWED_HOSTS": "btam.example.org",
        "BTAM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BTAM_RECEIPT_KEY": secrets.token_urlsafe(48),
    }


def run(args: list[str], **variables: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _CONFIG_VARS}
    clean["DJANGO_SETTINGS_MODULE"] = "btam.settings"
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env={**clean, **variables}, capture_output=True, text=True, timeout=180
    )


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return run(["manage.py", *args], **variables)


def setting_value(name: str, **variables: str) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    result = run(["-c", code], **variables)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# Production ---------------------------------------------------------------------------------------


def test_production_settings_pass_the_deploy_check_without_warnings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_settings_are_secure() -> None:
    variables = production_env()
    assert setting_value("DEBUG", **variables) == "False"
    assert setting_value("SESSION_COOKIE_SECURE", **variables) == "True"
    assert setting_value("CSRF_COOKIE_SECURE", **variables) == "True"
    assert setting_value("SECURE_SSL_REDIRECT", **variables) == "True"
    assert int(setting_value("SECURE_HSTS_SECONDS", **variables)) >= 31536000
    assert setting_value("EMAIL_BACKEND", **variables) == "django.core.mail.backends.smtp.EmailBackend"


def test_the_deploy_check_fails_with_demo_mode_on() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **{**production_env(), "DEMO_MODE": "1"})
    assert result.returncode != 0
    assert "btam.E001" in result.stderr + result.stdout


def test_the_deploy_check_fails_with_the_development_encryption_key() -> None:
    variables = {**production_env(), "BTAM_ENCRYPTION_KEYS": "ZGV2ZWxvcG1lbnQtb25seS1rZXktMDAwMDAwMDAwMDA="}
    result = manage("check", "--deploy", **variables)
    assert result.returncode != 0
    assert "btam.E002" in result.stderr + result.stdout


# Idle timeout -------------------------------------------------------------------------------------


def test_the_idle_timeout_defaults_to_thirty_minutes() -> None:
    assert setting_value("SESSION_COOKIE_AGE", DEBUG="1") == str(30 * 60)


def test_btam_session_idle_minutes_sets_the_idle_timeout() -> None:
    assert setting_value("SESSION_COOKIE_AGE", DEBUG="1", BTAM_SESSION_IDLE_MINUTES="5") == "300"
    assert setting_value("SESSION_COOKIE_AGE", **production_env(), BTAM_SESSION_IDLE_MINUTES="90") == "5400"


# Malformed settings -------------------------------------------------------------------------------

MALFORMED = [
    pytest.param({"DEBUG": "maybe"}, "DEBUG", id="debug-maybe"),
    pytest.param({"DEMO_MODE": "sometimes"}, "DEMO_MODE", id="demo-mode-word"),
    pytest.param({"DEBUG": "1", "BTAM_SESSION_IDLE_MINUTES": "abc"}, "BTAM_SESSION_IDLE_MINUTES", id="idle-abc"),
    pytest.param({"DEBUG": "1", "BTAM_SESSION_IDLE_MINUTES": "0"}, "BTAM_SESSION_IDLE_MINUTES", id="idle-zero"),
    pytest.param({"DEBUG": "1", "TIME_ZONE": "Mars/Base"}, "TIME_ZONE", id="time-zone"),
    pytest.param({"DEBUG": "1", "DATABASE_URL": "mysql://x"}, "DATABASE_URL", id="database-mysql"),
    pytest.param({"DEBUG": "1", "DATABASE_URL": "nonsense"}, "DATABASE_URL", id="database-nonsense"),
    pytest.param({"DEBUG": "1", "EMAIL_URL": "carrier-pigeon://x"}, "EMAIL_URL", id="email-scheme"),
    pytest.param({"DEBUG": "1", "EMAIL_URL": "smtp://mail.example.org:99999"}, "EMAIL_URL", id="email-port"),
    pytest.param({"DEBUG": "1", "EMAIL_URL": "smtp://mail.example.org?timeout=soon"}, "EMAIL_URL", id="email-timeout"),
    pytest.param({"DEBUG": "1", "LOG_LEVEL": "LOUD"}, "LOG_LEVEL", id="log-level"),
    pytest.param({"DEBUG": "1", "BTAM_MAX_REQUEST_BYTES": "lots"}, "BTAM_MAX_REQUEST_BYTES", id="max-request"),
    pytest.param({"DEBUG": "0"}, "SECRET_KEY", id="missing-secret-key"),
    pytest.param({"DEBUG": "0", "SECRET_KEY": "too-short"}, "SECRET_KEY", id="short-secret-key"),
    pytest.param({"DEBUG": "1", "SECRET_KEY_FILE": "/nonexistent/btam/secret"}, "SECRET_KEY_FILE", id="key-file"),
    pytest.param({"DEBUG": "0", "SECRET_KEY": random_secret_key()}, "BTAM_ENCRYPTION_KEYS", id="missing-keys"),
    pytest.param(
        {"DEBUG": "0", "SECRET_KEY": random_secret_key(), "BTAM_ENCRYPTION_KEYS": Fernet.generate_key().decode()},
        "BTAM_RECEIPT_KEY",
        id="missing-receipt-key",
    ),
    pytest.param(
        {
            "DEBUG": "0",
            "SECRET_KEY": random_secret_key(),
            "BTAM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "BTAM_RECEIPT_KEY": "short",
        },
        "BTAM_RECEIPT_KEY",
        id="short-receipt-key",
    ),
    pytest.param(
        {
            "DEBUG": "0",
            "SECRET_KEY": random_secret_key(),
            "BTAM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "BTAM_RECEIPT_KEY": secrets.token_urlsafe(48),
        },
        "ALLOWED_HOSTS",
        id="missing-allowed-hosts",
    ),
    pytest.param({"DEBUG": "1", "BTAM_PUBLIC_BASE_URL": "btam.example.org"}, "BTAM_PUBLIC_BASE_URL", id="base-url"),
    pytest.param({"DEBUG": "1", "BTAM_REPORTS_PER_ADDRESS": "-1"}, "BTAM_REPORTS_PER_ADDRESS", id="report-limit"),
    pytest.param({"DEBUG": "1", "BTAM_ESCALATION_MINUTES": "0"}, "BTAM_ESCALATION_MINUTES", id="escalation"),
]


@pytest.mark.parametrize(("variables", "named"), MALFORMED)
def test_a_malformed_setting_stops_start_up_with_one_clear_line(variables: dict[str, str], named: str) -> None:
    result = manage("check", **variables)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("OpenBTAM configuration error: ")
    assert named in lines[0]


def test_a_malformed_encryption_key_stops_start_up_with_one_clear_line() -> None:
    result = manage("check", DEBUG="1", BTAM_ENCRYPTION_KEYS="not-a-fernet-key")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("OpenBTAM configuration error: BTAM_ENCRYPTION_KEYS")


def test_a_secret_key_file_is_read(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key = random_secret_key()
    key_file.write_text(key + "\n")
    variables = {**production_env(), "SECRET_KEY_FILE": str(key_file)}
    del variables["SECRET_KEY"]
    assert setting_value("SECRET_KEY", **variables) == key


# btam.lib.env helpers -----------------------------------------------------------------------------


def test_settings_error_is_an_improperly_configured() -> None:
    assert issubclass(SettingsError, ImproperlyConfigured)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), (" on ", True), ("0", False), ("False", False), ("no", False)],
)
def test_env_bool_reads_the_usual_words(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("BTAM_TEST_FLAG", raw)
    assert env.env_bool("BTAM_TEST_FLAG", not expected) is expected


def test_env_bool_defaults_when_unset_and_refuses_other_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BTAM_TEST_FLAG", raising=False)
    assert env.env_bool("BTAM_TEST_FLAG", True) is True
    monkeypatch.setenv("BTAM_TEST_FLAG", "maybe")
    with pytest.raises(SettingsError, match="BTAM_TEST_FLAG .*'maybe'"):
        env.env_bool("BTAM_TEST_FLAG")


def test_env_int_reads_checks_bounds_and_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BTAM_TEST_N", raising=False)
    assert env.env_int("BTAM_TEST_N", 7) == 7
    monkeypatch.setenv("BTAM_TEST_N", "")
    assert env.env_int("BTAM_TEST_N", 7) == 7
    monkeypatch.setenv("BTAM_TEST_N", " 42 ")
    assert env.env_int("BTAM_TEST_N", 7, minimum=1, maximum=42) == 42
    for raw, message in [("abc", "whole number"), ("4.5", "whole number"), ("0", "at least 1"), ("43", "at most 42")]:
        monkeypatch.setenv("BTAM_TEST_N", raw)
        with pytest.raises(SettingsError, match=f"BTAM_TEST_N must be .*{message}"):
            env.env_int("BTAM_TEST_N", 7, minimum=1, maximum=42)


def test_env_str_and_env_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BTAM_TEST_S", raising=False)
    assert env.env_str("BTAM_TEST_S", "fallback") == "fallback"
    assert env.env_list("BTAM_TEST_S", ["a"]) == ["a"]
    monkeypatch.setenv("BTAM_TEST_S", "  ")
    assert env.env_str("BTAM_TEST_S", "fallback") == "fallback"
    monkeypatch.setenv("BTAM_TEST_S", " one.example.org, ,two.example.org ")
    assert env.env_list("BTAM_TEST_S") == ["one.example.org", "two.example.org"]
    assert env.env_str("BTAM_TEST_S") == "one.example.org, ,two.example.org"


def test_env_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BTAM_TEST_C", raising=False)
    assert env.env_choice("BTAM_TEST_C", "INFO", ("INFO", "DEBUG")) == "INFO"
    monkeypatch.setenv("BTAM_TEST_C", "debug")
    assert env.env_choice("BTAM_TEST_C", "INFO", ("INFO", "DEBUG")) == "DEBUG"
    monkeypatch.setenv("BTAM_TEST_C", "LOUD")
    with pytest.raises(SettingsError, match="BTAM_TEST_C must be one of INFO, DEBUG; got 'LOUD'"):
        env.env_choice("BTAM_TEST_C", "INFO", ("INFO", "DEBUG"))


def test_env_secret_from_the_variable_or_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BTAM_TEST_SECRET", raising=False)
    monkeypatch.delenv("BTAM_TEST_SECRET_FILE", raising=False)
    assert env.env_secret("BTAM_TEST_SECRET") is None
    assert env.env_secret("BTAM_TEST_SECRET", "dflt") == "dflt"
    monkeypatch.setenv("BTAM_TEST_SECRET", "direct")
    assert env.env_secret("BTAM_TEST_SECRET") == "direct"

    secret_file = tmp_path / "secret"
    secret_file.write_text("  from-file\n")
    monkeypatch.setenv("BTAM_TEST_SECRET_FILE", str(secret_file))
    with pytest.raises(SettingsError, match="either BTAM_TEST_SECRET or BTAM_TEST_SECRET_FILE"):
        env.env_secret("BTAM_TEST_SECRET")
    monkeypatch.delenv("BTAM_TEST_SECRET")
    assert env.env_secret("BTAM_TEST_SECRET") == "from-file"

    secret_file.write_text("\n")
    with pytest.raises(SettingsError, match="BTAM_TEST_SECRET_FILE .* empty"):
        env.env_secret("BTAM_TEST_SECRET")
    monkeypatch.setenv("BTAM_TEST_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="BTAM_TEST_SECRET_FILE .* cannot be read"):
        env.env_secret("BTAM_TEST_SECRET")


def test_parse_email_url_smtp_with_tls_and_credentials() -> None:
    config = env.parse_email_url("EMAIL_URL", "smtp+tls://mailer%40district.example:p%40ss@mail.example.org:587")
    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.org",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer@district.example",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
        "EMAIL_TIMEOUT": 10,
    }


def test_parse_email_url_other_schemes() -> None:
    smtps = env.parse_email_url("EMAIL_URL", "smtps://mail.example.org?timeout=30")
    assert smtps["EMAIL_PORT"] == 465 and smtps["EMAIL_USE_SSL"] is True and smtps["EMAIL_TIMEOUT"] == 30
    assert env.parse_email_url("EMAIL_URL", "smtp://relay?tls=1")["EMAIL_USE_TLS"] is True
    assert env.parse_email_url("EMAIL_URL", "smtp://relay")["EMAIL_PORT"] == 25
    assert env.parse_email_url("EMAIL_URL", "console://") == {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"
    }
    assert env.parse_email_url("EMAIL_URL", "file:///var/mail/btam")["EMAIL_FILE_PATH"] == "/var/mail/btam"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("carrier-pigeon://x", "unknown scheme 'carrier-pigeon'"),
        ("smtp://mail.example.org:99999", "invalid port"),
        ("smtp://:25", "needs a host"),
        ("smtp://mail.example.org?timeout=soon", "invalid timeout"),
    ],
)
def test_parse_email_url_refuses_malformed_urls(url: str, message: str) -> None:
    with pytest.raises(SettingsError, match=f"EMAIL_URL .*{message}"):
        env.parse_email_url("EMAIL_URL", url)
