from django.apps import AppConfig


class BoardConfig(AppConfig):
    name = "btam.board"
    label = "board"
