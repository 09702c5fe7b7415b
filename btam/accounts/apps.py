from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "btam.accounts"
    label = "accounts"
