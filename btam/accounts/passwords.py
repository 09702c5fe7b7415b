"""Password rules after NIST SP 800-63B: long passphrases welcome, known-bad ones refused.

Django's CommonPasswordValidator refuses the 20,000 most common passwords (an offline list
taken from breach corpora). This adds the patterns breach lists are full of and that a
length rule alone lets through: one repeated character, keyboard and number runs, the
product's own name, and a common password padded out with digits.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv",
)
_CONTEXT_WORDS = ("openbtam", "btam", "threat", "password", "passw0rd", "letmein", "welcome")


class MaximumLengthValidator:
    """NIST asks to accept at least 64 characters; refuse absurd lengths (hashing cost)."""

    def __init__(self, max_length: int = 256) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                _("This password is too long: use at most %(max)d characters.") % {"max": self.max_length},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _("Use at most %(max)d characters.") % {"max": self.max_length}


class BreachedStylePasswordValidator:
    def __init__(self) -> None:
        self._common = CommonPasswordValidator().passwords

    def validate(self, password: str, user: Any = None) -> None:
        lowered = password.lower()
        if len(set(lowered)) <= 2:
            raise ValidationError(_("This password repeats the same characters."), code="password_repetitive")
        for seq in _SEQUENCES:
            for source in (seq, seq[::-1]):
                if len(lowered) >= 8 and lowered in source * 3:
                    raise ValidationError(_("This password is a keyboard or number run."), code="password_sequence")
        stripped = re.sub(r"[\d\W_]+$", "", re.sub(r"^[\d\W_]+", "", lowered))
        if stripped and (stripped in self._common or stripped in _CONTEXT_WORDS) and stripped != lowered:
            raise ValidationError(
                _("This password is a common password with digits or symbols added."), code="password_padded_common"
            )
        for word in _CONTEXT_WORDS:
            if word in lowered and len(lowered) - len(word) < 8:
                raise ValidationError(
                    _("This password is too close to a word attackers try first (%(word)s).") % {"word": word},
                    code="password_context_word",
                )

    def get_help_text(self) -> str:
        return _("Avoid repeated characters, keyboard runs and common passwords with digits added.")
