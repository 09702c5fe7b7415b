"""Keys come from BTAM_ENCRYPTION_KEYS: a missing or malformed key stops start-up with one clear
line naming the variable and the key's position (never the key). `manage.py check` needs no database."""

from __future__ import annotations

import base64
import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from btam.lib import crypto

REPO = Path(settings.BASE_DIR)
GOOD = Fernet.generate_key().decode()
SHORT = base64.urlsafe_b64encode(b"k" * 31).decode()  # valid base64, 31 bytes
BAD_BASE64 = "not-a-fernet-key!*" + "x" * 26


def manage(*args: str, keys: str | None, debug: str = "0") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BTAM_ENCRYPTION_KEYS", "DATABASE_URL", "DEBUG"}}
    env.update(
        DEBUG=debug,
        SECRET_KEY=secrets.token_urlsafe(60),
        BTAM_RECEIPT_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="btam.example.org",
    )
    env["DJANGO_SETTINGS_MODULE"] = "btam.settings"
    if keys is not None:
        env["BTAM_ENCRYPTION_KEYS"] = keys
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
    )


@pytest.mark.parametrize(
    ("keys", "position"),
    [
        pytest.param("bad", 1, id="not-base64"),
        pytest.param(BAD_BASE64, 1, id="bad-characters"),
        pytest.param(SHORT, 1, id="wrong-length"),
        pytest.param(f"{GOOD},{SHORT}", 2, id="second-key"),
        pytest.param(f"{GOOD}, {GOOD},é{GOOD[1:]}", 3, id="non-ascii"),
    ],
)
def test_a_malformed_key_stops_start_up_naming_its_position_not_its_value(keys: str, position: int) -> None:
    result = manage("check", keys=keys)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("OpenBTAM configuration error: BTAM_ENCRYPTION_KEYS")
    assert f"key number {position}" in line
    for key in keys.split(","):
        assert key.strip() not in line


def test_missing_keys_stop_start_up_when_debug_is_off() -> None:
    result = manage("check", keys=None)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("OpenBTAM configuration error: BTAM_ENCRYPTION_KEYS must be set")


def test_good_keys_pass_the_check() -> None:
    result = manage("check", keys=f"{Fernet.generate_key().decode()},{GOOD}")
    assert result.returncode == 0, result.stderr


def test_generate_encryption_key_prints_one_new_valid_key() -> None:
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        call_command("generate_encryption_key", stdout=out)
        outputs.append(out.getvalue())
    assert outputs[0] != outputs[1]
    [key] = outputs[0].split()
    assert outputs[0] == key + "\n"
    crypto.validate_keys([key])
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"


def test_validate_keys_refuses_an_empty_list_and_names_the_position() -> None:
    with pytest.raises(ImproperlyConfigured, match="BTAM_ENCRYPTION_KEYS is empty"):
        crypto.validate_keys([])
    with pytest.raises(ImproperlyConfigured, match="key number 2 is malformed") as refused:
        crypto.validate_keys([GOOD, SHORT])
    assert SHORT not in str(refused.value) and GOOD not in str(refused.value)
