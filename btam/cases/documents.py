"""Case documents: what a file is, decided by its content, and whether we keep it.

:func:`prepare_document` turns one uploaded file into a :class:`PreparedDocument` or raises
:class:`DocumentFileError` with a plain message naming the file. The rules:

* At most :func:`max_bytes` (``BTAM_CASE_DOCUMENT_MAX_MB``, 25 MB by default), read in chunks: we
  stop as soon as a file is too big. (The view refuses a request declaring a larger body before
  reading it; this is the second line.)
* The type comes from the bytes, never from the name or the browser's content type. Accepted:
  PDF, JPEG, PNG, GIF and WebP (intake's checks: a PDF with active content is refused; pictures are
  re-encoded without their metadata), plain text and CSV (valid UTF-8, no NUL character, not HTML),
  and Word, Excel and PowerPoint documents (DOCX, XLSX, PPTX: a zip whose ``[Content_Types].xml``
  names the right main part). Macro-enabled documents (a ``vbaProject.bin``, or a macro-enabled main
  part), encrypted zips and zips that would unpack to more than :data:`MAX_ZIP_UNCOMPRESSED` bytes,
  hold more than :data:`MAX_ZIP_ENTRIES` entries or compress one entry more than
  :data:`MAX_ZIP_RATIO` times are refused. Nothing of the zip is unpacked except its
  ``[Content_Types].xml`` (at most :data:`MAX_CONTENT_TYPES_BYTES`).
* A name that claims a type its content is not (an ``.exe`` renamed ``.pdf``) gets a message that
  says so. A file whose content is an accepted type under another extension is kept as what it
  is: downloads are named from the detected type.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from btam.cases.actions import CaseError
from btam.intake import attachments as intake_files

READ_CHUNK = 256 * 1024
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_UNCOMPRESSED = 500 * 1024 * 1024
# Office XML compresses about 10 to 20 times; a bomb thousands of times.
MAX_ZIP_RATIO = 200
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
# How much of a text file is looked at for the start of an HTML document.
HTML_SNIFF_BYTES = 1024

PDF = intake_files.PDF
JPEG = intake_files.JPEG
PNG = intake_files.PNG
GIF = intake_files.GIF
WEBP = intake_files.WEBP
TEXT = "text/plain"
CSV = "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# The file name extension of each type (downloads are named with it).
EXTENSIONS: dict[str, str] = {
    PDF: "pdf",
    JPEG: "jpg",
    PNG: "png",
    GIF: "gif",
    WEBP: "webp",
    TEXT: "txt",
    CSV: "csv",
    DOCX: "docx",
    XLSX: "xlsx",
    PPTX: "pptx",
}
# Short names for people.
LABELS: dict[str, str] = {
    PDF: "PDF",
    JPEG: "JPEG",
    PNG: "PNG",
    GIF: "GIF",
    WEBP: "WebP",
    TEXT: "Text",
    CSV: "CSV",
    DOCX: "Word",
    XLSX: "Excel",
    PPTX: "PowerPoint",
}
# What a file name claims (for the "its content does not match its name" message).
_CLAIMED: dict[str, str] = {
    "pdf": "PDF",
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WebP",
    "txt": "text",
    "csv": "CSV",
    "docx": "Word",
    "doc": "Word",
    "xlsx": "Excel",
    "xls": "Excel",
    "pptx": "PowerPoint",
    "ppt": "PowerPoint",
}

# The main part of each accepted Office document ([Content_Types].xml); the macro-enabled ones are refused.
_OFFICE_MAIN_PARTS: dict[str, str] = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_MACRO_MARKERS = ("macroenabled", "vbaproject", "vnd.ms-office.activex", "vnd.ms-excel.intlmacrosheet")
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04",)
# The starts of an HTML (or XML/SVG) document, as browsers sniff them (WHATWG MIME sniffing), each
# followed by a space or ">" (or, for comments and processing instructions, anything).
_HTML_START = re.compile(
    rb"\A[\t\n\x0c\r ]*(?:<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|svg|"
    rb"object|embed|meta|link|img|form)[\t\n\x0c\r />]|<!--|<\?xml)",
    re.IGNORECASE,
)


class DocumentFileError(CaseError):
    """A file that cannot be accepted; the message names the file and says why."""


@dataclass(frozen=True)
class PreparedDocument:
    content: bytes  # what will be stored (pictures re-encoded without metadata)
    content_type: str
    original_name: str
    sha256: str  # of the stored bytes

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def max_bytes() -> int:
    return int(settings.BTAM_CASE_DOCUMENT_MAX_MB) * 1024 * 1024


def too_large_message(name: str | None = None) -> str:
    limit = int(settings.BTAM_CASE_DOCUMENT_MAX_MB)
    if name:
        return _('"%(name)s" is too big: a document can be at most %(max)d MB.') % {"name": name, "max": limit}
    return _("The file is too big: a document can be at most %(max)d MB. Nothing was stored.") % {"max": limit}


def accepted_types_text() -> str:
    return _(
        "Accepted: PDF, pictures (JPEG, PNG, GIF, WebP), plain text and CSV (UTF-8), and Word, Excel and "
        "PowerPoint documents (DOCX, XLSX, PPTX, without macros)."
    )


def prepare_document(uploaded: UploadedFile) -> PreparedDocument:
    """Check one uploaded file by its content and return what to store, or raise DocumentFileError."""
    name = intake_files.clean_name(uploaded.name)
    data = _read_capped(uploaded, name)
    if not data:
        raise DocumentFileError(_('"%(name)s" is empty.') % {"name": name})
    content_type = _detect(data, name)
    content = data
    try:
        if content_type == PDF:
            intake_files._check_pdf(data, name)
        elif content_type in (JPEG, PNG, GIF, WEBP):
            content = intake_files._reencode_image(data, content_type, name)
    except intake_files.AttachmentError as exc:
        raise DocumentFileError(str(exc)) from None
    return PreparedDocument(
        content=content,
        content_type=content_type,
        original_name=name,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _read_capped(uploaded: UploadedFile, name: str) -> bytes:
    limit = max_bytes()
    if uploaded.size is not None and uploaded.size > limit:
        raise DocumentFileError(too_large_message(name))
    try:
        uploaded.seek(0)
    except (AttributeError, OSError, ValueError):
        pass
    buffer = bytearray()
    while True:
        chunk = uploaded.read(min(READ_CHUNK, limit + 1 - len(buffer)))
        if not chunk:
            break
        buffer += chunk
        if len(buffer) > limit:
            raise DocumentFileError(too_large_message(name))
    return bytes(buffer)


def _claimed(name: str) -> str | None:
    return _CLAIMED.get(os.path.splitext(name)[1].lstrip(".").lower())


def _refused(name: str) -> DocumentFileError:
    claimed = _claimed(name)
    if claimed:
        return DocumentFileError(
            _(
                '"%(name)s" is not really a %(claimed)s file: its content does not match its name, '
                "so it was not stored. %(accepted)s"
            )
            % {"name": name, "claimed": claimed, "accepted": accepted_types_text()}
        )
    return DocumentFileError(
        _('"%(name)s" is not a type of document we accept. %(accepted)s')
        % {"name": name, "accepted": accepted_types_text()}
    )


def _detect(data: bytes, name: str) -> str:
    sniffed = intake_files.sniff(data)
    if sniffed is not None:
        return sniffed
    if data.startswith(_ZIP_MAGIC):
        return _check_office(data, name)
    if data.startswith(_OLE_MAGIC):
        raise DocumentFileError(
            _(
                '"%(name)s" is an older Office document (.doc, .xls, .ppt) or one protected with a password, '
                "which we do not accept: save it as DOCX, XLSX or PPTX without a password, or as PDF."
            )
            % {"name": name}
        )
    return _check_text(data, name)


# Text ---------------------------------------------------------------------------------------------


def _check_text(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise _refused(name)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        if _claimed(name) in ("text", "CSV"):
            raise DocumentFileError(
                _('"%(name)s" is not UTF-8 text: save it as UTF-8 (or as PDF) and upload it again.') % {"name": name}
            ) from None
        raise _refused(name) from None
    start = data[:HTML_SNIFF_BYTES].removeprefix(b"\xef\xbb\xbf")
    if _HTML_START.match(start):
        raise DocumentFileError(
            _(
                '"%(name)s" is a web page (HTML) or other markup, which we do not accept as a document. '
                "Print it to PDF, or save it as plain text."
            )
            % {"name": name}
        )
    # Plain text and CSV cannot be told apart by content: a text file named .csv is kept as CSV.
    return CSV if _claimed(name) == "CSV" else TEXT


# Office documents ---------------------------------------------------------------------------------


def _check_office(data: bytes, name: str) -> str:
    unreadable = DocumentFileError(
        _('"%(name)s" is a zip file we cannot read as a Word, Excel or PowerPoint document. %(accepted)s')
        % {"name": name, "accepted": accepted_types_text()}
    )
    bomb = DocumentFileError(
        _('"%(name)s" would unpack to far more than its size (or holds too many parts): it was refused.')
        % {"name": name}
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise unreadable from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise bomb
        total = 0
        for entry in entries:
            total += entry.file_size
            if entry.file_size > MAX_ZIP_UNCOMPRESSED or total > MAX_ZIP_UNCOMPRESSED:
                raise bomb
            if entry.file_size > 1024 * 1024 and entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1):
                raise bomb
            if entry.flag_bits & 0x1:
                raise DocumentFileError(
                    _('"%(name)s" is protected with a password: remove the password and upload it again.')
                    % {"name": name}
                )
            if entry.filename.replace("\\", "/").rsplit("/", 1)[-1].lower() == "vbaproject.bin":
                raise _macros(name)
        types = _content_types(archive, name, unreadable)
        names = {entry.filename for entry in entries}
    main = None
    for part, content_type in types:
        lowered = content_type.lower()
        if any(marker in lowered for marker in _MACRO_MARKERS):
            raise _macros(name)
        kind = _OFFICE_MAIN_PARTS.get(lowered)
        if kind is not None and part.lstrip("/") in names:
            main = main or kind
    if main is None:
        raise unreadable
    return main


def _macros(name: str) -> DocumentFileError:
    return DocumentFileError(
        _(
            '"%(name)s" holds macros (a macro-enabled document), which we do not accept: save it as a '
            "document without macros (DOCX, XLSX, PPTX) or as PDF."
        )
        % {"name": name}
    )


def _content_types(archive: zipfile.ZipFile, name: str, unreadable: DocumentFileError) -> list[tuple[str, str]]:
    """(part name, content type) of each Override and Default of ``[Content_Types].xml``."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        raise unreadable from None
    if info.file_size > MAX_CONTENT_TYPES_BYTES:
        raise unreadable
    try:
        with archive.open(info) as handle:
            raw = handle.read(MAX_CONTENT_TYPES_BYTES + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError, OSError, EOFError):
        raise unreadable from None
    if len(raw) > MAX_CONTENT_TYPES_BYTES or b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise unreadable  # no DTD, so no entity expansion for the parser below
    try:
        root = ElementTree.fromstring(raw)  # noqa: S314 (no DTD allowed above; at most 1 MB)
    except ElementTree.ParseError:
        raise unreadable from None
    if root.tag != f"{_CT_NS}Types":
        raise unreadable
    found: list[tuple[str, str]] = []
    for element in root:
        if element.tag == f"{_CT_NS}Override":
            found.append((element.get("PartName", ""), element.get("ContentType", "")))
        elif element.tag == f"{_CT_NS}Default":
            found.append(("", element.get("ContentType", "")))
    return found
