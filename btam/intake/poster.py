"""Printable report posters: one US Letter page per school, in English then Spanish.

The poster holds nothing private: the school's name, where to report (a link and its QR code),
911 for danger right now, and the crisis line. It uses the PDF core fonts (Helvetica), which are
Latin-1: Spanish accents are fine; anything else is folded to the nearest Latin-1 text by
:func:`latin1`, so that a school name with, say, a Vietnamese letter never breaks the poster.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass

import qrcode
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from btam.orgs.models import School

# US Letter in points; a half-inch margin.
PAGE_W, PAGE_H = 612.0, 792.0
MARGIN = 36.0
CONTENT_W = PAGE_W - 2 * MARGIN
QR_SIZE = 252.0  # 3.5 inches: scannable from a couple of metres
INK = (17, 17, 17)
MUTED = (70, 70, 70)
ALERT = (181, 9, 9)  # USWDS "secondary-vivid"-like red

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
        # Letters with no decomposition to a Latin-1 base.
        "\u0141": "L",
        "\u0142": "l",
        "\u0110": "D",
        "\u0111": "d",
        "\u0152": "OE",
        "\u0153": "oe",
        "\u0131": "i",
    }
)


def latin1(text: str) -> str:
    """``text`` in Latin-1 for the core fonts: typography to ASCII, accents kept where Latin-1 has
    them, otherwise dropped (Nguyễn -> Nguyen), anything left becomes '?'."""
    out = []
    for ch in text.translate(_FOLD):
        if ord(ch) < 256:
            out.append(ch)
            continue
        composed = unicodedata.normalize("NFC", ch)
        if len(composed) == 1 and ord(composed) < 256:
            out.append(composed)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


# The link ---------------------------------------------------------------------------------------


def slug_is_ambiguous(school: School) -> bool:
    """Whether another active school (in any district) shares this school's slug."""
    return School.objects.filter(slug=school.slug, is_active=True).exclude(pk=school.pk).exists()


def report_path(school: School, *, ambiguous: bool | None = None) -> str:
    """The public report form's path for the school: short when its slug is unique, else with the district."""
    if ambiguous is None:
        ambiguous = slug_is_ambiguous(school)
    if ambiguous:
        return reverse(
            "report:school_in_district", kwargs={"district_slug": school.district.slug, "school_slug": school.slug}
        )
    return reverse("report:school", kwargs={"school_slug": school.slug})


def report_url(request: HttpRequest, school: School, *, ambiguous: bool | None = None) -> str:
    """The absolute address of the school's report form, as printed and encoded in the QR code.

    It is built on ``BTAM_PUBLIC_BASE_URL`` (README: "links in emails and posters"), not on the
    host of the request: a poster downloaded through an internal address must still send students
    to the public one. The request is kept in the signature for the views' sake.
    """
    return settings.BTAM_PUBLIC_BASE_URL + report_path(school, ambiguous=ambiguous)


def crisis_line(school: School) -> str:
    return school.district.crisis_line.strip() or str(settings.BTAM_CRISIS_LINE)


def qr_png(url: str) -> bytes:
    """A QR code of exactly ``url`` as a black-and-white PNG (error correction M: survives a little wear)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(url)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


# The page ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterText:
    """Every line of the poster (English, then Spanish), kept apart from the layout so it can be tested."""

    headline_en: str = "See something worrying? Tell us."
    subhead_en: str = "You can stay anonymous."
    headline_es: str = "¿Viste algo que te preocupa? Avísanos."
    subhead_es: str = "No tienes que dar tu nombre."
    scan_en: str = "Scan the code with your phone, or go to:"
    scan_es: str = "Escanea el código con tu teléfono, o entra a:"
    danger_en: str = "If someone is in danger right now, call 911."
    danger_es: str = "Si alguien está en peligro ahora mismo, llama al 911."
    crisis_en: str = "Need help or someone to talk to? Crisis line: {line}"
    crisis_es: str = "¿Necesitas ayuda o hablar con alguien? Línea de crisis: {line}"
    footer_en: str = "Reports go to the school's safety team. In an emergency, always call 911."
    footer_es: str = (
        "Los reportes llegan al equipo de seguridad de la escuela. En una emergencia, llama siempre al 911."
    )


TEXT = PosterText()


def _fit_size(pdf: FPDF, text: str, *, style: str, largest: float, smallest: float, lines: int) -> float:
    """The largest font size (down to ``smallest``) at which ``text`` fits in ``lines`` lines."""
    size = largest
    while size > smallest:
        pdf.set_font("Helvetica", style, size)
        wrapped = pdf.multi_cell(CONTENT_W, size * 1.15, text, dry_run=True, output="LINES")
        if isinstance(wrapped, list) and len(wrapped) <= lines:
            return size
        size -= 1
    return smallest


def _centered(pdf: FPDF, text: str, size: float, *, style: str = "", color: tuple[int, int, int] = INK) -> None:
    pdf.set_font("Helvetica", style, size)
    pdf.set_text_color(*color)
    pdf.set_x(MARGIN)
    pdf.multi_cell(CONTENT_W, size * 1.2, latin1(text), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_poster(*, school_name: str, url: str, crisis: str, compress: bool = True) -> bytes:
    """The poster as PDF bytes (``compress=False`` leaves the page text readable in the file, for tests)."""
    pdf = FPDF(orientation="portrait", unit="pt", format="Letter")
    pdf.set_compression(compress)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_title(latin1(f"Report a concern - {school_name}"))
    pdf.set_creator("OpenBTAM")
    pdf.set_producer("OpenBTAM")
    pdf.set_lang("en")
    pdf.add_page()

    # School name (long names shrink to fit two lines).
    name = latin1(school_name)
    pdf.set_y(MARGIN)
    size = _fit_size(pdf, name, style="B", largest=28, smallest=14, lines=2)
    _centered(pdf, name, size, style="B")
    pdf.ln(6)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(1.5)
    pdf.line(MARGIN, pdf.get_y(), PAGE_W - MARGIN, pdf.get_y())
    pdf.ln(12)

    # Headline, English then Spanish.
    _centered(pdf, TEXT.headline_en, 30, style="B")
    _centered(pdf, TEXT.subhead_en, 22, style="B")
    pdf.ln(4)
    _centered(pdf, TEXT.headline_es, 20, style="B", color=MUTED)
    _centered(pdf, TEXT.subhead_es, 16, style="B", color=MUTED)
    pdf.ln(10)

    # QR code and the link in words.
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(url)), x=(PAGE_W - QR_SIZE) / 2, y=top, w=QR_SIZE, h=QR_SIZE, alt_text=latin1(url))
    pdf.set_y(top + QR_SIZE + 6)
    _centered(pdf, TEXT.scan_en, 13)
    _centered(pdf, TEXT.scan_es, 13, color=MUTED)
    # One line when it fits at a readable size (a URL broken mid-word is hard to type).
    link_size = _fit_size(pdf, latin1(url), style="B", largest=16, smallest=9, lines=1)
    pdf.set_font("Helvetica", "B", link_size)
    pdf.set_text_color(*INK)
    pdf.set_x(MARGIN)
    pdf.multi_cell(
        CONTENT_W, link_size * 1.25, latin1(url), align=Align.C, link=url, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(12)

    # Danger box: 911 first, then the crisis line.
    box_top = pdf.get_y()
    box_h = 104.0
    pdf.set_fill_color(*ALERT)
    pdf.rect(MARGIN, box_top, CONTENT_W, box_h, style="F")
    pdf.set_y(box_top + 10)
    _centered(pdf, TEXT.danger_en, 19, style="B", color=(255, 255, 255))
    _centered(pdf, TEXT.danger_es, 15, style="B", color=(255, 255, 255))
    pdf.ln(4)
    _centered(pdf, TEXT.crisis_en.format(line=crisis), 13, color=(255, 255, 255))
    _centered(pdf, TEXT.crisis_es.format(line=crisis), 12, color=(255, 255, 255))

    # Footer.
    pdf.set_y(PAGE_H - MARGIN - 40)
    _centered(pdf, TEXT.footer_en, 10, color=MUTED)
    _centered(pdf, TEXT.footer_es, 10, color=MUTED)
    return bytes(pdf.output())


def school_poster(request: HttpRequest, school: School, *, compress: bool = True) -> bytes:
    return render_poster(
        school_name=school.name, url=report_url(request, school), crisis=crisis_line(school), compress=compress
    )
