"""Small hand-made OneRoster 1.1 bundles and an in-memory upload of them, for the import tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
SCHOOL_ID = "org-sch-1"


def user_row(
    sid: str,
    given: str,
    family: str,
    *,
    role: str = "student",
    email: str = "",
    grade: str = "09",
    birth_note: str = "",
) -> str:
    grades = grade if role == "student" else ""
    return f"{sid},active,,true,{SCHOOL_ID},{role},{sid},,{given},{family},,{birth_note},{email},,,,{grades},"


STUDENTS = [
    user_row("stu-1", "Avery", "Quill"),
    user_row("stu-2", "Jordan", "Pike"),
    user_row("stu-3", "Rowan", "Sallow", grade="10"),
]


def bundle_bytes(
    users: Iterable[str] = STUDENTS,
    *,
    extra_files: dict[str, bytes] | None = None,
    orgs: str | None = None,
) -> bytes:
    """A zip: manifest, one school in orgs.csv and the given users.csv rows."""
    files = {
        "manifest.csv": (
            b"propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
            b"file.orgs,bulk\nfile.users,bulk\nfile.enrollments,absent\n"
        ),
        "orgs.csv": (
            orgs
            if orgs is not None
            else "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
            f"{SCHOOL_ID},active,,North Test High,school,,\n"
        ).encode(),
        "users.csv": (USERS_HEADER + "\n" + "\n".join(users) + "\n").encode(),
        **(extra_files or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def upload(content: bytes | None = None, name: str = "roster.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, bundle_bytes() if content is None else content, "application/zip")


def use_test_settings(settings: Any, tmp_path: Path) -> Path:
    """Fast password hashing for the shared test users, and uploads stored under ``tmp_path``."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "btam.lib.encrypted.EncryptedFileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


def close_progress_connection() -> None:
    """Close the PostgreSQL progress connection a test opened, so the test database can be dropped."""
    from django.db import connections

    if "progress" in connections:
        connections["progress"].close()


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
