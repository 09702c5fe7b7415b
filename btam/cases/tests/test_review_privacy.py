"""Review findings on privacy: a document's title (it may name a student) never goes into the
flash message, which travels unencrypted in a cookie or the session."""

from __future__ import annotations

from typing import Any

from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory
from django.urls import reverse

from btam.cases.tests.documents_timeline_helpers import PDF_BYTES, open_case, team_member, upload
from btam.cases.tests.people_links_helpers import client_for

SECRET_TITLE = "Statement of Quillon Abernathy-Vasquez"


def _flash(response: Any) -> str:
    cookie = response.cookies.get("messages")
    if cookie is None:
        return ""
    storage = CookieStorage(RequestFactory().get("/"))
    return " ".join(str(m) for m in storage._decode(cookie.value) or [])  # type: ignore[attr-defined]


def test_the_upload_message_does_not_carry_the_documents_title(world: Any) -> None:
    case = open_case(world)
    team = client_for(team_member(world))
    response = team.post(
        reverse("cases:document_upload", args=[case.pk]),
        {"upload-title": SECRET_TITLE, "upload-file": upload(PDF_BYTES, "statement.pdf", "application/pdf")},
    )
    assert response.status_code == 302
    assert "Document stored" in _flash(response)
    assert "Quillon" not in _flash(response)


def test_the_new_version_message_does_not_carry_the_documents_title(world: Any) -> None:
    from btam.cases.models import Document

    case = open_case(world)
    team = client_for(team_member(world))
    team.post(
        reverse("cases:document_upload", args=[case.pk]),
        {"upload-title": SECRET_TITLE, "upload-file": upload(PDF_BYTES, "statement.pdf", "application/pdf")},
    )
    document = Document.objects.get(case=case)
    response = team.post(
        reverse("cases:document_version_upload", args=[case.pk, document.pk]),
        {f"doc{document.pk}-file": upload(PDF_BYTES, "statement.pdf", "application/pdf")},
    )
    assert response.status_code == 302
    assert "Version 2" in _flash(response)
    assert "Quillon" not in _flash(response)
