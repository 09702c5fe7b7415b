"""Attachments are stored encrypted: EncryptedFileSystemStorage (btam.lib.encrypted)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import override_settings

from btam.lib import crypto, encrypted
from btam.lib.encrypted import (
    CHUNK_SIZE,
    MAGIC,
    EncryptedFileError,
    EncryptedFileSystemStorage,
    EncryptedFileURLError,
)
from btam.lib.tests.encryptedapp.models import Note

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
SECRET = b"Threat statement by Jane Roe, grade 9: 'I will bring it on Monday.'"
STORED_NAME = re.compile(r"^attachments/\d{4}/\d{2}/[0-9a-f]{32}$")


@pytest.fixture
def media(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "media"
    storages = {
        "default": {"BACKEND": "btam.lib.encrypted.EncryptedFileSystemStorage", "OPTIONS": {"location": str(root)}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, BTAM_ENCRYPTION_KEYS=[KEY_A]):
        yield root


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_the_default_storage_is_the_encrypted_one(media: Path) -> None:
    assert isinstance(default_storage, EncryptedFileSystemStorage)
    assert Path(default_storage.location) == media


@pytest.mark.django_db
def test_the_file_on_disk_holds_no_plaintext_and_not_the_uploaded_name(media: Path) -> None:
    note = Note(narrative="n")
    note.attachment.save("Jane_Roe_threat_statement.txt", ContentFile(SECRET))
    assert STORED_NAME.match(note.attachment.name), note.attachment.name
    [on_disk] = files_under(media)
    assert "Jane" not in str(on_disk) and "threat" not in str(on_disk)
    raw = on_disk.read_bytes()
    assert raw.startswith(MAGIC)
    # Phrases with spaces: the ciphertext is base64 and cannot hold one by chance.
    assert b"by Jane Roe" not in raw and b"on Monday" not in raw
    assert stat.S_IMODE(on_disk.stat().st_mode) == 0o600
    with Note.objects.get(pk=note.pk).attachment.open("rb") as stored:
        assert stored.read() == SECRET


@pytest.mark.parametrize("length", [0, 1, 15, 16, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE + 7])
def test_files_of_any_size_round_trip_and_report_their_plaintext_size(media: Path, length: int) -> None:
    content = os.urandom(length)
    name = default_storage.save("attachments/upload.bin", ContentFile(content))
    assert default_storage.size(name) == length
    with default_storage.open(name) as stored:
        assert stored.size == length
        assert stored.read() == content
    with default_storage.open(name) as stored:
        assert b"".join(stored.chunks(chunk_size=100_000)) == content


def test_uploads_in_memory_and_on_disk_are_encrypted(media: Path, tmp_path: Path) -> None:
    small = SimpleUploadedFile("Roe.txt", SECRET, content_type="text/plain")
    big = TemporaryUploadedFile("Roe.pdf", "application/pdf", len(SECRET) * 50_000, None)
    big.write(SECRET * 50_000)
    big.seek(0)
    names = [default_storage.save("attachments/x", upload) for upload in (small, big)]
    big.close()
    for on_disk in files_under(media):
        assert SECRET not in on_disk.read_bytes()
    with default_storage.open(names[0]) as one, default_storage.open(names[1]) as two:
        assert one.read() == SECRET
        assert two.read() == SECRET * 50_000


def test_an_open_file_seeks_anywhere(media: Path) -> None:
    content = bytes(range(256)) * (CHUNK_SIZE * 2 // 256 + 3)
    name = default_storage.save("attachments/x", ContentFile(content))
    with default_storage.open(name) as stored:
        for position in (0, 5, CHUNK_SIZE - 2, CHUNK_SIZE, 2 * CHUNK_SIZE + 100, 17):
            stored.seek(position)
            assert stored.tell() == position
            assert stored.read(10) == content[position : position + 10]
        assert stored.seek(-4, os.SEEK_END) == len(content) - 4
        assert stored.read() == content[-4:]
        stored.seek(len(content) + 50)
        assert stored.read() == b""
        stored.seek(0)
        assert stored.read() == content


def test_text_mode_reads_text(media: Path) -> None:
    name = default_storage.save("attachments/x", ContentFile("Línea uno\nzwei\n".encode()))
    with default_storage.open(name, "r") as stored:
        assert stored.read() == "Línea uno\nzwei\n"


def test_files_have_no_url_and_cannot_be_opened_for_writing(media: Path) -> None:
    name = default_storage.save("attachments/x", ContentFile(SECRET))
    with pytest.raises(EncryptedFileURLError, match="audits the download"):
        default_storage.url(name)
    for mode in ("wb", "ab", "r+b"):
        with pytest.raises(ValueError, match="reading only"):
            default_storage.open(name, mode)


def test_every_save_gets_a_new_random_name_and_leaves_no_temporary_file(media: Path) -> None:
    names = {default_storage.save("attachments/same.txt", ContentFile(SECRET)) for _ in range(3)}
    assert len(names) == 3
    assert all(STORED_NAME.match(n) for n in names)
    assert len(files_under(media)) == 3
    default_storage.delete(names.pop())
    assert len(files_under(media)) == 2


def test_a_tampered_file_raises_decryption_error(media: Path) -> None:
    name = default_storage.save("attachments/x", ContentFile(SECRET))
    path = Path(default_storage.path(name))
    raw = bytearray(path.read_bytes())
    raw[60] = ord("A") if raw[60] != ord("A") else ord("B")
    path.write_bytes(bytes(raw))
    with default_storage.open(name) as stored, pytest.raises(crypto.DecryptionError) as failed:
        stored.read()
    assert "Jane" not in str(failed.value)


def test_a_file_under_an_unknown_key_cannot_be_read(media: Path) -> None:
    with override_settings(BTAM_ENCRYPTION_KEYS=[KEY_B]):
        name = default_storage.save("attachments/x", ContentFile(SECRET))
    with default_storage.open(name) as stored, pytest.raises(crypto.DecryptionError):
        stored.read()


def test_cut_spliced_or_foreign_files_are_refused(media: Path) -> None:
    content = os.urandom(2 * CHUNK_SIZE + 10)
    first = Path(default_storage.path(default_storage.save("attachments/x", ContentFile(content))))
    second = Path(default_storage.path(default_storage.save("attachments/x", ContentFile(content))))
    record = encrypted._record_length(CHUNK_SIZE)
    header = len(MAGIC) + 4
    whole = first.read_bytes()

    def refused(raw: bytes) -> None:
        first.write_bytes(raw)
        with pytest.raises(EncryptedFileError), open(first, "rb") as stored:
            encrypted.DecryptingReader(stored).read()

    refused(whole[: header + 2 * record])  # cut at a chunk boundary: the marked last chunk is gone
    refused(whole[:-5])  # cut inside the last chunk
    refused(whole[:header] + whole[header + record :])  # a chunk dropped
    refused(whole[:header] + whole[header + record : header + 2 * record] + whole[header : header + record])
    refused(whole[: header + record] + second.read_bytes()[header + record :])  # chunks from another file
    refused(whole + b"trailing")
    refused(b"PK\x03\x04 not encrypted at all")
    refused(b"")


def test_the_token_length_formula_matches_fernet() -> None:
    fernet = Fernet(KEY_A)
    for length in (0, 1, 15, 16, 17, 100, 25 + CHUNK_SIZE):
        assert len(fernet.encrypt(b"\0" * length)) == encrypted.fernet_token_length(length)
