"""The one place that tells time, so tests can move it (escalation, reassessment, retention).

Use ``btam.lib.clock.now()`` instead of ``timezone.now()`` in domain code. Tests move time with
the ``clock`` fixture (``clock.advance(minutes=15)``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_offset = dt.timedelta(0)
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    if _frozen is not None:
        return _frozen
    return timezone.now() + _offset


def freeze(at: dt.datetime) -> None:
    global _frozen
    _frozen = at


def advance(**delta: float) -> None:
    global _offset, _frozen
    step = dt.timedelta(**delta)
    if _frozen is not None:
        _frozen = _frozen + step
    else:
        _offset += step


def reset() -> None:
    global _offset, _frozen
    _offset = dt.timedelta(0)
    _frozen = None


@contextlib.contextmanager
def restored() -> Iterator[None]:
    """Let the code inside move the clock (a demo loader spreading events over past weeks), then
    put it back as it was, frozen or offset (a test may have moved it)."""
    global _offset, _frozen
    saved = (_frozen, _offset)
    try:
        yield
    finally:
        _frozen, _offset = saved
