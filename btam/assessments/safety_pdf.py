"""The printable safety plan: one PDF per reader group (fpdf2, like btam/intake/poster.py).

A copy holds only what its readers need: the case number, the school, the plan's dates, the
people responsible for it (the case manager and the owners of the interventions under way) and
the sections written for those readers (``plan.sections_for``). Never the assessment, the risk
level or its rationale, notes, or anything about the reporter; no student name either (the family
knows whose plan it is, and a page left on a desk names nobody).

Text is set in DejaVu Sans when the system has it (the Debian package ``fonts-dejavu-core``, which
CI and the browser tests install), so names in any Latin, Greek or Cyrillic script print as
written; without it, in the PDF core fonts, folded to Latin-1 as the poster does.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from btam.assessments import plan
from btam.assessments.models import Intervention
from btam.intake.poster import latin1

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.assessments.models import SafetyPlan
    from btam.cases.models import Case

# fontTools logs every glyph it keeps when fpdf2 subsets a font, at INFO: which letters a plan
# holds is nobody's business in the logs.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# US Letter in points; three-quarter-inch margins.
PAGE_W, PAGE_H = 612.0, 792.0
MARGIN = 54.0
CONTENT_W = PAGE_W - 2 * MARGIN
LABEL_W = 180.0  # the labels' column of the facts at the top
INK = (17, 17, 17)
MUTED = (70, 70, 70)

# (regular, bold) font files, the first pair found is used.
FONT_FILES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
)


def find_font() -> tuple[str, str] | None:
    for regular, bold in FONT_FILES:
        if Path(regular).is_file() and Path(bold).is_file():
            return regular, bold
    return None


@dataclass(frozen=True)
class PrintedSection:
    title: str
    text: str


@dataclass(frozen=True)
class SafetyPlanDocument:
    """Everything a printed copy shows, gathered before the layout (and tested on its own)."""

    readers: str
    readers_label: str
    case_number: str
    school: str
    updated_on: dt.date
    review_on: dt.date | None
    printed_on: dt.date
    people: list[str]
    sections: list[PrintedSection]


def _name(user: User) -> str:
    return str(user.full_name or user.email)


def responsible_people(case: Case) -> list[str]:
    """The case manager, then the owners of the interventions planned or in place (each once)."""
    people: list[User] = []
    if case.manager is not None:
        people.append(case.manager)
    owners = (
        Intervention.objects.filter(case_id=case.pk, status__in=Intervention.OPEN_STATUSES, owner__isnull=False)
        .select_related("owner")
        .order_by("created_at", "pk")
    )
    for item in owners:
        if item.owner is not None and item.owner.pk not in {p.pk for p in people}:
            people.append(item.owner)
    return [_name(p) for p in people]


def document_for(case: Case, safety_plan: SafetyPlan, readers: str, *, printed_on: dt.date) -> SafetyPlanDocument:
    if readers not in plan.READERS:
        raise ValueError(f"Unknown readers {readers!r}")
    texts = safety_plan.sections
    review = texts.get(plan.REVIEW_KEY)
    try:
        review_on = dt.date.fromisoformat(review) if review else None
    except ValueError:
        review_on = None
    sections = [
        PrintedSection(title=str(s.label), text=texts[s.id])
        for s in plan.sections_for(readers)
        if texts.get(s.id, "").strip()
    ]
    return SafetyPlanDocument(
        readers=readers,
        readers_label=str(plan.READERS[readers]),
        case_number=case.number,
        school=case.school.name,
        updated_on=timezone.localdate(safety_plan.updated_at),
        review_on=review_on,
        printed_on=printed_on,
        people=responsible_people(case),
        sections=sections,
    )


def file_name(case: Case, readers: str) -> str:
    """The download's name: the case number and the readers, nothing else (no name of anyone)."""
    return f"safety-plan-{case.number}-{readers}.pdf"


def _date(value: dt.date | None) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else "-"


class _PlanPDF(FPDF):
    def __init__(self, *, footer_text: str, font: tuple[str, str] | None) -> None:
        super().__init__(orientation="portrait", unit="pt", format="Letter")
        self.footer_text = footer_text
        self.unicode = font is not None
        if font is not None:
            self.add_font("DejaVu", "", font[0])
            self.add_font("DejaVu", "B", font[1])
        self.family = "DejaVu" if font is not None else "Helvetica"

    def text_of(self, value: str) -> str:
        return value if self.unicode else latin1(value)

    def use(self, style: str, size: float, color: tuple[int, int, int] = INK) -> None:
        self.set_font(self.family, style, size)
        self.set_text_color(*color)

    def para(self, value: str, size: float, *, style: str = "", color: tuple[int, int, int] = INK) -> None:
        self.use(style, size, color)
        self.set_x(MARGIN)
        self.multi_cell(CONTENT_W, size * 1.35, self.text_of(value), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self) -> None:
        self.set_y(-MARGIN + 12)
        self.use("", 8, MUTED)
        line = self.text_of(f"{self.footer_text}  ·  {self.page_no()}/{{nb}}")
        self.cell(CONTENT_W, 10, line, align="C")


def render(document: SafetyPlanDocument, *, compress: bool = True, font: tuple[str, str] | None | bool = True) -> bytes:
    """The copy as PDF bytes. ``font``: True finds DejaVu (core fonts without it), None forces the
    core fonts, or a (regular, bold) pair of files. ``compress=False`` keeps the text readable in
    the file (tests, with the core fonts)."""
    chosen = find_font() if font is True else (font or None)
    pdf = _PlanPDF(
        footer_text=_("Confidential student record. Share it only with the people who need it."),
        font=chosen if isinstance(chosen, tuple) else None,
    )
    pdf.set_compression(compress)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN + 6)
    pdf.set_title(pdf.text_of(_("Safety plan, case %(number)s") % {"number": document.case_number}))
    pdf.set_creator("OpenBTAM")
    pdf.set_producer("OpenBTAM")
    pdf.add_page()

    pdf.para(_("Safety plan"), 22, style="B")
    pdf.para(_("Copy for: %(readers)s") % {"readers": document.readers_label}, 12, color=MUTED)
    pdf.ln(8)
    facts = [
        (_("Case"), document.case_number),
        (_("School"), document.school),
        (_("Plan last updated"), _date(document.updated_on)),
        (_("Review date"), _date(document.review_on)),
        (_("Printed"), _date(document.printed_on)),
        (_("People responsible for this plan"), ", ".join(document.people) or "-"),
    ]
    for label, value in facts:
        top = pdf.get_y()
        pdf.use("B", 10.5)
        pdf.set_xy(MARGIN, top)
        pdf.multi_cell(LABEL_W, 14, pdf.text_of(label), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        below_label = pdf.get_y()
        pdf.use("", 10.5)
        pdf.set_xy(MARGIN + LABEL_W, top)
        pdf.multi_cell(CONTENT_W - LABEL_W, 14, pdf.text_of(value), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(below_label, pdf.get_y()))
    pdf.ln(6)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(1)
    pdf.line(MARGIN, pdf.get_y(), PAGE_W - MARGIN, pdf.get_y())
    pdf.ln(10)

    if not document.sections:
        pdf.para(_("This plan has nothing written for these readers yet."), 11, color=MUTED)
    for section in document.sections:
        if pdf.get_y() > PAGE_H - MARGIN - 80:
            pdf.add_page()  # a heading never sits alone at the foot of a page
        pdf.para(section.title, 13, style="B")
        pdf.ln(2)
        pdf.para(section.text, 11)
        pdf.ln(10)
    return bytes(pdf.output())
