"""System check: the task that delivers outbox messages can be queued.

An action writes the delivery task of an urgent message in its own transaction (see
``btam.worker.outbox``), so a tasks configuration that refuses the task (its queue missing from
``TASKS["default"]["QUEUES"]``, a backend that does not run it) would refuse the action itself: an
urgent report would not be stored. The check makes that a start-up error instead.
"""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register(checks.Tags.compatibility)
def check_outbox_delivery_task(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from django_tasks import task_backends
    from django_tasks.exceptions import InvalidTaskBackendError, InvalidTaskError

    from btam.worker.tasks import deliver_outbox_message

    try:
        task_backends[deliver_outbox_message.backend].validate_task(deliver_outbox_message)
    except (InvalidTaskError, InvalidTaskBackendError) as exc:
        return [
            checks.Error(
                f"The outbox delivery task cannot be queued: {exc}",
                hint='Add "outbox" to TASKS["default"]["QUEUES"] (see docs/background-work.md).',
                id="btam.E020",
            )
        ]
    return []
