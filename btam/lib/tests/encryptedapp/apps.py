from django.apps import AppConfig


class EncryptedAppConfig(AppConfig):
    name = "btam.lib.tests.encryptedapp"
    label = "encryptedapp"
    default_auto_field = "django.db.models.BigAutoField"
