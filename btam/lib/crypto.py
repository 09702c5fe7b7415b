"""Encryption at rest: keys from BTAM_ENCRYPTION_KEYS (Fernet, newest first).

The newest key encrypts; every listed key decrypts, so keys can be rotated: add a new key at the
front, run ``manage.py rotate_keys``, then drop the old key. ``manage.py generate_encryption_key``
prints a new key. See docs/encryption.md.

Error messages name a key by its position in the list, never by its value, and never hold the
plaintext of what failed to decrypt.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """Ciphertext that none of the configured keys can open (wrong key or altered data)."""


_CANNOT_DECRYPT = "None of the configured encryption keys can decrypt this value."


def _validate_key(index: int, key: str) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise ImproperlyConfigured(
            f"BTAM_ENCRYPTION_KEYS: key number {index + 1} is malformed (a key is 32 url-safe base64-encoded "
            "bytes, 44 characters; run `manage.py generate_encryption_key` to make one)."
        ) from None


def validate_keys(keys: Sequence[str]) -> None:
    """Raise ImproperlyConfigured naming BTAM_ENCRYPTION_KEYS (and the key's position) if a key is unusable.

    Called from settings.py, so a bad key is reported like any other malformed setting.
    """
    if not keys:
        raise ImproperlyConfigured("BTAM_ENCRYPTION_KEYS is empty: at least one key is needed.")
    for index, key in enumerate(keys):
        _validate_key(index, key)


@lru_cache(maxsize=1)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    validate_keys(keys)
    return MultiFernet([_validate_key(i, k) for i, k in enumerate(keys)])


@lru_cache(maxsize=1)
def _newest_for(key: str) -> Fernet:
    return _validate_key(0, key)


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.BTAM_ENCRYPTION_KEYS))


def check_keys() -> None:
    """Raise ImproperlyConfigured with a clear message if any configured key is unusable."""
    fernet()


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def encrypt_bytes(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return fernet().decrypt(token)
    except InvalidToken:
        raise DecryptionError(_CANNOT_DECRYPT) from None


def encrypt_text(text: str) -> str:
    return encrypt_bytes(text.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return decrypt_bytes(token.encode("ascii")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        # Not a token at all (e.g. text stored before encryption): say so without repeating it.
        raise DecryptionError(_CANNOT_DECRYPT) from None


def rotate_token(token: bytes) -> bytes:
    """Re-encrypt with the newest key (the payload and its original timestamp are kept)."""
    try:
        return fernet().rotate(token)
    except InvalidToken:
        raise DecryptionError(_CANNOT_DECRYPT) from None


def is_current(token: bytes) -> bool:
    """True when the newest key already opens this token (no rotation needed)."""
    newest = _newest_for(settings.BTAM_ENCRYPTION_KEYS[0])
    try:
        newest.decrypt(token)
    except InvalidToken:
        return False
    return True
