"""Assessment and management as a browser sees it (issue 6's "Must show"): two team members assess a
case with the five-step decision tree (the live suggestion and the path as they answer, partial
saves), record a decision that overrides the suggestion (refused without a reason, nothing lost),
the team leader approves it from the inbox; the Plan tab shows the interventions the level requires,
the move to monitoring is refused until they are added, then succeeds; a reassessment from the
Monitoring tab decides another level, and the level history (chart and table) shows the change.
Then the refusals of the decision, plan and safety-plan forms, the safety plan's PDF, and the
district settings pages as a database manager. axe-core checks every page visited.

Accounts and the case (opened, screened, in evaluation) are set up with the case actions, as in
e2e/test_cases.py; everything about assessments goes through the browser. No worker runs here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from btam.accounts.models import Role, User
from btam.assessments.models import Assessment, CustomDefinition, Intervention, LevelChange
from btam.cases import actions
from btam.cases.models import Case, Status
from btam.notifications.models import Notification
from btam.orgs.models import District, School
from btam.testing import make_member
from e2e.conftest import AxeCheck, PageMaker
from e2e.helpers import sign_in

DECISION_TREE = "Threat classification: five-step decision tree"
# The tree's answers used here (btam/assessments/instruments/cstag-decision-tree.v1.json).
INTENT = "A wish or an intent to hurt someone, or it is not clear"
HURT_WITHOUT_WEAPON = "To hit, fight or hurt someone, without a weapon and without serious injury"
# What the Virginia scheme (the default) requires at "High".
HIGH_REQUIRES = {
    "safety-plan": "Safety plan",
    "parent-conference": "Parent conference",
    "supervision-check-in": "Supervision / check-in",
    "mental-health-evaluation": "Mental-health evaluation",
}


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def school(district: District) -> School:
    return district.schools.get(name="North Test High")


@pytest.fixture
def member(district: District, school: School) -> User:
    return make_member(Role.TEAM_MEMBER, district, schools=[school], full_name="Robin Member")


def case_in_evaluation(actor: User, school: School, title: str = "Threat after a fight in the gym (test)") -> Case:
    """A case as the team has it before the assessment: opened, screened, in evaluation."""
    case = actions.do_open_case(actor=actor, school=school, title=title, manager=actor)
    actions.do_record_screening(
        actor=actor, case=case, decision="evaluate", rationale="A threat to hurt a classmate: evaluate it."
    )
    return actions.do_transition(actor=actor, case=case, to_status=Status.EVALUATION)


# Steps ----------------------------------------------------------------------------------------


def field(scope: Page | Locator, label: str) -> Locator:
    """The field labelled exactly ``label`` (a required field's label ends with " *")."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def tab(page: Page, name: str) -> None:
    nav = page.get_by_role("navigation", name="Case sections")
    nav.get_by_role("link", name=name, exact=True).click()
    expect(nav.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")


def choose(scope: Page | Locator, text: str) -> None:
    """Choose a radio button by pressing its label, as a person does (USWDS draws the button with
    the label; the input itself is off screen)."""
    label = scope.locator("label.usa-radio__label:visible", has_text=text)
    expect(label).to_have_count(1)
    label.click()
    expect(scope.locator(f"[id='{label.get_attribute('for')}']")).to_be_checked()


def expect_stage(page: Page, stage: str) -> None:
    expect(page.get_by_test_id("case-stage")).to_have_text(stage)


def move_to(page: Page, stage: str) -> None:
    page.get_by_role("button", name=f"Move to {stage}").click()
    expect(page.get_by_text("Stage changed.")).to_be_visible()
    expect_stage(page, stage)


def save_answers(page: Page) -> None:
    """Save with htmx; returns once the saved panel is in (an earlier save's notice may still show)."""
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/save/")):
        page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_test_id("assess-notice")).to_contain_text("Saved:")
    # The decision form now carries the saved revision (htmx swapped it in out of band).
    found = re.search(r"/assessments/(\d+)/$", page.url)
    assert found is not None
    saved = Assessment.objects.get(pk=int(found.group(1)))
    expect(page.locator("#decide-revision")).to_have_value(str(saved.revision))


def start_decision_tree(page: Page) -> None:
    """From the case's Assessments tab."""
    instrument = page.get_by_label("Instrument")
    expect(instrument.locator("option[value='cstag-decision-tree']")).to_contain_text(DECISION_TREE)
    instrument.select_option(value="cstag-decision-tree")
    page.get_by_role("button", name="Start a new assessment").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text(DECISION_TREE)
    expect(page.get_by_test_id("assessment-status")).to_contain_text("In progress")


def answer_substantive_serious(page: Page) -> None:
    """Step 1 (intent), saved; then step 3 (hurt without a weapon), saved: "serious", level Moderate."""
    choose(page.get_by_test_id("next-step"), INTENT)
    expect(page.get_by_test_id("next-step-note")).to_have_text("Next: Step 3.")
    save_answers(page)
    choose(page.get_by_test_id("next-step"), HURT_WITHOUT_WEAPON)
    expect(page.get_by_test_id("suggested-outcome")).to_have_text("Substantive threat: serious")
    save_answers(page)
    expect(page.get_by_test_id("suggested-level")).to_contain_text("Moderate")


def rule_row(page: Page, code: str) -> Locator:
    """The row of the Plan tab's rules table about the intervention kind ``code``."""
    return page.get_by_test_id("plan-rules").locator(f"[data-testid='rule'][data-kind='{code}']")


def add_intervention(page: Page, code: str, kind: str, owner: User, *, starts_on: dt.date, ends_on: dt.date) -> None:
    """From the "Missing" row of the rules table: the add form opens with the kind chosen."""
    rule_row(page, code).get_by_role("link", name=f"Add {kind}", exact=True).click()
    form = page.locator("#intervention-add")
    expect(form).to_have_attribute("open", "")
    expect(field(form, "Intervention").locator("option:checked")).to_have_text(kind)
    field(form, "Owner").select_option(label=str(owner))
    field(form, "Start date").fill(starts_on.isoformat())
    field(form, "End or review").fill(ends_on.isoformat())
    form.get_by_role("button", name="Add to the plan").click()
    expect(page.get_by_text("Intervention added to the plan.")).to_be_visible()
    expect(rule_row(page, code).get_by_test_id("rule-status")).to_have_text("In the plan")


# 1. The flow ---------------------------------------------------------------------------


def test_a_team_assesses_with_the_decision_tree_overrides_plans_the_required_interventions_and_reassesses(
    new_page: PageMaker, axe_check: AxeCheck, district: District, school: School, member: User, team_leader: User
) -> None:
    second = make_member(Role.TEAM_MEMBER, district, schools=[school], full_name="Sam Second")
    case = case_in_evaluation(member, school)
    today = timezone.localdate()

    # The first member starts the decision tree from the Assessments tab.
    robin = new_page()
    sign_in(robin, member.email)
    robin.goto(f"/cases/{case.pk}/")
    tab(robin, "Assessments")
    expect(robin.get_by_test_id("current-level")).to_have_text("No level decided yet.")
    axe_check(robin)
    start_decision_tree(robin)
    assessment = Assessment.objects.get(case=case)

    # Step 1: the live suggestion shows the path taken and the next step, before anything is saved.
    next_step = robin.get_by_test_id("next-step")
    expect(next_step).to_contain_text("Step 1")
    choose(next_step, INTENT)
    expect(robin.get_by_test_id("path")).to_contain_text(f"Step 1: {INTENT}")
    expect(robin.get_by_test_id("next-step-note")).to_have_text("Next: Step 3.")
    expect(robin.get_by_test_id("suggested-outcome")).to_contain_text("No suggestion yet")
    assessment.refresh_from_db()
    assert assessment.answers == {}  # a preview saves nothing
    save_answers(robin)  # a partial save
    expect(robin.get_by_test_id("next-step")).to_contain_text("Step 3")
    axe_check(robin)

    # The second member adds the next answer and sees the suggested outcome and level.
    sam = new_page()
    sign_in(sam, second.email)
    sam.goto(f"/cases/{case.pk}/assessments/")
    sam.get_by_test_id("assessment-row").get_by_role("link", name=DECISION_TREE).click()
    expect(sam.get_by_test_id("path-step")).to_contain_text(INTENT)  # Robin's answer is kept
    choose(sam.get_by_test_id("next-step"), HURT_WITHOUT_WEAPON)
    expect(sam.get_by_test_id("suggested-outcome")).to_have_text("Substantive threat: serious")
    expect(sam.get_by_test_id("path")).to_contain_text(f"Step 3: {HURT_WITHOUT_WEAPON}")
    save_answers(sam)
    expect(sam.get_by_test_id("suggested-level")).to_contain_text("Moderate")
    expect(sam.get_by_test_id("path")).to_contain_text("It ends with a safety plan.")  # the reason of the step
    expect(sam.get_by_test_id("contributions")).to_contain_text("Robin Member saved 1 answer")

    # A level other than the suggested one, without a reason: refused, with what was typed kept.
    rationale = "He has looked up where the other boy lives and told friends he will 'finish it' after school."
    decide = sam.locator("#decide")
    choose(decide, "High")
    field(decide, "Rationale").fill(rationale)
    decide.get_by_role("button", name="Record the decision").click()
    expect(sam.get_by_test_id("decision-error")).to_have_text(
        "The level you chose (High) differs from the suggested level (Moderate): give the reason."
    )
    expect(field(decide, "Rationale")).to_have_value(rationale)
    expect(decide.locator("#level-high")).to_be_checked()
    expect(sam.get_by_test_id("path")).to_contain_text(HURT_WITHOUT_WEAPON)
    expect(sam.get_by_test_id("contributions")).to_contain_text("Sam Second saved 1 answer")
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.DRAFT and not assessment.level
    case.refresh_from_db()
    assert not case.risk_level

    # With the reason: a top level waits for the leader's approval.
    override = "The tree does not weigh the research into the other boy's address: we judge it higher."
    field(decide, "Reason for differing from the suggestion").fill(override)
    decide.get_by_role("button", name="Record the decision").click()
    expect(sam.get_by_text("Decision recorded: High needs a team leader's approval.")).to_be_visible()
    expect(sam.get_by_test_id("assessment-status")).to_contain_text("Waiting for the leader's approval")
    expect(sam.get_by_test_id("override-reason")).to_contain_text("address")
    expect(sam.get_by_test_id("case-status")).not_to_contain_text("Risk:")  # not in effect yet
    axe_check(sam)

    # The leader finds it in the inbox and approves it.
    leader = new_page()
    sign_in(leader, team_leader.email)
    expect(leader.get_by_test_id("unread-count")).to_contain_text("1")
    leader.get_by_role("link", name=re.compile(r"^Inbox")).click()
    title = f"A risk-level decision on case {case.number} needs your approval"
    item = leader.get_by_test_id("notification")
    expect(item).to_contain_text(title)
    axe_check(leader)
    item.get_by_role("button", name=title).click()
    expect(leader).to_have_url(re.compile(rf"/cases/{case.pk}/assessments/{assessment.pk}/$"))
    expect(leader.get_by_test_id("override-reason")).to_contain_text("address")
    axe_check(leader)  # pending approval, as the leader sees it (with the approval forms)
    leader.get_by_role("button", name="Approve the decision").click()
    expect(leader.get_by_text("Decision approved: the case's level is now High.")).to_be_visible()
    expect(leader.get_by_test_id("assessment-status")).to_contain_text("Decided")
    expect(leader.get_by_test_id("approved")).to_contain_text("Jordan Leader")
    expect(leader.get_by_test_id("case-status")).to_contain_text("Risk: High")
    axe_check(leader)  # decided
    assert Notification.objects.filter(recipient=team_leader, kind="decision_approval").count() == 1

    # The level is on the case header, the overview and the case list; the reassessment is due.
    sam.goto(f"/cases/{case.pk}/")
    expect(sam.get_by_test_id("case-status")).to_contain_text("Risk: High")
    expect(sam.get_by_test_id("case-risk-level")).to_contain_text("High")
    sam.goto("/cases/")
    expect(sam.locator(f"tr[data-case='{case.pk}']")).to_contain_text("High")
    sam.goto("/assessments/due/")
    expect(sam.get_by_test_id("due-case")).to_contain_text(case.number)
    expect(sam.get_by_test_id("due-case")).to_contain_text("High")
    axe_check(sam)

    # Management: the Plan tab says what the level requires, all missing.
    sam.goto(f"/cases/{case.pk}/")
    move_to(sam, "Management")
    tab(sam, "Plan")
    expect(sam.get_by_test_id("plan-level")).to_have_text("High")
    for code, label in HIGH_REQUIRES.items():
        rule = rule_row(sam, code)
        expect(rule.get_by_role("rowheader")).to_contain_text(label)
        expect(rule).to_contain_text("Required")
        expect(rule.get_by_test_id("rule-status")).to_have_text("Missing")
    missing = sam.get_by_test_id("plan-missing")
    expect(missing).to_contain_text(
        "Add the required interventions first: safety plan, parent conference, supervision / check-in, "
        "mental-health evaluation."
    )
    axe_check(sam)

    # Monitoring is refused, naming them.
    tab(sam, "Overview")
    sam.get_by_role("button", name="Move to Monitoring").click()
    expect(sam.get_by_role("alert")).to_contain_text(
        "Add the required interventions first: safety plan, parent conference, supervision / check-in, "
        "mental-health evaluation."
    )
    expect_stage(sam, "Management")

    # The team adds them (owner, dates), then the move succeeds.
    tab(sam, "Plan")
    owners = [second, member, second, member]
    for (code, label), owner in zip(HIGH_REQUIRES.items(), owners, strict=True):
        add_intervention(sam, code, label, owner, starts_on=today, ends_on=today + dt.timedelta(days=30))
    expect(sam.get_by_test_id("plan-missing")).to_have_count(0)
    expect(sam.get_by_test_id("intervention")).to_have_count(4)
    axe_check(sam)
    added = {i.kind: (i.owner, i.starts_on, i.ends_on) for i in Intervention.objects.filter(case=case)}
    assert added == {
        code: (owner, today, today + dt.timedelta(days=30)) for code, owner in zip(HIGH_REQUIRES, owners, strict=True)
    }
    tab(sam, "Overview")
    move_to(sam, "Monitoring")

    # Reassess from the Monitoring tab; the team now judges the level lower.
    tab(sam, "Monitoring")
    due_on = today + dt.timedelta(days=7)  # High: reassessed within a week
    expect(sam.get_by_test_id("reassessment-due").locator("time")).to_have_attribute("datetime", due_on.isoformat())
    axe_check(sam)
    sam.get_by_test_id("reassess-now").click()
    expect(sam.get_by_text("Reassessment started: the previous decision is shown for reference.")).to_be_visible()
    expect(sam.get_by_test_id("previous-decision")).to_contain_text("High")
    answer_substantive_serious(sam)
    decide = sam.locator("#decide")
    choose(decide, "Moderate")
    field(decide, "Rationale").fill("The parents removed his access to the other boy's street; he keeps his check-ins.")
    decide.get_by_role("button", name="Record the decision").click()
    expect(sam.get_by_text("Decision recorded: the case's level is now Moderate.")).to_be_visible()
    expect(sam.get_by_test_id("level-changed")).to_contain_text("Level changed: High → Moderate")
    expect(sam.get_by_test_id("level-changed")).to_contain_text("lower than the previous decision")
    expect(sam.get_by_test_id("case-status")).to_contain_text("Risk: Moderate")

    # The level history: the chart and the table, both levels, the change highlighted.
    tab(sam, "Assessments")
    expect(sam.get_by_test_id("current-level")).to_contain_text("Moderate")
    chart = sam.get_by_test_id("level-chart")
    expect(chart.locator("circle")).to_have_count(2)
    expect(chart.locator("desc")).to_contain_text("High")
    expect(chart.locator("desc")).to_contain_text("Moderate")
    rows = sam.get_by_test_id("level-history-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="First level")).to_contain_text("High")
    changed = rows.filter(has=sam.get_by_test_id("history-change"))
    expect(changed).to_contain_text("Level changed: High → Moderate (lower)")
    expect(changed).to_have_class(re.compile(r"\bbg-accent-warm-lighter\b"))
    expect(sam.get_by_test_id("assessments").get_by_test_id("level-changed")).to_contain_text("High → Moderate")
    axe_check(sam)
    assert list(LevelChange.objects.filter(case=case).order_by("set_at", "pk").values_list("level", flat=True)) == [
        "high",
        "moderate",
    ]


# 2. Refusals, the safety plan and its PDF --------------------------------------------------------


def test_refused_forms_say_why_and_the_safety_plan_prints_as_a_pdf(
    axe_page: Page, axe_check: AxeCheck, school: School, member: User
) -> None:
    """Pages showing an error are checked as they are (``axe_page``: a reload would lose them)."""
    page = axe_page
    case = case_in_evaluation(member, school)
    sign_in(page, member.email)

    # A decision with neither a level nor a rationale: both named, nothing recorded.
    page.goto(f"/cases/{case.pk}/assessments/")
    start_decision_tree(page)
    axe_check(page)  # in progress, nothing answered
    page.locator("#decide").get_by_role("button", name="Record the decision").click()
    error = page.get_by_test_id("decision-error")
    expect(error).to_contain_text("Choose a level.")
    expect(error).to_contain_text("Write the rationale of the decision.")
    axe_check(page)

    # A level without any answer: there is no suggestion, so deciding needs a reason.
    decide = page.locator("#decide")
    choose(decide, "Low")
    field(decide, "Rationale").fill("Nothing was found that points to a risk.")
    decide.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_test_id("decision-error")).to_contain_text("there is no suggested level yet")
    expect(field(decide, "Rationale")).to_have_value("Nothing was found that points to a risk.")
    axe_check(page)
    assert Assessment.objects.get(case=case).status == Assessment.Status.DRAFT

    # The Plan tab without a level; an intervention without a kind is refused, named.
    tab(page, "Plan")
    expect(page.get_by_test_id("plan-no-level")).to_be_visible()
    axe_check(page)
    page.locator("summary", has_text="Add an intervention").click()
    page.locator("#intervention-add").get_by_role("button", name="Add to the plan").click()
    expect(page.get_by_test_id("plan-error")).to_have_text("The intervention was not added: check the form.")
    # The kind is named as the field in error (its message is Django's generic one for now).
    expect(field(page.locator("#intervention-add"), "Intervention")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#intervention-add .usa-error-message")).to_have_count(1)
    axe_check(page)
    assert not Intervention.objects.filter(case=case).exists()

    # The safety plan: refused without its review date, then saved and printed.
    page.goto(f"/cases/{case.pk}/plan/")
    page.get_by_role("link", name="Write the safety plan").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Safety plan")
    axe_check(page)
    form = page.get_by_test_id("safety-form")
    field(form, "Warning signs and triggers").fill("Talks about the other boy's street; stares at him in the gym.")
    field(form, "Who the student goes to").fill("Ms. Rivera, the counselor, room 112.")
    form.get_by_role("button", name="Save the safety plan").click()
    expect(page.get_by_test_id("safety-error")).to_have_text("The safety plan was not saved: check the form.")
    expect(field(form, "Review date")).to_have_attribute("aria-invalid", "true")
    expect(field(form, "Warning signs and triggers")).to_have_value(re.compile("other boy's street"))
    axe_check(page)
    review_on = timezone.localdate() + dt.timedelta(days=30)
    field(form, "Review date").fill(review_on.isoformat())
    form.get_by_role("button", name="Save the safety plan").click()
    expect(page.get_by_text("Safety plan saved.")).to_be_visible()
    expect(page.get_by_test_id("safety-meta")).to_contain_text("Robin Member")
    axe_check(page)

    for readers in ("staff", "family"):
        printing = page.get_by_test_id("safety-print")
        printing.get_by_label("Print the copy for").select_option(value=readers)
        with page.expect_download() as download_info:
            printing.get_by_role("button", name="Download the PDF").click()
        download = download_info.value
        assert download.suggested_filename == f"safety-plan-{case.number}-{readers}.pdf"
        content = Path(download.path()).read_bytes()
        assert content.startswith(b"%PDF"), content[:20]

    # The due list, with no level decided yet: empty.
    page.goto("/assessments/due/")
    expect(page.get_by_test_id("due-count")).to_have_text("0 reassessments due.")
    axe_check(page)


# 3. The district settings, as a database manager ------------------------------------------------


def option(value: str, *, next_step: str) -> dict[str, object]:
    return {"value": value, "label": {"en": value.upper()}, "next": next_step, "reason": {"en": "Test."}}


def test_the_district_settings_pages_work_for_a_database_manager(
    axe_page: Page, axe_check: AxeCheck, district: District, tmp_path: Path
) -> None:
    manager = make_member(Role.DATABASE_MANAGER, district, full_name="Dana Manager")
    page = axe_page
    sign_in(page, manager.email)

    page.goto("/assessments/settings/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessment settings")
    expect(page.get_by_test_id("settings-form")).to_be_visible()
    axe_check(page)

    # Definition files: a file with a loop in its tree is refused with a clear message.
    page.get_by_test_id("settings-nav").get_by_role("link", name=re.compile("files", re.IGNORECASE)).click()
    expect(page.get_by_test_id("settings-shipped")).to_contain_text("cstag-decision-tree")
    axe_check(page)
    looped = {
        "id": "loop-tree",
        "version": 1,
        "kind": "decision_tree",
        "title": {"en": "A tree with a loop (test)"},
        "description": {"en": "Step B leads back to step A."},
        "start": "a",
        "steps": [
            {"id": "a", "step": 1, "text": {"en": "A?"}, "options": [option("x", next_step="b")]},
            {"id": "b", "step": 2, "text": {"en": "B?"}, "options": [option("y", next_step="a")]},
        ],
        "outcomes": [{"id": "done", "label": {"en": "Done"}, "description": {"en": "Never reached."}}],
    }
    bad = tmp_path / "loop-tree.v1.json"
    bad.write_text(json.dumps(looped))
    upload = page.get_by_test_id("settings-upload")
    upload.locator("input[type=file]").set_input_files(bad)
    upload.get_by_role("button", name="Check and store the file").click()
    expect(page.get_by_test_id("settings-error")).to_have_text("The file was not stored.")
    expect(upload.locator(".usa-error-message")).to_contain_text("the tree has a loop (a -> b -> a)")
    assert not CustomDefinition.objects.exists()
    axe_check(page)

    # Intervention kinds: one without a name is refused; then one is added.
    page.goto("/assessments/settings/kinds/")
    expect(page.get_by_test_id("settings-builtin-kinds")).to_contain_text("Target protection plan")
    axe_check(page)
    adding = page.get_by_test_id("settings-kind-add")
    field(adding, "Code").fill("restorative-circle")
    adding.get_by_role("button", name="Add the intervention").click()
    expect(page.get_by_test_id("settings-error")).to_contain_text("The intervention was not added")
    expect(page.get_by_text("Enter a name.")).to_be_visible()
    axe_check(page)
    adding = page.get_by_test_id("settings-kind-add")
    field(adding, "Name").fill("Restorative circle")
    adding.get_by_role("button", name="Add the intervention").click()
    expect(page.get_by_test_id("settings-kind")).to_contain_text("Restorative circle")
    axe_check(page)
    page.get_by_test_id("settings-kind").get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.locator("main form")).to_be_visible()
    axe_check(page)
