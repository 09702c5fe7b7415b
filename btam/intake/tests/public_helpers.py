"""Shared helpers of the public reporting tests (test_public_*.py): a school, form data, files."""

from __future__ import annotations

import io
import re
import secrets
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image

from btam.orgs.models import School
from btam.testing import DistrictFactory, SchoolFactory

NARRATIVE = "A student in my class said he will bring a knife to school on Friday and hurt someone."
_CODE = re.compile(r'data-testid="receipt-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def make_school(*, crisis_line: str = "1-800-555-0199", slug: str | None = None, **kwargs: Any) -> School:
    district = DistrictFactory.create(crisis_line=crisis_line)
    extra = {"slug": slug} if slug else {}
    return SchoolFactory.create(district=district, name="North Test High", **extra, **kwargs)


def form_url(school: School) -> str:
    return reverse("report:school_in_district", args=[school.district.slug, school.slug])


def report_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "narrative": NARRATIVE,
        "weapon": "yes",
        "self_harm": "no",
        "submission_token": secrets.token_urlsafe(24),
    }
    data.update(overrides)
    return data


def jpeg(size: tuple[int, int] = (40, 30), name: str = "photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def png_claiming(width: int, height: int, name: str = "bomb.png") -> SimpleUploadedFile:
    """A tiny PNG whose header declares width x height pixels: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
    return SimpleUploadedFile(name, data + chunk(b"IEND", b""), content_type="image/png")


def submit(client: Client, school: School, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(form_url(school), data if data is not None else report_data(), **kwargs)


def receipt_code(response: Any) -> str:
    match = _CODE.search(response.content.decode())
    assert match, "no receipt code on the page"
    return match.group(1)


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def open_thread(client: Client, code: str) -> Any:
    return client.post(reverse("report:followup"), {"code": code})


@contextmanager
def isolated(tmp_path: Path) -> Iterator[None]:
    """A clean cache (throttle counters) and a media folder of the test's own."""
    storages = {
        "default": {
            "BACKEND": "btam.lib.encrypted.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cache.clear()
    try:
        with override_settings(STORAGES=storages):
            yield
    finally:
        cache.clear()
