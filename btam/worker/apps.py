from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "btam.worker"
    label = "worker"
