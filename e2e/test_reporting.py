"""Public reporting as a browser sees it: a report from a phone with a photo, the follow-up with the
receipt code, the team's side of the thread, the Spanish form, axe-core on every public page (in
English and in Spanish), and an urgent report reaching a rapid-response member's inbox.

No worker runs here: the outbox is delivered from the test thread (``outbox.sweep()``) when a test
needs what a worker would have done.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.translation import gettext
from PIL import ExifTags, Image
from playwright.sync_api import Locator, Page, expect

from btam.accounts.models import Role
from btam.intake.models import Report, ReporterMessage, Urgency
from btam.notifications.models import Notification
from btam.orgs.models import School
from btam.testing import DistrictFactory, SchoolFactory, make_member
from btam.worker import outbox
from e2e.conftest import AxeCheck, PageMaker
from e2e.helpers import sign_in

SCHOOL_SLUG = "lincoln-test-high"
SCHOOL_NAME = "Lincoln Test High"
CRISIS_LINE = "1-800-555-0199"
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
NARRATIVE = "A student in my class said he will bring a knife to school on Friday and hurt someone."
PERSON = "Jamie Testperson"
CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
GPS_IFD = int(ExifTags.IFD.GPSInfo)  # 0x8825


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def school(transactional_db: None) -> School:
    district = DistrictFactory.create(name="Cedar Test District (fictitious)", crisis_line=CRISIS_LINE)
    SchoolFactory.create(district=district, name="South Test Middle")
    return SchoolFactory.create(district=district, slug=SCHOOL_SLUG, name=SCHOOL_NAME)


# Steps ----------------------------------------------------------------------------------------


def jpeg_with_gps(path: Path) -> Path:
    """A real photo file whose EXIF says where it was taken (and with which camera)."""
    image = Image.new("RGB", (320, 240), (30, 120, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (40.0, 26.0, 46.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (79.0, 58.0, 56.0)
    image.save(path, "JPEG", exif=exif)
    with Image.open(path) as check:  # the test means something only if the file holds a position
        assert check.getexif().get_ifd(GPS_IFD), "the test photo should carry GPS EXIF"
    return path


def t(text: str, language: str) -> str:
    """``text`` as the site shows it in ``language`` (from the compiled catalogue)."""
    with translation.override(language):
        return gettext(text)


def tick(page: Page, control: Locator) -> None:
    """Tick a radio button or a checkbox by pressing its label, as a person does (the inputs of
    USWDS tiles are drawn by their labels, the input itself is off screen)."""
    page.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked()


def labelled(page: Page, text: str) -> Locator:
    """The control the visible ``<label>`` holding ``text`` is for."""
    label = page.locator("label", has_text=text)
    expect(label).to_have_count(1)
    return page.locator(f"[id='{label.get_attribute('for')}']")


def choose(page: Page, question: str | re.Pattern[str], answer: str, language: str = "en") -> None:
    """Tick ``answer`` in the group of radio buttons named by ``question``."""
    tick(page, page.get_by_role("group", name=question).get_by_role("radio", name=t(answer, language), exact=True))


def fill_required(page: Page, language: str = "en") -> None:
    page.get_by_role("textbox", name=t("What happened?", language)).fill(NARRATIVE)
    choose(
        page,
        re.compile(re.escape(t("Does it involve a weapon, or did someone talk about using one?", language))),
        "I don't know",
        language,
    )
    choose(page, re.compile(re.escape(t("Might someone hurt themselves?", language))), "No", language)


def send_report(page: Page, language: str = "en") -> str:
    """Press the send button; returns the receipt code the page shows."""
    page.get_by_role("button", name=t("Send the report", language)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your report was sent", language))
    code = page.get_by_test_id("receipt-code").inner_text().strip()
    assert CODE.match(code), f"not a receipt code: {code!r}"
    return code


def deliver_outbox() -> None:
    """What the worker would do: deliver everything due now, and what those deliveries queue."""
    for _ in range(10):
        if not outbox.sweep():
            return
    raise AssertionError("the outbox did not settle")


# 1. A report from a phone, with a photo; the follow-up with the code ---------------------------


def test_an_anonymous_report_with_a_photo_then_a_conversation_with_the_team(
    new_page: PageMaker, school: School, tmp_path: Path
) -> None:
    member = make_member(Role.TEAM_MEMBER, school.district, schools=[school], full_name="Robin Member")
    photo = jpeg_with_gps(tmp_path / "IMG_0042.jpg")

    # The reporter, on a phone.
    phone = new_page(**PHONE)
    phone.goto(f"/report/{SCHOOL_SLUG}/")
    # The first screen says what to do in an emergency, before the form.
    danger = phone.get_by_role("heading", name="Is someone in danger right now?")
    expect(danger).to_be_in_viewport()
    call = phone.get_by_role("link", name="Call 911")
    expect(call).to_be_in_viewport()
    expect(call).to_have_attribute("href", "tel:911")
    expect(phone.get_by_role("link", name=CRISIS_LINE)).to_have_attribute("href", "tel:18005550199")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Report a safety concern")
    expect(phone.get_by_text(SCHOOL_NAME)).to_be_visible()

    fill_required(phone)
    choose(phone, re.compile("How do you know about it"), "I heard it")
    person = phone.get_by_role("group", name="Person 1")
    person.get_by_label("Name", exact=True).fill(PERSON)
    person.get_by_label("Their part in this").select_option(label="The person who may cause harm")
    # USWDS's file input replaces the field's accessible name with its own "Choose from folder":
    # the field is found by its visible <label>.
    labelled(phone, "Photos, screenshots or PDF files").set_input_files(photo)
    code = send_report(phone)
    expect(phone.get_by_text(f"The safety team of {SCHOOL_NAME} will read it.")).to_be_visible()

    # Stored: the report, its person, and the photo without its position.
    report = Report.objects.get()
    assert report.school == school
    assert report.narrative == NARRATIVE
    assert (report.weapon, report.self_harm, report.how_known) == ("unknown", "no", "heard")
    assert [(p.name, p.role) for p in report.involved.all()] == [(PERSON, "subject")]
    assert report.reporter_name == "" and report.reporter_contact == ""
    attachment = report.attachments.get()
    with default_storage.open(attachment.file.name, "rb") as stored:
        content = stored.read()
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG"
        assert image.size == (320, 240)
        exif = image.getexif()
        assert GPS_IFD not in exif
        assert not exif.get_ifd(GPS_IFD)
        assert ExifTags.Base.Make not in exif

    # The team writes to the reporter from the report's page.
    team = new_page()
    sign_in(team, member.email)
    team.goto(f"/intake/{report.pk}/")
    expect(team.get_by_role("heading", level=1)).to_have_text(f"Report {report.reference}")
    expect(team.get_by_test_id("narrative")).to_contain_text(NARRATIVE)
    question = "Thank you for telling us. Which class is he in, and who else heard him?"
    team.get_by_label("Message to the reporter").fill(question)
    team.get_by_role("button", name="Send to the reporter").click()
    expect(team.get_by_test_id("thread")).to_contain_text(question)
    sent = ReporterMessage.objects.get(report=report)
    assert (sent.direction, sent.body, sent.author) == (ReporterMessage.Direction.FROM_TEAM, question, member)

    # The reporter comes back later, on the phone, with no session: the code typed any old way.
    reporter = new_page(**PHONE)
    reporter.goto("/report/follow-up/")
    expect(reporter.get_by_role("heading", name="Is someone in danger right now?")).to_be_in_viewport()
    reporter.get_by_label("Your receipt code").fill(code.replace("-", "").lower())
    reporter.get_by_role("button", name="Open my report").click()
    expect(reporter).to_have_url(re.compile(r"/report/follow-up/thread/$"))
    expect(reporter.get_by_role("heading", level=1)).to_have_text("Your report")
    expect(reporter.get_by_test_id("public-status")).to_have_text(
        "Received: your report has reached the school's team."
    )
    messages = reporter.get_by_role("region", name="Messages", exact=True)
    expect(messages).to_contain_text(question)
    expect(messages).to_contain_text("School team")

    answer = "He is in Mr. Test's 3rd period. Two friends of mine heard it too."
    reporter.get_by_label("Your message", exact=True).fill(answer)
    reporter.get_by_role("button", name="Send the message").click()
    expect(reporter.get_by_text("Your message was sent to the school team.")).to_be_visible()
    mine = reporter.get_by_role("listitem").filter(has_text=answer)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("You")
    assert [
        (m.direction, m.body) for m in ReporterMessage.objects.filter(report=report).order_by("created_at", "pk")
    ] == [(ReporterMessage.Direction.FROM_TEAM, question), (ReporterMessage.Direction.FROM_REPORTER, answer)]
    # The team's message now counts as read by the reporter.
    assert ReporterMessage.objects.get(direction=ReporterMessage.Direction.FROM_TEAM).read_at is not None

    # The team sees the answer on the report's page.
    team.goto(f"/intake/{report.pk}/")
    thread = team.get_by_test_id("thread")
    expect(thread).to_contain_text(answer)
    expect(thread).to_contain_text("From the reporter")
    expect(thread).to_contain_text("(read by the reporter)")


# 2. The form in Spanish -----------------------------------------------------------------------


def test_the_form_is_in_spanish_for_a_browser_that_asks_for_spanish(new_page: PageMaker, school: School) -> None:
    page = new_page(locale="es-ES", **PHONE)
    page.goto(f"/report/{SCHOOL_SLUG}/")

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="¿Alguien está en peligro ahora mismo?")).to_be_in_viewport()
    expect(page.get_by_role("link", name="Llama al 911")).to_have_attribute("href", "tel:911")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reportar una preocupación de seguridad")
    expect(page.get_by_role("textbox", name="¿Qué pasó?")).to_be_visible()
    expect(page.get_by_role("button", name="Enviar el reporte")).to_be_visible()
    expect(page.get_by_text("Report a safety concern")).to_have_count(0)


# 3. axe-core on every public page, in English and in Spanish ----------------------------------


def switch_language(page: Page, language: str) -> None:
    """Choose the language with the switcher in the page's utility bar."""
    page.get_by_label(t("Language", "en")).select_option(value=language)
    page.get_by_role("button", name=t("Change language", "en")).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_public_page_is_accessible(axe_page: Page, axe_check: AxeCheck, school: School, language: str) -> None:
    if language != "en":  # the catalogue is compiled: what follows is really checked in Spanish
        assert t("Report a safety concern", language) != "Report a safety concern"
    page = axe_page  # CSP bypassed: pages that a reload would lose are checked as they are
    page.goto("/report/")
    if language != "en":
        switch_language(page, language)
    html = page.locator("html")

    # The chooser.
    expect(html).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Report a safety concern", language))
    expect(page.get_by_role("link", name=SCHOOL_NAME)).to_be_visible()
    axe_check(page)

    # The form, empty, then with its errors after an empty submit (the browser's own checks off,
    # as for a browser without them: the server's messages are what is checked).
    page.get_by_role("link", name=SCHOOL_NAME).click()
    expect(page.get_by_role("button", name=t("Send the report", language))).to_be_visible()
    expect(html).to_have_attribute("lang", language)
    axe_check(page)
    page.evaluate("document.querySelectorAll('form').forEach(form => { form.noValidate = true; })")
    page.get_by_role("button", name=t("Send the report", language)).click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(t("Tell us what happened.", language))
    expect(summary).to_contain_text(t("Say if there is a weapon: yes, no or I don't know.", language))
    expect(page.get_by_role("textbox", name=t("What happened?", language))).to_have_attribute("aria-invalid", "true")
    axe_check(page)

    # The receipt.
    fill_required(page, language)
    code = send_report(page, language)
    axe_check(page)

    # Follow-up: the code form, a wrong code, then the thread.
    page.goto("/report/follow-up/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Check on your report", language))
    axe_check(page)
    page.get_by_label(t("Your receipt code", language)).fill("AAAA-BBBB-CCCC-DDDD")
    page.get_by_role("button", name=t("Open my report", language)).click()
    expect(page.get_by_role("alert")).to_contain_text(
        t("We could not find a report with that code. Check the code and try again.", language)
    )
    axe_check(page)
    page.get_by_label(t("Your receipt code", language)).fill(code)
    page.get_by_role("button", name=t("Open my report", language)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your report", language))
    expect(page.get_by_test_id("public-status")).to_have_text(
        t("Received: your report has reached the school's team.", language)
    )
    axe_check(page)

    # The posters' index.
    page.goto("/report/posters/")
    expect(page.get_by_test_id("poster-link")).to_have_count(2)
    axe_check(page)

    # An unknown school: a 404 that still says to call 911.
    response = page.goto("/report/no-such-school/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(t("We could not find this school", language))
    expect(page.get_by_role("link", name=t("Call 911", language))).to_have_attribute("href", "tel:911")
    expect(html).to_have_attribute("lang", language)
    axe_check(page)


# 4. An urgent report reaches the inbox --------------------------------------------------------


def test_a_danger_now_report_reaches_the_rapid_response_inbox(
    new_page: PageMaker, axe_check: AxeCheck, school: School
) -> None:
    rapid = make_member(Role.RAPID_RESPONSE, school.district, schools=[school], full_name="Casey Rapid")

    reporter = new_page(**PHONE)
    reporter.goto(f"/report/{SCHOOL_SLUG}/")
    fill_required(reporter)
    tick(reporter, reporter.get_by_role("checkbox", name=re.compile("^Someone is in danger right now")))
    send_report(reporter)
    report = Report.objects.get()
    assert report.danger_now and report.urgency == Urgency.EMERGENCY

    deliver_outbox()  # no worker runs here
    unread = Notification.objects.for_user(rapid).unread()
    assert unread.count() == 1

    staff = new_page()
    sign_in(staff, rapid.email)
    badge = staff.get_by_test_id("unread-count")
    expect(badge).to_have_text(re.compile(r"^\s*1\s+unread\s*$"))
    staff.get_by_role("link", name=re.compile(r"^Inbox")).click()
    expect(staff).to_have_url(re.compile(r"/inbox/$"))
    expect(staff.get_by_role("heading", level=1)).to_have_text("Inbox")
    item = staff.get_by_test_id("notification")
    expect(item).to_have_count(1)
    title = f"A new urgent report for {SCHOOL_NAME} needs attention"
    expect(item).to_contain_text(title)
    expect(item).to_contain_text("Urgent")
    expect(item).to_have_attribute("data-unread", "true")
    axe_check(staff)

    # Opening it leads to the report, and it is read now.
    item.get_by_role("button", name=re.compile(re.escape(title))).click()
    expect(staff).to_have_url(re.compile(rf"/intake/{report.pk}/$"))
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Report {report.reference}")
    expect(staff.get_by_test_id("unread-count")).to_have_count(0)
    assert not Notification.objects.for_user(rapid).unread().exists()
    axe_check(staff)

    staff.goto("/intake/")
    expect(staff.get_by_role("link", name=re.compile(report.reference))).to_be_visible()
    axe_check(staff)
