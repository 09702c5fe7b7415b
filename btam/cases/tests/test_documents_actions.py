"""Uploading documents and their versions: checked, encrypted, audited, never half-written."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from btam.accounts.models import Role
from btam.audit.models import AuditEvent, Verb
from btam.cases import document_actions
from btam.cases.actions import CaseError
from btam.cases.documents import DocumentFileError
from btam.cases.models import Document, DocumentVersion
from btam.cases.tests.documents_timeline_helpers import (
    EXE_BYTES,
    PDF_BYTES,
    close,
    office_zip,
    open_case,
    read_only_member,
    school_member,
    stored_files,
    team_member,
    upload,
)
from btam.lib.encrypted import MAGIC

pytestmark = pytest.mark.django_db


def test_it_stores_a_document_encrypted_with_its_first_version_and_audits_it(world: Any, clock: Any) -> None:
    case = open_case(world)
    clock.advance(minutes=5)
    user = team_member(world)

    document = document_actions.do_upload_document(
        actor=user, case=case, title="  Safety plan  ", upload=upload(PDF_BYTES, "plan.pdf")
    )

    document.refresh_from_db()
    version = document.current
    assert version is not None and version.number == 1 and version.document_id == document.pk
    assert document.title == "Safety plan" and document.created_by == user
    assert version.content_type == "application/pdf" and version.size == len(PDF_BYTES)
    assert version.original_name == "plan.pdf" and len(version.sha256) == 64
    with version.file.open("rb") as handle:
        assert handle.read() == PDF_BYTES
    [path] = stored_files()
    raw = path.read_bytes()
    assert raw.startswith(MAGIC) and b"%PDF" not in raw  # encrypted at rest
    case.refresh_from_db()
    assert case.updated_at == version.uploaded_at
    event = AuditEvent.objects.get(verb=Verb.CREATED, target_type="cases.document")
    assert event.detail["case"] == case.pk and event.detail["version"] == 1
    assert "plan" not in str(event.detail) and "Safety" not in str(event.detail)  # no free text


def test_a_blank_title_takes_the_file_name(world: Any) -> None:
    case = open_case(world)
    document = document_actions.do_upload_document(
        actor=team_member(world), case=case, title="", upload=upload(office_zip(), "Meeting notes.v2.docx")
    )
    assert document.title == "Meeting notes.v2"


def test_a_new_version_becomes_current_and_every_version_is_kept(world: Any) -> None:
    case = open_case(world)
    user = team_member(world)
    document = document_actions.do_upload_document(
        actor=user, case=case, title="Plan", upload=upload(PDF_BYTES, "a.pdf")
    )

    second = document_actions.do_add_document_version(
        actor=user, case=case, document=document, upload=upload(b"Revised plan\n", "plan.txt")
    )

    document.refresh_from_db()
    assert second.number == 2 and document.current_id == second.pk
    assert list(document.versions.values_list("number", "content_type")) == [(2, "text/plain"), (1, "application/pdf")]
    assert len(stored_files()) == 2
    assert AuditEvent.objects.filter(
        verb=Verb.UPDATED, target_type="cases.document", target_id=str(document.pk)
    ).exists()


def test_a_version_cannot_go_to_another_cases_document(world: Any) -> None:
    user = team_member(world)
    case, other = open_case(world), open_case(world)
    document = document_actions.do_upload_document(
        actor=user, case=other, title="Plan", upload=upload(PDF_BYTES, "a.pdf")
    )

    with pytest.raises(CaseError, match="not on this case"):
        document_actions.do_add_document_version(actor=user, case=case, document=document, upload=upload(PDF_BYTES))

    assert DocumentVersion.objects.count() == 1


def test_a_closed_case_refuses_uploads_and_versions(world: Any) -> None:
    user = team_member(world)
    case = open_case(world)
    document = document_actions.do_upload_document(
        actor=user, case=case, title="Plan", upload=upload(PDF_BYTES, "a.pdf")
    )
    close(case, world)

    with pytest.raises(CaseError, match="closed"):
        document_actions.do_upload_document(actor=user, case=case, title="Late", upload=upload(PDF_BYTES, "b.pdf"))
    with pytest.raises(CaseError, match="closed"):
        document_actions.do_add_document_version(actor=user, case=case, document=document, upload=upload(PDF_BYTES))

    assert Document.objects.count() == 1 and DocumentVersion.objects.count() == 1
    assert len(stored_files()) == 1


def test_a_refused_file_stores_nothing(world: Any) -> None:
    case = open_case(world)
    with pytest.raises(DocumentFileError, match='"grades.pdf" is not really a PDF'):
        document_actions.do_upload_document(
            actor=team_member(world), case=case, title="x", upload=upload(EXE_BYTES, "grades.pdf")
        )
    assert not Document.objects.exists() and not stored_files()


def test_a_failure_after_the_file_was_stored_removes_the_file(world: Any) -> None:
    case = open_case(world)
    with mock.patch.object(document_actions, "audit", side_effect=RuntimeError("database went away")):
        with pytest.raises(RuntimeError):
            document_actions.do_upload_document(
                actor=team_member(world), case=case, title="x", upload=upload(PDF_BYTES)
            )
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    assert not stored_files()


def test_someone_who_may_only_read_the_case_cannot_upload(world: Any) -> None:
    case = open_case(world)
    reader = read_only_member(world, case)
    with pytest.raises(CaseError, match="no longer change this case"):
        document_actions.do_upload_document(actor=reader, case=case, title="x", upload=upload(PDF_BYTES))
    assert not stored_files()


def test_a_member_of_another_school_cannot_upload(world: Any) -> None:
    case = open_case(world)
    stranger = school_member(world, world.other_school)
    with pytest.raises(CaseError):
        document_actions.do_upload_document(actor=stranger, case=case, title="x", upload=upload(PDF_BYTES))
    assert not Document.objects.exists()


def test_an_oversized_title_or_html_title_is_handled(world: Any) -> None:
    case = open_case(world)
    user = team_member(world)
    with pytest.raises(CaseError, match="too long"):
        document_actions.do_upload_document(actor=user, case=case, title="x" * 201, upload=upload(PDF_BYTES))
    document = document_actions.do_upload_document(
        actor=user, case=case, title="<script>alert(1)</script>'; DROP TABLE cases_case;--", upload=upload(PDF_BYTES)
    )
    document.refresh_from_db()
    assert document.title.startswith("<script>")  # stored as typed; escaped when shown


def test_a_document_keeps_at_most_the_version_limit(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document_actions, "MAX_VERSIONS", 2)
    user = team_member(world)
    case = open_case(world)
    document = document_actions.do_upload_document(actor=user, case=case, title="Plan", upload=upload(PDF_BYTES))
    document_actions.do_add_document_version(actor=user, case=case, document=document, upload=upload(PDF_BYTES))
    with pytest.raises(CaseError, match="already has 2 versions"):
        document_actions.do_add_document_version(actor=user, case=case, document=document, upload=upload(PDF_BYTES))
    assert len(stored_files()) == 2


def test_a_leader_of_the_district_may_upload(world: Any) -> None:
    case = open_case(world)
    document_actions.do_upload_document(
        actor=world.users[Role.TEAM_LEADER.value], case=case, title="x", upload=upload(PDF_BYTES)
    )
    assert Document.objects.filter(case=case).count() == 1
