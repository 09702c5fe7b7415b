"""/healthz for a load balancer: 503 when this node cannot serve, 200 (reported) when only the worker lags."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from btam.core import views
from btam.worker.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def get(client: Client) -> tuple[int, dict[str, Any]]:
    response = client.get("/healthz")
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    return response.status_code, response.json()


def beat(at: dt.datetime) -> None:
    WorkerHeartbeat.objects.create(worker_id="host:1", hostname="host", pid=1, last_seen=at)


def test_it_is_ok_with_a_fresh_heartbeat(client: Client, clock: Any) -> None:
    beat(clock.now() - dt.timedelta(seconds=5))
    code, body = get(client)
    assert code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"
    assert body["checks"]["worker"]["status"] == "ok"
    assert 5 <= body["checks"]["worker"]["age_seconds"] < 60


def test_a_stale_worker_is_reported_but_keeps_200(client: Client, clock: Any, settings: Any) -> None:
    beat(clock.now() - dt.timedelta(seconds=settings.BTAM_WORKER_HEARTBEAT_STALE_SECONDS + 60))
    code, body = get(client)
    assert code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["status"] == "stale"


def test_no_heartbeat_yet_is_reported_but_keeps_200(client: Client) -> None:
    code, body = get(client)
    assert code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["status"] == "none"
    assert body["checks"]["worker"]["age_seconds"] is None


def test_pending_migrations_give_503(client: Client, monkeypatch: pytest.MonkeyPatch, clock: Any) -> None:
    beat(clock.now())
    monkeypatch.setattr(views, "_migrations_applied", False)
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets, clean_start=False: [("x", False)] * 2
    )
    code, body = get(client)
    assert code == 503
    assert body["status"] == "error"
    assert body["checks"]["migrations"] == "2 pending"
    assert body["checks"]["worker"]["status"] == "ok"


def test_an_unreachable_database_gives_503(client: Client) -> None:
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        code, body = get(client)
    assert code == 503
    assert body == {"status": "error", "checks": {"database": "unreachable"}}
