"""The tasks tab (list, overdue marking, add, change, status buttons) and "my tasks"; access and
bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases.models import Case, CaseSchool, Task
from btam.cases.task_actions import do_add_task, do_set_task_status, today
from btam.cases.task_views import MY_TASKS_PAGE_SIZE
from btam.cases.tests.notes_tasks_helpers import close, give_read_access, open_case, school_member
from btam.lib import clock as clock_module
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db

S = Task.Status
HTMX = {"HX-Request": "true"}
MY_TASKS = reverse("cases:my_tasks")


@pytest.fixture
def member(world: Any) -> Any:
    return world.users[Role.TEAM_MEMBER]


@pytest.fixture
def leader(world: Any) -> Any:
    return world.users[Role.TEAM_LEADER]


@pytest.fixture
def case(world: Any, member: Any) -> Case:
    return open_case(world, actor=member)


@pytest.fixture
def team(client: Client, member: Any) -> Client:
    client.force_login(member)
    return client


def url(name: str, case: Case, *extra: int) -> str:
    return reverse(f"cases:{name}", args=[case.pk, *extra])


def in_days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def form(title: str = "Call the parent", assignee: Any = None, due: Any = None) -> dict[str, str]:
    return {
        "task-title": title,
        "task-assignee": str(assignee.pk) if assignee is not None else "",
        "task-due_on": str(due) if due else "",
    }


# The tab ------------------------------------------------------------------------------------------
def test_the_tab_lists_open_tasks_first_by_due_date_and_marks_overdue_ones(
    team: Client, case: Case, member: Any, leader: Any, clock: Any
) -> None:
    done = do_add_task(actor=member, case=case, title="Finished first", due_on=in_days(1))
    do_set_task_status(actor=member, task=done, status=S.DONE)
    do_add_task(actor=member, case=case, title="Due later", assignee=leader, due_on=in_days(9))
    do_add_task(actor=member, case=case, title="Due soon", due_on=in_days(2))
    do_add_task(actor=member, case=case, title="No date")
    clock.advance(days=4)  # "Due soon" (and the finished one) are past their day
    response = team.get(url("tasks", case))
    assert response.status_code == 200
    body = response.content.decode()
    order = [body.index(t) for t in ("Due soon", "Due later", "No date", "Finished first")]
    assert order == sorted(order)
    assert body.count('data-overdue="true"') == 1  # a finished task is never overdue
    row = body[body.index('id="task-', body.index("Due soon") - 400) : body.index("Due soon")]
    assert "Overdue" in row and 'data-overdue="true"' in row
    assert str(leader) in body and "Nobody yet" in body
    assert AuditEvent.objects.filter(verb=Verb.VIEWED, target_id=str(case.pk), detail__tab="tasks").count() == 1


def test_adding_a_task_without_js_tells_the_assignee(team: Client, case: Case, leader: Any) -> None:
    response = team.post(url("task_add", case), form(title="Meet the family", assignee=leader, due=in_days(3)))
    assert response.status_code == 302 and response["Location"] == url("tasks", case)
    task = Task.objects.get()
    assert task.title == "Meet the family" and task.assignee == leader and task.due_on == in_days(3)
    assert Case.objects.get(pk=case.pk).next_due_on == in_days(3)
    notice = Notification.objects.get(recipient=leader, kind=Notification.Kind.TASK_ASSIGNED)
    assert notice.title == f"Task on case {case.number} assigned to you" and notice.link == url("tasks", case)


def test_adding_with_htmx_swaps_the_panel(team: Client, case: Case) -> None:
    response = team.post(url("task_add", case), form(title="Review the records"), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="tasks-panel"' in body and "<html" not in body
    assert "Task added." in body and "Review the records" in body
    assert 'value="Review the records"' not in body  # the form is empty again


@pytest.mark.parametrize("who", ["other_school", "other_district"])
def test_an_assignee_from_another_school_or_district_is_refused(world: Any, team: Client, case: Case, who: str) -> None:
    stranger = school_member(world, world.other_school) if who == "other_school" else world.outsider
    response = team.post(url("task_add", case), form(title="Kept title", assignee=stranger))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose someone on the team working this case." in body and 'value="Kept title"' in body
    assert not Task.objects.exists()
    assert not Notification.objects.filter(recipient=stranger).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"task-title": ""}, "This field is required."),
        ({"task-title": "t" * 201}, "at most 200 characters"),
        ({"task-due_on": "2001-01-01"}, "The due date has passed"),
        ({"task-due_on": "31/02/2026"}, "Enter a real date"),
        ({"task-assignee": "not-a-number"}, "Choose someone on the team working this case."),
        ({"task-title": "<script>alert(1)</script>", "task-due_on": "1999-01-01"}, "The due date has passed"),
    ],
)
def test_bad_input_answers_400_with_the_message(team: Client, case: Case, data: dict[str, str], message: str) -> None:
    typed = form(title="Kept title")
    typed.update(data)
    response = team.post(url("task_add", case), typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "<script>alert(1)</script>" not in body
    assert not Task.objects.exists()


def test_bad_input_with_htmx_comes_back_in_the_panel(team: Client, case: Case) -> None:
    response = team.post(url("task_add", case), form(title="Kept title", due="2001-01-01"), headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "The due date has passed" in body and 'value="Kept title"' in body and " open>" in body


def test_task_titles_are_escaped(team: Client, case: Case, member: Any) -> None:
    do_add_task(actor=member, case=case, title='<img src=x onerror="alert(1)">')
    body = team.get(url("tasks", case)).content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body and "<img src=x" not in body
    my = team.get(MY_TASKS)
    assert "<img src=x" not in my.content.decode()


def test_status_buttons_move_a_task(team: Client, case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in", due_on=in_days(1))
    page = team.get(url("tasks", case)).content.decode()
    assert url("task_status", case, task.pk) in page and "Mark done" in page and "Start" in page
    response = team.post(url("task_status", case, task.pk), {"status": "done"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == S.DONE and task.completed_by == member
    assert Case.objects.get(pk=case.pk).next_due_on is None
    again = team.post(url("task_status", case, task.pk), {"status": "open"}, headers=HTMX)
    assert again.status_code == 200 and "Task marked open." in again.content.decode()


@pytest.mark.parametrize("value", ["in_progress", "finished", "", "'; DROP TABLE cases_task; --"])
def test_a_move_out_of_order_is_400_with_the_message(team: Client, case: Case, member: Any, value: str) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    do_set_task_status(actor=member, task=task, status=S.DONE)
    response = team.post(url("task_status", case, task.pk), {"status": value})
    assert response.status_code == 400
    body = response.content.decode()
    assert "cannot become in progress" in body or "Unknown task status." in body
    assert Task.objects.get(pk=task.pk).status == S.DONE


def test_changing_a_task(team: Client, case: Case, member: Any, leader: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in", assignee=member)
    page = team.get(url("task_edit", case, task.pk))
    assert page.status_code == 200 and 'value="Check in"' in page.content.decode()
    response = team.post(
        url("task_edit", case, task.pk), form(title="Check in at noon", assignee=leader, due=in_days(2))
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.assignee, task.due_on) == ("Check in at noon", leader, in_days(2))
    assert Notification.objects.filter(recipient=leader, kind=Notification.Kind.TASK_ASSIGNED).count() == 1


def test_changing_a_finished_task_is_refused(team: Client, case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    do_set_task_status(actor=member, task=task, status=S.CANCELLED)
    page = team.get(url("task_edit", case, task.pk)).content.decode()
    assert "reopen it to change it" in page and 'name="task-title"' not in page
    response = team.post(url("task_edit", case, task.pk), form(title="Changed"))
    assert response.status_code == 400 and "reopen it to change it" in response.content.decode()
    assert Task.objects.get(pk=task.pk).title == "Check in"


def test_a_closed_case_refuses_task_changes(world: Any, team: Client, case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    close(case, world)
    page = team.get(url("tasks", case)).content.decode()
    assert url("task_add", case) not in page and url("task_status", case, task.pk) not in page
    for response in (
        team.post(url("task_add", case), form()),
        team.post(url("task_status", case, task.pk), {"status": "done"}),
        team.post(url("task_edit", case, task.pk), form(title="Changed")),
    ):
        assert response.status_code == 400 and "This case is closed" in response.content.decode()
    assert Task.objects.count() == 1 and Task.objects.get().status == S.OPEN


def test_the_wrong_method_is_405(team: Client, case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    assert team.get(url("task_add", case)).status_code == 405
    assert team.get(url("task_status", case, task.pk)).status_code == 405
    assert team.post(url("tasks", case)).status_code == 405
    assert team.post(MY_TASKS).status_code == 405


# Access -------------------------------------------------------------------------------------------
def test_a_task_on_a_case_of_another_school_is_404(world: Any, client: Client, member: Any) -> None:
    south_case = open_case(world, school=world.other_school, actor=member)
    task = do_add_task(actor=member, case=south_case, title="Check in")
    for user in (school_member(world, world.school), world.outsider):
        client.force_login(user)
        assert client.get(url("tasks", south_case)).status_code == 404
        assert client.post(url("task_add", south_case), form()).status_code == 404
        assert client.get(url("task_add", south_case)).status_code == 404
        assert client.post(url("task_status", south_case, task.pk), {"status": "done"}).status_code == 404
        assert client.get(url("task_edit", south_case, task.pk)).status_code == 404
    assert Task.objects.count() == 1 and Task.objects.get().status == S.OPEN


def test_a_read_only_school_gets_403_on_post(world: Any, client: Client, case: Case, member: Any) -> None:
    task = do_add_task(actor=member, case=case, title="Check in")
    give_read_access(case, world.other_school, member)
    client.force_login(school_member(world, world.other_school))
    page = client.get(url("tasks", case))
    assert page.status_code == 200 and "Check in" in page.content.decode()
    assert url("task_add", case) not in page.content.decode()
    assert client.post(url("task_add", case), form()).status_code == 403
    assert client.post(url("task_status", case, task.pk), {"status": "done"}).status_code == 403
    assert client.post(url("task_edit", case, task.pk), form(title="x")).status_code == 403
    assert Task.objects.count() == 1 and Task.objects.get().status == S.OPEN


def test_a_task_of_another_case_is_404_through_this_one(world: Any, team: Client, case: Case, member: Any) -> None:
    other = open_case(world, actor=member)
    task = do_add_task(actor=member, case=other, title="Check in")
    assert team.post(url("task_status", case, task.pk), {"status": "done"}).status_code == 404
    assert team.get(url("task_edit", case, task.pk)).status_code == 404
    assert Task.objects.get(pk=task.pk).status == S.OPEN


# My tasks -----------------------------------------------------------------------------------------
def test_my_tasks_lists_my_tasks_on_cases_i_see_open_first_by_due_date(
    world: Any, client: Client, member: Any, leader: Any, clock: Any
) -> None:
    north = school_member(world, world.school)
    case = open_case(world, actor=member)
    south_case = open_case(world, school=world.other_school, actor=member)
    do_add_task(actor=member, case=case, title="Later one", assignee=north, due_on=in_days(8))
    do_add_task(actor=member, case=case, title="Sooner one", assignee=north, due_on=in_days(1))
    do_add_task(actor=member, case=case, title="Undated one", assignee=north)
    finished = do_add_task(actor=member, case=case, title="Finished one", assignee=north, due_on=in_days(1))
    do_set_task_status(actor=member, task=finished, status=S.DONE)
    do_add_task(actor=member, case=case, title="Someone else's", assignee=leader)
    # A task given while the user worked the south school's case, which they no longer see.
    hidden = do_add_task(actor=member, case=south_case, title="Hidden one")
    Task.objects.filter(pk=hidden.pk).update(assignee=north)
    clock.advance(days=3)
    client.force_login(north)
    response = client.get(MY_TASKS)
    assert response.status_code == 200
    body = response.content.decode()
    order = [body.index(t) for t in ("Sooner one", "Later one", "Undated one", "Finished one")]
    assert order == sorted(order)
    assert "Someone else" not in body and "Hidden one" not in body
    assert "4 tasks." in body
    assert body.count('data-overdue="true"') == 1 and ">Overdue</span>" in body
    assert f'href="{url("tasks", case)}#task-' in body and case.number in body
    event = AuditEvent.objects.get(verb=Verb.VIEWED, target_type="cases.task")
    assert event.actor == north and len(event.detail["tasks"]) == 4 and event.detail["cases"] == [case.pk]


def test_tasks_of_a_closed_case_come_last_and_are_not_overdue(
    world: Any, client: Client, member: Any, clock: Any
) -> None:
    working = open_case(world, actor=member)
    closed = open_case(world, actor=member)
    do_add_task(actor=member, case=closed, title="Left on the closed case", assignee=member, due_on=in_days(1))
    do_add_task(actor=member, case=working, title="On the working case", assignee=member, due_on=in_days(5))
    close(closed, world)
    clock.advance(days=2)
    client.force_login(member)
    body = client.get(MY_TASKS).content.decode()
    assert body.index("On the working case") < body.index("Left on the closed case")
    assert 'data-overdue="true"' not in body and "case closed" in body


def test_my_tasks_reads_a_constant_number_of_queries(
    world: Any, client: Client, member: Any, django_assert_num_queries: Any
) -> None:
    case = open_case(world, actor=member)
    do_add_task(actor=member, case=case, title="The only one", assignee=member, due_on=in_days(1))
    client.force_login(member)
    client.get(MY_TASKS)  # warm the session
    with CaptureQueriesContext(connection) as one:
        assert client.get(MY_TASKS).status_code == 200
    for i in range(30):
        other = case if i % 2 else open_case(world, school=world.other_school, actor=member)
        do_add_task(actor=member, case=other, title=f"Task {i}", assignee=member, due_on=in_days(i % 5))
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(MY_TASKS)
    assert "31 tasks." in response.content.decode()


def test_my_tasks_is_paginated(world: Any, client: Client, member: Any) -> None:
    case = open_case(world, actor=member)
    at = clock_module.now()
    Task.objects.bulk_create(
        Task(case=case, title=f"Bulk task {i:03d}", assignee=member, created_at=at, created_by=member)
        for i in range(MY_TASKS_PAGE_SIZE + 1)
    )
    client.force_login(member)
    first = client.get(MY_TASKS).content.decode()
    assert first.count('data-testid="my-task"') == MY_TASKS_PAGE_SIZE and "Page 1 of 2" in first
    second = client.get(MY_TASKS, {"page": 2}).content.decode()
    assert second.count('data-testid="my-task"') == 1
    assert client.get(MY_TASKS, {"page": "x"}).status_code == 200


def test_a_school_that_lost_access_no_longer_lists_its_tasks(world: Any, client: Client, member: Any) -> None:
    north = school_member(world, world.school)
    case = open_case(world, actor=member)
    do_add_task(actor=member, case=case, title="Check in", assignee=north)
    CaseSchool.objects.filter(case=case, school=world.school).update(removed_at=clock_module.now())
    client.force_login(north)
    body = client.get(MY_TASKS).content.decode()
    assert "Check in" not in body and "No task is assigned to you." in body


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.REFERRING_STAFF, Role.DISTRICT_VIEWER])
def test_roles_without_case_access_are_refused_my_tasks(world: Any, client: Client, role: str) -> None:
    client.force_login(world.users[role])
    assert client.get(MY_TASKS).status_code == 403


def test_my_tasks_across_two_districts_records_one_read_per_district(world: Any, client: Client, member: Any) -> None:
    """District auditors filter the trail by district: each district's tasks are filed under it."""
    from btam.accounts.models import Membership

    Membership.objects.create(user=member, district=world.other_district, role=Role.TEAM_MEMBER)
    elsewhere = world.other_district.schools.get()
    here = open_case(world, actor=member)
    there = open_case(world, actor=member, school=elsewhere)
    mine_here = do_add_task(actor=member, case=here, title="Here", assignee=member)
    mine_there = do_add_task(actor=member, case=there, title="There", assignee=member)
    client.force_login(member)
    assert client.get(MY_TASKS).status_code == 200
    events = {e.district_id: e.detail for e in AuditEvent.objects.filter(verb=Verb.VIEWED, detail__page="my_tasks")}
    assert events == {
        world.district.pk: {"page": "my_tasks", "page_number": 1, "tasks": [mine_here.pk], "cases": [here.pk]},
        world.other_district.pk: {"page": "my_tasks", "page_number": 1, "tasks": [mine_there.pk], "cases": [there.pk]},
    }
