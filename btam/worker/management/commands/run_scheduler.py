"""Enqueue the periodic jobs of btam.worker.schedule when they are due. Run one or more anywhere."""

from __future__ import annotations

import logging
import signal
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connections

from btam.worker.schedule import run_due_jobs

logger = logging.getLogger("btam.worker.schedule")


class Command(BaseCommand):
    help = "Enqueue periodic jobs when due (several schedulers never enqueue one slot twice)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one pass, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between passes (default 1).")

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        self.stopping = threading.Event()
        if not once:
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
            logger.info("Scheduler started (every %s s)", interval)
        while not self.stopping.is_set():
            if not once:  # a long-running process: drop a connection that broke or aged out
                close_old_connections()
            try:
                enqueued = run_due_jobs()
            except DatabaseError as exc:
                # The database is away (restart, failover): keep trying, it will come back.
                logger.error("Scheduler pass failed: %s", type(exc).__name__)
                enqueued = []
            if enqueued and (once or options.get("verbosity", 1) >= 2):
                self.stdout.write(f"enqueued: {', '.join(enqueued)}")
            if once:
                break
            self.stopping.wait(interval)
        if not once:
            connections.close_all()
            logger.info("Scheduler stopped")

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        logger.info("Received %s, stopping the scheduler", signal.strsignal(signum))
        self.stopping.set()
