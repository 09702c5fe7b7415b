from django.apps import AppConfig


class CoreConfig(AppConfig):
    default = True

    name = "btam.core"
    label = "core"

    def ready(self) -> None:
        from btam.core import checks  # noqa: F401  (registers system checks)
        from btam.lib import crypto

        # A missing or malformed encryption key stops start-up with a clear message.
        crypto.check_keys()
