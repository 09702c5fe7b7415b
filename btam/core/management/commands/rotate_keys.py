"""Re-encrypt everything stored encrypted under the newest key in BTAM_ENCRYPTION_KEYS.

Covers every EncryptedTextField of every model, every file in the encrypted storages, and the
allauth MFA secrets (TOTP secret, recovery-code seed). Values already under the newest key are
left alone, so a second run changes nothing. Each batch of rows is one transaction and each file
is replaced with one rename, so an interrupted run can simply be run again.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models.functions import Cast

from btam.audit.models import AuditEvent, Verb
from btam.lib import crypto
from btam.lib.encrypted import EncryptedFileSystemStorage, EncryptedTextField, encrypted_text_fields, rotate_file

# The Authenticator.data keys that allauth encrypts with the MFA adapter (btam.accounts.adapter).
MFA_ENCRYPTED_KEYS = {
    Authenticator.Type.TOTP: ("secret",),
    Authenticator.Type.RECOVERY_CODES: ("seed", "migrated_codes"),  # migrated_codes: a list of tokens
}
_STORED = "btam_stored_value"


class _Rotation:
    """Re-encrypts one token at a time, counting what it did."""

    def __init__(self, *, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.unreadable: list[str] = []

    def new_token(self, token: str, where: str) -> str | None:
        """The token under the newest key, or None when it already is (or cannot be read)."""
        try:
            raw = token.encode("ascii")
            if crypto.is_current(raw):
                return None
            return crypto.rotate_token(raw).decode("ascii")
        except (UnicodeEncodeError, crypto.DecryptionError):
            self.unreadable.append(where)
            return None


def _rotated_mfa_data(authenticator: Authenticator, rotation: _Rotation) -> dict[str, Any] | None:
    """The authenticator's data with its encrypted values under the newest key; None if none changed."""
    data = dict(authenticator.data)
    changed = False
    for key in MFA_ENCRYPTED_KEYS.get(authenticator.type, ()):
        where = f"allauth MFA authenticator pk={authenticator.pk} ({key})"
        value = data.get(key)
        if isinstance(value, str):
            new = rotation.new_token(value, where)
            if new is not None:
                data[key], changed = new, True
        elif isinstance(value, list):
            tokens = [rotation.new_token(v, where) if isinstance(v, str) else None for v in value]
            if any(t is not None for t in tokens):
                data[key] = [t if t is not None else v for t, v in zip(tokens, value, strict=True)]
                changed = True
    return data if changed else None


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value and file under the newest key in BTAM_ENCRYPTION_KEYS "
        "(run after adding a new key at the front; then the old key can be dropped)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be re-encrypted; change nothing.")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args: Any, dry_run: bool, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        rotation = _Rotation(dry_run=dry_run)
        would = "would be re-encrypted" if dry_run else "re-encrypted"

        models_counts: dict[str, int] = {}
        for model in apps.get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            fields = encrypted_text_fields(model)
            if not fields:
                continue
            done = sum(self._rotate_field(model, field, rotation, batch_size) for field in fields)
            models_counts[model._meta.label] = done
            names = ", ".join(f.name for f in fields)
            self.stdout.write(f"{model._meta.label} ({names}): {done} values {would}")

        mfa = self._rotate_mfa(rotation, batch_size)
        self.stdout.write(f"MFA authenticators (TOTP secrets, recovery-code seeds): {mfa} {would}")

        files = self._rotate_files(rotation)
        self.stdout.write(f"Encrypted files: {files} {would}")

        counts: dict[str, Any] = {
            "models": models_counts,
            "mfa_authenticators": mfa,
            "files": files,
            "unreadable": len(rotation.unreadable),
        }
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
        else:
            with transaction.atomic():
                AuditEvent.objects.record(actor=None, actor_label="rotate_keys", verb=Verb.KEYS_ROTATED, detail=counts)
        if rotation.unreadable:
            for where in rotation.unreadable[:50]:
                self.stderr.write(f"  cannot decrypt: {where}")
            raise CommandError(
                f"{len(rotation.unreadable)} values or files cannot be decrypted with any key in "
                "BTAM_ENCRYPTION_KEYS and were left as they are (listed above). Do not drop an old key "
                "until they are accounted for."
            )
        total = sum(models_counts.values()) + mfa + files
        self.stdout.write(self.style.SUCCESS(f"Done: {total} {would}."))

    def _rotate_field(
        self, model: type[models.Model], field: EncryptedTextField, rotation: _Rotation, batch_size: int
    ) -> int:
        # The stored token as text: a plain TextField expression is not decrypted on the way out.
        stored = Cast(field.name, output_field=models.TextField())
        manager = model._base_manager
        rows = manager.filter(**{f"{field.name}__isnull": False}).annotate(**{_STORED: stored}).order_by("pk")
        done = 0
        last_pk: Any = None
        while True:
            page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
            batch = list(page.values_list("pk", _STORED)[:batch_size])
            if not batch:
                return done
            last_pk = batch[-1][0]
            with transaction.atomic():
                for pk, token in batch:
                    if not token:
                        continue
                    new = rotation.new_token(token, f"{model._meta.label}.{field.name} pk={pk}")
                    if new is None:
                        continue
                    if rotation.dry_run:
                        done += 1
                        continue
                    # Only if the row still holds the token read (a concurrent edit wins, already current).
                    done += (
                        manager.filter(pk=pk)
                        .alias(**{_STORED: stored})
                        .filter(**{_STORED: token})
                        .update(**{field.attname: models.Value(new, output_field=models.TextField())})
                    )

    def _rotate_mfa(self, rotation: _Rotation, batch_size: int) -> int:
        authenticators = Authenticator.objects.filter(type__in=list(MFA_ENCRYPTED_KEYS))
        pks = list(authenticators.order_by("pk").values_list("pk", flat=True))
        done = 0
        for start in range(0, len(pks), batch_size):
            with transaction.atomic():
                for authenticator in authenticators.select_for_update().filter(pk__in=pks[start : start + batch_size]):
                    data = _rotated_mfa_data(authenticator, rotation)
                    if data is None:
                        continue
                    done += 1
                    if not rotation.dry_run:
                        Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
        return done

    def _rotate_files(self, rotation: _Rotation) -> int:
        done = 0
        seen: set[str] = set()
        for alias in storages.backends:
            storage = storages[alias]
            if not isinstance(storage, EncryptedFileSystemStorage) or os.fspath(storage.location) in seen:
                continue
            seen.add(os.fspath(storage.location))
            counts: Counter[bool] = Counter()
            for path in storage.stored_paths():
                try:
                    counts[rotate_file(path, dry_run=rotation.dry_run)] += 1
                except FileNotFoundError:
                    continue  # deleted while we ran
                except crypto.DecryptionError:
                    rotation.unreadable.append(f"file {path.relative_to(storage.location)} in storage {alias!r}")
            done += counts[True]
        return done
