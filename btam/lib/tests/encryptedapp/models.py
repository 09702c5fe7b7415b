"""Models for the encryption tests only (INSTALLED_APPS has this app only when settings.TESTING)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from btam.lib.encrypted import EncryptedTextField


class Note(models.Model):
    title = models.CharField(max_length=100, blank=True)
    narrative = EncryptedTextField(blank=True)
    follow_up = EncryptedTextField(null=True, blank=True)
    attachment = models.FileField(upload_to="attachments/", blank=True)

    # Spelled out: mypy's Django plugin does not see this app (installed only under tests).
    objects: ClassVar[models.Manager[Note]] = models.Manager()

    def __str__(self) -> str:
        return self.title or f"Note {self.pk}"


class OtherNote(models.Model):
    """A second model, so rotation is seen to walk every model."""

    body = EncryptedTextField()

    objects: ClassVar[models.Manager[OtherNote]] = models.Manager()

    def __str__(self) -> str:
        return f"Other note {self.pk}"
