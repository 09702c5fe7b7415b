"""Case documents are typed by their content, never their name; risky files are refused by name."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from PIL import Image

from btam.cases import documents
from btam.cases.documents import DocumentFileError, prepare_document
from btam.cases.tests.documents_timeline_helpers import (
    DOCM_MAIN,
    DOCX_MAIN,
    EXE_BYTES,
    PDF_BYTES,
    PDF_WITH_JAVASCRIPT,
    PPTX_MAIN,
    XLSX_MAIN,
    declare_size,
    jpeg_with_exif,
    office_zip,
    png_bytes,
    upload,
)


def refused(data: bytes, name: str) -> str:
    with pytest.raises(DocumentFileError) as caught:
        prepare_document(upload(data, name))
    return str(caught.value)


@pytest.mark.parametrize(
    ("data", "name", "content_type", "extension"),
    [
        (PDF_BYTES, "minutes.pdf", documents.PDF, "pdf"),
        (b"Meeting at 3pm with the counselor.\n", "notes.txt", documents.TEXT, "txt"),
        ("name,grade\nÁlex,9\n".encode(), "list.csv", documents.CSV, "csv"),
        (b"\xef\xbb\xbfA text with a byte-order mark\n", "bom.txt", documents.TEXT, "txt"),
        (office_zip(), "plan.docx", documents.DOCX, "docx"),
        (office_zip(XLSX_MAIN, "/xl/workbook.xml"), "sheet.xlsx", documents.XLSX, "xlsx"),
        (office_zip(PPTX_MAIN, "/ppt/presentation.xml"), "slides.pptx", documents.PPTX, "pptx"),
    ],
)
def test_it_accepts_the_documented_types(data: bytes, name: str, content_type: str, extension: str) -> None:
    prepared = prepare_document(upload(data, name))
    assert prepared.content_type == content_type
    assert prepared.extension == extension
    assert prepared.original_name == name


def test_the_type_comes_from_the_content_not_the_name() -> None:
    prepared = prepare_document(upload(PDF_BYTES, "photo.jpg", "image/jpeg"))
    assert prepared.content_type == documents.PDF and prepared.extension == "pdf"
    prepared = prepare_document(upload(office_zip(), "minutes.pdf"))
    assert prepared.content_type == documents.DOCX


def test_a_program_named_pdf_is_refused_with_a_message_naming_the_file() -> None:
    message = refused(EXE_BYTES, "report card.pdf")
    assert '"report card.pdf"' in message and "not really a PDF file" in message


def test_a_program_with_an_unknown_name_is_refused_as_not_accepted() -> None:
    message = refused(EXE_BYTES, "setup.exe")
    assert '"setup.exe" is not a type of document we accept' in message


@pytest.mark.parametrize(
    "html",
    [
        b"<!DOCTYPE html><html><body>Hi</body></html>",
        b"  \n<html><script>alert(1)</script></html>",
        b"<script>alert(1)</script>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"\xef\xbb\xbf<!-- comment --><p>hello</p>",
        b'<?xml version="1.0"?><root/>',
    ],
)
def test_html_and_markup_are_refused_even_named_txt(html: bytes) -> None:
    message = refused(html, "notes.txt")
    assert '"notes.txt" is a web page (HTML)' in message


def test_text_that_merely_mentions_a_tag_is_accepted() -> None:
    prepared = prepare_document(upload(b"The student wrote <script> in the chat.\n", "chat.txt"))
    assert prepared.content_type == documents.TEXT


def test_text_with_a_nul_or_not_utf8_is_refused() -> None:
    assert "not really a text file" in refused(b"abc\x00def", "notes.txt")
    assert "not UTF-8 text" in refused("café".encode("latin-1"), "notes.csv")


def test_an_empty_file_is_refused_by_name() -> None:
    assert refused(b"", "empty.pdf") == '"empty.pdf" is empty.'


def test_a_file_over_the_limit_is_refused_without_reading_it_all(settings: Any) -> None:
    settings.BTAM_CASE_DOCUMENT_MAX_MB = 1
    message = refused(b"a" * (1024 * 1024 + 1), "big.txt")
    assert message == '"big.txt" is too big: a document can be at most 1 MB.'


def test_a_macro_enabled_document_is_refused() -> None:
    message = refused(office_zip(DOCM_MAIN), "plan.docm")
    assert '"plan.docm" holds macros' in message


def test_a_vba_project_hidden_in_a_docx_is_refused() -> None:
    message = refused(office_zip(extra={"word/vbaProject.bin": b"\x00" * 64}), "plan.docx")
    assert "holds macros" in message


def test_an_encrypted_zip_is_refused() -> None:
    data = bytearray(office_zip())
    # Set the "encrypted" flag on every entry (local and central headers).
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature)
        while position != -1:
            data[position + offset] |= 0x01
            position = data.find(signature, position + 4)
    assert "protected with a password" in refused(bytes(data), "plan.docx")


def test_a_zip_bomb_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (20 * 1024 * 1024))  # 20 MB of zeros: about 20 KB
    message = refused(out.getvalue(), "plan.docx")
    assert '"plan.docx" would unpack to far more than its size' in message


def test_a_zip_that_lies_about_a_huge_size_is_refused() -> None:
    data = declare_size(office_zip(), "word/document.xml", 4_000_000_000)
    assert "would unpack to far more" in refused(data, "plan.docx")


def test_a_zip_with_too_many_entries_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_ZIP_ENTRIES", 10)
    extra = {f"word/media/{i}.xml": b"<x/>" for i in range(10)}
    assert "too many parts" in refused(office_zip(extra=extra), "plan.docx")


def test_a_zip_that_is_not_an_office_document_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", b"hello")
    assert "cannot read as a Word, Excel or PowerPoint document" in refused(out.getvalue(), "archive.zip")


def test_content_types_naming_a_missing_main_part_are_refused() -> None:
    data = office_zip(DOCX_MAIN, "/word/document.xml")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                target.writestr(info, source.read(info))
    assert "cannot read as a Word" in refused(out.getvalue(), "plan.docx")


def test_content_types_with_a_dtd_are_refused_before_parsing() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">&lol2;</Types>'
    )
    assert "cannot read as a Word" in refused(office_zip(content_types=laughs), "plan.docx")


def test_an_old_office_or_password_protected_file_gets_its_own_message() -> None:
    message = refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "grades.xls")
    assert "older Office document" in message and '"grades.xls"' in message


def test_a_pdf_with_javascript_is_refused() -> None:
    message = refused(PDF_WITH_JAVASCRIPT, "form.pdf")
    assert '"form.pdf" is a PDF that can run actions' in message


def test_pictures_are_re_encoded_without_their_metadata() -> None:
    original = jpeg_with_exif()
    assert b"CAMERA-SERIAL-0042" in original
    prepared = prepare_document(upload(original, "photo.jpeg"))
    assert prepared.content_type == documents.JPEG
    assert b"CAMERA-SERIAL-0042" not in prepared.content and b"Elm Street" not in prepared.content
    assert Image.open(io.BytesIO(prepared.content)).size == (32, 24)


def test_a_png_keeps_its_type_and_gets_a_hash_of_what_is_stored() -> None:
    import hashlib

    prepared = prepare_document(upload(png_bytes(), "screen.png"))
    assert prepared.content_type == documents.PNG
    assert prepared.sha256 == hashlib.sha256(prepared.content).hexdigest()


def test_a_damaged_picture_is_refused_by_name() -> None:
    assert '"photo.png" could not be read as a picture' in refused(png_bytes()[:40], "photo.png")


def test_folders_and_control_characters_leave_the_name() -> None:
    prepared = prepare_document(upload(b"hello", "../../etc/pass\u202ewd.txt"))
    assert prepared.original_name == "passwd.txt"
