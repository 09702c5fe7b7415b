"""Report posters: one printable page per school with the link, its QR code, 911 and the crisis line."""

from __future__ import annotations

import io
import re
import time
import zlib
from dataclasses import dataclass
from unittest import mock

import pytest
import qrcode
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path, reverse
from PIL import Image

import btam.urls
from btam.core.access import PUBLIC, policy
from btam.intake import poster, poster_views
from btam.orgs.models import District, School
from btam.testing import DistrictFactory, SchoolFactory

BASE = "https://btam.example.org"


# A URL configuration with the agreed public route names, so these tests do not depend on the
# order in which the public-reporting work lands (see test_the_real_routes_serve_posters).
@policy(PUBLIC)
def _report_form(request: HttpRequest, school_slug: str, district_slug: str | None = None) -> HttpResponse:
    return HttpResponse("form")


_report_patterns = [
    path("posters/", poster_views.poster_index, name="posters"),  # before the <slug> routes
    path("<slug:school_slug>/", _report_form, name="school"),
    path("<slug:district_slug>/<slug:school_slug>/", _report_form, name="school_in_district"),
    path("<slug:school_slug>/poster.pdf", poster_views.poster_pdf, name="poster"),
    path("<slug:district_slug>/<slug:school_slug>/poster.pdf", poster_views.poster_pdf, name="poster_in_district"),
]
urlpatterns = [
    path("report/", include((_report_patterns, "report"))),
    *[p for p in btam.urls.urlpatterns if getattr(p, "namespace", None) != "report"],
]

pytestmark = [pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def _public_base_url(settings: object) -> None:
    settings.BTAM_PUBLIC_BASE_URL = BASE  # type: ignore[attr-defined]
    settings.BTAM_CRISIS_LINE = "988"  # type: ignore[attr-defined]


@dataclass
class Schools:
    """Two districts: A with two schools, B with one. No users: posters are public."""

    district: District
    school: School
    other_school: School
    other_district: District


@pytest.fixture
def world(db: None) -> Schools:
    district = DistrictFactory.create(name="Cedar Test District (fictitious)")
    school = SchoolFactory.create(district=district, name="North Test High")
    other_school = SchoolFactory.create(district=district, name="South Test Middle")
    other_district = DistrictFactory.create(name="Other Test District (fictitious)")
    SchoolFactory.create(district=other_district, name="Elsewhere High")
    return Schools(district, school, other_school, other_district)


def one_page(pdf: bytes) -> bool:
    return len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1 and re.search(rb"/Count\s+1\b", pdf) is not None


def page_text(pdf: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated (the views serve compressed PDFs)."""
    out = [pdf]
    # The end of line before "endstream" stays in the match (a compressed stream may end with a CR
    # byte); decompressobj ignores what follows the compressed data.
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            out.append(zlib.decompressobj().decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(out)


def qr_modules(png: bytes, box: int = 8) -> list[list[bool]]:
    """Read the module grid back out of a QR PNG (dark = True), sampling each module's centre."""
    image = Image.open(io.BytesIO(png)).convert("L")
    n = image.width // box
    return [[image.getpixel((x * box + box // 2, y * box + box // 2)) < 128 for x in range(n)] for y in range(n)]  # type: ignore[operator]


def qr_matrix(data: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


# The link ---------------------------------------------------------------------------------------


def test_the_report_url_is_the_short_public_one(world: Schools) -> None:
    url = poster.report_url(HttpRequest(), world.school)
    assert url == f"{BASE}/report/{world.school.slug}/"


def test_a_slug_shared_with_another_district_gets_the_district_in_the_url(world: Schools) -> None:
    twin = SchoolFactory.create(district=world.other_district, slug=world.school.slug, name="Twin High")

    assert poster.report_url(HttpRequest(), world.school) == (
        f"{BASE}/report/{world.district.slug}/{world.school.slug}/"
    )
    assert poster.report_url(HttpRequest(), twin) == f"{BASE}/report/{world.other_district.slug}/{world.school.slug}/"


def test_an_inactive_namesake_does_not_make_a_slug_ambiguous(world: Schools) -> None:
    SchoolFactory.create(district=world.other_district, slug=world.school.slug, is_active=False)
    assert poster.report_url(HttpRequest(), world.school) == f"{BASE}/report/{world.school.slug}/"


def test_the_crisis_line_is_the_districts_or_the_sites(world: Schools) -> None:
    assert poster.crisis_line(world.school) == "988"
    world.district.crisis_line = " 1-800-555-0199 "
    world.district.save()
    assert poster.crisis_line(School.objects.get(pk=world.school.pk)) == "1-800-555-0199"


def test_the_qr_code_encodes_exactly_the_url() -> None:
    url = f"{BASE}/report/north-test-high/"

    png = poster.qr_png(url)

    assert png.startswith(b"\x89PNG")
    assert qr_modules(png) == qr_matrix(url)
    assert qr_modules(png) != qr_matrix(url + "x")


def test_the_poster_puts_the_qr_code_of_its_url_on_the_page() -> None:
    url = f"{BASE}/report/north-test-high/"
    with mock.patch.object(poster.qrcode.QRCode, "add_data", autospec=True, side_effect=qrcode.QRCode.add_data) as add:
        poster.render_poster(school_name="North Test High", url=url, crisis="988")
    assert [call.args[1] for call in add.call_args_list] == [url]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Escuela Primaria Peñasco", "Escuela Primaria Peñasco"),
        ("¿Viste algo? Avísanos.", "¿Viste algo? Avísanos."),
        ("Nguyễn Trãi Elementary", "Nguyen Trãi Elementary"),
        ("St. Mary’s “Academy” – East", 'St. Mary\'s "Academy" - East'),
        ("Łódź Prep", "Lódz Prep"),
        ("北京 School", "?? School"),
    ],
)
def test_text_is_folded_to_latin1_for_the_core_fonts(text: str, expected: str) -> None:
    assert poster.latin1(text) == expected
    expected.encode("latin-1")


# The PDF ----------------------------------------------------------------------------------------


def test_the_poster_holds_everything_a_reporter_needs() -> None:
    url = f"{BASE}/report/north-test-high/"

    pdf = poster.render_poster(school_name="North Test High", url=url, crisis="1-800-555-0199", compress=False)

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert one_page(pdf)
    assert b"/MediaBox [0 0 612.00 792.00]" in pdf  # US Letter, in points
    for line in [
        "North Test High",
        "See something worrying? Tell us.",
        "You can stay anonymous.",
        "If someone is in danger right now, call 911.",
        "1-800-555-0199",
        url,
        # Spanish, in the core fonts' Latin-1.
        "¿Viste algo que te preocupa? Avísanos.",
        "No tienes que dar tu nombre.",
        "Si alguien está en peligro ahora mismo, llama al 911.",
        "Línea de crisis: 1-800-555-0199",
    ]:
        assert line.encode("latin-1") in pdf, line
    assert f"/URI ({url})".encode() in pdf  # the printed link is also a clickable one
    assert b"/Subtype /Image" in pdf


def test_a_long_or_non_latin_school_name_still_makes_one_page() -> None:
    name = "Nguyễn Trãi " + "Very Long Academy of Science and Technology and the Arts " * 4

    pdf = poster.render_poster(school_name=name, url=f"{BASE}/report/x/", crisis="988", compress=False)

    assert one_page(pdf)
    assert "Nguyen Trãi".encode("latin-1") in pdf


def test_a_poster_is_made_quickly() -> None:
    started = time.perf_counter()
    for _ in range(5):
        poster.render_poster(school_name="North Test High", url=f"{BASE}/report/north-test-high/", crisis="988")
    assert (time.perf_counter() - started) / 5 < 1.0


# The views --------------------------------------------------------------------------------------


def test_anyone_can_download_a_schools_poster(world: Schools, client: Client) -> None:
    started = time.perf_counter()
    response = client.get(reverse("report:poster", kwargs={"school_slug": world.school.slug}))
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="report-poster-{world.school.slug}.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = page_text(response.content)
    assert b"North Test High" in text
    assert f"{BASE}/report/{world.school.slug}/".encode() in text
    assert b"988" in text
    assert elapsed < 1.0


def test_the_poster_shows_the_districts_crisis_line(world: Schools, client: Client) -> None:
    world.district.crisis_line = "1-800-555-0142"
    world.district.save()

    response = client.get(reverse("report:poster", kwargs={"school_slug": world.school.slug}))

    assert b"1-800-555-0142" in page_text(response.content)


@pytest.mark.parametrize("slug", ["no-such-school", "inactive"])
def test_an_unknown_or_inactive_school_has_no_poster(world: Schools, client: Client, slug: str) -> None:
    SchoolFactory.create(district=world.district, slug="inactive", is_active=False)
    response = client.get(reverse("report:poster", kwargs={"school_slug": slug}))
    assert response.status_code == 404


def test_a_shared_slug_needs_the_district(world: Schools, client: Client) -> None:
    SchoolFactory.create(district=world.other_district, slug=world.school.slug, name="Twin High")
    short = reverse("report:poster", kwargs={"school_slug": world.school.slug})
    qualified = reverse(
        "report:poster_in_district", kwargs={"district_slug": world.district.slug, "school_slug": world.school.slug}
    )

    assert client.get(short).status_code == 404
    response = client.get(qualified)
    assert response.status_code == 200
    text = page_text(response.content)
    assert b"North Test High" in text and b"Twin High" not in text
    assert f"{BASE}/report/{world.district.slug}/{world.school.slug}/".encode() in text


def test_a_district_qualified_url_must_match_the_district(world: Schools, client: Client) -> None:
    url = reverse(
        "report:poster_in_district",
        kwargs={"district_slug": world.other_district.slug, "school_slug": world.school.slug},
    )
    assert client.get(url).status_code == 404


def test_posters_are_read_only(world: Schools, client: Client) -> None:
    response = client.post(reverse("report:poster", kwargs={"school_slug": world.school.slug}))
    assert response.status_code == 405
    assert client.post(reverse("report:posters")).status_code == 405


def test_the_index_lists_every_active_school_with_its_poster(world: Schools, client: Client) -> None:
    SchoolFactory.create(district=world.district, slug="closed", name="Closed Test School", is_active=False)
    twin = SchoolFactory.create(district=world.other_district, slug=world.school.slug, name="Twin High")

    response = client.get(reverse("report:posters"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Cedar Test District (fictitious)" in html and "Other Test District (fictitious)" in html
    for school in School.objects.filter(is_active=True):
        assert f"Poster for {school.name}" in html
    assert "Closed Test School" not in html
    # The shared slug links through each district; the unique ones through the short URL.
    assert f'href="/report/{world.district.slug}/{world.school.slug}/poster.pdf"' in html
    assert f'href="/report/{twin.district.slug}/{twin.slug}/poster.pdf"' in html
    assert f'href="/report/{world.other_school.slug}/poster.pdf"' in html
    assert html.count('data-testid="poster-link"') == School.objects.filter(is_active=True).count()


def test_every_index_link_opens_its_poster(world: Schools, client: Client) -> None:
    SchoolFactory.create(district=world.other_district, slug=world.school.slug, name="Twin High")
    html = client.get(reverse("report:posters")).content.decode()
    links = re.findall(r'href="([^"]+poster\.pdf)"', html)
    assert len(links) == School.objects.filter(is_active=True).count()
    for link in links:
        assert client.get(link).status_code == 200, link


def test_the_views_are_declared_public() -> None:
    assert poster_views.poster_pdf.btam_policy is PUBLIC  # type: ignore[attr-defined]
    assert poster_views.poster_index.btam_policy is PUBLIC  # type: ignore[attr-defined]


def test_a_poster_without_a_district_shows_the_site_crisis_line() -> None:
    district = DistrictFactory.build(crisis_line="")
    school = SchoolFactory.build(district=district, name="Lone Test School")
    assert poster.crisis_line(school) == "988"


# The real wiring --------------------------------------------------------------------------------


@pytest.mark.urls("btam.urls")
def test_the_real_routes_serve_posters(world: Schools, client: Client) -> None:
    url = reverse("report:poster", kwargs={"school_slug": world.school.slug})
    index = reverse("report:posters")
    with override_settings(BTAM_PUBLIC_BASE_URL=BASE):
        assert client.get(url).status_code == 200
        assert client.get(index).status_code == 200
