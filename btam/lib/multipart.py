"""A fast, strict multipart/form-data parser for the public report POST.

Why not Django's ``MultiPartParser``: it streams the body through generators (``LazyStream``,
``BoundaryIter``, ...) and costs about 1 ms of CPU for the ~27 small fields of the report form, in
a path with a throughput budget. The report body is already capped by its declared length before it
is read (``guarded_post``) and uploads are kept in memory anyway, so here the whole body is read
once and cut with ``bytes.find`` (no per-byte Python loop).

What comes out is what Django's parser would give for the same body, or one of Django's own
exceptions (``MultiPartParserError``, ``TooManyFieldsSent``, ``TooManyFilesSent``,
``RequestDataTooBig``), never another one. ``btam/lib/tests/test_multipart.py`` checks this against
Django's parser on a corpus and on fuzzed bodies. In particular, like Django:

- field names and values are decoded with the request encoding (``settings.DEFAULT_CHARSET`` unless
  the Content-Type names a charset) with ``errors="replace"``: invalid UTF-8 becomes U+FFFD, which
  the report form refuses with its own message;
- each header line goes through Django's ``parse_header_parameters`` (quoting, RFC 2231
  ``filename*=``); a line Django cannot read is ignored, a part without a ``name`` is skipped, and
  limits are counted the same way (the ``+ 2`` of ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` included);
- a part with a non-empty filename is a file (an ``InMemoryUploadedFile`` whose content type,
  charset and extra parameters are kept exactly as Django keeps them: charset and extras as
  bytes), named by Django's own ``sanitize_file_name``; a filename that sanitizes to nothing is
  skipped. An empty file input (``filename=""``) is, for Django too, an empty *field*: it is in
  ``request.POST`` as ``""`` and not in ``request.FILES``.

Where Django is lenient and a browser never goes, this parser refuses with
``MultiPartParserError`` instead of guessing:

- a boundary longer than 70 characters (RFC 2046; Django allows 200);
- anything before the first boundary (a preamble), a delimiter not followed by CRLF or ``--``, a
  part not ending in CRLF before the next delimiter, a missing closing delimiter, anything but an
  optional CRLF after it (an epilogue);
- a part without the blank line that ends its headers within the first 1024 bytes (Django's
  ``MAX_TOTAL_HEADER_SIZE``; Django silently skips such a part when it is short);
- ``Content-Transfer-Encoding: base64``: RFC 7578 deprecates the header and no browser sends it;
  Django decodes it chunk by chunk with results that depend on chunk boundaries, so matching it
  exactly would mean copying that machinery for a case nobody legitimately uses.
"""

from __future__ import annotations

import codecs
import re
from io import BytesIO

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousFileOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.http import parse_header_parameters

__all__ = ["load_multipart", "parse_multipart"]

# RFC 2046: 1 to 70 characters; Django's own character rule (printable ASCII, not ending in space).
_BOUNDARY = re.compile(r"[ -~]{0,69}[!-~]")
# Django's MAX_TOTAL_HEADER_SIZE: the blank line after a part's headers must be within this many bytes.
MAX_HEADER_BYTES = 1024
_CRLF = b"\r\n"

# Fast paths for the two header lines browsers send, in exactly the shape they send them. A line
# that matches gives what parse_header_parameters gives for it (the test suite checks this on
# fuzzed lines); anything else (escapes, semicolons, control characters, RFC 2231, other order)
# goes through Django's function itself. IGNORECASE on a bytes pattern is ASCII-only, so no
# Unicode case folding (Kelvin sign, long s) can make a line match that Django would not read.
_Q = rb'"([^"\\;\x00-\x1f\x7f]*)"'
_DISPOSITION = re.compile(rb"content-disposition: form-data; name=" + _Q + rb"(?:; filename=" + _Q + rb")?", re.I)
_CONTENT_TYPE = re.compile(rb"content-type: ([!-:<-~]+)", re.I)

# Django's filename sanitizer is an instance method that does not use the instance; calling it on
# an uninitialized parser keeps this module on Django's rules, security fixes included.
_SANITIZER = MultiPartParser.__new__(MultiPartParser)

HeaderValue = tuple[str, dict[str, bytes]]
# Header blocks of text parts already read (see _part_headers); at most MAX_HEADERS_SEEN of them,
# each under MAX_HEADER_BYTES.
MAX_HEADERS_SEEN = 512
_HEADERS_SEEN: dict[bytes, tuple[bool, dict[str, HeaderValue]]] = {}


# Bodies up to this size are parsed here (the report form's text, a photo or two); larger ones by
# Django's parser (see load_multipart).
MAX_FAST_BYTES = 4 * 1024 * 1024


def load_multipart(request: HttpRequest, *, max_bytes: int) -> None:
    """Parse a multipart/form-data POST into ``request.POST`` and ``request.FILES``.

    Call it before anything touches ``request.POST``; other requests (not a POST, not multipart,
    already parsed, or declaring more than MAX_FAST_BYTES) are left alone for Django. A charset
    other than UTF-8 in the Content-Type is refused (``MultiPartParserError``).
    The body is read whole, at most ``max_bytes`` of it (more: ``RequestDataTooBig``). Files stay in
    memory. On any error the request gets an empty POST and FILES (as Django does) and the error is
    raised: ``MultiPartParserError``, ``TooManyFieldsSent``, ``TooManyFilesSent``,
    ``RequestDataTooBig`` (or ``UnreadablePostError`` if the client went away).
    """
    if request.method != "POST" or request.content_type != "multipart/form-data":
        return
    if hasattr(request, "_post") and hasattr(request, "_files"):
        return
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_FAST_BYTES:
        # A body with large files: Django's streaming parser, which holds each file once rather
        # than the body and the files cut from it (twice the memory of a 50 MB POST).
        return
    try:
        try:
            codec = codecs.lookup(request.encoding or settings.DEFAULT_CHARSET).name
        except LookupError:
            codec = ""
        if codec != "utf-8":
            # A browser sends the form in the page's encoding, UTF-8, and no charset parameter;
            # another codec (rot13, base64, idna...) would fail or transform the text.
            raise MultiPartParserError("Only UTF-8 form data is accepted.")
        boundary = _boundary(request)
        try:
            content_length = int(request.META.get("CONTENT_LENGTH", 0))
        except (ValueError, TypeError):
            content_length = 0
        if content_length < 0:
            raise MultiPartParserError("Invalid content length.")
        post: QueryDict
        files: MultiValueDict[str, UploadedFile]
        if content_length == 0:
            post, files = QueryDict(encoding=request.encoding), MultiValueDict()
        else:
            body = _read_body(request, max_bytes)
            post, files = parse_multipart(body, boundary, request.encoding or settings.DEFAULT_CHARSET)
    except Exception:
        request._mark_post_parse_error()  # type: ignore[attr-defined]
        raise
    request._post = post  # type: ignore[attr-defined]
    request._files = files  # type: ignore[attr-defined]


def _boundary(request: HttpRequest) -> bytes:
    content_type = request.META.get("CONTENT_TYPE", "")
    # Django's own checks on the raw header, before its parameters.
    if not content_type.startswith("multipart/") or not content_type.isascii():
        raise MultiPartParserError("Invalid Content-Type for multipart.")
    # request.content_params is parse_header_parameters(CONTENT_TYPE), as MultiPartParser computes it.
    params = request.content_params
    if params is None:
        params = parse_header_parameters(content_type)[1]
    boundary = params.get("boundary")
    if not boundary or not _BOUNDARY.fullmatch(boundary):
        raise MultiPartParserError("Invalid boundary in multipart.")
    return boundary.encode("ascii")


def _read_body(request: HttpRequest, max_bytes: int) -> bytes:
    if hasattr(request, "_body"):
        body: bytes = request._body
        if len(body) > max_bytes:
            raise RequestDataTooBig("Request body larger than the form allows.")
        return body
    if getattr(request, "_read_started", False):
        raise MultiPartParserError("The request body was already read.")
    chunks: list[bytes] = []
    total = 0
    while True:
        # One read usually gets it all (no join, no second copy): the WSGI stream stops at the
        # declared Content-Length, which guarded_post has already held to max_bytes.
        chunk = request.read(max_bytes + 1 - total)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise RequestDataTooBig("Request body larger than the form allows.")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_multipart(body: bytes, boundary: bytes, encoding: str) -> tuple[QueryDict, MultiValueDict[str, UploadedFile]]:
    """Cut a whole multipart/form-data body into (POST, FILES), as Django's MultiPartParser would.

    Raises MultiPartParserError, TooManyFieldsSent, TooManyFilesSent or RequestDataTooBig.
    """
    max_fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    max_files = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    max_memory = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    separator = b"--" + boundary
    if not body.startswith(separator):
        raise MultiPartParserError("Multipart body does not start with its boundary.")

    fields: dict[str, list[str]] = {}
    files: MultiValueDict[str, UploadedFile] = MultiValueDict()
    # Django counts the (empty) stretch before the first boundary and the one after the last as
    # parts: hence its "+ 2" below, kept so that the limits fall exactly where Django's do.
    num_keys = 1
    num_files = 0
    num_bytes = 0
    start = len(separator)
    while True:
        if body.startswith(b"--", start):
            # The closing delimiter; nothing but an optional CRLF may follow it.
            if len(body) - start > 4 or body[start:] not in (b"--", b"--\r\n"):
                raise MultiPartParserError("Unexpected data after the closing boundary.")
            num_keys += 1
            if max_fields is not None and max_fields + 2 < num_keys:
                raise TooManyFieldsSent("The number of POST parameters exceeded DATA_UPLOAD_MAX_NUMBER_FIELDS.")
            break
        end = body.find(separator, start)
        if end < 0:
            raise MultiPartParserError("Multipart body has no closing boundary.")
        if not body.startswith(_CRLF, start) or body[end - 2 : end] != _CRLF:
            raise MultiPartParserError("Multipart boundary not on a line of its own.")
        stop = end - 2  # the part, without the CRLF that belongs to the next delimiter
        header_end = body.find(b"\r\n\r\n", start, min(stop, start + MAX_HEADER_BYTES))
        if header_end < 0:
            raise MultiPartParserError("Multipart part headers missing, unterminated or too long.")
        data_start = header_end + 4
        part_start, start = start, end + len(separator)

        is_file, meta = _part_headers(body[part_start + 2 : header_end])
        if not is_file:
            num_keys += 1
            if max_fields is not None and max_fields + 2 < num_keys:
                raise TooManyFieldsSent("The number of POST parameters exceeded DATA_UPLOAD_MAX_NUMBER_FIELDS.")
        disposition = meta.get("content-disposition")
        if disposition is None or "name" not in disposition[1]:
            continue  # Django skips a part without a name (or without Content-Disposition)
        field_name = disposition[1]["name"].strip().decode(encoding, "replace")
        transfer_encoding = meta.get("content-transfer-encoding")
        if transfer_encoding is not None and transfer_encoding[0].strip() == "base64":
            raise MultiPartParserError("Content-Transfer-Encoding base64 is not accepted.")

        if not is_file:
            data = body[data_start:stop]
            # Django's accounting: the value's bytes plus the name's characters plus 2 ("&=").
            num_bytes += len(data) + len(field_name) + 2
            if max_memory is not None and num_bytes > max_memory:
                raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
            values = fields.get(field_name)
            if values is None:
                fields[field_name] = [data.decode(encoding, "replace")]
            else:
                values.append(data.decode(encoding, "replace"))
            continue

        num_files += 1
        if max_files is not None and num_files > max_files:
            raise TooManyFilesSent("The number of files exceeded DATA_UPLOAD_MAX_NUMBER_FILES.")
        file_name = _SANITIZER.sanitize_file_name(disposition[1]["filename"].decode(encoding, "replace"))
        if not file_name or not field_name:
            continue  # Django drops a file whose field name is empty too (it never completes it)
        content_type, extra = meta.get("content-type", ("", {}))
        data = body[data_start:stop]
        try:
            upload = InMemoryUploadedFile(
                file=BytesIO(data),
                field_name=field_name,
                name=file_name,
                content_type=content_type.strip(),
                size=len(data),
                charset=extra.get("charset"),  # type: ignore[arg-type]  # bytes, exactly as Django keeps it
                content_type_extra=extra,  # type: ignore[arg-type]
            )
        except SuspiciousFileOperation as exc:
            raise MultiPartParserError("Unusable file name.") from exc
        files.appendlist(field_name, upload)

    post = QueryDict(mutable=True)
    # QueryDict stores a list per key; filling the dict directly skips a per-key method call (its
    # checks are moot: keys and values are already str) and gives the same mapping as appendlist.
    dict.update(post, fields)
    post._mutable = False
    return post, files


def _part_headers(block: bytes) -> tuple[bool, dict[str, HeaderValue]]:
    """A part's header lines as Django keeps them: (is it a file, {lowercased name: (value, params)}).

    The header blocks of text fields are the same in every report (only the name changes), so they
    are remembered: this takes about a quarter off the parse time of the report form. Only non-file blocks are kept
    (their dicts never leave this module; a file's go into its InMemoryUploadedFile), and the memo
    is emptied when full, so a client sending made-up names costs it speed, never memory.
    """
    known = _HEADERS_SEEN.get(block)
    if known is not None:
        return known
    is_file = False
    meta: dict[str, HeaderValue] = {}
    for line in block.split(_CRLF):
        parsed = _header_line(line)
        if parsed is None:
            continue
        name, value, params = parsed
        if name == "content-disposition":
            is_file = bool(params.get("filename"))
        meta[name] = (value, params)
    if not is_file:
        if len(_HEADERS_SEEN) >= MAX_HEADERS_SEEN:
            _HEADERS_SEEN.clear()
        _HEADERS_SEEN[block] = (is_file, meta)
    return is_file, meta


def _header_line(line: bytes) -> tuple[str, str, dict[str, bytes]] | None:
    """One part header line as Django's parse_boundary_stream reads it: (lowercased name, value,
    params as UTF-8 bytes), or None for a line Django ignores (not UTF-8, no colon, bad RFC 2231)."""
    if not line.isascii():
        try:
            line.decode()
        except UnicodeDecodeError:
            return None
    match = _DISPOSITION.fullmatch(line)
    if match is not None:
        params = {"name": match[1]}
        if match[2] is not None:
            params["filename"] = match[2]
        return "content-disposition", " form-data", params
    match = _CONTENT_TYPE.fullmatch(line)
    if match is not None:
        return "content-type", " " + match[1].lower().decode(), {}
    try:
        main, parameters = parse_header_parameters(line.decode())
        name, value = main.split(":", 1)
        return name, value, {key: item.encode() for key, item in parameters.items()}
    except ValueError:  # what Django skips (UnicodeError is a ValueError too)
        return None
    except Exception as exc:  # Django would answer 500 here; a malformed body gets a 400
        raise MultiPartParserError("Unreadable multipart part header.") from exc
