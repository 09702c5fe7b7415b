"""The worker killed mid-batch: nothing lost, nothing sent twice (issue 7, "Notifications").

Thirty emails wait in the outbox. The real worker process that production runs
(``manage.py db_worker --queue-name '*'``, docs/background-work.md) delivers them one by one to a
real SMTP server (aiosmtpd) in this test process. The server holds the fifteenth message in the
middle of its DATA command and tells the test, which SIGKILLs the worker while that message is
unanswered: the server never said 250 to it, so it does not count it. Then time passes beyond the
outbox lease (the dead worker's claim is aged past ``outbox.LEASE``, as 30 seconds would: the lease
is a constant, and waiting it out would double the test's time), one scheduler pass queues the
periodic jobs (among them the outbox sweep) and a new worker runs until everything is sent.
Every message must have arrived exactly once (by its Message-ID), none may be left pending or
sending, and the attempts must be recorded (two for the one cut off, one for the others).

The worker processes need a database they can share with this test: the PostgreSQL test database
as it is, or, on SQLite (whose test database is in memory), a copy of it in a file made with
SQLite's backup API once the emails are queued; the test then reads the outcome from that file.
Every wait polls with a generous deadline, so a loaded machine makes it slower, not flaky.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from btam.notifications.tests.helpers import free_port
from btam.worker import outbox
from btam.worker.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

COUNT = 30
BLOCKED = 15  # the message held by the server when the worker is killed (1-based)
WAIT_SECONDS = 120.0  # generous: two cores shared by several test runs
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def address(n: int) -> str:
    return f"crash-test-{n:02d}@example.test"


@dataclass
class HoldingServer:
    """An aiosmtpd handler that counts a message only once it has answered 250 to it, and holds the
    first delivery to ``hold_for`` until ``release`` is set (answering 451 then, to nobody)."""

    hold_for: str
    accepted: list[str] = field(default_factory=list)  # Message-IDs answered 250, in order
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    held_once: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.original_content or envelope.content)
        if self.hold_for in envelope.rcpt_tos and not self.held_once:
            self.held_once = True
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Not accepted: the sender went away"
        with self.lock:
            self.accepted.append(str(message["Message-ID"]))
        return "250 Message accepted for delivery"


@dataclass
class SharedDatabase:
    """The database the worker processes use, and how this test reads it afterwards."""

    url: str
    sqlite_path: Path | None = None

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        if self.sqlite_path is None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params or [])
                return list(cursor.fetchall())
        with sqlite3.connect(self.sqlite_path, timeout=30) as db:
            return list(db.execute(sql.replace("%s", "?"), params or []).fetchall())

    def execute(self, sql: str, params: list[Any]) -> None:
        if self.sqlite_path is None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
            return
        db = sqlite3.connect(self.sqlite_path, timeout=30)
        try:
            with db:
                db.execute(sql.replace("%s", "?"), params)
        finally:
            db.close()

    def db_time(self, at: dt.datetime) -> Any:
        """A datetime as this database stores it (SQLite: UTC text, as Django writes it)."""
        if self.sqlite_path is None:
            return at
        return at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


def share_database(tmp_path: Path) -> SharedDatabase:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return SharedDatabase(url=f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}")
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    return SharedDatabase(url=f"sqlite:///{path}", sqlite_path=path)


def manage(shared: SharedDatabase, smtp_port: int, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=shared.url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}?timeout=60",
        DEBUG="1",
        LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def worker(shared: SharedDatabase, smtp_port: int, name: str, *, batch: bool) -> subprocess.Popen[str]:
    args = ["db_worker", "--no-reload", "--queue-name", "*", "--interval", "0.1", "--no-startup-delay"]
    args += ["--worker-id", name, "-v", "0"]
    return manage(shared, smtp_port, *args, *(["--batch"] if batch else []))


@pytest.fixture
def server() -> Iterator[tuple[HoldingServer, int]]:
    handler = HoldingServer(hold_for=address(BLOCKED))
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()


def states(shared: SharedDatabase) -> Counter[str]:
    return Counter(dict(shared.rows("SELECT state, count(*) FROM worker_outboxmessage GROUP BY state")))


def test_a_worker_killed_mid_batch_loses_no_email_and_sends_none_twice(
    server: tuple[HoldingServer, int], tmp_path: Path
) -> None:
    smtp, port = server
    messages = [
        outbox.enqueue(
            kind="email",
            payload={
                "to": [address(n)],
                "subject": "[OpenBTAM] A new urgent report for Lincoln Test High needs attention",
                "body": "A new urgent report for Lincoln Test High needs attention: open OpenBTAM https://x.test/\n",
            },
            dedupe_key=f"crash-test-{n}",
        )
        for n in range(1, COUNT + 1)
    ]
    held = messages[BLOCKED - 1]
    expected_ids = {outbox.message_id_header(OutboxMessage.objects.get(pk=m.pk)): m.pk for m in messages}
    assert len(expected_ids) == COUNT
    shared = share_database(tmp_path)

    first = worker(shared, port, "crash-worker-1", batch=False)
    try:
        assert smtp.holding.wait(timeout=WAIT_SECONDS), "the worker never reached the held message"
        # The worker is inside the SMTP DATA command of message 15, which the server has not answered.
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=WAIT_SECONDS)
    finally:
        if first.poll() is None:
            first.kill()
        smtp.release.set()
    assert first.returncode == -signal.SIGKILL

    # Killed mid-batch: the ones before were sent, the held one is stuck in "sending", the rest wait.
    before = states(shared)
    assert before[OutboxMessage.State.SENT] == BLOCKED - 1 == len(smtp.accepted)
    assert before[OutboxMessage.State.SENDING] == 1
    assert before[OutboxMessage.State.PENDING] == COUNT - BLOCKED
    [(held_state, held_attempts)] = shared.rows(
        "SELECT state, attempts FROM worker_outboxmessage WHERE id = %s", [held.pk]
    )
    assert (held_state, held_attempts) == (OutboxMessage.State.SENDING, 1)
    assert outbox.message_id_header(held) not in smtp.accepted

    # The lease passes (the dead worker's claim ages beyond outbox.LEASE, 30 s).
    shared.execute(
        "UPDATE worker_outboxmessage SET claimed_at = %s WHERE state = %s",
        [shared.db_time(LONG_AGO), OutboxMessage.State.SENDING],
    )

    # One scheduler pass queues the periodic jobs (the outbox sweep among them) while a new worker
    # starts; it runs the 15 delivery tasks left and the sweep, which takes over the held message.
    scheduler = manage(shared, port, "run_scheduler", "--once")
    second = worker(shared, port, "crash-worker-2", batch=False)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while states(shared)[OutboxMessage.State.SENT] < COUNT:
            assert second.poll() is None, second.communicate()[0]
            assert time.monotonic() < deadline, f"not everything was sent: {states(shared)}"
            time.sleep(0.2)
        output, _ = scheduler.communicate(timeout=WAIT_SECONDS)
        assert scheduler.returncode == 0, output
    finally:
        second.send_signal(signal.SIGTERM)  # finishes the task it runs, then exits
        output, _ = second.communicate(timeout=WAIT_SECONDS)
    assert second.returncode == 0, output

    # Nothing lost, nothing doubled: every Message-ID accepted exactly once, nothing left waiting.
    assert Counter(smtp.accepted) == Counter(list(expected_ids)), "each email arrives exactly once"
    assert states(shared) == Counter({OutboxMessage.State.SENT: COUNT})
    attempts = dict(shared.rows("SELECT id, attempts FROM worker_outboxmessage"))
    assert attempts[held.pk] == 2  # cut off once, then delivered
    assert {pk: n for pk, n in attempts.items() if pk != held.pk} == {m.pk: 1 for m in messages if m.pk != held.pk}
    assert all(sent_at for (sent_at,) in shared.rows("SELECT sent_at FROM worker_outboxmessage"))
