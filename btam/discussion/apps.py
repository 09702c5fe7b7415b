from django.apps import AppConfig


class DiscussionConfig(AppConfig):
    name = "btam.discussion"
    label = "discussion"
