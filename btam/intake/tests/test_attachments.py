"""Reporter attachments: checked by content, images re-encoded without metadata, PDFs without actions."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.test import override_settings
from PIL import ExifTags, Image, ImageCms, ImageSequence, PngImagePlugin

from btam.intake import receipt
from btam.intake.actions import _store_attachment
from btam.intake.attachments import (
    MAX_BYTES,
    MAX_FILES,
    MAX_FRAMES,
    AttachmentError,
    PreparedAttachment,
    clean_name,
    prepare_upload,
    prepare_uploads,
)
from btam.intake.models import Attachment, Report
from btam.lib import clock
from btam.lib.encrypted import MAGIC
from btam.testing import SchoolFactory

GPS_MARKER = b"WGS-84-TESTMARK"
SERIAL_MARKER = "CAMERA-SERIAL-0042"


# Builders -----------------------------------------------------------------------------------------


def upload(data: bytes, name: str = "file.bin", content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Model] = SERIAL_MARKER
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (40.0, 26.0, 46.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (79.0, 58.0, 56.25)
    gps[ExifTags.GPS.GPSMapDatum] = GPS_MARKER.decode()
    return exif


def picture(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    """A small picture that is not a flat colour (so that encoders have something to do)."""
    image = Image.linear_gradient("L").resize(size)
    return image.convert(mode) if mode != "L" else image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int = 1) -> bytes:
    data = encode(
        picture(size),
        "JPEG",
        exif=gps_exif(orientation),
        comment=b"shot at 12 Elm Street",
        xmp=b"<x:xmpmeta><rdf:Description photoshop:City='Testville'/></x:xmpmeta>",
    )
    # The input really holds what must go.
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert GPS_MARKER in data and b"Exif" in data
    return data


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header declares width x height grey pixels (a bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def pdf(*objects: bytes, trailer: bytes = b"<< /Root 1 0 R >>") -> bytes:
    body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    for number, obj in enumerate(objects, start=1):
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    return body + b"trailer\n" + trailer + b"\nstartxref\n0\n%%EOF\n"


PLAIN_PDF = pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>")


def object_stream(inner: bytes, *, compressed: bool = True) -> bytes:
    payload = zlib.compress(inner) if compressed else inner
    dictionary = b"<< /Type /ObjStm /N 1 /First 4 /Length %d%s >>" % (
        len(payload),
        b" /Filter /FlateDecode" if compressed else b"",
    )
    return dictionary + b"\nstream\n" + payload + b"\nendstream"


def reason(data: bytes, name: str = "file.bin") -> str:
    with pytest.raises(AttachmentError) as caught:
        prepare_upload(upload(data, name))
    return str(caught.value)


# JPEG: metadata goes, pixels stay -----------------------------------------------------------------


def test_it_strips_gps_exif_from_a_jpeg() -> None:
    prepared = prepare_upload(upload(jpeg_with_gps(), "IMG_0001.JPG", "image/jpeg"))

    assert prepared.content_type == "image/jpeg"
    assert prepared.metadata_stripped is True
    out = Image.open(io.BytesIO(prepared.content))
    assert out.format == "JPEG"
    assert dict(out.getexif()) == {}
    assert out.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert "exif" not in out.info
    # And in the raw bytes: no APP1 Exif segment, no GPS values, no camera model.
    assert b"Exif" not in prepared.content
    assert GPS_MARKER not in prepared.content
    assert SERIAL_MARKER.encode() not in prepared.content
    assert struct.pack("<II", 4650, 100) not in prepared.content  # GPSLatitude seconds as a rational


def test_it_strips_jpeg_comments_and_xmp() -> None:
    prepared = prepare_upload(upload(jpeg_with_gps(), "photo.jpg"))

    out = Image.open(io.BytesIO(prepared.content))
    assert "comment" not in out.info and "xmp" not in out.info
    assert b"Elm Street" not in prepared.content
    assert b"xmpmeta" not in prepared.content and b"Testville" not in prepared.content


def test_it_strips_iptc_and_other_application_segments() -> None:
    jpeg = encode(picture(), "JPEG")
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x20\x1c\x02\x5a\x00\x0bTestville-X" + b"\x00" * 8
    app13 = b"\xff\xed" + struct.pack(">H", len(iptc) + 2) + iptc
    vendor = b"\xff\xe9" + struct.pack(">H", 18) + b"SERIAL-1234-5678"
    data = jpeg[:2] + app13 + vendor + jpeg[2:]
    assert b"Testville-X" in data and Image.open(io.BytesIO(data)).size == (64, 48)

    prepared = prepare_upload(upload(data, "photo.jpg"))

    assert b"Testville-X" not in prepared.content and b"Photoshop" not in prepared.content
    assert b"SERIAL-1234" not in prepared.content


def test_it_turns_photos_upright_before_dropping_the_orientation() -> None:
    # Orientation 6: the camera was turned; viewers rotate 90 degrees clockwise.
    prepared = prepare_upload(upload(jpeg_with_gps(size=(64, 48), orientation=6), "sideways.jpg"))

    out = Image.open(io.BytesIO(prepared.content))
    assert out.size == (48, 64)
    assert ExifTags.Base.Orientation not in out.getexif()


def test_the_pixels_survive_the_re_encoding() -> None:
    source = picture((64, 48))
    prepared = prepare_upload(upload(encode(source, "JPEG", quality=95), "photo.jpg"))

    out = Image.open(io.BytesIO(prepared.content)).convert("RGB")
    assert out.size == source.size
    # JPEG is lossy: compare the average brightness of each half, not exact pixels.
    left, right = out.crop((0, 0, 32, 48)).convert("L"), out.crop((32, 0, 64, 48)).convert("L")
    ref_left, ref_right = source.crop((0, 0, 32, 48)).convert("L"), source.crop((32, 0, 64, 48)).convert("L")
    mean = lambda im: sum(im.tobytes()) / (im.width * im.height)  # noqa: E731
    assert abs(mean(left) - mean(ref_left)) < 4
    assert abs(mean(right) - mean(ref_right)) < 4


def test_it_keeps_a_well_formed_icc_profile_and_drops_a_fake_one() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    kept = prepare_upload(upload(encode(picture(), "JPEG", icc_profile=srgb, exif=gps_exif()), "a.jpg"))
    assert Image.open(io.BytesIO(kept.content)).info.get("icc_profile") == srgb
    assert GPS_MARKER not in kept.content

    fake = b"<html><script>alert(1)</script></html>" * 10
    dropped = prepare_upload(upload(encode(picture(), "JPEG", icc_profile=fake), "b.jpg"))
    assert "icc_profile" not in Image.open(io.BytesIO(dropped.content)).info
    assert b"<script>" not in dropped.content


def test_a_cmyk_jpeg_comes_out_rgb() -> None:
    prepared = prepare_upload(upload(encode(picture(mode="CMYK"), "JPEG"), "print.jpg"))
    assert Image.open(io.BytesIO(prepared.content)).mode == "RGB"


def test_a_multi_picture_jpeg_keeps_its_main_picture_only() -> None:
    main, depth_map = picture((64, 48)), Image.new("RGB", (32, 24), "blue")
    data = encode(main, "MPO", save_all=True, append_images=[depth_map], exif=gps_exif())
    assert Image.open(io.BytesIO(data)).n_frames == 2  # type: ignore[attr-defined]

    prepared = prepare_upload(upload(data, "portrait.jpg"))

    out = Image.open(io.BytesIO(prepared.content))
    assert prepared.content_type == "image/jpeg"
    assert out.format == "JPEG" and out.size == (64, 48)
    assert getattr(out, "n_frames", 1) == 1
    assert b"MPF" not in prepared.content and GPS_MARKER not in prepared.content


def test_a_polyglot_jpeg_loses_what_trails_it() -> None:
    polyglot = encode(picture(), "JPEG") + b"<html><body><script>alert(document.cookie)</script></body></html>"

    prepared = prepare_upload(upload(polyglot, "photo.jpg"))

    assert b"<script" not in prepared.content and b"<html" not in prepared.content
    assert prepared.content.endswith(b"\xff\xd9")


# PNG, GIF, WebP -----------------------------------------------------------------------------------


def test_it_strips_png_text_chunks_and_exif_but_keeps_transparency() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Test-Reporter")
    info.add_text("Comment", "taken at home", zip=True)
    info.add_itxt("Description", "GPS 40.44N 79.98W", lang="en")
    image = picture(mode="RGBA")
    image.putpixel((0, 0), (0, 0, 0, 0))
    data = encode(image, "PNG", pnginfo=info, exif=gps_exif())
    assert b"Jane Test-Reporter" in data and GPS_MARKER in data

    prepared = prepare_upload(upload(data, "screenshot.png"))

    assert prepared.content_type == "image/png"
    for marker in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"Jane", GPS_MARKER):
        assert marker not in prepared.content
    out = Image.open(io.BytesIO(prepared.content))
    assert out.text == {}  # type: ignore[attr-defined]
    assert out.mode == "RGBA" and out.getpixel((0, 0)) == (0, 0, 0, 0)


def test_a_palette_png_keeps_its_transparent_colour() -> None:
    image = picture(mode="L").convert("P")
    data = encode(image, "PNG", transparency=0)

    out = Image.open(io.BytesIO(prepare_upload(upload(data, "p.png")).content))

    assert out.mode == "P" and out.info.get("transparency") == 0


def test_it_strips_gif_comments() -> None:
    data = encode(picture().convert("P"), "GIF", comment=b"made by Jane Test-Reporter")
    assert b"Jane" in data

    prepared = prepare_upload(upload(data, "meme.gif"))

    assert prepared.content_type == "image/gif"
    assert b"Jane" not in prepared.content
    assert "comment" not in Image.open(io.BytesIO(prepared.content)).info


def test_an_animated_gif_keeps_every_frame_and_its_timing_but_no_comment() -> None:
    frames = [Image.new("P", (32, 32), colour) for colour in (10, 90, 200)]
    for frame in frames:
        frame.putpalette([i for c in range(256) for i in (c, 255 - c, c // 2)])
    data = encode(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0, comment=b"Jane"
    )

    prepared = prepare_upload(upload(data, "anim.gif"))

    out = Image.open(io.BytesIO(prepared.content))
    assert out.n_frames == 3  # type: ignore[attr-defined]
    assert [f.info.get("duration") for f in ImageSequence.Iterator(out)] == [100, 200, 300]
    assert b"Jane" not in prepared.content


def test_it_strips_webp_exif_and_xmp() -> None:
    data = encode(picture(), "WEBP", exif=gps_exif(), xmp=b"<x:xmpmeta>Testville</x:xmpmeta>", quality=90)
    assert GPS_MARKER in data

    prepared = prepare_upload(upload(data, "chat.webp"))

    assert prepared.content_type == "image/webp"
    for marker in (b"EXIF", b"XMP ", GPS_MARKER, b"Testville"):
        assert marker not in prepared.content
    assert Image.open(io.BytesIO(prepared.content)).format == "WEBP"


def test_an_animated_png_keeps_its_frames_without_text() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Test-Reporter")
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "green")]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=[100, 250], pnginfo=info)

    prepared = prepare_upload(upload(data, "anim.png"))

    out = Image.open(io.BytesIO(prepared.content))
    assert out.n_frames == 2  # type: ignore[attr-defined]
    assert b"Jane" not in prepared.content and b"tEXt" not in prepared.content


def test_a_lossless_webp_stays_lossless() -> None:
    source = picture(mode="RGB")
    prepared = prepare_upload(upload(encode(source, "WEBP", lossless=True), "shot.webp"))

    assert b"VP8L" in prepared.content
    assert Image.open(io.BytesIO(prepared.content)).convert("RGB").tobytes() == source.tobytes()


def test_an_animated_webp_keeps_its_frames() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "green", "blue")]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=120, exif=gps_exif())

    prepared = prepare_upload(upload(data, "anim.webp"))

    assert Image.open(io.BytesIO(prepared.content)).n_frames == 3  # type: ignore[attr-defined]
    assert GPS_MARKER not in prepared.content


def test_an_animation_with_too_many_frames_is_refused() -> None:
    frames = [Image.new("L", (8, 8), i % 256) for i in range(MAX_FRAMES + 1)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])

    assert reason(data, "long.gif") == (
        '"long.gif" is too long an animation for us to take. Please send a screenshot or a shorter clip.'
    )


def test_an_animation_with_too_many_pixels_in_all_is_refused() -> None:
    frames = [Image.new("L", (8, 8), i) for i in (0, 128)]
    data = bytearray(encode(frames[0], "GIF", save_all=True, append_images=frames[1:]))
    data[6:10] = struct.pack("<HH", 6_000, 6_000)  # 36 MP a frame: allowed once, not twice

    assert "too long an animation" in reason(bytes(data), "big.gif")


# Types come from content, never from the name -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "cute.png",
            id="svg named .png",
        ),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "drawing.svg", id="svg"),
        pytest.param(b"<!doctype html><html><script>fetch('/')</script></html>", "photo.jpg", id="html"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200 + b"This program", "photo.jpg", id="exe"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 100, "photos.jpg", id="zip"),
        pytest.param(b"II*\x00" + b"\x00" * 100, "scan.tif", id="tiff"),
        pytest.param(b"hello, this is a text file", "note.pdf", id="text named .pdf"),
    ],
)
def test_it_refuses_anything_that_is_not_a_photo_or_pdf(data: bytes, name: str) -> None:
    with pytest.raises(AttachmentError) as caught:
        # The browser's content type says JPEG: it is ignored.
        prepare_upload(upload(data, name, content_type="image/jpeg"))
    assert str(caught.value) == f'"{name}" is not a photo or PDF we can accept.'


def test_a_real_jpeg_with_any_name_is_a_jpeg() -> None:
    prepared = prepare_upload(upload(encode(picture(), "JPEG"), "document.pdf", content_type="application/pdf"))
    assert prepared.content_type == "image/jpeg"


def test_it_refuses_an_empty_file() -> None:
    assert reason(b"", "blank.jpg") == '"blank.jpg" is empty.'


def test_it_refuses_a_truncated_jpeg() -> None:
    whole = encode(picture((256, 256)), "JPEG")
    assert "damaged or incomplete" in reason(whole[: len(whole) // 2], "cut.jpg")


def test_it_refuses_a_png_with_a_bad_checksum() -> None:
    data = bytearray(encode(picture(), "PNG"))
    data[40] ^= 0xFF  # inside IDAT
    assert "damaged or incomplete" in reason(bytes(data), "bad.png")


def test_it_refuses_a_webp_header_with_garbage_after_it() -> None:
    assert "damaged or incomplete" in reason(b"RIFF\x20\x00\x00\x00WEBPVP8 " + os.urandom(40), "x.webp")


# Decompression bombs ------------------------------------------------------------------------------


def test_it_refuses_a_decompression_bomb_before_decoding_it() -> None:
    bomb = png_claiming(30_000, 30_000)  # 900 megapixels declared in a few hundred bytes
    assert len(bomb) < 2000

    started = time.perf_counter()
    message = reason(bomb, "bomb.png")

    assert "too large a picture" in message and '"bomb.png"' in message
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("side", [7_000, 10_000])
def test_it_refuses_pictures_above_its_own_pixel_cap(side: int) -> None:
    # 49 MP is under Pillow's own warning level (89 MP) but over ours; 100 MP triggers Pillow's
    # warning, which counts as an error here.
    assert "too large a picture" in reason(png_claiming(side, side), "huge.png")


def test_a_gif_screen_size_bomb_is_refused() -> None:
    data = bytearray(encode(Image.new("P", (4, 4)), "GIF"))
    data[6:10] = struct.pack("<HH", 65_000, 65_000)  # logical screen size
    assert "too large a picture" in reason(bytes(data), "bomb.gif")


# Size ---------------------------------------------------------------------------------------------


class CountingUpload(UploadedFile):
    """An endless-looking upload (``total`` bytes) that records how many were read; its declared size lies."""

    def __init__(self, total: int) -> None:
        self.total, self.position, self.bytes_read = total, 0, 0
        super().__init__(file=None, name="big.pdf", content_type="application/pdf", size=1)

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        size = self.total - self.position if size < 0 else min(size, self.total - self.position)
        self.position += size
        self.bytes_read += size
        return b"%" * size

    def seek(self, offset: int, whence: int = 0) -> int:  # type: ignore[override]
        self.position = offset
        return offset


def test_it_stops_reading_as_soon_as_a_file_is_over_the_limit() -> None:
    big = CountingUpload(50 * MAX_BYTES)

    with pytest.raises(AttachmentError, match=r'"big.pdf" is too big: each file can be at most 10 MB.'):
        prepare_upload(big)

    assert big.bytes_read == MAX_BYTES + 1


def test_a_declared_size_over_the_limit_is_refused_without_reading() -> None:
    file = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff")
    file.size = MAX_BYTES + 1
    with pytest.raises(AttachmentError, match="too big"):
        prepare_upload(file)


def test_a_file_of_exactly_the_limit_is_accepted() -> None:
    head = PLAIN_PDF[: -len(b"%%EOF\n")]
    data = head + b"%" + b"x" * (MAX_BYTES - len(head) - len(b"%\n%%EOF\n")) + b"\n%%EOF\n"
    assert len(data) == MAX_BYTES
    assert prepare_upload(upload(data, "big.pdf")).content == data


# PDF ----------------------------------------------------------------------------------------------


def test_a_plain_pdf_is_stored_unchanged() -> None:
    prepared = prepare_upload(upload(PLAIN_PDF, "letter.pdf", "application/pdf"))

    assert prepared.content == PLAIN_PDF
    assert prepared.content_type == "application/pdf"
    assert prepared.metadata_stripped is False


def test_an_encrypted_pdf_without_object_streams_is_accepted() -> None:
    data = pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>",
        trailer=b"<< /Root 1 0 R /Encrypt 2 0 R >>",
    )
    assert prepare_upload(upload(data, "bank.pdf")).content == data


def test_a_pdf_without_an_end_is_refused() -> None:
    assert "damaged or cut short" in reason(PLAIN_PDF[:-10], "cut.pdf")


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>", id="javascript"),
        pytest.param(b"<< /Type /Action /JS <6170702e616c657274283129> >>", id="js hex string"),
        pytest.param(b"<< /Type /Action /JS 7 0 R >>", id="js reference"),
        pytest.param(b"<< /Type /Action /S /Launch /F (cmd.exe) >>", id="launch"),
        pytest.param(b"<< /Type /Filespec /EF << /F 3 0 R >> /Type /EmbeddedFile >>", id="embedded file"),
        pytest.param(b"<< /Names << /EmbeddedFiles 4 0 R >> >>", id="embedded files"),
        pytest.param(b"<< /OpenAction << /S /J#61vaScr#69pt /JS (x) >> >>", id="escaped name"),
        pytest.param(b"<< /AcroForm << /XFA 9 0 R >> >>", id="xfa form"),
        pytest.param(b"<< /S /GoToE /T << /R /C /N (x) >> >>", id="go to embedded"),
        pytest.param(b"<< /S /Java#53cript /JS#20(x) >>", id="escaped javascript"),
        pytest.param(b"<< /S /URI /URI (https://example.org) /JS\n(x) >>", id="js after a newline"),
        pytest.param(object_stream(b"5 0 << /S /JavaScript /JS (app.alert(1)) >>"), id="inside an object stream"),
        pytest.param(object_stream(b"5 0 << /S /Launch >>", compressed=False), id="inside a raw object stream"),
    ],
)
def test_it_refuses_a_pdf_that_can_act(obj: bytes) -> None:
    message = reason(pdf(b"<< /Type /Catalog >>", obj), "form.pdf")
    assert message.startswith('"form.pdf" is a PDF that can run actions')
    assert "screenshot" in message


def test_an_innocent_object_stream_is_accepted() -> None:
    data = pdf(b"<< /Type /Catalog >>", object_stream(b"5 0 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"))
    assert prepare_upload(upload(data, "ok.pdf")).content == data


def test_a_pdf_whose_object_stream_cannot_be_read_is_refused() -> None:
    encrypted = pdf(
        b"<< /Type /Catalog >>",
        object_stream(os.urandom(64), compressed=False).replace(b"/ObjStm", b"/ObjStm /Filter /FlateDecode"),
        trailer=b"<< /Root 1 0 R /Encrypt 3 0 R >>",
    )
    assert "cannot check" in reason(encrypted, "locked.pdf")
    lzw = pdf(
        b"<< /Type /Catalog >>",
        object_stream(b"junk", compressed=False).replace(b"/ObjStm", b"/ObjStm /Filter /LZWDecode"),
    )
    assert "cannot check" in reason(lzw, "odd.pdf")


def test_a_pdf_made_by_a_common_library_is_accepted() -> None:
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_font("Helvetica", size=12)
    document.cell(text="A synthetic test letter.")
    document.link(10, 10, 50, 10, "https://example.org/")
    data = bytes(document.output())

    assert prepare_upload(upload(data, "letter.pdf")).content == data


def test_names_that_only_start_like_active_ones_are_fine() -> None:
    data = pdf(b"<< /Type /Catalog /JSON (x) /Launcher 1 /JavaScripts 2 /XFAX 3 /JS >>")
    assert prepare_upload(upload(data, "ok.pdf")).content == data


@pytest.mark.parametrize(
    "filler",
    [
        pytest.param(b"/a ", id="millions of names"),
        pytest.param(b"/a#20 ", id="millions of escaped names"),
        pytest.param(b"/JS /JS ", id="millions of /JS without a value"),
        pytest.param(b"stream\n#", id="millions of streams"),
        pytest.param(b"1 0 obj << /Type /ObjStm >> stream\n", id="millions of object streams"),
    ],
)
def test_checking_a_hostile_pdf_takes_bounded_time(filler: bytes) -> None:
    body = b"%PDF-1.7\n" + filler * (MAX_BYTES // len(filler))
    data = body[: MAX_BYTES - 8] + b"\n%%EOF\n"

    started = time.perf_counter()
    try:
        prepare_upload(upload(data, "hostile.pdf"))
    except AttachmentError as exc:
        assert "cannot check" in str(exc)
    assert time.perf_counter() - started < 3.0


def test_a_few_random_bytes_spelling_js_in_a_stream_do_not_refuse_a_pdf() -> None:
    content = b"<< /Length 20 >>\nstream\n\x01\x02/JS\x00\x9f\x01\x02\x03\x04\x05\x06\x07\x08\nendstream"
    data = pdf(b"<< /Type /Catalog >>", content)
    assert prepare_upload(upload(data, "ok.pdf")).content == data


# Names, keys, several files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("photo.jpg", "photo.jpg"),
        ("C:\\Users\\Jane\\Desktop\\photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("/home/jane/x.png", "x.png"),
        ("bad\x00na\x1bme\n.jpg", "badname.jpg"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("  spaced.png  ", "spaced.png"),
        ("", "file"),
        ("..", "file"),
        (None, "file"),
        ("a" * 300 + ".jpeg", "a" * 195 + ".jpeg"),
        ("é" * 250, "é" * 200),
    ],
)
def test_it_keeps_only_a_clean_base_name(raw: str | None, clean: str) -> None:
    assert clean_name(raw) == clean


def test_the_stored_name_is_the_clean_one() -> None:
    prepared = prepare_upload(upload(encode(picture(), "PNG"), "../../secret/\x07shot.png"))
    assert prepared.original_name == "shot.png"


def test_identical_uploads_get_identical_content_keys() -> None:
    data = jpeg_with_gps()
    first = prepare_upload(upload(data, "a.jpg"))
    second = prepare_upload(upload(data, "b.jpg"))
    other = prepare_upload(upload(encode(picture((10, 10)), "JPEG"), "c.jpg"))

    assert first.content_key == second.content_key != other.content_key
    assert first.content_key == receipt.keyed_hash(hashlib.sha256(data).hexdigest(), purpose="attachment")
    assert len(first.content_key) == 64


def test_prepare_uploads_reports_every_bad_file_by_name() -> None:
    files = [
        upload(encode(picture(), "JPEG"), "good.jpg"),
        upload(b"<svg/>", "bad.png"),
        upload(PLAIN_PDF, "good.pdf"),
        upload(b"", "empty.gif"),
    ]

    prepared, errors = prepare_uploads(files)

    assert [p.original_name for p in prepared] == ["good.jpg", "good.pdf"]
    assert errors == ['"bad.png" is not a photo or PDF we can accept.', '"empty.gif" is empty.']


def test_prepare_uploads_refuses_too_many_files() -> None:
    files = [upload(PLAIN_PDF, f"{i}.pdf") for i in range(MAX_FILES + 1)]

    prepared, errors = prepare_uploads(files)

    assert prepared == []
    assert errors == [f"You can attach at most {MAX_FILES} files; {MAX_FILES + 1} were chosen."]


def test_messages_go_through_gettext() -> None:
    def translate(text: str) -> str:
        return text.replace("is empty.", "está vacío.")

    with mock.patch("btam.intake.attachments._", side_effect=translate):
        message = reason(b"", "vacio.jpg")
    # The template is translated, then the file name is put in as it is.
    assert message == '"vacio.jpg" está vacío.'


# Storage round trip -------------------------------------------------------------------------------


@pytest.fixture
def media(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "media"
    storages = {
        "default": {"BACKEND": "btam.lib.encrypted.EncryptedFileSystemStorage", "OPTIONS": {"location": str(root)}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield root


def test_a_prepared_photo_is_stored_encrypted_and_reads_back_clean(media: Path, db: None) -> None:
    school = SchoolFactory.create(name="North Test High")
    report = Report.objects.create(
        district=school.district, school=school, narrative="Synthetic test narrative.", created_at=clock.now()
    )
    prepared: PreparedAttachment = prepare_upload(upload(jpeg_with_gps(), "IMG_0042.jpg"))

    attachment = _store_attachment(report, prepared, at=clock.now())

    stored = Attachment.objects.get(pk=attachment.pk)
    assert stored.content_type == "image/jpeg" and stored.metadata_stripped
    assert stored.original_name == "IMG_0042.jpg"
    assert stored.size == len(prepared.content)
    [on_disk] = [p for p in media.rglob("*") if p.is_file()]
    raw = on_disk.read_bytes()
    assert raw.startswith(MAGIC) and b"\xff\xd8\xff" not in raw and b"IMG_0042" not in raw
    with stored.file.open("rb") as handle:
        back = handle.read()
    assert back == prepared.content
    assert GPS_MARKER not in back and b"Exif" not in back
    assert Image.open(io.BytesIO(back)).getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}


# Speed --------------------------------------------------------------------------------------------


def test_a_12_megapixel_photo_is_prepared_quickly() -> None:
    """Sanity only (the bench measures throughput): a phone photo must not take seconds."""
    texture = Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3)).resize((4000, 3000))
    data = encode(texture, "JPEG", quality=72, exif=gps_exif(orientation=6))
    assert 1_500_000 < len(data) < MAX_BYTES

    started = time.perf_counter()
    prepared = prepare_upload(upload(data, "phone.jpg"))
    elapsed = time.perf_counter() - started

    assert Image.open(io.BytesIO(prepared.content)).size == (3000, 4000)
    assert elapsed < 2.0
