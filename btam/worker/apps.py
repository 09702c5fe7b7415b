from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class WorkerConfig(AppConfig):
    name = "btam.worker"
    label = "worker"

    def ready(self) -> None:
        # Outbox handlers of other apps live in <app>/outbox_handlers.py (see btam.worker.outbox).
        autodiscover_modules("outbox_handlers")
        from btam.worker import checks  # noqa: F401  (registers the system check)
