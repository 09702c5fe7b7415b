"""Shared helpers of the documents, timeline and reporter tests: cases opened through the real
actions, reports through the real intake action (fictitious text), and files built in memory."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from btam.accounts.models import Role, User
from btam.cases import actions
from btam.cases.models import Case, CaseSchool
from btam.intake.models import Report
from btam.intake.tests.triage_helpers import submit
from btam.lib import clock
from btam.orgs.models import School
from btam.testing import make_member

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF_WITH_JAVASCRIPT = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


def team_member(world: Any) -> User:
    return world.users[Role.TEAM_MEMBER.value]


def open_case(
    world: Any, *, reports: tuple[Report, ...] = (), actor: User | None = None, school: School | None = None
) -> Case:
    return actions.do_open_case(
        actor=actor or team_member(world),
        school=school or world.school,
        title="Concern at lunch",
        reports=list(reports),
    )


def report_with_thread(school: School, **kwargs: Any) -> Report:
    """A public report (with a receipt code, so with a reporter thread)."""
    return submit(school, **kwargs)


def close(case: Case, world: Any) -> Case:
    leader = world.users[Role.TEAM_LEADER.value]
    return actions.do_request_closure(actor=leader, case=case, reason="no_threat", note="Resolved on the spot.")


def school_member(world: Any, school: School, role: str = Role.TEAM_MEMBER.value) -> User:
    return make_member(role, world.district, schools=[school])


def read_only_member(world: Any, case: Case) -> User:
    """A member of another school that keeps read access to the case (as after a transfer)."""
    CaseSchool.objects.create(
        case=case,
        school=world.other_school,
        access=CaseSchool.Access.READ,
        added_at=clock.now(),
        added_by=team_member(world),
    )
    return school_member(world, world.other_school)


def upload(data: bytes, name: str = "file.bin", content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_bytes(size: tuple[int, int] = (16, 12)) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x0110] = "CAMERA-SERIAL-0042"  # Model
    out = io.BytesIO()
    Image.linear_gradient("L").resize((32, 24)).convert("RGB").save(out, "JPEG", exif=exif, comment=b"12 Elm Street")
    return out.getvalue()


def office_zip(
    main: str = DOCX_MAIN,
    part: str = "/word/document.xml",
    *,
    extra: dict[str, bytes] | None = None,
    content_types: bytes | None = None,
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            content_types
            or (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="{part}" ContentType="{main}"/>'
                "</Types>"
            ).encode(),
        )
        archive.writestr("_rels/.rels", b"<Relationships/>")
        archive.writestr(part.lstrip("/"), b"<document>Meeting notes (fictitious)</document>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def declare_size(data: bytes, entry: str, size: int) -> bytes:
    """The zip with the central directory's uncompressed size of ``entry`` changed to ``size`` (a lie)."""
    raw = bytearray(data)
    position = raw.find(b"PK\x01\x02")
    while position != -1:
        name_length = int.from_bytes(raw[position + 28 : position + 30], "little")
        name = bytes(raw[position + 46 : position + 46 + name_length]).decode()
        if name == entry:
            raw[position + 24 : position + 28] = size.to_bytes(4, "little")
        position = raw.find(b"PK\x01\x02", position + 4)
    return bytes(raw)


def stored_files() -> list[Path]:
    default = cast(dict[str, Any], settings.STORAGES["default"])
    root = Path(default["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()]
