from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "btam.audit"
    label = "audit"
