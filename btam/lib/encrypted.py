"""Encryption at rest for narratives and attachments, with the deployment's keys (:mod:`btam.lib.crypto`).

* :class:`EncryptedTextField` stores text as a Fernet token. It can be read and written like a
  ``TextField`` but not searched: every lookup except ``isnull`` is refused.
* :class:`EncryptedFileSystemStorage` (``STORAGES["default"]``) encrypts every file before it
  touches the disk and decrypts it when it is opened. Stored names are random; files are never
  served by URL (downloads go through audited views).

``manage.py rotate_keys`` re-encrypts both under the newest key (see docs/encryption.md).

Stored file format
------------------
::

    header:   MAGIC (8 bytes) | chunk size (4 bytes, big-endian)
    records:  token length (4 bytes, big-endian) | Fernet token      (one per chunk, at least one)

A token's plaintext is ``file id (16 random bytes) | chunk index (8 bytes) | last (1 byte) | data``.
Every chunk but the last holds exactly ``chunk size`` bytes of data; the last holds 0 to ``chunk
size`` and is marked. The id and index stop chunks being dropped, reordered or spliced in from
another file; the mark stops a file being cut short at a chunk boundary. Neither writing nor
reading holds a whole file in memory, and all chunks of one file are under one key.
"""

from __future__ import annotations

import io
import os
import posixpath
import secrets
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from cryptography.fernet import InvalidToken, MultiFernet
from django.core import checks
from django.core.exceptions import FieldError, SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from btam.lib import crypto

# Text field ---------------------------------------------------------------------------------------


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text stored as a Fernet token under the newest key; NULL stays NULL.

    The value is not searchable or sortable in the database (the same text encrypts differently
    every time): filter on other fields, or ``<field>__isnull``.
    """

    description = _("Text (encrypted at rest)")

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.primary_key or self.unique or getattr(self, "db_index", False):
            errors.append(
                checks.Error(
                    "EncryptedTextField cannot be a primary key, unique or indexed: the stored "
                    "ciphertext is different every time the same text is saved.",
                    obj=self,
                    id="btam.E010",
                )
            )
        return errors

    def _label(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.label}.{self.name}" if model is not None else "an encrypted value"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        try:
            return crypto.decrypt_text(value)
        except crypto.DecryptionError:
            # The message names the field, never the stored value.
            raise crypto.DecryptionError(
                f"{self._label()}: none of the configured encryption keys can decrypt the stored value "
                "(wrong or missing key in BTAM_ENCRYPTION_KEYS, or altered data)."
            ) from None

    def get_prep_value(self, value: Any) -> str | None:
        text = super().get_prep_value(value)
        if text is None:
            return None
        return crypto.encrypt_text(text)

    def _refuse(self, lookup_name: str) -> FieldError:
        return FieldError(
            f"{self._label()} is encrypted at rest, so the database cannot search, compare or transform "
            f"it ('{lookup_name}' refused). Only '{self.name}__isnull' works; filter on other fields."
        )

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise self._refuse(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        raise self._refuse(lookup_name)


def encrypted_text_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    """The model's own (concrete, not inherited through a parent link) encrypted text fields."""
    return [
        f
        for f in model._meta.get_fields(include_parents=False)
        if isinstance(f, EncryptedTextField) and f.concrete and f.model is model
    ]


# File format --------------------------------------------------------------------------------------

MAGIC = b"BTAMENC1"
CHUNK_SIZE = 1 << 20
MAX_CHUNK_SIZE = 16 << 20
_HEADER_LEN = len(MAGIC) + 4
_LEN_BYTES = 4
_FILE_ID_LEN = 16
_INNER_LEN = _FILE_ID_LEN + 8 + 1
_TEMP_PREFIX = ".tmp-"


class EncryptedFileError(crypto.DecryptionError):
    """A stored file that is not in the encrypted format, is cut short, or whose chunks do not belong together."""


def fernet_token_length(plaintext_length: int) -> int:
    """Length of a Fernet token for this much plaintext (version, time, IV, padded AES-CBC, HMAC; base64)."""
    raw = 1 + 8 + 16 + 16 * (plaintext_length // 16 + 1) + 32
    return 4 * ((raw + 2) // 3)


def _record_length(chunk_size: int) -> int:
    """Length on disk of a record holding a full chunk."""
    return _LEN_BYTES + fernet_token_length(_INNER_LEN + chunk_size)


def _header(chunk_size: int) -> bytes:
    return MAGIC + chunk_size.to_bytes(4, "big")


def encrypt_chunks(chunks: Iterable[bytes], chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The stored form of a stream of plaintext pieces (of any sizes), all under the newest key."""
    fernet = crypto.fernet()
    file_id = secrets.token_bytes(_FILE_ID_LEN)
    index = 0

    def seal(data: bytes, last: bool) -> bytes:
        inner = file_id + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00") + data
        token = fernet.encrypt(inner)
        return len(token).to_bytes(_LEN_BYTES, "big") + token

    yield _header(chunk_size)
    buffer = bytearray()
    for piece in chunks:
        buffer += piece
        # Strictly more than a chunk: the final chunk (possibly empty) is always written last, marked.
        while len(buffer) > chunk_size:
            yield seal(bytes(buffer[:chunk_size]), last=False)
            del buffer[:chunk_size]
            index += 1
    yield seal(bytes(buffer), last=True)


def _read_header(raw: IO[bytes]) -> int:
    header = raw.read(_HEADER_LEN)
    if len(header) != _HEADER_LEN or header[: len(MAGIC)] != MAGIC:
        raise EncryptedFileError("The stored file is not in the encrypted format.")
    chunk_size = int.from_bytes(header[len(MAGIC) :], "big")
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise EncryptedFileError("The stored file has an impossible chunk size.")
    return chunk_size


def _read_token(raw: IO[bytes], chunk_size: int) -> bytes | None:
    """The next record's token, or None at the end of the file."""
    prefix = raw.read(_LEN_BYTES)
    if not prefix:
        return None
    length = int.from_bytes(prefix, "big")
    if len(prefix) != _LEN_BYTES or not 0 < length <= _record_length(chunk_size) - _LEN_BYTES:
        raise EncryptedFileError("The stored file is damaged (a chunk has an impossible length).")
    token = raw.read(length)
    if len(token) != length:
        raise EncryptedFileError("The stored file is cut short.")
    return token


class DecryptingReader(io.RawIOBase):
    """The plaintext of a stored file, decrypted one chunk at a time. Seekable when the file is."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._chunk_size = _read_header(raw)
        self._record_len = _record_length(self._chunk_size)
        self._file_id: bytes | None = None
        self._pos = 0
        self._chunk = b""
        self._chunk_index = -1  # index of the chunk in self._chunk; -1: none yet
        self._chunk_last = False
        self._raw_next = 0  # index of the record the raw file is positioned at
        self._size: int | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def _load(self, index: int) -> None:
        if index != self._raw_next:
            self._raw.seek(_HEADER_LEN + index * self._record_len)
        token = _read_token(self._raw, self._chunk_size)
        if token is None:
            raise EncryptedFileError("The stored file is cut short (its last chunk is missing).")
        inner = crypto.decrypt_bytes(token)
        file_id, number, last, data = (
            inner[:_FILE_ID_LEN],
            int.from_bytes(inner[_FILE_ID_LEN : _FILE_ID_LEN + 8], "big"),
            inner[_INNER_LEN - 1 : _INNER_LEN],
            inner[_INNER_LEN:],
        )
        if self._file_id is None:
            self._file_id = file_id
        if file_id != self._file_id or number != index or last not in (b"\x00", b"\x01"):
            raise EncryptedFileError("The stored file is damaged (its chunks do not belong together).")
        is_last = last == b"\x01"
        if not is_last and len(data) != self._chunk_size:
            raise EncryptedFileError("The stored file is damaged (a chunk has the wrong size).")
        if is_last and self._raw.read(1):
            raise EncryptedFileError("The stored file is damaged (data after its last chunk).")
        self._chunk, self._chunk_index, self._chunk_last = data, index, is_last
        self._raw_next = index + 1
        if is_last:
            self._size = index * self._chunk_size + len(data)

    def readinto(self, buffer: Any) -> int:
        if self._size is not None and self._pos >= self._size:
            return 0
        index = self._pos // self._chunk_size
        if index != self._chunk_index:
            self._load(index)
        offset = self._pos - index * self._chunk_size
        n = min(len(buffer), len(self._chunk) - offset)
        if n <= 0:
            return 0
        buffer[:n] = self._chunk[offset : offset + n]
        self._pos += n
        return n

    def plaintext_size(self) -> int:
        """Size of the plaintext: only the last chunk is decrypted to learn it."""
        if self._size is None:
            end = self._raw.seek(0, os.SEEK_END)
            body = end - _HEADER_LEN
            if body <= 0:
                raise EncryptedFileError("The stored file is cut short (it has no chunks).")
            self._raw_next = -1  # the raw position is no longer at a record boundary we know
            self._load((body - 1) // self._record_len)
        assert self._size is not None
        return self._size

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._pos + offset
        elif whence == os.SEEK_END:
            target = self.plaintext_size() + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        if target != self._pos and not self.seekable():
            raise io.UnsupportedOperation("seek")
        if self._size is None and target > 0 and target // self._chunk_size != max(self._chunk_index, 0):
            self.plaintext_size()  # seeking past the end must read as the end, not as a cut-short file
        self._pos = target
        return target

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._raw.close()
        super().close()


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomically(path: str, pieces: Iterable[bytes]) -> None:
    """Write to a temporary file (0600) beside ``path``, then put it in place with one rename."""
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            for piece in pieces:
                out.write(piece)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def rotate_file(path: str | os.PathLike[str], *, dry_run: bool = False) -> bool:
    """Re-encrypt a stored file under the newest key; False when it already is (nothing written).

    The file is replaced in one rename, so a crash leaves either the old file or the new one.
    Raises DecryptionError (or EncryptedFileError) for a file no configured key opens.
    """
    path = os.fspath(path)
    with open(path, "rb") as raw:
        chunk_size = _read_header(raw)
        first = _read_token(raw, chunk_size)
        if first is None:
            raise EncryptedFileError("The stored file is cut short (it has no chunks).")
        if crypto.is_current(first):
            return False
        crypto.rotate_token(first)  # raises DecryptionError if no key opens it
        if dry_run:
            return True
        raw.seek(_HEADER_LEN)
        fernet: MultiFernet = crypto.fernet()

        def rotated() -> Iterator[bytes]:
            yield _header(chunk_size)
            while (token := _read_token(raw, chunk_size)) is not None:
                try:
                    new = fernet.rotate(token)
                except InvalidToken:
                    raise EncryptedFileError("The stored file is damaged (a chunk cannot be decrypted).") from None
                yield len(new).to_bytes(_LEN_BYTES, "big") + new

        _write_atomically(path, rotated())
    return True


# File storage -------------------------------------------------------------------------------------


class EncryptedFileURLError(NotImplementedError):
    """Encrypted files have no URL: serve them through a view that checks access and audits the download."""


class EncryptedFileSystemStorage(FileSystemStorage):
    """Files encrypted on disk (0600, written atomically) under random names; never served by URL.

    The name asked for only chooses the folder (``upload_to``); the file itself is stored as
    ``<folder>/<yyyy>/<mm>/<uuid4 hex>``, so an uploaded file name (which can name a student)
    never reaches the disk. Keep the original name, if it is needed, in an encrypted field.
    ``size()`` is the plaintext size (only the last chunk is decrypted to learn it).
    """

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        folder = posixpath.dirname(str(name).replace("\\", "/"))
        now = timezone.now()
        new = posixpath.join(folder, f"{now:%Y}", f"{now:%m}", uuid.uuid4().hex)
        if max_length is not None and len(new) > max_length:
            raise SuspiciousFileOperation(
                f"The stored file name would be {len(new)} characters, longer than {max_length}: "
                "use a shorter upload folder."
            )
        return new

    def _save(self, name: str, content: File) -> str:  # type: ignore[type-arg]
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        except FileExistsError:
            raise FileExistsError(f"{directory} exists and is not a directory.") from None
        if os.path.lexists(full_path):  # random names: only by a (vanishingly unlikely) collision
            raise FileExistsError("A stored file already has this name.")
        _write_atomically(full_path, encrypt_chunks(content.chunks(CHUNK_SIZE)))
        return str(name).replace("\\", "/")

    def _open(self, name: str, mode: str = "rb") -> File:  # type: ignore[type-arg]
        if mode not in ("rb", "r"):
            raise ValueError("Encrypted files are opened for reading only ('rb' or 'r'); write them with save().")
        raw = open(self.path(name), "rb")  # noqa: SIM115 (closed with the returned file)
        try:
            reader: IO[Any] = io.BufferedReader(DecryptingReader(raw), CHUNK_SIZE)
        except BaseException:
            raw.close()
            raise
        if mode == "r":
            reader = io.TextIOWrapper(reader, encoding="utf-8")
        return File(reader, name=name)

    def size(self, name: str) -> int:
        with open(self.path(name), "rb") as raw:
            return DecryptingReader(raw).plaintext_size()

    def url(self, name: str | None) -> str:
        raise EncryptedFileURLError(
            "Encrypted files have no URL: serve them through a view that checks access and audits the download."
        )

    def stored_paths(self) -> Iterator[Path]:
        """Every stored file on disk (temporary files of unfinished writes left out)."""
        root = Path(self.location)
        if not root.is_dir():
            return
        for directory, _dirs, files in os.walk(root):
            for file_name in sorted(files):
                if not file_name.startswith(_TEMP_PREFIX):
                    yield Path(directory) / file_name
