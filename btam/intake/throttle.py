"""Throttles of the public reporting pages: wrong receipt codes, report submissions, replies.

Counters live in the default cache (the DatabaseCache, shared by every web process), under keys
built from a *keyed hash* of the client's address (``receipt.keyed_hash(address,
purpose="throttle")``): the address itself is never stored, not even briefly. IPv6 clients are
counted per /64 network, since one device can take any address of its /64.

Each limit counts events in a sliding window, estimated from two fixed windows (the current one
plus the previous one weighted by how much of it still overlaps): cheap, and without the burst of
twice the limit that plain fixed windows allow at a boundary. Windows are numbered from
``btam.lib.clock.now()``, so tests move through them with the ``clock`` fixture.

The cache's increment is a read and a write, not atomic: under heavy concurrency a counter can
miss a few hits. That is accepted: these limits slow down abuse, they are not a security boundary
(a receipt code has 80 random bits). If the cache cannot be reached, a throttle lets the request
through: a report is never refused because of a counter.

Limits are read from settings each time (``0`` turns a limit off; the settings allow it for the
report limits only):

- ``BTAM_FOLLOWUP_FAILURES_PER_ADDRESS`` (10 per 15 minutes) and ``BTAM_FOLLOWUP_FAILURES_GLOBAL``
  (1000 per 15 minutes): wrong receipt codes, counted per address and over all addresses;
- ``BTAM_REPORTS_PER_ADDRESS`` (20 per 10 minutes) and ``BTAM_REPORTS_PER_SCHOOL`` (600 per hour):
  reports submitted through the public form; replies in a reporter thread count per address
  against ``BTAM_REPORTS_PER_ADDRESS`` too, on their own counter;
- ``BTAM_TRUSTED_PROXY_COUNT`` (0): how many reverse proxies in front of the application append
  to ``X-Forwarded-For``; 0 ignores that header and uses ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest

from btam.core.middleware import client_ip
from btam.intake import receipt
from btam.lib import clock

logger = logging.getLogger(__name__)

KEY_PREFIX = "btam:throttle"
EVERYONE = "all"  # the subject of a global limit


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` events per ``window_seconds`` for one subject (an address, a school ...)."""

    name: str  # part of the cache key
    setting: str  # the setting that holds the number of events
    default: int
    window_seconds: int

    @property
    def limit(self) -> int:
        value = getattr(settings, self.setting, self.default)
        return max(int(value), 0)

    @property
    def window_minutes(self) -> int:
        return self.window_seconds // 60


FOLLOWUP_FAILURES_PER_ADDRESS = Limit("followup-address", "BTAM_FOLLOWUP_FAILURES_PER_ADDRESS", 10, 15 * 60)
FOLLOWUP_FAILURES_GLOBAL = Limit("followup-global", "BTAM_FOLLOWUP_FAILURES_GLOBAL", 1000, 15 * 60)
REPORTS_PER_ADDRESS = Limit("reports-address", "BTAM_REPORTS_PER_ADDRESS", 20, 10 * 60)
REPORTS_PER_SCHOOL = Limit("reports-school", "BTAM_REPORTS_PER_SCHOOL", 600, 60 * 60)
REPLIES_PER_ADDRESS = Limit("replies-address", "BTAM_REPORTS_PER_ADDRESS", 20, 10 * 60)


# The client's address --------------------------------------------------------------------------
def client_address(request: HttpRequest) -> str:
    """The address the request came from, as counted by the throttles: the client address of
    :func:`btam.core.middleware.client_ip` (which honours ``BTAM_TRUSTED_PROXY_COUNT``), with IPv6
    addresses reduced to their /64 network. Never store the result: hash it
    (:func:`subject_for_address`).
    """
    remote = client_ip(request)
    if remote is None:
        return "unknown"
    address = ipaddress.ip_address(remote)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def subject_for_address(address: str) -> str:
    """The cache key part for an address: a keyed hash, never the address."""
    return receipt.keyed_hash(address, purpose="throttle")


# Counting --------------------------------------------------------------------------------------
def _windows(limit: Limit) -> tuple[int, float]:
    """The number of the current window and how far into it we are (0 to 1)."""
    seconds = clock.now().timestamp()
    return int(seconds // limit.window_seconds), (seconds % limit.window_seconds) / limit.window_seconds


def _key(limit: Limit, subject: str, window: int) -> str:
    return f"{KEY_PREFIX}:{limit.name}:{subject}:{window}"


def count(limit: Limit, subject: str) -> float:
    """Events of ``subject`` in the last window (estimated)."""
    window, elapsed = _windows(limit)
    current, previous = _key(limit, subject, window), _key(limit, subject, window - 1)
    try:
        values = cache.get_many([current, previous])
    except DatabaseError:
        logger.warning("Throttle %s: the cache cannot be read; letting the request through.", limit.name)
        return 0.0
    return float(values.get(current, 0)) + float(values.get(previous, 0)) * (1.0 - elapsed)


def exceeded(limit: Limit, subject: str) -> bool:
    """Whether ``subject`` has used up ``limit`` (always False when the limit is off)."""
    allowed = limit.limit
    return allowed > 0 and count(limit, subject) >= allowed


def hit(limit: Limit, subject: str) -> None:
    """Count one event of ``subject``."""
    if limit.limit <= 0:
        return
    window, _elapsed = _windows(limit)
    key = _key(limit, subject, window)
    timeout = 2 * limit.window_seconds + 60  # the window and the next, which still weighs it
    try:
        if not cache.add(key, 1, timeout):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, timeout)
    except DatabaseError:
        logger.warning("Throttle %s: the cache cannot be written; the event was not counted.", limit.name)


def first_refusal(limit: Limit, subject: str) -> bool:
    """True once per subject and window: whether this refusal is the first one to record.

    An audit event for every refused request would let a flood fill the (append-only) audit trail;
    one per limit, subject and window says the same to the team.
    """
    window, _elapsed = _windows(limit)
    try:
        return bool(cache.add(f"{_key(limit, subject, window)}:refused", 1, limit.window_seconds + 60))
    except DatabaseError:
        return True


# The limits of each page -----------------------------------------------------------------------
def followup_blocked(address: str) -> bool:
    """Too many wrong receipt codes from this address, or from everyone: do not even check."""
    return exceeded(FOLLOWUP_FAILURES_PER_ADDRESS, subject_for_address(address)) or exceeded(
        FOLLOWUP_FAILURES_GLOBAL, EVERYONE
    )


def followup_failed(address: str) -> None:
    hit(FOLLOWUP_FAILURES_PER_ADDRESS, subject_for_address(address))
    hit(FOLLOWUP_FAILURES_GLOBAL, EVERYONE)


def report_limit_reached(address: str, school_id: int) -> tuple[str, Limit] | None:
    """("address" or "school", the limit) when a new report must wait, else None."""
    if exceeded(REPORTS_PER_ADDRESS, subject_for_address(address)):
        return "address", REPORTS_PER_ADDRESS
    if exceeded(REPORTS_PER_SCHOOL, f"school-{school_id}"):
        return "school", REPORTS_PER_SCHOOL
    return None


def report_refusal_is_first(kind: str, address: str, school_id: int) -> bool:
    if kind == "address":
        return first_refusal(REPORTS_PER_ADDRESS, subject_for_address(address))
    return first_refusal(REPORTS_PER_SCHOOL, f"school-{school_id}")


def report_submitted(address: str, school_id: int) -> None:
    hit(REPORTS_PER_ADDRESS, subject_for_address(address))
    hit(REPORTS_PER_SCHOOL, f"school-{school_id}")


def reply_blocked(address: str) -> bool:
    return exceeded(REPLIES_PER_ADDRESS, subject_for_address(address))


def reply_sent(address: str) -> None:
    hit(REPLIES_PER_ADDRESS, subject_for_address(address))
