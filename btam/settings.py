"""OpenBTAM settings: one file, driven only by environment variables.

Production mode is simply DEBUG and DEMO_MODE off. Every variable is listed in README.md.
A missing or malformed value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from btam.lib.crypto import validate_keys
from btam.lib.env import (
    SettingsError,
    env_bool,
    env_choice,
    env_email,
    env_int,
    env_list,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("BTAM_VAR_DIR", str(BASE_DIR / "var")))

# Running under pytest or `manage.py test`: insecure development defaults are allowed, as with DEBUG.
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]

DEBUG = env_bool("DEBUG", False)
DEMO_MODE = env_bool("DEMO_MODE", False)
DEV_DEFAULTS_ALLOWED = DEBUG or TESTING

# Secrets --------------------------------------------------------------------------------------
_secret_key = env_secret("SECRET_KEY")
if not _secret_key:
    if not DEV_DEFAULTS_ALLOWED:
        raise SettingsError("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")
    _secret_key = "insecure-development-only-secret-key-never-use-in-production-0123456789"  # noqa: S105
elif len(_secret_key) < 50:
    raise SettingsError("SECRET_KEY must be at least 50 characters long.")
SECRET_KEY = _secret_key

# Fernet keys, comma-separated, newest first. The newest encrypts; all decrypt.
# `manage.py generate_encryption_key` prints a new one. Validated in btam.lib.crypto at start-up.
_DEV_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktMDAwMDAwMDAwMDA="
BTAM_ENCRYPTION_KEYS = env_list("BTAM_ENCRYPTION_KEYS") or ([_DEV_ENCRYPTION_KEY] if DEV_DEFAULTS_ALLOWED else [])
if not BTAM_ENCRYPTION_KEYS:
    raise SettingsError(
        "BTAM_ENCRYPTION_KEYS must be set when DEBUG is off (run `manage.py generate_encryption_key` to make one)."
    )
validate_keys(BTAM_ENCRYPTION_KEYS)  # a malformed key stops start-up here, named by its position

# Key of the keyed hash (HMAC-SHA256) under which receipt codes, reporter addresses and other
# lookup keys are stored: the codes themselves are never stored. Changing it makes every issued
# receipt code unusable, so it is set once and kept (it is not rotated with the encryption keys).
_receipt_key = env_secret("BTAM_RECEIPT_KEY")
if not _receipt_key:
    if not DEV_DEFAULTS_ALLOWED:
        raise SettingsError("BTAM_RECEIPT_KEY (or BTAM_RECEIPT_KEY_FILE) must be set when DEBUG is off.")
    _receipt_key = "insecure-development-only-receipt-key-0123456789abcdef"  # noqa: S105
elif len(_receipt_key) < 32:
    raise SettingsError("BTAM_RECEIPT_KEY must be at least 32 characters long.")
BTAM_RECEIPT_KEY = _receipt_key

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEV_DEFAULTS_ALLOWED else [])
if not ALLOWED_HOSTS:
    raise SettingsError("ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Applications ---------------------------------------------------------------------------------
INSTALLED_APPS = [
    "btam.core",
    "btam.orgs",
    "btam.accounts",
    "btam.audit",
    "btam.worker",
    "btam.people",
    "btam.notifications",
    "btam.intake",
    "btam.cases",
    "btam.assessments",
    "btam.teams",
    "btam.discussion",
    "btam.meetings",
    "btam.board",
    "btam.core.admin_apps.BtamAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
]
if TESTING:
    INSTALLED_APPS.append("btam.lib.tests.encryptedapp")  # test-only models for the encrypted field

MIDDLEWARE = [
    "btam.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "btam.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "btam.accounts.middleware.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "btam.accounts.middleware.RequireSecondFactorMiddleware",
    "btam.core.access.PolicyMiddleware",
]

ROOT_URLCONF = "btam.urls"
WSGI_APPLICATION = "btam.wsgi.application"
ASGI_APPLICATION = "btam.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "btam.core.context_processors.site",
            ],
        },
    },
]

# Database -------------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
_database_url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'openbtam.sqlite3'}")
try:
    _db = dj_database_url.parse(_database_url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
except ValueError as exc:
    raise SettingsError(f"DATABASE_URL is not a valid database URL: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
    # Tests use an in-memory database unless BTAM_TEST_DB_NAME names a file (for tests that start
    # other processes, e.g. workers, which cannot see an in-memory database).
    _db["TEST"] = {"NAME": env_str("BTAM_TEST_DB_NAME", "") or None}
elif _db["ENGINE"] != "django.db.backends.postgresql":
    raise SettingsError("DATABASE_URL must be a sqlite:/// or postgres:// URL.")
else:
    # No JIT compilation: every query here reads a few thousand index entries at most (milliseconds),
    # but PostgreSQL costs the visibility rules (EXISTS subqueries per case) as if they were
    # expensive and, past its JIT threshold, compiles the query first: 10 to 80 ms a page at 200,000
    # cases, more than the query itself (bench/cases.py).
    _options = _db.setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DATABASES = {"default": _db}
if _db["ENGINE"] == "django.db.backends.postgresql":
    # A second connection to the same database, only for progress reports of long jobs (roster
    # imports): they commit at once while the job's own transaction is still open. SQLite has a
    # single writer, so there progress is written on the default connection (see btam.people.imports).
    DATABASES["progress"] = {**_db, "TEST": {**_db.get("TEST", {}), "MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "btam_cache",
    },
    # Memory of one process, never shared and never holding case data or tokens: the rendered fixed
    # parts of the public report form and receipt, and short-lived school lookups (public_views.py).
    "local": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "btam-local",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

# Accounts and sign-in -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "btam.accounts.passwords.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "btam.accounts.passwords.BreachedStylePasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "btam.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "allauth.account.forms.EmailAwarePasswordResetTokenGenerator"  # noqa: S105
ACCOUNT_PREVENT_ENUMERATION = True
# Sign-up is closed: a reset request for an unknown address sends nothing (the page looks the same).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[OpenBTAM] "
# Throttling and lockout: failed sign-ins per address and per account (allauth rate limits).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/15m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = "OpenBTAM"
MFA_RECOVERY_CODE_COUNT = 10
MFA_FORMS = {"authenticate": "btam.accounts.forms.AuditedAuthenticateForm"}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Idle timeout: the session expires this long after the last request.
BTAM_SESSION_IDLE_MINUTES = env_int("BTAM_SESSION_IDLE_MINUTES", 30, minimum=1, maximum=24 * 60)
SESSION_COOKIE_AGE = BTAM_SESSION_IDLE_MINUTES * 60
# Renewed by requests: btam.accounts.middleware.SessionRenewalMiddleware saves an unchanged session
# again once a minute at most (saving it on every request cost every page a database write).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "btam.core.views.csrf_failure"

# Security headers -----------------------------------------------------------------------------
_secure_default = not DEBUG and not TESTING
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _secure_default)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _secure_default)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _secure_default else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _secure_default)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _secure_default)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Request size limits: bodies over these get a 400 (uploads have their own limits per form).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("BTAM_MAX_REQUEST_BYTES", 2_621_440, minimum=65_536)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Largest roster bundle (zip) a database manager may upload; larger ones are refused unread.
BTAM_MAX_IMPORT_BYTES = env_int("BTAM_MAX_IMPORT_BYTES", 500 * 1024 * 1024, minimum=1024)
# Largest document a team member may upload to a case (megabytes); larger ones are refused unread.
BTAM_CASE_DOCUMENT_MAX_MB = env_int("BTAM_CASE_DOCUMENT_MAX_MB", 25, minimum=1, maximum=1024)

# Internationalization -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise SettingsError(f"TIME_ZONE {TIME_ZONE!r} is not a known IANA time zone (e.g. America/Chicago).") from None
USE_I18N = True
USE_TZ = True

# Static and uploaded files --------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("uswds", BASE_DIR / "node_modules" / "@uswds" / "uswds" / "dist"),
    ("htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
BTAM_ENCRYPTED_MEDIA_ROOT = Path(env_str("BTAM_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": "btam.lib.encrypted.EncryptedFileSystemStorage",
        "OPTIONS": {"location": str(BTAM_ENCRYPTED_MEDIA_ROOT)},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEV_DEFAULTS_ALLOWED
            else "btam.lib.staticfiles.StaticFilesStorage"
        )
    },
}

# Email ----------------------------------------------------------------------------------------
globals().update(env_email("EMAIL_URL", "console://" if DEV_DEFAULTS_ALLOWED else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "OpenBTAM <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work ------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "outbox", "maintenance"],
    }
}
BTAM_WORKER_HEARTBEAT_STALE_SECONDS = env_int("BTAM_WORKER_HEARTBEAT_STALE_SECONDS", 120, minimum=10)

# Site -----------------------------------------------------------------------------------------
BTAM_SITE_NAME = env_str("BTAM_SITE_NAME", "OpenBTAM")
BTAM_CRISIS_LINE = env_str("BTAM_CRISIS_LINE", "988")
# The address reporters and emails use to reach this site (no trailing slash).
BTAM_PUBLIC_BASE_URL = env_str("BTAM_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not BTAM_PUBLIC_BASE_URL.startswith(("http://", "https://")):
    raise SettingsError("BTAM_PUBLIC_BASE_URL must start with http:// or https:// (e.g. https://btam.example.org).")

# Public reporting: rate limits never drop a report silently (the reporter is told, with the 911
# and crisis line message, and the form keeps what they typed). 0 turns a limit off.
BTAM_REPORTS_PER_ADDRESS = env_int("BTAM_REPORTS_PER_ADDRESS", 20, minimum=0)  # per 10 minutes
BTAM_REPORTS_PER_SCHOOL = env_int("BTAM_REPORTS_PER_SCHOOL", 600, minimum=0)  # per hour
BTAM_FOLLOWUP_FAILURES_PER_ADDRESS = env_int("BTAM_FOLLOWUP_FAILURES_PER_ADDRESS", 10, minimum=1)  # per 15 min
BTAM_FOLLOWUP_FAILURES_GLOBAL = env_int("BTAM_FOLLOWUP_FAILURES_GLOBAL", 1000, minimum=1)  # per 15 min
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use the peer address).
BTAM_TRUSTED_PROXY_COUNT = env_int("BTAM_TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)
# Minutes an urgent report waits for acknowledgement before each escalation step.
BTAM_ESCALATION_MINUTES = env_int("BTAM_ESCALATION_MINUTES", 15, minimum=1, maximum=24 * 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "btam.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
    "loggers": {
        # Never log request bodies or query parameters: they can hold student data.
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
    },
}

MFA_ADAPTER = "btam.accounts.adapter.MFAAdapter"
WHITENOISE_USE_FINDERS = DEV_DEFAULTS_ALLOWED
WHITENOISE_AUTOREFRESH = DEV_DEFAULTS_ALLOWED
