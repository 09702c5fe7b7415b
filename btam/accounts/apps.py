from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "btam.accounts"
    label = "accounts"

    def ready(self) -> None:
        from btam.accounts import audit_hooks

        # Second-factor events happen inside allauth; its signals are the only hook (see audit_hooks).
        audit_hooks.connect()
