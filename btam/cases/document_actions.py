"""Case documents: upload a document, upload a new version of one, record a download.

The file is checked (``documents.prepare_document``: type by content, size, macros, active PDF
content; pictures re-encoded without metadata) before the case is locked, so a slow check never
holds the lock. Then, in one transaction: the case is locked and must be editable, the document
and its version rows are written, the file is stored by the encrypting default storage under a
random name, the case is touched and the change audited. If anything fails after the file was
stored, the file is deleted again: nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from btam.audit.models import AuditEvent, Verb
from btam.cases.actions import CaseError, audit, clean_text, ensure_editable, lock_case, touch
from btam.cases.documents import PreparedDocument, prepare_document
from btam.cases.models import Case, Document, DocumentVersion
from btam.lib import clock

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from btam.accounts.models import User
    from btam.intake.models import Attachment

MAX_DOCUMENT_TITLE_CHARS = 200
# A document keeps every version; this many at most (a runaway script, not a person, makes more).
MAX_VERSIONS = 200


def _title_from(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    return stem.strip()[:MAX_DOCUMENT_TITLE_CHARS] or _("Document")


def _store(
    document: Document, number: int, prepared: PreparedDocument, *, actor: User, at: dt.datetime
) -> DocumentVersion:
    version = DocumentVersion(
        document=document,
        number=number,
        content_type=prepared.content_type,
        size=len(prepared.content),
        original_name=prepared.original_name,
        sha256=prepared.sha256,
        uploaded_at=at,
        uploaded_by=actor,
    )
    version.file.save("upload", ContentFile(prepared.content), save=False)
    try:
        version.save()
    except BaseException:
        version.file.delete(save=False)
        raise
    return version


def _file_detail(version: DocumentVersion) -> dict[str, object]:
    return {
        "document": version.document_id,
        "version": version.number,
        "content_type": version.content_type,
        "size": version.size,
    }


def do_upload_document(*, actor: User, case: Case, title: str, upload: UploadedFile) -> Document:
    """A new document on the case (its first version). A blank title takes the file's name."""
    title = clean_text(title, label=_("The title"), max_chars=MAX_DOCUMENT_TITLE_CHARS, required=False)
    prepared = prepare_document(upload)
    title = title or _title_from(prepared.original_name)
    stored: list[DocumentVersion] = []
    try:
        with transaction.atomic():
            case = lock_case(case, actor)
            ensure_editable(case)
            at = clock.now()
            document = Document.objects.create(case=case, title=title, created_at=at, created_by=actor)
            version = _store(document, 1, prepared, actor=actor, at=at)
            stored.append(version)
            document.current = version
            document.save(update_fields=["current"])
            touch(case, at)
            audit(actor=actor, case=case, verb=Verb.CREATED, target=document, detail=_file_detail(version))
    except BaseException:
        for version in stored:
            version.file.delete(save=False)
        raise
    return document


def do_add_document_version(*, actor: User, case: Case, document: Document, upload: UploadedFile) -> DocumentVersion:
    """A new version of a document of the case: it becomes the current one; every version is kept."""
    if document.case_id != case.pk:
        raise CaseError(_("This document is not on this case."))
    prepared = prepare_document(upload)
    stored: list[DocumentVersion] = []
    try:
        with transaction.atomic():
            case = lock_case(case, actor)
            ensure_editable(case)
            # Read again under the case's lock: the document may have moved (a merge) meanwhile.
            locked = Document.objects.select_for_update().filter(pk=document.pk, case=case).first()
            if locked is None:
                raise CaseError(_("This document is no longer on this case. Nothing was stored."))
            last = locked.versions.aggregate(last=Max("number"))["last"] or 0
            if last >= MAX_VERSIONS:
                raise CaseError(
                    _("This document already has %(max)d versions: add the file as a new document.")
                    % {"max": MAX_VERSIONS}
                )
            at = clock.now()
            version = _store(locked, last + 1, prepared, actor=actor, at=at)
            stored.append(version)
            locked.current = version
            locked.save(update_fields=["current"])
            touch(case, at)
            audit(actor=actor, case=case, verb=Verb.UPDATED, target=locked, detail=_file_detail(version))
    except BaseException:
        for version in stored:
            version.file.delete(save=False)
        raise
    return version


def record_download(*, actor: User, case: Case, version: DocumentVersion) -> AuditEvent:
    """The audit event of a download of a document's version (the view streams the file)."""
    return audit(actor=actor, case=case, verb=Verb.DOWNLOADED, target=version, detail=_file_detail(version))


def record_attachment_download(*, actor: User, case: Case, attachment: Attachment) -> AuditEvent:
    """The audit event of a download of a reporter's file from the case's pages."""
    return audit(
        actor=actor,
        case=case,
        verb=Verb.DOWNLOADED,
        target=attachment,
        detail={
            "report": attachment.report_id,
            "content_type": attachment.content_type,
            "size": attachment.size,
        },
    )
