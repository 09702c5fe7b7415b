"""The fast multipart parser gives what Django's MultiPartParser gives, or refuses with one of Django's
own exceptions: on the real report body, on the shapes browsers send, on every limit, and on a few
hundred fuzzed bodies. Django's side runs with the same in-memory upload handler as the report view."""

from __future__ import annotations

import base64
import random
from typing import Any, cast

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils.http import parse_header_parameters

from btam.intake.public_views import MAX_POST_BYTES, InMemoryUploads
from btam.lib.multipart import _HEADERS_SEEN, MAX_FAST_BYTES, MAX_HEADERS_SEEN, _header_line, load_multipart

DJANGO_ERRORS = (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent, RequestDataTooBig)
CHROME = "----WebKitFormBoundaryq8RbW3xYz0AbCdEf"
FIREFOX = "----geckoformboundary6b1f0c9a4e2d8f7a3c5b"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\r\n--" + CHROME.encode()[:-2] + b"\xff\xd9"

# The report form as a browser fills it in: 26 text parts; with the file input (report_body), 27.
REPORT_FIELDS: list[tuple[str, str]] = [
    ("csrfmiddlewaretoken", "kW3b0yP9cT1mZ8qR2vX7nL4sD6fH0jG5aE9uI3oB8wN1eK7rV2tY6zQ4pM0xC5lA"),
    ("narrative", "He said he'd bring his dad's gun on Friday.\r\nSeveral of us heard it at lunch. — café"),
    ("location", "cafeteria"),
    ("occurred", "this morning"),
    ("how_known", "heard"),
    ("danger_now", "on"),
    ("weapon", "yes"),
    ("self_harm", "unknown"),
    ("threat_date", "2026-12-04"),
    ("reporter_role", "student"),
    ("reporter_name", ""),
    ("reporter_contact", ""),
    ("notify_email", ""),
    ("website", ""),
    ("submission_token", "Zq0x8bH3mT6yV1cR9nL2sK5dF7gJ4aP0"),
    ("person_1_name", "Jordan"),
    ("person_1_role", "target"),
    ("person_1_description", "grade 8, Mr. Li's class"),
    ("person_2_name", ""),
    ("person_2_role", "unknown"),
    ("person_2_description", ""),
    ("person_3_name", ""),
    ("person_3_role", "unknown"),
    ("person_3_description", ""),
    ("language", "en"),
    ("consent", "on"),
]


def browser_body(
    fields: list[tuple[str, str]],
    files: list[tuple[str, str, str, bytes]],
    boundary: str = CHROME,
) -> tuple[bytes, str]:
    """multipart/form-data exactly as Chrome and Firefox build it: CRLF everywhere, no preamble."""
    out: list[bytes] = []
    for name, value in fields:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.append(value.encode() + b"\r\n")
    for name, filename, ctype, content in files:
        head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}'
        out += [f"--{boundary}\r\n{head}\r\n\r\n".encode(), content, b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def report_body(photo: bytes | None = None) -> tuple[bytes, str]:
    files = [("attachments", "IMG_2041.jpg", "image/jpeg", photo)] if photo else []
    files.append(("attachments", "", "application/octet-stream", b""))
    return browser_body(REPORT_FIELDS, files)


def raw_body(parts: list[bytes], boundary: str = CHROME, close: bytes = b"--\r\n") -> tuple[bytes, str]:
    """A body from hand-written parts (headers, blank line and content, without the delimiters)."""
    sep = b"--" + boundary.encode()
    body = b"".join(sep + b"\r\n" + part + b"\r\n" for part in parts) + sep + close
    return body, f"multipart/form-data; boundary={boundary}"


def post_request(body: bytes, content_type: str) -> HttpRequest:
    return RequestFactory().generic("POST", "/report/d/s/", data=body, content_type=content_type)


def snapshot(request: HttpRequest) -> Any:
    post, files = request.POST, request.FILES
    assert isinstance(post, QueryDict)
    assert not post._mutable
    uploads = []
    for key, items in files.lists():
        for item in items:
            assert isinstance(item, InMemoryUploadedFile)
            uploads.append(
                (
                    key,
                    item.field_name,
                    item.name,
                    item.content_type,
                    item.charset,
                    item.content_type_extra,
                    item.size,
                    item.read(),
                )
            )
    return list(post.lists()), post.encoding, uploads


def with_django(body: bytes, content_type: str) -> Any:
    request = post_request(body, content_type)
    request.upload_handlers = [InMemoryUploads(request, MAX_POST_BYTES)]
    try:
        return "ok", snapshot(request)
    except Exception as exc:  # noqa: BLE001 - any outcome is recorded and compared
        return "error", type(exc)


def with_ours(body: bytes, content_type: str, max_bytes: int = MAX_POST_BYTES) -> Any:
    request = post_request(body, content_type)
    try:
        load_multipart(request, max_bytes=max_bytes)
    except Exception as exc:  # noqa: BLE001
        return "error", type(exc)
    return "ok", snapshot(request)


def check(body: bytes, content_type: str) -> Any:
    """Ours either equals Django's result or is one of Django's four refusals; return ours."""
    ours = with_ours(body, content_type)
    if ours[0] == "ok":
        assert with_django(body, content_type) == ours
    else:
        assert issubclass(ours[1], DJANGO_ERRORS), ours
    return ours


def accepted(body: bytes, content_type: str) -> Any:
    ours = check(body, content_type)
    assert ours[0] == "ok", ours
    return ours[1]


def refused(body: bytes, content_type: str, error: type[Exception] = MultiPartParserError) -> None:
    ours = with_ours(body, content_type)
    assert ours == ("error", error)
    check(body, content_type)


# The corpus: what browsers and Django's test client send -----------------------------------------
def test_it_reads_the_report_form_like_django() -> None:
    fields, _, files = accepted(*report_body())
    assert dict(fields)["narrative"][0].endswith("at lunch. — café")
    # The empty file input is, for Django too, an empty field and no file.
    assert ("attachments", [""]) in fields
    assert files == []


def test_it_reads_the_report_form_with_a_photo_like_django() -> None:
    body, content_type = report_body(JPEG)
    _, _, files = accepted(body, content_type)
    assert [(f[0], f[2], f[3], f[7]) for f in files] == [("attachments", "IMG_2041.jpg", "image/jpeg", JPEG)]


def test_it_reads_firefox_bodies_and_several_files() -> None:
    files = [
        ("attachments", "a.jpg", "image/jpeg", JPEG),
        ("attachments", "b.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),
        ("attachments", "empty.txt", "text/plain", b""),
        ("other", "notes.txt", "text/plain", b"line 1\r\nline 2\r\n"),
    ]
    _, _, uploads = accepted(*browser_body(REPORT_FIELDS[:3], files, boundary=FIREFOX))
    assert [(u[0], u[2], u[6]) for u in uploads] == [
        ("attachments", "a.jpg", len(JPEG)),
        ("attachments", "b.png", 58),
        ("attachments", "empty.txt", 0),
        ("other", "notes.txt", 16),
    ]


def test_it_reads_what_the_django_test_client_sends() -> None:
    data: dict[str, Any] = {
        "narrative": "x\ny\r\nz",
        "weapon": ["yes", "no"],
        "attachments": [
            SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg"),
            SimpleUploadedFile("q.txt", b"hello", content_type="text/plain"),
        ],
    }
    accepted(encode_multipart(BOUNDARY, data), MULTIPART_CONTENT)
    accepted(encode_multipart(BOUNDARY, {}), MULTIPART_CONTENT)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "héllo wörld ✓ 日本語 🙂",
        "line one\r\nline two\r\n\r\nafter a blank line",
        "ends with CR\r",
        "\r\n",
        "--" + CHROME[:-1],  # a boundary prefix is not a boundary
        "\r\n--" + CHROME[:20] + " and more",
        'Content-Disposition: form-data; name="fake"\r\n\r\nnot a part',
    ],
)
def test_values_come_back_exactly(value: str) -> None:
    fields, _, _ = accepted(*browser_body([("v", value), ("v", "second"), ("w", "")], []))
    assert fields == [("v", [value, "second"]), ("w", [""])]


def test_invalid_utf8_becomes_replacement_characters_as_in_django() -> None:
    body, content_type = raw_body([b'Content-Disposition: form-data; name="narrative"\r\n\r\nab\xff\xfecd'])
    fields, _, _ = accepted(body, content_type)
    assert fields == [("narrative", ["ab\ufffd\ufffdcd"])]


def test_utf8_named_in_the_content_type_is_read_like_django() -> None:
    body, content_type = raw_body(['Content-Disposition: form-data; name="n"\r\n\r\ncafé'.encode()])
    fields, _, _ = accepted(body, content_type.replace(";", "; charset=UTF-8;"))
    assert fields == [("n", ["café"])]


@pytest.mark.parametrize("charset", ["latin-1", "rot13", "base64", "hex", "idna", "utf-16", "undefined"])
def test_another_charset_in_the_content_type_is_refused(charset: str) -> None:
    # Browsers send form data in the page's encoding (UTF-8) without naming it; other codecs fail
    # or transform the text in Django's parser (some with errors it does not catch).
    body, content_type = raw_body([b'Content-Disposition: form-data; name="n"\r\n\r\ncaf\xe9'])
    assert with_ours(body, content_type.replace(";", f"; charset={charset};")) == ("error", MultiPartParserError)


def test_a_large_body_is_left_to_djangos_streaming_parser() -> None:
    # Read whole, a 50 MB body and the files cut from it would be held twice.
    photo = b"\xff\xd8" + b"x" * (MAX_FAST_BYTES + 10)
    body, content_type = report_body(photo)
    request = post_request(body, content_type)
    request.upload_handlers = [InMemoryUploads(request, MAX_POST_BYTES)]
    load_multipart(request, max_bytes=MAX_POST_BYTES)
    assert not hasattr(request, "_files")  # not parsed here
    upload = request.FILES["attachments"]
    assert isinstance(upload, InMemoryUploadedFile)  # Django's parser, files in memory
    assert upload.size == len(photo)


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        (b'filename="C:\\\\Users\\\\me\\\\photo.jpg"', "photo.jpg"),
        (b'filename="C:\\Users\\me\\photo.jpg"', "photo.jpg"),
        (b'filename="../../etc/passwd"', "passwd"),
        (b'filename="say %22hi%22.jpg"', "say %22hi%22.jpg"),
        (b'filename="say \\"hi\\".jpg"', 'say "hi".jpg'),
        ('filename="фото класса.jpg"'.encode(), "фото класса.jpg"),
        (b"filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE.jpg", "фото.jpg"),
        (b"filename=\"fallback.jpg\"; filename*=UTF-8''%E2%9C%93.jpg", "✓.jpg"),
        (b'filename="&lt;b&gt;.jpg"', "<b>.jpg"),
        (b"filename=plain.jpg", "plain.jpg"),
        (b'filename="tab\there.jpg"', "tabhere.jpg"),
        (b'filename="a;b.jpg"', "a;b.jpg"),
        (b'filename="' + b"x" * 300 + b'.jpg"', "x" * 251 + ".jpg"),
    ],
)
def test_file_names_are_sanitized_as_django_does(disposition: bytes, expected: str) -> None:
    part = b'Content-Disposition: form-data; name="f"; ' + disposition + b"\r\nContent-Type: image/jpeg\r\n\r\nDATA"
    _, _, files = accepted(*raw_body([part]))
    assert [(f[2], f[7]) for f in files] == [(expected, b"DATA")]


@pytest.mark.parametrize("filename", [b"..", b".", b"/", b"a/", b"\x01"])
def test_a_file_name_that_sanitizes_to_nothing_is_skipped(filename: bytes) -> None:
    part = b'Content-Disposition: form-data; name="f"; filename="' + filename + b'"\r\n\r\nDATA'
    fields, _, files = accepted(*raw_body([part, b'Content-Disposition: form-data; name="n"\r\n\r\nv']))
    assert (fields, files) == ([("n", ["v"])], [])


@pytest.mark.parametrize("name", [b'name=""', b"name", b'name=" "'])
def test_a_file_with_an_empty_field_name_is_dropped_as_in_django(name: bytes) -> None:
    part = b"Content-Disposition: form-data; " + name + b'; filename="x.txt"\r\n\r\nDATA'
    fields, _, files = accepted(*raw_body([part, b'Content-Disposition: form-data; name="n"\r\n\r\nv']))
    assert (fields, files) == ([("n", ["v"])], [])


def test_content_type_and_charset_of_a_file_are_kept_as_django_keeps_them() -> None:
    part = (
        b'Content-Disposition: form-data; name="f"; filename="t.txt"\r\n'
        b"Content-Type: Text/Plain; charset=UTF-8\r\n\r\nhi"
    )
    _, _, files = accepted(*raw_body([part]))
    assert [(f[3], f[4], f[5]) for f in files] == [("text/plain", b"UTF-8", {"charset": b"UTF-8"})]


@pytest.mark.parametrize(
    "part",
    [
        b"Content-Type: text/plain\r\n\r\nno disposition",
        b"Content-Disposition: form-data\r\n\r\nno name",
        b'Content-Disposition: form-data; filename="x.txt"\r\n\r\nno name',
        b"Content-Disposition: form-data; name=\"bad\"; filename*=nope''x.txt\r\n\r\nunknown charset",
        b'Content-Disposition: form-data; name="\xff"\r\n\r\nnot utf-8',
        b"\r\nno headers at all",
    ],
)
def test_a_part_without_a_readable_name_is_skipped(part: bytes) -> None:
    fields, _, files = accepted(*raw_body([part, b'Content-Disposition: form-data; name="kept"\r\n\r\nyes']))
    assert (fields, files) == ([("kept", ["yes"])], [])


@pytest.mark.parametrize(
    "header",
    [
        b'content-disposition: FORM-DATA; NAME="x"',
        b'Content-Disposition: attachment; name="x"',
        b"Content-Disposition: form-data; name=x",
        b'Content-Disposition: form-data;name="x"',
        b'Content-Disposition:form-data; name="x"',
        b'Content-Disposition: form-data; name="x"; name="y"',
        b'Content-Disposition: form-data; name=" x "',
        b'Content-Disposition: form-data; name="<x>"',
        b"Content-Disposition: form-data; name=<x>",
        b'Content-Disposition: form-data; name="x"\r\nX-Other: 1; a=b\r\nContent-Length: 3',
        b'Content-Disposition: form-data; name="x"\r\nContent-Transfer-Encoding: 8bit',
        b'Content-Disposition: form-data; name="x"\r\nContent-Transfer-Encoding: quoted-printable',
        b'Content-Disposition: form-data; name="x"\r\n Content-Disposition: form-data; name="y"',
        b'Content-Disposition: form-data; name="x"; filename=""',
    ],
)
def test_header_variants_match_django(header: bytes) -> None:
    accepted(*raw_body([header + b"\r\n\r\nvalue"]))


def test_a_quoted_boundary_and_an_empty_form_are_read() -> None:
    boundary = "weird boundary'()+_,-./:=?"
    body, _ = raw_body([b'Content-Disposition: form-data; name="a"\r\n\r\n1'], boundary=boundary)
    accepted(body, f'multipart/form-data; boundary="{boundary}"')
    accepted(*raw_body([]))
    accepted(*raw_body([b'Content-Disposition: form-data; name="a"\r\n\r\n1'], close=b"--"))
    accepted(b"", "multipart/form-data; boundary=x")  # no body at all: empty, as in Django


def test_it_leaves_urlencoded_posts_to_django_and_a_parsed_request_alone() -> None:
    urlencoded = RequestFactory().generic("POST", "/", data=b"a=1", content_type="application/x-www-form-urlencoded")
    load_multipart(urlencoded, max_bytes=100)
    assert not hasattr(urlencoded, "_post")
    assert urlencoded.POST["a"] == "1"
    request = RequestFactory().post("/", {"a": "1"})  # the test client's multipart
    load_multipart(request, max_bytes=MAX_POST_BYTES)
    first = request.POST
    load_multipart(request, max_bytes=MAX_POST_BYTES)
    assert request.POST is first
    assert first["a"] == "1"


# Refusals ----------------------------------------------------------------------------------------
GOOD_PART = b'Content-Disposition: form-data; name="a"\r\n\r\nvalue'


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=" + "b" * 71,
        'multipart/form-data; boundary="ends with space "',
        "multipart/form-data; boundary=ünïcode",
        "Multipart/Form-Data; boundary=" + CHROME,
    ],
)
def test_a_missing_or_bad_boundary_is_refused(content_type: str) -> None:
    body, _ = raw_body([GOOD_PART])
    refused(body, content_type)


def test_a_boundary_of_70_characters_is_fine() -> None:
    body, content_type = raw_body([GOOD_PART], boundary="b" * 70)
    accepted(body, content_type)


def malformed_bodies() -> list[bytes]:
    good, _ = raw_body([GOOD_PART, GOOD_PART])
    sep = b"--" + CHROME.encode()
    return [
        good[:-8],  # no closing boundary
        good[: good.rindex(sep)],  # cut just before it
        good.replace(b"\r\n\r\n", b"\r\n", 1),  # headers without the blank line
        sep
        + b'\r\nContent-Disposition: form-data; name="a"\r\n'
        + b"X-Pad: "
        + b"x" * 1100
        + b"\r\n\r\nv\r\n"
        + sep
        + b"--\r\n",
        b"garbage, not multipart at all",
        b"preamble\r\n" + good,
        good + b"epilogue",
        good.replace(b"value\r\n", b"value", 1),  # a part not ending in CRLF
        good.replace(sep + b"\r\n", sep + b"  \r\n", 1),  # padding after a delimiter
        sep + b"--x",
        sep + b"\r\n",
        b"\x00" * 100,
    ]


@pytest.mark.parametrize("body", malformed_bodies())
def test_malformed_bodies_are_refused(body: bytes) -> None:
    refused(body, f"multipart/form-data; boundary={CHROME}")


@pytest.mark.parametrize("is_file", [False, True])
def test_base64_parts_are_refused(is_file: bool) -> None:
    filename = b'; filename="x.txt"' if is_file else b""
    part = (
        b'Content-Disposition: form-data; name="a"'
        + filename
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"hello")
    )
    refused(*raw_body([part]))


def test_a_body_over_max_bytes_is_refused_before_parsing() -> None:
    body, content_type = report_body()
    assert with_ours(body, content_type, max_bytes=len(body))[0] == "ok"
    assert with_ours(body, content_type, max_bytes=len(body) - 1) == ("error", RequestDataTooBig)


def test_after_a_refusal_post_and_files_are_empty_not_parsed_again() -> None:
    request = post_request(b"garbage", f"multipart/form-data; boundary={CHROME}")
    with pytest.raises(MultiPartParserError):
        load_multipart(request, max_bytes=MAX_POST_BYTES)
    assert not request.POST
    assert not request.FILES


def test_post_and_files_are_those_it_built() -> None:
    body, content_type = report_body(JPEG)
    request = post_request(body, content_type)
    load_multipart(request, max_bytes=MAX_POST_BYTES)
    built = request.__dict__["_post"]
    assert request.POST is built  # Django does not parse again
    assert [f.read() for f in request.FILES.getlist("attachments")] == [JPEG]
    with pytest.raises(AttributeError, match="immutable"):
        cast(Any, built)["narrative"] = "changed"


# Limits: where Django's fall, to the part ---------------------------------------------------------
def n_fields(n: int) -> tuple[bytes, str]:
    return browser_body([(f"f{i}", "x") for i in range(n)], [])


def test_too_many_fields(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    accepted(*n_fields(5))
    for n in (6, 7, 8):
        refused(*n_fields(n), error=TooManyFieldsSent)
    assert with_django(*n_fields(6)) == ("error", TooManyFieldsSent)
    # Parts without a name count, as in Django; an empty file input is a field.
    body, content_type = raw_body([b"Content-Type: text/plain\r\n\r\nx"] * 6)
    refused(body, content_type, error=TooManyFieldsSent)
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = None
    accepted(*n_fields(50))


def test_too_many_files(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [("attachments", f"{i}.jpg", "image/jpeg", JPEG) for i in range(3)]
    accepted(*browser_body([], files[:2]))
    refused(*browser_body([], files), error=TooManyFilesSent)
    assert with_django(*browser_body([], files)) == ("error", TooManyFilesSent)
    # Files do not count as fields; empty file inputs do not count as files.
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 1
    accepted(*browser_body([("a", "1")], files[:2]))
    refused(*browser_body([("a", "1")], files[:2] + [("x", "", "application/octet-stream", b"")]), TooManyFieldsSent)


def test_text_fields_over_data_upload_max_memory_size(settings: Any) -> None:
    # Django counts each field as its value's bytes + its name's length + 2.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20
    accepted(*browser_body([("ab", "x" * 6), ("cd", "é" * 3)], []))  # 10 + 10
    refused(*browser_body([("ab", "x" * 6), ("cd", "é" * 3 + "x")], []), error=RequestDataTooBig)
    assert with_django(*browser_body([("ab", "x" * 17)], [])) == ("error", RequestDataTooBig)
    refused(*browser_body([("ab", "x" * 17)], []), error=RequestDataTooBig)
    # Files do not count.
    accepted(*browser_body([("ab", "x")], [("f", "a.bin", "application/octet-stream", b"\x00" * 1000)]))


# Header lines: the fast path reads a line exactly as parse_header_parameters does ----------------
def django_header_line(line: bytes) -> tuple[str, str, dict[str, bytes]] | None:
    """The per-line code of django.http.multipartparser.parse_boundary_stream."""
    try:
        main_value_pair, params = parse_header_parameters(line.decode())
        name, value = main_value_pair.split(":", 1)
        return name, value, {k: v.encode() for k, v in params.items()}
    except ValueError:
        return None


PIECES = [
    "Content-Disposition",
    "content-disposition",
    "CONTENT-TYPE",
    "Content-Type",
    ": ",
    ":",
    "form-data",
    "FORM-DATA",
    "; ",
    ";",
    "name=",
    "NAME=",
    "filename=",
    "filename*=",
    '"',
    '"',
    "\\",
    "=",
    " ",
    "\t",
    "<",
    ">",
    "%",
    "'",
    "*",
    "x",
    "photo.jpg",
    "é",
    "ſ",
    "\u212a",
    "\x85",
    "\u2028",
    "\xa0",
    "\x00",
    "\r",
    "\n",
    "image/jpeg",
    "charset=utf-8",
    "utf-8''%C3%A9",
]


def test_header_lines_are_read_as_django_reads_them() -> None:
    rng = random.Random(20261129)
    lines = [
        b'Content-Disposition: form-data; name="narrative"',
        b'Content-Disposition: form-data; name="attachments"; filename="IMG_2041.jpg"',
        b"Content-Type: image/jpeg",
        'Content-Disposition: form-data; name="ſ\u212a\x85\u2028\xa0"; filename="é.jpg"'.encode(),
        b"Content-Type: application/octet-stream",
        b"\xff\xfe",
    ]
    for _ in range(3000):
        lines.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12))).encode())
        lines.append(
            f'Content-Disposition: form-data; name="{rng.choice(PIECES)}{rng.choice(PIECES)}"'
            f"{rng.choice(['', '; filename=' + chr(34) + rng.choice(PIECES) + chr(34)])}".encode()
        )
    mismatches = [line for line in lines if _header_line(line) != django_header_line(line)]
    assert mismatches == []


# Fuzz: a few hundred damaged bodies ---------------------------------------------------------------
def seeds() -> list[tuple[bytes, str]]:
    unicode_fields = [("narrative", "héllo\r\nwörld"), ("a", ""), ("a", "two"), ("b", "--" + CHROME[:10])]
    small_files = [("attachments", "a.jpg", "image/jpeg", b"\xff\xd8abc\r\n\xff\xd9"), ("f", "", "x/y", b"")]
    return [
        report_body(),
        browser_body(unicode_fields, small_files),
        browser_body(REPORT_FIELDS[:4], small_files[:1], boundary=FIREFOX),
        (encode_multipart(BOUNDARY, {"a": "1", "f": SimpleUploadedFile("x.txt", b"hi\r\n")}), MULTIPART_CONTENT),
        raw_body([b"Content-Disposition: form-data; name=\"x\"; filename*=UTF-8''%C3%A9.txt\r\n\r\nz", GOOD_PART]),
    ]


def mutate(rng: random.Random, body: bytes) -> bytes:
    if len(body) < 4:
        return body + rng.choice([b"", b"\r\n", b"--"])
    kind = rng.randrange(7)
    if kind == 6:  # a byte changed inside a part's headers, where the parsing rules are subtle
        heads = [i for i in range(len(body)) if body.startswith(b"Content-", i)] or [0]
        i = min(rng.choice(heads) + rng.randrange(80), len(body) - 1)
        return body[:i] + bytes([rng.choice(b" ;:=\"\\*'\r\n\xff\xc3a")]) + body[i + 1 :]
    if kind == 0:  # truncation
        return body[: rng.randrange(len(body))]
    if kind == 1:  # byte flips
        data = bytearray(body)
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 2:  # a dropped CRLF, LF or CR
        crlfs = [i for i in range(len(body) - 1) if body[i : i + 2] == b"\r\n"] or [0]
        i = rng.choice(crlfs)
        cut = rng.choice([(i, i + 2), (i, i + 1), (i + 1, i + 2)])
        return body[: cut[0]] + body[cut[1] :]
    if kind == 3:  # a duplicated or removed stretch
        i, j = sorted(rng.sample(range(len(body)), 2))
        return body[:j] + body[i:j] + body[j:] if rng.random() < 0.5 else body[:i] + body[j:]
    if kind == 4:  # a delimiter-like insertion
        i = rng.randrange(len(body))
        piece = rng.choice([b"\r\n", b"\r\n\r\n", b"--", b'"', b";", b"\r\n--" + CHROME.encode(), b"\n"])
        return body[:i] + piece + body[i:]
    return mutate(rng, mutate(rng, body))


def test_fuzzed_bodies_give_djangos_result_or_djangos_refusal() -> None:
    rng = random.Random(4)
    problems: list[Any] = []
    accepted_count = 0
    for _ in range(500):
        body, content_type = rng.choice(seeds())
        damaged = mutate(rng, body)
        ours = with_ours(damaged, content_type)
        if ours[0] == "ok":
            accepted_count += 1
            theirs = with_django(damaged, content_type)
            if theirs != ours:
                problems.append((damaged, ours, theirs))
        elif not issubclass(ours[1], DJANGO_ERRORS):
            problems.append((damaged, ours))
    assert problems == []
    assert accepted_count > 20  # the fuzz also reaches bodies that stay valid


def test_remembered_header_blocks_stay_few(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = None
    before = accepted(*report_body())
    accepted(*n_fields(MAX_HEADERS_SEEN + 10))
    assert len(_HEADERS_SEEN) <= MAX_HEADERS_SEEN
    assert accepted(*report_body()) == before
