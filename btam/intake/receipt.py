"""Receipt codes: 80 random bits, shown once to the reporter, stored only as a keyed hash.

A code is 16 characters of Crockford's base32 (digits and capitals without I, L, O, U) in four
groups for reading aloud and typing: ``7KQ4-M2XD-9PTA-HW3E``. Typing is forgiving: case, spaces,
dashes, and the look-alikes O/o -> 0 and I/i/L/l -> 1 are normalised before hashing.

Only HMAC-SHA256(BTAM_RECEIPT_KEY, code) is stored. With 80 random bits a brute-force search is
out of reach and a keyed hash keeps lookup a single indexed equality; nobody, staff included, can
recover a code from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
CODE_LENGTH = 16  # 16 x 5 bits = 80 random bits
GROUP = 4
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A fresh receipt code, grouped for display."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(raw)


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalize(text: str) -> str | None:
    """The canonical form of what someone typed, or None when it cannot be a code."""
    cleaned = "".join(ch for ch in text.upper() if not ch.isspace() and ch not in "-_.").translate(_LOOKALIKES)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` under BTAM_RECEIPT_KEY, separated by purpose (hex, 64 characters)."""
    key = settings.BTAM_RECEIPT_KEY.encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def hash_code(code: str) -> str | None:
    """The stored form of a code as typed, or None when it is not a well-formed code."""
    canonical = normalize(code)
    if canonical is None:
        return None
    return keyed_hash(canonical, purpose="receipt")
