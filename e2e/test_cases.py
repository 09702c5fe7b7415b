"""Case management as a browser sees it: a case opened from an anonymous report, with people, a
note, a task, a document and the reporter's thread, worked through every stage to closed (with the
leader's approval) and reopened; the case list's filters and search; the demo's cases as the demo
team leader sees them. axe-core checks every case page visited.

No worker runs here: none of these steps waits for the outbox.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from fpdf import FPDF
from playwright.sync_api import Locator, Page, expect
from pytest_django import Settings

from btam.accounts.models import Role, User
from btam.cases import actions, note_actions
from btam.cases.demo import load_demo_cases
from btam.cases.demo_stories import STORIES
from btam.cases.models import Case, CaseParticipant, Document, Note, Status, Task
from btam.core.demo import DEMO_DOMAIN, DEMO_PASSWORD, load_demo_district, load_demo_roster
from btam.intake.actions import NamedPerson, NewReport, do_submit_report
from btam.intake.demo import load_demo_reports
from btam.intake.models import InvolvedPerson, ReporterMessage, YesNoUnknown
from btam.orgs.models import District, School
from btam.people.models import Person
from btam.testing import make_member
from e2e.conftest import AxeCheck, PageMaker
from e2e.helpers import sign_in, submit_password
from e2e.test_assessments import add_intervention, answer_substantive_serious, choose, start_decision_tree

NARRATIVE = "A student in the science lab said he will bring a knife on Friday and hurt the boy who laughed at him."
TITLE = "Knife threat in the science lab (test)"
REGISTRY_GIVEN, REGISTRY_FAMILY = "Avery", "Testperson"
FREE_TEXT_NAME = "Boy in the red hoodie (name not known yet)"


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def school(district: District) -> School:
    return district.schools.get(name="North Test High")


# Steps ----------------------------------------------------------------------------------------


def small_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "Safety plan (fictitious test document)")
    path.write_bytes(bytes(pdf.output()))
    return path


def labelled(page: Page, text: str) -> Locator:
    """The control the visible ``<label>`` holding ``text`` is for (USWDS's file input replaces the
    field's accessible name with its own "Choose from folder")."""
    label = page.locator("label", has_text=text)
    expect(label).to_have_count(1)
    return page.locator(f"[id='{label.get_attribute('for')}']")


def tick(page: Page, control: Locator) -> None:
    """Tick a checkbox by pressing its label, as a person does (USWDS draws the box with the label;
    the input itself is off screen)."""
    page.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked()


def field(scope: Page | Locator, label: str) -> Locator:
    """The field labelled exactly ``label`` (a required field's label ends with " *")."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def open_details(page: Page, summary: str) -> None:
    page.locator("summary", has_text=summary).click()


def titled(title: str) -> Case:
    """The case with this title (titles are encrypted: compared here, not in the database)."""
    return next(case for case in Case.objects.all() if case.title == title)


def expect_stage(page: Page, stage: str) -> None:
    expect(page.get_by_test_id("case-stage")).to_have_text(stage)


def tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Case sections").get_by_role("link", name=name, exact=True).click()
    expect(
        page.get_by_role("navigation", name="Case sections").get_by_role("link", name=name, exact=True)
    ).to_have_attribute("aria-current", "page")


def move_to(page: Page, stage: str) -> None:
    page.get_by_role("button", name=f"Move to {stage}").click()
    expect(page.get_by_text("Stage changed.")).to_be_visible()
    expect_stage(page, stage)


# 1. From an anonymous report to a closed case, and back -----------------------------------------


def test_a_case_from_an_anonymous_report_through_every_stage_to_closed_and_reopened(
    new_page: PageMaker, axe_check: AxeCheck, district: District, school: School, team_leader: User, tmp_path: Path
) -> None:
    member = make_member(Role.TEAM_MEMBER, district, schools=[school], full_name="Robin Member")
    Person.objects.create(district=district, given_name=REGISTRY_GIVEN, family_name=REGISTRY_FAMILY, grade="9")
    # The anonymous report (the public form has its own browser test: the intake action saves time here).
    submitted = do_submit_report(
        new=NewReport(
            school=school,
            narrative=NARRATIVE,
            weapon=YesNoUnknown.YES,
            people=[NamedPerson(name="Jamie Example", role=InvolvedPerson.Role.SUBJECT)],
        ),
        actor=None,
    )
    report, code = submitted.report, submitted.receipt_code
    assert code is not None

    # The team member opens a case from the report's page and lands on it.
    team = new_page()
    sign_in(team, member.email)
    team.goto(f"/intake/{report.pk}/")
    open_details(team, "Open a case")
    opening = team.locator("#action-open_case")
    opening.get_by_label("Note (optional)").fill("A knife threat with a date: needs a case.")
    opening.get_by_role("button", name="Open the case").click()
    expect(team).to_have_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    expect(team.get_by_text(f"Case {case.number} opened from report {report.reference}.")).to_be_visible()
    expect_stage(team, "Screening")
    expect(team.get_by_test_id("case-reports")).to_contain_text(report.reference)
    expect(team.get_by_test_id("case-people")).to_contain_text("Jamie Example")  # named in the report
    axe_check(team)

    # A title and a summary.
    team.get_by_role("link", name="Edit the title, summary or case manager").click()
    team.get_by_label("Title").fill(TITLE)
    team.get_by_label("Summary").fill("Threat with a knife and a date, in the science lab.")
    team.get_by_role("button", name="Save").click()
    expect(team.get_by_role("heading", level=1)).to_contain_text(TITLE)

    # People: one from the registry, one the team knows only by a description.
    team.get_by_role("link", name="Add someone from the registry").click()
    expect(team.get_by_role("heading", level=2, name="Add someone from the registry")).to_be_visible()
    axe_check(team)
    team.get_by_label("Name or id").fill(f"{REGISTRY_GIVEN} {REGISTRY_FAMILY}")
    team.get_by_role("button", name="Search", exact=True).click()
    results = team.get_by_test_id("people-results")
    expect(results).to_contain_text(f"{REGISTRY_GIVEN} {REGISTRY_FAMILY}")
    results.get_by_label(f"Role of {REGISTRY_GIVEN} {REGISTRY_FAMILY} on the case").select_option(
        label="Potential target"
    )
    results.get_by_role("button", name=re.compile(rf"^Add\W+{REGISTRY_GIVEN}")).click()
    expect(team).to_have_url(re.compile(rf"/cases/{case.pk}/"))
    people = team.get_by_test_id("case-people")
    expect(people.get_by_role("link", name=f"{REGISTRY_GIVEN} {REGISTRY_FAMILY}")).to_be_visible()
    open_details(team, "Add someone not in the registry (yet)")
    free_text = team.locator("#action-participant")
    free_text.get_by_label("Role on the case").select_option(label="Witness")
    field(free_text, "Name").fill(FREE_TEXT_NAME)
    free_text.get_by_label("Their part (optional)").fill("Sat at the next lab table.")
    free_text.get_by_role("button", name="Add to the case").click()
    expect(team.get_by_test_id("case-people")).to_contain_text(FREE_TEXT_NAME)
    assert set(
        CaseParticipant.objects.filter(case=case, removed_at__isnull=True).values_list("role", "person__given_name")
    ) >= {("target", REGISTRY_GIVEN), ("witness", None), ("subject", None)}

    # A note.
    tab(team, "Notes")
    open_details(team, "Add a note")
    field(team, "Type").select_option(label="Interview")
    field(team, "Date it happened").fill(timezone.localdate().isoformat())
    field(team, "Note").fill("Met the student with the assistant principal; he says it was anger.")
    team.get_by_role("button", name="Add the note").click()
    expect(team.get_by_test_id("note-body")).to_contain_text("he says it was anger")
    assert Note.objects.get(case=case).kind == Note.Kind.INTERVIEW
    axe_check(team)

    # A task, given to the team member and due tomorrow.
    tab(team, "Tasks")
    open_details(team, "Add a task")
    field(team, "Task").fill("Call the parents about access to knives")
    team.get_by_label("Assigned to").select_option(label=str(member))
    due = timezone.localdate() + dt.timedelta(days=1)
    field(team, "Due").fill(due.isoformat())
    team.get_by_role("button", name="Add the task").click()
    expect(team.get_by_test_id("task")).to_contain_text("Call the parents about access to knives")
    task = Task.objects.get(case=case)
    assert (task.assignee, task.due_on) == (member, due)
    axe_check(team)

    # A document (a small PDF).
    tab(team, "Documents")
    upload = team.get_by_test_id("document-upload")
    upload.get_by_label("Title").fill("Safety plan draft")
    labelled(team, "File").set_input_files(small_pdf(tmp_path / "safety-plan.pdf"))
    upload.get_by_role("button", name="Upload").click()
    expect(team.get_by_test_id("documents")).to_contain_text("Safety plan draft")
    assert Document.objects.get(case=case).current.content_type == "application/pdf"  # type: ignore[union-attr]
    axe_check(team)

    # The reporter: a question from the Reporter tab, the reply sent with the receipt code.
    tab(team, "Reporter")
    expect(team.get_by_test_id("reporter-warning")).to_contain_text("Messages written here go to the reporter.")
    question = "Thank you for telling us. Did anyone else hear what he said?"
    team.get_by_label("Message to the reporter").fill(question)
    team.get_by_role("button", name=f"Send to the reporter of {report.reference}").click()
    expect(team.get_by_test_id("thread")).to_contain_text(question)

    reporter = new_page()
    reporter.goto("/report/follow-up/")
    reporter.get_by_label("Your receipt code").fill(code)
    reporter.get_by_role("button", name="Open my report").click()
    messages = reporter.get_by_role("region", name="Messages", exact=True)
    expect(messages).to_contain_text(question)
    answer = "Two friends of mine at the next table heard it too."
    reporter.get_by_label("Your message", exact=True).fill(answer)
    reporter.get_by_role("button", name="Send the message").click()
    expect(reporter.get_by_text("Your message was sent to the school team.")).to_be_visible()

    team.reload()
    thread = team.get_by_test_id("thread")
    expect(thread).to_contain_text(answer)
    expect(thread.locator("[data-direction='from_reporter']")).to_contain_text("Reporter → team")
    assert ReporterMessage.objects.filter(report=report).count() == 2
    axe_check(team)

    # The workflow: screening decision, evaluation, risk level, management, monitoring.
    tab(team, "Overview")
    open_details(team, "Record the screening decision")
    screening = team.locator("#action-screening")
    screening.get_by_label("Screening decision").select_option(label="Needs a detailed evaluation")
    screening.get_by_label("Rationale").fill("A threat with a weapon and a date: substantive until shown otherwise.")
    screening.get_by_role("button", name="Record the screening decision").click()
    expect(team.get_by_text("Screening decision recorded.")).to_be_visible()
    move_to(team, "Evaluation")
    # The risk level comes from an assessment (the decision tree, decided at the level it suggests),
    # and the move to monitoring needs the interventions the level requires (the Plan tab).
    tab(team, "Assessments")
    start_decision_tree(team)
    answer_substantive_serious(team)
    decide = team.locator("#decide")
    choose(decide, "Moderate")
    field(decide, "Rationale").fill("Anger at one student, no knife found at home; a plan is needed.")
    decide.get_by_role("button", name="Record the decision").click()
    expect(team.get_by_text("Decision recorded: the case's level is now Moderate.")).to_be_visible()
    tab(team, "Overview")
    expect(team.get_by_test_id("case-risk-level")).to_contain_text("Moderate")
    expect(team.get_by_test_id("risk-rationale")).to_contain_text("a plan is needed")
    move_to(team, "Management")
    tab(team, "Plan")
    start = timezone.localdate()
    for code, kind in (("safety-plan", "Safety plan"), ("parent-conference", "Parent conference")):
        add_intervention(team, code, kind, member, starts_on=start, ends_on=start + dt.timedelta(days=28))
    tab(team, "Overview")
    move_to(team, "Monitoring")
    axe_check(team)

    # The member asks to close it; a leader approves.
    open_details(team, "Ask to close the case")
    team.get_by_label("Closure reason").select_option(label="Concern resolved; plan completed")
    team.get_by_label("Closure note").fill("Plan completed; no further incident in four weeks.")
    team.get_by_role("button", name="Ask a leader to close it").click()
    expect(team.get_by_test_id("case-status")).to_contain_text("Closure waiting for approval")
    expect_stage(team, "Monitoring")

    leader = new_page()
    sign_in(leader, team_leader.email)
    leader.goto(f"/cases/{case.pk}/")
    leader.get_by_role("button", name="Approve and close").click()
    expect(leader.get_by_text("Closure approved: the case is closed.")).to_be_visible()
    expect_stage(leader, "Closed")
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.closed_by == team_leader

    # Closed: a record, read only. The member sees no form to change it.
    team.goto(f"/cases/{case.pk}/")
    expect_stage(team, "Closed")
    expect(team.get_by_text("This case is closed: it is a record and cannot be changed.")).to_be_visible()
    expect(team.locator("form[action$='/edit/']")).to_have_count(0)
    axe_check(team)
    tab(team, "Notes")
    expect(team.locator("form[action$='/notes/add/']")).to_have_count(0)
    expect(team.get_by_test_id("note-body")).to_contain_text("he says it was anger")
    tab(team, "Tasks")
    expect(team.locator("form[action$='/tasks/add/']")).to_have_count(0)
    tab(team, "Documents")
    expect(team.get_by_text("Documents cannot be added while the case is closed or merged.")).to_be_visible()
    tab(team, "Reporter")
    expect(team.get_by_test_id("thread")).to_contain_text(answer)
    expect(team.locator("form[action*='/messages/']")).to_have_count(0)

    # The timeline tells the story; the access tab says who works it.
    tab(team, "Timeline")
    timeline = team.get_by_test_id("timeline")
    for text in (report.reference, "Interview", "Call the parents about access to knives", answer[:20]):
        expect(timeline).to_contain_text(text)
    axe_check(team)
    tab(team, "Schools and access")
    expect(team.locator("main")).to_contain_text(school.name)
    axe_check(team)

    # Reopening brings it back to the stage it was closed from.
    tab(team, "Overview")
    open_details(team, "Reopen the case")
    team.get_by_label("Reason").fill("The reporter wrote again: a new threat on the bus.")
    team.get_by_role("button", name="Reopen").click()
    expect(team.get_by_text("Case reopened.")).to_be_visible()
    expect_stage(team, "Monitoring")
    tab(team, "Notes")
    expect(team.locator("summary", has_text="Add a note")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.MONITORING and not case.is_closed

    # The member's task is on "My tasks"; the case is on the list.
    team.goto("/cases/my-tasks/")
    expect(team.get_by_test_id("my-task")).to_contain_text("Call the parents about access to knives")
    axe_check(team)
    team.goto("/cases/")
    expect(team.get_by_test_id("case-list")).to_contain_text(case.number)
    axe_check(team)


# 2. The case list: filters and search ---------------------------------------------------------------


def test_the_case_list_filters_and_a_search_find_the_case(
    page: Page, axe_check: AxeCheck, district: District, school: School, team_member: User
) -> None:
    other = district.schools.get(name="South Test Middle")
    wanted = actions.do_open_case(actor=team_member, school=school, title="Threat in the chemistry lab")
    note_actions.do_add_note(
        actor=team_member,
        case=wanted,
        kind=Note.Kind.OBSERVATION,
        occurred_on=timezone.localdate(),
        body="He mentioned a pocketknife kept in his locker.",
    )
    actions.do_record_screening(actor=team_member, case=wanted, decision="evaluate", rationale="Substantive.")
    actions.do_transition(actor=team_member, case=wanted, to_status=Status.EVALUATION)
    actions.do_open_case(actor=team_member, school=other, title="Fight at the bus stop")
    actions.do_open_case(actor=team_member, school=school, title="Rumour about a party")

    sign_in(page, team_member.email)
    page.goto("/cases/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    expect(page.get_by_test_id("case-count")).to_have_text("3 cases")
    axe_check(page)

    # A filter: the evaluation stage and the school.
    form = page.get_by_role("search", name="Search and filter the cases")
    tick(page, form.get_by_label("Evaluation"))
    form.get_by_label("School").select_option(label=school.name)
    form.get_by_role("button", name="Show the cases").click()
    results = page.get_by_test_id("case-list")
    expect(page.get_by_test_id("case-count")).to_have_text("1 case")
    expect(results).to_contain_text(wanted.number)
    expect(results).not_to_contain_text("Fight at the bus stop")

    # A search over the notes' words finds it (the search words never go in the address).
    page.goto("/cases/")
    form = page.get_by_role("search", name="Search and filter the cases")
    form.get_by_label("Search words").fill("pocketknife")
    form.get_by_role("button", name="Show the cases").click()
    expect(page.get_by_test_id("case-count")).to_have_text("1 case matches the search")
    expect(page.get_by_test_id("case-list")).to_contain_text("Threat in the chemistry lab")
    assert "pocketknife" not in page.url
    # SQL or HTML typed in the search: no match, no error.
    form.get_by_label("Search words").fill("' OR 1=1 -- <script>alert(1)</script>")
    form.get_by_role("button", name="Show the cases").click()
    expect(page.get_by_test_id("case-count")).to_have_text("0 cases match the search")


# 3. The demo's cases, as the demo team leader sees them ------------------------------------------


def test_the_demo_cases_open_for_the_demo_team_leader(page: Page, axe_check: AxeCheck, settings: Settings) -> None:
    settings.DEMO_MODE = True
    district, _created = load_demo_district()
    load_demo_roster(district, students=60)
    load_demo_reports(district)
    assert load_demo_cases(district) == len(STORIES)

    submit_password(page, f"leader@{DEMO_DOMAIN}", DEMO_PASSWORD)
    expect(page).to_have_url("/")
    page.goto("/cases/")
    open_cases = Case.objects.exclude(status=Status.CLOSED).count()
    expect(page.get_by_test_id("case-count")).to_have_text(f"{open_cases} cases")
    expect(page.get_by_test_id("case-list").get_by_test_id("overdue").first).to_be_visible()
    axe_check(page)

    # A case with everything: people, notes, tasks, documents, a reporter thread.
    case = titled("Video with a replica gun and the school's name")
    page.get_by_role("link", name=re.compile(re.escape(case.number))).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.title)
    expect_stage(page, "Management")
    axe_check(page)
    for name, testid in (("Notes", "note"), ("Tasks", "task"), ("Documents", "documents"), ("Reporter", "thread")):
        tab(page, name)
        expect(page.get_by_test_id(testid).first).to_be_visible()
        axe_check(page)
    tab(page, "Timeline")
    axe_check(page)

    # The restricted case and the transferred one say so on their access tab.
    for title in (
        "Messages after a breakup (restricted: a staff member's child)",
        "Ongoing conflict; the student moved to the high school",
    ):
        page.goto(f"/cases/{titled(title).pk}/access/")
        axe_check(page)
    page.goto("/cases/my-tasks/")
    expect(page.get_by_test_id("my-task").first).to_be_visible()
    axe_check(page)
