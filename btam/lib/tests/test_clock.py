"""The clock's restored(): code inside may move it; afterwards it is as it was, frozen or offset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from btam.lib import clock

T0 = dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


def test_a_frozen_clock_is_frozen_again_at_the_same_time() -> None:
    clock.freeze(T0)
    with clock.restored():
        clock.advance(days=-30)
        clock.reset()
        clock.freeze(T0 - dt.timedelta(days=3))
    assert clock.now() == T0


def test_an_offset_is_put_back_even_after_an_error() -> None:
    clock.advance(hours=2)
    before = clock.now()
    with pytest.raises(RuntimeError), clock.restored():
        clock.freeze(T0)
        raise RuntimeError("loader failed")
    assert abs((clock.now() - before).total_seconds()) < 5
    assert clock.now() != T0
