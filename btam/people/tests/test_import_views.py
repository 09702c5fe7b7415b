"""The roster import pages: upload, refusals, progress and summary, access."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.people import imports
from btam.people.models import ImportRun, Person
from btam.people.tasks import run_import_task
from btam.people.tests.import_helpers import (
    STUDENTS,
    bundle_bytes,
    close_progress_connection,
    stored_files,
    upload,
    use_test_settings,
)
from btam.testing import make_member

pytestmark = pytest.mark.django_db(databases="__all__")
Status = ImportRun.Status
NEW = reverse("people:import_new")
LIST = reverse("people:import_list")


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Iterator[Path]:
    yield use_test_settings(settings, tmp_path)
    close_progress_connection()


@pytest.fixture
def manager(world: Any) -> Client:
    client = Client()
    client.force_login(world.users[Role.DATABASE_MANAGER])
    return client


def detail_url(run: ImportRun) -> str:
    return reverse("people:import_detail", args=[run.pk])


def post_bundle(client: Client, content: bytes | None = None, **data: Any) -> Any:
    return client.post(NEW, {"bundle": upload(content), **data})


def start(client: Client, content: bytes | None = None, **data: Any) -> ImportRun:
    response = post_bundle(client, content, **data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportRun.objects.get()


def run_worker(run: ImportRun) -> ImportRun:
    run_import_task.call(run.pk)
    run.refresh_from_db()
    return run


# The upload -----------------------------------------------------------------------------------------


def test_the_upload_page_offers_a_file_and_a_dry_run(manager: Client) -> None:
    response = manager.get(NEW)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="file"' in page and 'name="dry_run"' in page
    assert 'name="district"' not in page  # one district: nothing to choose


def test_an_upload_is_stored_encrypted_and_queued(
    manager: Client, world: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    content = bundle_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        run = start(manager, content)
    assert run.status == Status.QUEUED
    assert run.district == world.district
    assert run.created_by == world.users[Role.DATABASE_MANAGER]
    assert run.bundle_size == len(content)
    [on_disk] = stored_files(media)
    raw = on_disk.read_bytes()
    assert b"PK\x03\x04" not in raw and b"users.csv" not in raw  # neither the zip nor its names
    assert "roster" not in on_disk.name  # the original file name is not kept
    with default_storage.open(run.bundle.name) as stored:
        assert stored.read() == content
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "btam.people.tasks.run_import_task"
    assert queued.queue_name == "default"
    assert queued.args_kwargs["args"][0] == run.pk
    assert AuditEvent.objects.filter(verb=Verb.CREATED, target_id=str(run.pk), target_type="people.importrun").exists()


def test_the_happy_path_imports_and_shows_the_summary_per_file(manager: Client, world: Any, media: Path) -> None:
    run = run_worker(start(manager))
    assert run.status == Status.SUCCEEDED
    assert Person.objects.filter(district=world.district, kind=Person.Kind.STUDENT).count() == 3
    response = manager.get(detail_url(run))
    page = response.content.decode()
    assert "The roster was imported." in page
    assert "<code>users.csv</code>" in page and "<code>orgs.csv</code>" in page
    assert run.summary["users.csv"]["created"] == 3
    # Imported: the stored bundle is gone.
    assert run.bundle.name == ""
    assert stored_files(media) == []


def test_the_list_shows_runs_newest_first_with_who_and_the_totals(manager: Client, world: Any) -> None:
    first = run_worker(start(manager))
    second = ImportRun.objects.create(district=world.district, created_by=world.users[Role.BACKUP_ADMIN])
    page = manager.get(LIST).content.decode()
    assert page.index(f"Import {second.pk}<") < page.index(f"Import {first.pk}<")
    assert world.users[Role.DATABASE_MANAGER].full_name in page
    assert "Waiting for the worker" in page and "Imported" in page


def test_a_dry_run_shows_what_would_change_and_imports_nothing(manager: Client, world: Any, media: Path) -> None:
    run = run_worker(start(manager, dry_run="on"))
    assert run.dry_run and run.status == Status.SUCCEEDED
    assert run.summary["users.csv"]["created"] == 3
    assert not Person.objects.filter(district=world.district).exists()
    assert stored_files(media) == []
    assert "Nothing was written" in manager.get(detail_url(run)).content.decode()


def test_a_manager_of_two_districts_chooses_the_district(world: Any) -> None:
    from btam.accounts.models import Membership

    user = world.users[Role.DATABASE_MANAGER]
    Membership.objects.create(user=user, district=world.other_district, role=Role.BACKUP_ADMIN)
    client = Client()
    client.force_login(user)
    assert 'name="district"' in client.get(NEW).content.decode()
    response = client.post(NEW, {"bundle": upload(), "district": world.other_district.pk})
    assert response.status_code == 302
    assert ImportRun.objects.get().district == world.other_district


# Progress -------------------------------------------------------------------------------------------


def test_a_queued_run_refreshes_itself_until_it_finishes(manager: Client) -> None:
    run = start(manager)
    page = manager.get(detail_url(run)).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert "Waiting for the worker" in page
    partial = manager.get(detail_url(run), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="import-run"' in partial and "every 2s" in partial

    run_worker(run)
    page = manager.get(detail_url(run)).content.decode()
    assert "hx-trigger" not in page and 'http-equiv="refresh"' not in page
    assert "every 2s" not in manager.get(detail_url(run), HTTP_HX_REQUEST="true").content.decode()


def test_a_running_run_shows_its_step_and_a_progress_bar(manager: Client, world: Any) -> None:
    run = ImportRun.objects.create(
        district=world.district, status=Status.RUNNING, phase="importing", rows_done=1500, rows_total=6000
    )
    page = manager.get(detail_url(run), HTTP_HX_REQUEST="true").content.decode()
    assert '<progress id="import-progress" class="width-full" max="6000" value="1500">' in page
    assert "1,500 of 6,000 rows" in page
    assert "Step: importing" in page
    assert "style=" not in page  # the CSP forbids inline styles


# Bad input --------------------------------------------------------------------------------------------


def test_a_bad_bundle_lists_every_error_and_imports_nothing(manager: Client, world: Any, media: Path) -> None:
    users = [*STUDENTS, "stu-9,active,,true,org-sch-1,wizard,x,,Kim,Lee,,,,,,,09,", "stu-10,active,,true"]
    run = run_worker(start(manager, bundle_bytes(users)))
    assert run.status == Status.REJECTED
    assert not Person.objects.filter(district=world.district).exists()
    assert stored_files(media) == []
    assert {e["file"] for e in run.errors} == {"users.csv"}
    assert any(e["line"] == 5 and e["column"] == "role" for e in run.errors), run.errors
    page = manager.get(detail_url(run)).content.decode()
    assert "Nothing was imported" in page
    for error in run.errors:
        assert f"<code>{error['file']}</code>" in page
        assert f'<td data-label="Line">{error["line"]}</td>' in page
    assert "wizard" in page


def test_a_zip_bomb_is_refused_with_the_file_named(manager: Client, world: Any) -> None:
    bomb = bundle_bytes(extra_files={"enrollments.csv": b"0" * (8 << 20)})
    run = run_worker(start(manager, bomb))
    assert run.status == Status.REJECTED
    assert any(e["file"] == "enrollments.csv" and "zip bomb" in e["reason"] for e in run.errors), run.errors
    assert not Person.objects.filter(district=world.district).exists()


def test_a_zip_of_other_files_is_refused_with_the_file_named(manager: Client) -> None:
    run = run_worker(start(manager, bundle_bytes(extra_files={"photo.jpg": b"\xff\xd8\xff"})))
    assert run.status == Status.REJECTED
    assert any(e["file"] == "photo.jpg" for e in run.errors), run.errors


def test_a_file_that_is_not_a_zip_is_refused_before_it_is_stored(manager: Client, media: Path) -> None:
    response = post_bundle(manager, b"sourcedId,status\nstu-1,active\n")
    assert response.status_code == 400
    assert "This is not a zip file." in response.content.decode()
    assert not ImportRun.objects.exists()
    assert stored_files(media) == []


def test_an_empty_file_is_refused(manager: Client) -> None:
    response = post_bundle(manager, b"")
    assert response.status_code == 400
    assert not ImportRun.objects.exists()


def test_an_upload_over_the_limit_is_refused_unread(manager: Client, settings: Any, media: Path) -> None:
    settings.BTAM_MAX_IMPORT_BYTES = 1024
    response = post_bundle(manager, b"PK\x03\x04" + b"0" * 200_000)
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert stored_files(media) == []


def test_a_file_just_over_the_limit_is_cut_off_while_read(manager: Client, settings: Any, media: Path) -> None:
    settings.BTAM_MAX_IMPORT_BYTES = 1024  # the request is within the allowance for the form around the file
    response = post_bundle(manager, b"PK\x03\x04" + b"0" * 2000)
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert stored_files(media) == []


def test_a_two_gigabyte_upload_is_refused_before_it_is_read(manager: Client) -> None:
    response = manager.post(NEW, {"bundle": upload()}, CONTENT_LENGTH=str(2 * 1024**3))
    assert response.status_code == 413
    assert "The file is too large: the largest bundle accepted is 500.0\xa0MB" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_a_damaged_zip_is_rejected_not_crashed(manager: Client, world: Any) -> None:
    damaged = bundle_bytes()[:300]
    run = run_worker(start(manager, damaged))
    assert run.status == Status.REJECTED
    assert run.errors
    assert manager.get(detail_url(run)).status_code == 200


def test_an_unexpected_failure_is_failed_and_the_bundle_deleted(
    manager: Client, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("stu-1 Avery Quill")

    monkeypatch.setattr("btam.people.importers.run_import", explode)
    run = run_worker(start(manager))
    assert run.status == Status.FAILED
    assert run.errors == [{"file": "", "line": 0, "column": "", "reason": imports.INTERNAL_ERROR}]
    assert stored_files(media) == []
    assert "Avery" not in manager.get(detail_url(run)).content.decode()


# Access -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted({r.value for r in Role} - {Role.DATABASE_MANAGER, Role.BACKUP_ADMIN}))
def test_other_roles_are_refused(role: str, world: Any) -> None:
    run = ImportRun.objects.create(district=world.district)
    client = Client()
    client.force_login(world.users[role])
    for url in (LIST, NEW, detail_url(run)):
        assert client.get(url).status_code == 403, url
    assert client.post(NEW, {"bundle": upload()}).status_code == 403
    assert not ImportRun.objects.exclude(pk=run.pk).exists()


def test_a_backup_administrator_may_import(world: Any) -> None:
    client = Client()
    client.force_login(world.users[Role.BACKUP_ADMIN])
    assert client.get(LIST).status_code == 200
    assert client.post(NEW, {"bundle": upload()}).status_code == 302


def test_another_districts_run_is_not_found(manager: Client, world: Any) -> None:
    theirs = ImportRun.objects.create(district=world.other_district)
    assert manager.get(detail_url(theirs)).status_code == 404
    assert manager.get(detail_url(theirs), HTTP_HX_REQUEST="true").status_code == 404
    assert f"Import {theirs.pk}<" not in manager.get(LIST).content.decode()


def test_a_manager_of_another_district_cannot_upload_into_this_one(world: Any) -> None:
    other_manager = make_member(Role.DATABASE_MANAGER, world.other_district)
    client = Client()
    client.force_login(other_manager)
    response = client.post(NEW, {"bundle": upload(), "district": world.district.pk})
    assert response.status_code == 302
    assert ImportRun.objects.get().district == world.other_district  # the only district they manage


def test_the_upload_checks_the_csrf_token(world: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.DATABASE_MANAGER])
    assert client.post(NEW, {"bundle": upload()}).status_code == 403
    assert not ImportRun.objects.exists()


def test_the_action_refuses_a_user_who_does_not_manage_the_district(world: Any) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        imports.do_start_import(
            actor=world.users[Role.TEAM_LEADER], district=world.district, upload=upload(), dry_run=False
        )


def test_the_navigation_offers_roster_imports_to_importers_only(manager: Client, world: Any) -> None:
    link = f'href="{LIST}"'
    assert link in manager.get(reverse("core:home")).content.decode()
    other = Client()
    other.force_login(world.users[Role.TEAM_LEADER])
    assert link not in other.get(reverse("core:home")).content.decode()
