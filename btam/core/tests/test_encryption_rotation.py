"""Keys rotate: `manage.py rotate_keys` re-encrypts narratives, files and MFA secrets under the
newest key, so the old key can then be dropped."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt as mfa_decrypt
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from btam.audit.models import AuditEvent, Verb
from btam.lib import crypto
from btam.lib.encrypted import MAGIC
from btam.lib.tests.encryptedapp.models import Note, OtherNote
from btam.testing import TOTP_SECRET, UserFactory

pytestmark = pytest.mark.django_db

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
FILE_CONTENT = b"Interview notes about Jane Roe " * 50_000  # more than one chunk


@pytest.fixture
def media(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "media"
    storages = {
        "default": {"BACKEND": "btam.lib.encrypted.EncryptedFileSystemStorage", "OPTIONS": {"location": str(root)}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, BTAM_ENCRYPTION_KEYS=[OLD]):
        yield root


def raw_column(model: type, pk: int, column: str) -> str:
    table = connection.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def rotate_keys(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


class Everything:
    """One of each thing stored encrypted, all under the OLD key."""

    def __init__(self) -> None:
        self.notes = [Note.objects.create(narrative=f"narrative {i}", follow_up=None if i else "f") for i in range(3)]
        self.other = OtherNote.objects.create(body="other body")
        note = self.notes[0]
        note.attachment.save("Roe.txt", ContentFile(FILE_CONTENT))
        self.file_name = note.attachment.name
        self.user = UserFactory.create()
        self.totp = TOTP.activate(self.user, TOTP_SECRET).instance
        self.recovery = RecoveryCodes.activate(self.user)
        self.codes = self.recovery.generate_codes()

    def assert_readable(self) -> None:
        assert [n.narrative for n in Note.objects.order_by("pk")] == ["narrative 0", "narrative 1", "narrative 2"]
        assert Note.objects.get(pk=self.notes[0].pk).follow_up == "f"
        assert OtherNote.objects.get().body == "other body"
        with default_storage.open(self.file_name) as stored:
            assert stored.read() == FILE_CONTENT
        # allauth reads the secret through the MFA adapter, as sign-in does.
        assert mfa_decrypt(Authenticator.objects.get(pk=self.totp.pk).data["secret"]) == TOTP_SECRET
        recovery = Authenticator.objects.get(pk=self.recovery.instance.pk)
        assert RecoveryCodes(recovery).generate_codes() == self.codes

    def tokens(self) -> list[bytes]:
        values = [raw_column(Note, n.pk, "narrative") for n in self.notes]
        values += [raw_column(Note, self.notes[0].pk, "follow_up"), raw_column(OtherNote, self.other.pk, "body")]
        values += [Authenticator.objects.get(pk=self.totp.pk).data["secret"]]
        values += [Authenticator.objects.get(pk=self.recovery.instance.pk).data["seed"]]
        return [v.encode() for v in values]


def test_the_mfa_totp_secret_is_stored_encrypted(media: Path) -> None:
    user = UserFactory.create()
    authenticator = TOTP.activate(user, TOTP_SECRET).instance
    stored = Authenticator.objects.get(pk=authenticator.pk).data["secret"]
    assert TOTP_SECRET not in stored
    assert crypto.decrypt_text(stored) == TOTP_SECRET
    seed = RecoveryCodes.activate(user).instance.data["seed"]
    assert len(crypto.decrypt_text(seed)) == 80


def test_rotation_re_encrypts_everything_and_the_old_key_can_then_be_dropped(media: Path) -> None:
    things = Everything()
    [on_disk] = [p for p in media.rglob("*") if p.is_file()]
    before = on_disk.read_bytes()
    with override_settings(BTAM_ENCRYPTION_KEYS=[NEW, OLD]):
        things.assert_readable()  # the old key still decrypts before rotation
        assert not any(crypto.is_current(t) for t in things.tokens())
        output = rotate_keys()
        assert "encryptedapp.Note (narrative, follow_up): 4 values re-encrypted" in output
        assert "encryptedapp.OtherNote (body): 1 values re-encrypted" in output
        assert "MFA authenticators (TOTP secrets, recovery-code seeds): 2 re-encrypted" in output
        assert "Encrypted files: 1 re-encrypted" in output
        assert all(crypto.is_current(t) for t in things.tokens())
        after = on_disk.read_bytes()
        # A phrase with spaces: ciphertext is base64, so it can never hold one by chance (a bare
        # word like "Jane" turns up in about one megabyte-sized ciphertext in ten).
        assert after != before and after.startswith(MAGIC) and b"about Jane Roe" not in after
        assert len(after) == len(before)
        assert [p for p in media.rglob("*") if p.is_file()] == [on_disk]  # replaced in place, no leftovers
    with override_settings(BTAM_ENCRYPTION_KEYS=[NEW]):
        things.assert_readable()
    with override_settings(BTAM_ENCRYPTION_KEYS=[OLD]), pytest.raises(crypto.DecryptionError):
        Note.objects.get(pk=things.notes[0].pk)
    event = AuditEvent.objects.get(verb=Verb.KEYS_ROTATED)
    assert event.actor is None and event.actor_name == "rotate_keys"
    models = event.detail.pop("models")
    assert event.detail == {"mfa_authenticators": 2, "files": 1, "unreadable": 0}
    # Every model with an encrypted field is covered; only the test app's hold values here.
    assert {"intake.report", "intake.reportermessage"} <= {label.lower() for label in models}
    assert {k: v for k, v in models.items() if v} == {"encryptedapp.Note": 4, "encryptedapp.OtherNote": 1}


def test_a_second_run_rotates_nothing(media: Path) -> None:
    Everything()
    with override_settings(BTAM_ENCRYPTION_KEYS=[NEW, OLD]):
        rotate_keys()
        output = rotate_keys()
    assert "Done: 0 re-encrypted." in output
    second = AuditEvent.objects.filter(verb=Verb.KEYS_ROTATED).order_by("pk").last()
    assert second is not None
    assert not any(second.detail["models"].values())
    assert second.detail["files"] == 0 and second.detail["mfa_authenticators"] == 0


def test_with_one_key_there_is_nothing_to_rotate(media: Path) -> None:
    Everything()
    assert "Done: 0 re-encrypted." in rotate_keys()


def test_a_dry_run_counts_but_changes_nothing(media: Path) -> None:
    things = Everything()
    before = things.tokens()
    [on_disk] = [p for p in media.rglob("*") if p.is_file()]
    file_before = on_disk.read_bytes()
    with override_settings(BTAM_ENCRYPTION_KEYS=[NEW, OLD]):
        output = rotate_keys("--dry-run")
    assert "encryptedapp.Note (narrative, follow_up): 4 values would be re-encrypted" in output
    assert "Encrypted files: 1 would be re-encrypted" in output
    assert "Dry run: nothing was changed." in output
    assert things.tokens() == before
    assert on_disk.read_bytes() == file_before
    assert not AuditEvent.objects.filter(verb=Verb.KEYS_ROTATED).exists()


def test_small_batches_cover_every_row(media: Path) -> None:
    OtherNote.objects.bulk_create([OtherNote(body=f"body {i}") for i in range(7)])
    with override_settings(BTAM_ENCRYPTION_KEYS=[NEW, OLD]):
        assert "encryptedapp.OtherNote (body): 7 values re-encrypted" in rotate_keys("--batch-size", "2")
    with override_settings(BTAM_ENCRYPTION_KEYS=[NEW]):
        assert sorted(OtherNote.objects.values_list("body", flat=True)) == [f"body {i}" for i in range(7)]


def test_values_no_key_opens_are_reported_and_left_alone_while_the_rest_rotate(media: Path) -> None:
    good = OtherNote.objects.create(body="fine")
    lost = OtherNote.objects.create(body="x")
    table = connection.ops.quote_name(OtherNote._meta.db_table)
    foreign = Fernet(Fernet.generate_key()).encrypt(b"Jane Roe").decode()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET body = %s WHERE id = %s", [foreign, lost.pk])  # noqa: S608
    err = io.StringIO()
    with override_settings(BTAM_ENCRYPTION_KEYS=[NEW, OLD]):
        with pytest.raises(CommandError, match="1 values or files cannot be decrypted"):
            call_command("rotate_keys", stdout=io.StringIO(), stderr=err)
        assert crypto.is_current(raw_column(OtherNote, good.pk, "body").encode())
    assert f"encryptedapp.OtherNote.body pk={lost.pk}" in err.getvalue()
    assert "Jane" not in err.getvalue()
    assert raw_column(OtherNote, lost.pk, "body") == foreign
    assert AuditEvent.objects.get(verb=Verb.KEYS_ROTATED).detail["unreadable"] == 1
