"""Attachments from reporters: checked by content, image metadata stripped, before storage.

:func:`prepare_upload` turns one uploaded file into a :class:`PreparedAttachment` or raises
:class:`AttachmentError` with a plain message naming the file. The rules:

* At most :data:`MAX_BYTES` per file, read in chunks: we stop as soon as a file is too big and never
  hold more than ``MAX_BYTES + 1`` bytes of it.
* The type comes from the bytes (magic numbers), never from the name or the browser's content type.
  Accepted: JPEG, PNG, GIF, WebP images and PDF documents. Anything else (SVG, HTML, programs,
  archives, empty files) is refused.
* Images are opened with Pillow under a pixel cap (:data:`MAX_PIXELS`, checked from the header before
  any pixel is decoded; Pillow's own decompression-bomb warning is an error here), verified, decoded
  in full (a truncated file is refused), turned upright (EXIF orientation), then **re-encoded** into
  a new file of the same format holding pixels only: no EXIF (GPS position, camera serial, time),
  no XMP, no comments, no PNG text chunks. Whatever trailed or hid in the original (a polyglot's
  HTML, a zip appended to a JPEG) does not survive the re-encoding. A JPEG holding several
  pictures (MPO: phones add a depth map or a preview) keeps its main picture only.
* ICC colour profiles are kept when they look like one (they describe a colour space, not a
  person or a place; dropping them shifts the colours of phone photos). A profile that is not a
  well-formed ICC header, or is larger than :data:`MAX_ICC_BYTES`, is dropped.
* Animated GIF, PNG (APNG) and WebP keep every frame (with its duration and the loop count;
  nothing else) as long as the animation holds at most :data:`MAX_FRAMES` frames and
  :data:`MAX_ANIMATION_PIXELS` pixels in all (this bounds the work: re-encoding frames costs about
  a second for 20 megapixels of them); a longer one is refused with a message asking for a
  screenshot or a shorter clip. Animation frames are not turned by an EXIF orientation.
* PDFs must start with ``%PDF-`` and end with ``%%EOF``; they are stored unchanged, but a PDF with
  active content (JavaScript, launch actions, embedded files, rich media, XFA forms) is refused,
  including when the action hides in a compressed object stream or behind ``#xx`` escapes in a
  name. Encrypted PDFs are accepted when we can check them; an object stream we cannot read
  (encrypted, or under a filter other than Flate) is refused, since we cannot tell what it holds.
  The check is bounded whatever the file (one pass in C for names, at most
  :data:`MAX_PDF_STREAMS` streams, :data:`MAX_PDF_INSPECT_BYTES` inflated): under a second for
  the worst 10 MB we could build.

``content_key`` is a keyed hash of the bytes as uploaded, so identical files give identical keys
(surge grouping) without the key revealing the file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, ImageSequence

from btam.intake import receipt

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
MAX_PIXELS = 40_000_000  # 40 megapixels: above any phone camera, far below a bomb
MAX_FRAMES = 300
MAX_ANIMATION_PIXELS = 20_000_000  # all frames together (about 150 frames of 480x270)
MAX_ICC_BYTES = 512 * 1024
MAX_NAME_CHARS = 200
JPEG_QUALITY = 85
READ_CHUNK = 256 * 1024
# PDF inspection bounds: decompressed object streams (all together), streams looked at, and how far
# before a stream its dictionary is looked for.
MAX_PDF_INSPECT_BYTES = 50 * 1024 * 1024
MAX_PDF_STREAMS = 20_000
PDF_DICT_WINDOW = 1024

JPEG = "image/jpeg"
PNG = "image/png"
GIF = "image/gif"
WEBP = "image/webp"
PDF = "application/pdf"

_PILLOW_FORMAT = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WEBP"}

# Names that make a PDF do something rather than show something.
_ACTIVE_PDF_NAMES = frozenset(
    {b"JavaScript", b"JS", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia", b"GoToE", b"XFA"}
)
_PDF_FILTERS = frozenset(
    {
        b"FlateDecode",
        b"Fl",
        b"ASCIIHexDecode",
        b"AHx",
        b"ASCII85Decode",
        b"A85",
        b"LZWDecode",
        b"LZW",
        b"RunLengthDecode",
        b"RL",
        b"Crypt",
    }
)


class AttachmentError(Exception):
    """A file that cannot be accepted; the message names the file and the reason, for the reporter."""


@dataclass(frozen=True)
class PreparedAttachment:
    content: bytes  # what will be stored (images re-encoded without metadata)
    content_type: str  # one of Attachment.Kind
    original_name: str
    content_key: str  # keyed hash of the bytes as uploaded (surge grouping)
    metadata_stripped: bool


# Public API ---------------------------------------------------------------------------------------


def prepare_upload(uploaded: UploadedFile) -> PreparedAttachment:
    """Check one uploaded file by its content and return what to store, or raise AttachmentError."""
    name = clean_name(uploaded.name)
    data = _read_capped(uploaded, name)
    if not data:
        raise AttachmentError(_('"%(name)s" is empty.') % {"name": name})
    content_type = sniff(data)
    if content_type is None:
        raise AttachmentError(_('"%(name)s" is not a photo or PDF we can accept.') % {"name": name})
    if content_type == PDF:
        _check_pdf(data, name)
        content, stripped = data, False
    else:
        content, stripped = _reencode_image(data, content_type, name), True
    return PreparedAttachment(
        content=content,
        content_type=content_type,
        original_name=name,
        content_key=content_key(data),
        metadata_stripped=stripped,
    )


def prepare_uploads(files: Iterable[UploadedFile]) -> tuple[list[PreparedAttachment], list[str]]:
    """Every file checked: the accepted ones, and one message per refused file (or for too many)."""
    files = list(files)
    prepared: list[PreparedAttachment] = []
    errors: list[str] = []
    if len(files) > MAX_FILES:
        errors.append(
            _("You can attach at most %(max)d files; %(count)d were chosen.") % {"max": MAX_FILES, "count": len(files)}
        )
        return prepared, errors
    for uploaded in files:
        try:
            prepared.append(prepare_upload(uploaded))
        except AttachmentError as exc:
            errors.append(str(exc))
    return prepared, errors


def content_key(data: bytes) -> str:
    """Keyed hash of the bytes as uploaded: identical files, identical keys."""
    return receipt.keyed_hash(hashlib.sha256(data).hexdigest(), purpose="attachment")


def clean_name(raw: str | None) -> str:
    """The file's base name, without folders, control or direction-override characters; at most 200 characters."""
    name = (raw or "").replace("\\", "/")
    name = name.rsplit("/", 1)[-1]
    # Cc: control characters; Cf: format characters such as U+202E (right-to-left override, used
    # to make "photo\u202egpj.exe" look like "photoexe.jpg").
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf")).strip()
    if name in ("", ".", ".."):
        return "file"
    if len(name) > MAX_NAME_CHARS:
        stem, ext = os.path.splitext(name)
        ext = ext if len(ext) <= 16 else ""
        name = stem[: MAX_NAME_CHARS - len(ext)] + ext
    return name


def sniff(data: bytes) -> str | None:
    """The accepted content type the bytes start like, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


# Reading ------------------------------------------------------------------------------------------


def _too_big(name: str) -> AttachmentError:
    return AttachmentError(
        _('"%(name)s" is too big: each file can be at most %(max)d MB.') % {"name": name, "max": MAX_BYTES // 2**20}
    )


def _read_capped(uploaded: UploadedFile, name: str) -> bytes:
    """The upload's bytes, refusing as soon as there are more than MAX_BYTES (never reads past MAX_BYTES + 1)."""
    if uploaded.size is not None and uploaded.size > MAX_BYTES:
        raise _too_big(name)
    try:
        uploaded.seek(0)
    except (AttributeError, OSError, ValueError):
        pass
    buffer = bytearray()
    while True:
        chunk = uploaded.read(min(READ_CHUNK, MAX_BYTES + 1 - len(buffer)))
        if not chunk:
            break
        buffer += chunk
        if len(buffer) > MAX_BYTES:
            raise _too_big(name)
    return bytes(buffer)


# Images -------------------------------------------------------------------------------------------


def _not_readable(name: str) -> AttachmentError:
    return AttachmentError(
        _('"%(name)s" could not be read as a picture: it may be damaged or incomplete.') % {"name": name}
    )


def _too_many_pixels(name: str) -> AttachmentError:
    return AttachmentError(
        _('"%(name)s" is too large a picture (more than %(max)d megapixels). Please send a smaller one.')
        % {"name": name, "max": MAX_PIXELS // 1_000_000}
    )


def _open(data: bytes, fmt: str, name: str) -> Image.Image:
    """Open (header only) under the pixel cap; Pillow's bomb warning is an error."""
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(name) from None
    except Exception:
        raise _not_readable(name) from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise _not_readable(name)
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(name)
    return image


def _reencode_image(data: bytes, content_type: str, name: str) -> bytes:
    fmt = _PILLOW_FORMAT[content_type]
    with warnings.catch_warnings():
        # Thread note: the filter is process-wide state; if another thread resets it mid-way the
        # explicit pixel check in _open still refuses anything above MAX_PIXELS.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = _open(data, fmt, name)
            with probe:
                probe.verify()
            image = _open(data, fmt, name)
            with image:
                # A JPEG with more than one picture (MPO: phones add a depth map or a preview)
                # keeps its first, main picture only.
                frames = 1 if fmt == "JPEG" else getattr(image, "n_frames", 1)
                if frames > 1:
                    return _reencode_animation(image, fmt, frames, data, name)
                image.load()
                return _reencode_still(image, fmt, data)
        except AttachmentError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(name) from None
        except MemoryError:
            raise
        except Exception:
            # Truncated data, bad checksums, malformed chunks: Pillow raises OSError, SyntaxError,
            # ValueError, EOFError, struct.error ... all mean the same thing to the reporter.
            raise _not_readable(name) from None


def _icc(image: Image.Image) -> bytes | None:
    """The image's ICC profile when it looks like one (size field matches, 'acsp' signature)."""
    profile = image.info.get("icc_profile")
    if not isinstance(profile, bytes) or not 128 <= len(profile) <= MAX_ICC_BYTES:
        return None
    if profile[36:40] != b"acsp" or int.from_bytes(profile[:4], "big") != len(profile):
        return None
    return profile


def _webp_lossless(data: bytes) -> bool:
    """Whether the WebP's (first) image is lossless (a VP8L chunk comes before any lossy VP8 one)."""
    position = 12
    while position + 8 <= len(data) and position < 1 << 16:
        kind = data[position : position + 4]
        if kind == b"VP8L":
            return True
        if kind == b"VP8 ":
            return False
        if kind == b"ANMF":  # an animation frame: its own chunks follow its 16-byte header
            position += 8 + 16
            continue
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        position += 8 + size + (size & 1)
    return False


def _reencode_still(image: Image.Image, fmt: str, data: bytes) -> bytes:
    icc = _icc(image)
    transparency = image.info.get("transparency")
    ImageOps.exif_transpose(image, in_place=True)
    # From here the image carries pixels (and its palette) only: Pillow's writers fall back on
    # image.info for comments, ICC profiles and more, so that goes entirely.
    image.info = {}
    options: dict[str, Any] = {}
    if fmt == "JPEG":
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
            icc = None  # a CMYK profile does not describe RGB pixels
        options = {"quality": JPEG_QUALITY}
    elif fmt == "PNG":
        if transparency is not None:
            options["transparency"] = transparency
    elif fmt == "GIF":
        if transparency is not None and image.mode == "P":
            options["transparency"] = transparency
    elif fmt == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        options = {"lossless": True} if _webp_lossless(data) else {"quality": JPEG_QUALITY}
    if icc is not None and fmt != "GIF":
        options["icc_profile"] = icc
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _reencode_animation(image: Image.Image, fmt: str, frames: int, data: bytes, name: str) -> bytes:
    width, height = image.size
    if frames > MAX_FRAMES or frames * width * height > MAX_ANIMATION_PIXELS:
        raise AttachmentError(
            _('"%(name)s" is too long an animation for us to take. Please send a screenshot or a shorter clip.')
            % {"name": name}
        )
    loop = image.info.get("loop")
    icc = _icc(image)
    copies: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 0)))
        copy = frame.convert("RGBA")
        copy.info = {}
        copies.append(copy)
    options: dict[str, Any] = {"save_all": True, "append_images": copies[1:], "duration": durations}
    if loop is not None:
        options["loop"] = loop
    if fmt == "GIF":
        options["disposal"] = 2
    else:
        if _webp_lossless(data):
            options["lossless"] = True
        else:
            options["quality"] = JPEG_QUALITY
        if icc is not None:
            options["icc_profile"] = icc
    out = io.BytesIO()
    copies[0].save(out, format=fmt, **options)
    return out.getvalue()


# PDF ----------------------------------------------------------------------------------------------

_NAME = re.compile(rb"/([^\x00\t\n\f\r /<>\[\]()%{}]+)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM_START = re.compile(rb"stream\r?\n")
_WHITE = rb"[\x00\t\n\f\r ]"


def _decode_name(raw: bytes) -> bytes:
    return _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw) if b"#" in raw else raw


def _names(chunk: bytes) -> set[bytes]:
    """PDF names in the bytes, with #xx escapes decoded (/J#61vaScript is /JavaScript)."""
    return {_decode_name(m.group(1)) for m in _NAME.finditer(chunk)}


def _name_pattern(name: bytes) -> bytes:
    """A regular expression for the PDF name as written, each character plain or as a #xx escape."""
    parts = []
    for byte in name:
        # Hex digits of the escape in either case: #4a and #4A are both J.
        escape = "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{byte:02x}")
        parts.append(b"(?:" + re.escape(bytes([byte])) + b"|#" + escape.encode() + b")")
    return b"".join(parts)


_DELIMITER = rb"(?=[\x00\t\n\f\r /<>\[\]()%{}]|\Z)"
# One pass in C over the bytes, however many names they hold: an active name, plain or escaped
# (/J#61vaScript is /JavaScript). /JS is short enough to turn up by chance in compressed bytes,
# so it counts only when a value follows it (a string, or a reference "12 0 R"), as in a real action.
_ACTIVE = re.compile(
    b"/(?:"
    + b"|".join(_name_pattern(n) + _DELIMITER for n in sorted(_ACTIVE_PDF_NAMES - {b"JS"}, key=len, reverse=True))
    + b"|"
    + _name_pattern(b"JS")
    + _WHITE
    + rb"*(?:[(<]|\d+"
    + _WHITE
    + rb"+\d+"
    + _WHITE
    + rb"+R)"
    + b")"
)


_ENCRYPT = re.compile(b"/" + _name_pattern(b"Encrypt") + _DELIMITER)


def _has_active_content(chunk: bytes) -> bool:
    """Whether the bytes name an active PDF feature."""
    return _ACTIVE.search(chunk) is not None


def _object_streams(data: bytes) -> Iterator[tuple[set[bytes], bytes]]:
    """(names in the stream's dictionary, raw stream bytes) for each object stream (/Type /ObjStm).

    Bounded work whatever the file: at most MAX_PDF_STREAMS streams, each dictionary looked for in
    the PDF_DICT_WINDOW bytes before its ``stream`` keyword. Raises _TooComplex past the bound."""
    count = 0
    for match in _STREAM_START.finditer(data):
        start = match.start()
        if start >= 3 and data[start - 3 : start] == b"end":
            continue  # "endstream\n" followed by a line break
        count += 1
        if count > MAX_PDF_STREAMS:
            raise _TooComplex
        window = data[max(0, start - PDF_DICT_WINDOW) : start]
        window = window[window.rfind(b"obj") + 3 :] if b"obj" in window else window
        if b"ObjStm" not in window and b"#" not in window:
            continue
        names = _names(window)
        if b"ObjStm" not in names:
            continue
        end = data.find(b"endstream", match.end())
        yield names, data[match.end() : end if end != -1 else len(data)]


class _TooComplex(Exception):
    pass


def _check_pdf(data: bytes, name: str) -> None:
    if b"%%EOF" not in data[-1024:]:
        raise AttachmentError(
            _('"%(name)s" does not look like a complete PDF: it may be damaged or cut short.') % {"name": name}
        )
    active = AttachmentError(
        _(
            '"%(name)s" is a PDF that can run actions or carries other files inside it, which we do not accept. '
            "Please send a photo or a screenshot of it, or print it to a new PDF."
        )
        % {"name": name}
    )
    unreadable = AttachmentError(
        _(
            '"%(name)s" is a PDF we cannot check (it is protected or built in an unusual way). '
            "Please send a photo or a screenshot of it, or print it to a new PDF."
        )
        % {"name": name}
    )
    if _has_active_content(data):
        raise active
    # Object streams (PDF 1.5+) hold dictionaries compressed: look inside them too.
    budget = MAX_PDF_INSPECT_BYTES
    encrypted: bool | None = None
    try:
        for header, raw in _object_streams(data):
            if encrypted is None:
                encrypted = _ENCRYPT.search(data) is not None
            filters = header & _PDF_FILTERS
            if encrypted or not filters <= {b"FlateDecode", b"Fl"}:
                raise unreadable  # an encrypted or unusually encoded stream: we cannot see inside
            if filters:
                try:
                    inner = zlib.decompressobj().decompress(raw, budget + 1)
                except zlib.error:
                    raise unreadable from None
            else:
                inner = raw
            budget -= len(inner)
            if budget < 0:
                raise unreadable
            if _has_active_content(inner):
                raise active
    except _TooComplex:
        raise unreadable from None
