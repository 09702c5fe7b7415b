"""The case's Documents tab: the team's documents (each with every version kept), uploads of a
document or of a new version, audited downloads, and the reporters' files of the case's reports
(read-only here, downloaded through a case-scoped, audited address).

Uploads are refused before the body is read when the request declares itself larger than the
limit (413; ``BTAM_CASE_DOCUMENT_MAX_MB`` plus room for the form), and cut off while it is read
when it passes the limit anyway. Uploaded files stay in memory, never in a plain-text temporary
file. The CSRF check therefore runs in the view, once the limit is in place (Django reads the
whole body on the first access to ``request.POST``, which the CSRF middleware would otherwise do).

Downloads are attachments (never shown inline) named from the case number and the detected type
(no part of the uploaded name), with ``nosniff`` and a sandboxing CSP, streamed from the
encrypting storage; each records a DOWNLOADED audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import MemoryFileUploadHandler, StopUpload
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.http.multipartparser import MultiPartParserError
from django.http.request import UnreadablePostError
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from btam.cases import access, document_actions, documents
from btam.cases.actions import CaseError
from btam.cases.models import Case, Document, DocumentVersion
from btam.cases.pages import CASE_POLICY, render_case, user_of
from btam.core.access import policy
from btam.intake.models import Attachment

# Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD_BYTES = 64 * 1024

_ATTACHMENT_EXTENSIONS: dict[str, str] = {
    Attachment.Kind.JPEG: "jpg",
    Attachment.Kind.PNG: "png",
    Attachment.Kind.GIF: "gif",
    Attachment.Kind.WEBP: "webp",
    Attachment.Kind.PDF: "pdf",
}


# Forms --------------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        required=False,
        max_length=document_actions.MAX_DOCUMENT_TITLE_CHARS,
        help_text=gettext_lazy("What the document is (left blank: the file's name)."),
        error_messages={"max_length": gettext_lazy("The title is too long: at most %(limit_value)d characters.")},
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        allow_empty_file=True,  # an empty file gets documents.py's message, naming it
        error_messages={"required": gettext_lazy("Choose a file to upload.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("At most %(max)d MB. %(accepted)s") % {
            "max": documents.max_bytes() // 2**20,
            "accepted": documents.accepted_types_text(),
        }


class VersionForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("New version"),
        allow_empty_file=True,
        error_messages={"required": gettext_lazy("Choose a file to upload.")},
    )


def _version_prefix(document_pk: int) -> str:
    return f"doc{document_pk}"


# Reading an upload within the limit ---------------------------------------------------------------


class CappedMemoryUploads(MemoryFileUploadHandler):
    """Uploaded files stay in memory (never a plain-text temporary file) and stop at the limit."""

    def __init__(self, request: HttpRequest, limit: int, *, length_known: bool) -> None:
        super().__init__(request)
        self.limit = limit
        self.length_known = length_known
        self.received = 0
        self.exceeded = False

    def handle_raw_input(self, *args: Any, **kwargs: Any) -> None:
        self.activated = True

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if start + len(raw_data) > self.limit or self.received > self.limit + FORM_OVERHEAD_BYTES:
            self.exceeded = True
            # With a Content-Length the rest is at most FORM_OVERHEAD_BYTES: read and drop it, so
            # the browser gets the answer. Without one it could be endless: stop reading.
            raise StopUpload(connection_reset=not self.length_known)
        return super().receive_data_chunk(raw_data, start)  # type: ignore[no-any-return]


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _read_upload(request: HttpRequest, case: Case) -> HttpResponse | None:
    """Parse the POST within the limit; the refusal to answer instead (413 or 400), or None."""
    limit = documents.max_bytes()
    declared = _declared_length(request)
    if declared is not None and declared > limit + FORM_OVERHEAD_BYTES:
        return _page(request, case, error=documents.too_large_message(), status=413)  # refused unread
    handler = CappedMemoryUploads(request, limit, length_known=declared is not None)
    request.upload_handlers = [handler]
    try:
        request.POST  # noqa: B018 (parse now, inside the limit)
        request.FILES  # noqa: B018
    except (RequestDataTooBig, TooManyFilesSent):
        return _page(request, case, error=documents.too_large_message(), status=413)
    except (TooManyFieldsSent, MultiPartParserError, BadRequest, UnreadablePostError, UnicodeDecodeError):
        return _page(request, case, error=_("The upload could not be read. Please try again."), status=400)
    if handler.exceeded:
        return _page(request, case, error=documents.too_large_message(), status=413)
    return None


# The tab ------------------------------------------------------------------------------------------


@dataclass
class DocumentRow:
    document: Document
    versions: list[tuple[DocumentVersion, str]]  # newest first, with the type's name
    form: VersionForm | None


def _page(
    request: HttpRequest,
    case: Case,
    *,
    upload_form: UploadForm | None = None,
    version_form: tuple[int, VersionForm] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = user_of(request)
    can_write = access.can_write(user, case)
    editable = can_write and not case.is_closed and not case.is_merged
    docs = list(
        Document.objects.filter(case=case)
        .select_related("created_by")
        .prefetch_related(
            Prefetch("versions", queryset=DocumentVersion.objects.select_related("uploaded_by").order_by("-number"))
        )
        .order_by("-created_at", "-pk")
    )
    rows = []
    for document in docs:
        form = None
        if editable:
            if version_form is not None and version_form[0] == document.pk:
                form = version_form[1]
            else:
                form = VersionForm(prefix=_version_prefix(document.pk))
        versions = [(v, documents.LABELS.get(v.content_type, v.content_type)) for v in document.versions.all()]
        rows.append(DocumentRow(document=document, versions=versions, form=form))
    labels: dict[str, str] = {str(value): str(label) for value, label in Attachment.Kind.choices}
    attachments = [
        (a, labels.get(a.content_type, a.content_type))
        for a in Attachment.objects.filter(report__case_link__case=case)
        .select_related("report")
        .order_by("report__created_at", "report_id", "created_at", "pk")
    ]
    context = {
        "can_write": can_write,
        "rows": rows,
        "attachments": attachments,
        "upload_form": upload_form or UploadForm(prefix="upload"),
        "failed_version": version_form[0] if version_form is not None else None,
        "error": error,
    }
    return render_case(request, case, "cases/documents.html", context, tab="documents", status=status)


@policy(CASE_POLICY)
@never_cache
def documents_tab(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _page(request, case)


def _failure(form: forms.Form, exc: CaseError, lead: str) -> str:
    """The page's message for a refused upload: a problem of the file goes next to the file field."""
    if isinstance(exc, documents.DocumentFileError):
        form.add_error("file", str(exc))
        return f"{lead} {_('Check the file.')}"
    return f"{lead} {exc}"


@policy(CASE_POLICY)
@never_cache
@csrf_exempt  # checked in _upload_document once the upload limit is in place (see the module docstring)
def upload_document(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    refused = _read_upload(request, case)
    if refused is not None:
        return refused
    return _upload_document(request, case)


@csrf_protect
def _upload_document(request: HttpRequest, case: Case) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES, prefix="upload")
    if not form.is_valid():
        error = _("The document was not stored: check the form.")
        return _page(request, case, upload_form=form, error=error, status=400)
    try:
        document_actions.do_upload_document(
            actor=user_of(request), case=case, title=form.cleaned_data["title"], upload=form.cleaned_data["file"]
        )
    except CaseError as exc:
        return _page(
            request, case, upload_form=form, error=_failure(form, exc, _("The document was not stored.")), status=400
        )
    # No title in the flash message: messages travel in a cookie (or the session), unencrypted.
    messages.success(request, _("Document stored."))
    return redirect("cases:documents", pk=case.pk)


@policy(CASE_POLICY)
@never_cache
@csrf_exempt  # checked in _upload_version once the upload limit is in place (see the module docstring)
def upload_version(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    case = access.get_case_for_user(user_of(request), pk, write=True)
    document = Document.objects.filter(pk=document_pk, case=case).first()
    if document is None:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    refused = _read_upload(request, case)
    if refused is not None:
        return refused
    return _upload_version(request, case, document)


@csrf_protect
def _upload_version(request: HttpRequest, case: Case, document: Document) -> HttpResponse:
    form = VersionForm(request.POST, request.FILES, prefix=_version_prefix(document.pk))
    if not form.is_valid():
        return _page(
            request,
            case,
            version_form=(document.pk, form),
            error=_("The new version was not stored: check the form."),
            status=400,
        )
    try:
        version = document_actions.do_add_document_version(
            actor=user_of(request), case=case, document=document, upload=form.cleaned_data["file"]
        )
    except CaseError as exc:
        error = _failure(form, exc, _("The new version was not stored."))
        return _page(request, case, version_form=(document.pk, form), error=error, status=400)
    messages.success(request, _("Version %(number)d of the document stored.") % {"number": version.number})
    return redirect("cases:documents", pk=case.pk)


# Downloads ----------------------------------------------------------------------------------------


def _file_response(handle: Any, *, filename: str, content_type: str) -> FileResponse:
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store, private"
    return response


@policy(CASE_POLICY)
@never_cache
def download_version(request: HttpRequest, pk: int, version_pk: int) -> HttpResponseBase:
    """One version of a document, decrypted and streamed as a download, audited."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk)
    version = DocumentVersion.objects.select_related("document").filter(pk=version_pk, document__case=case).first()
    if version is None:
        raise Http404
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    try:
        handle = version.file.open("rb")
    except OSError as exc:
        raise Http404 from exc
    document_actions.record_download(actor=user, case=case, version=version)
    extension = documents.EXTENSIONS.get(version.content_type, "bin")
    return _file_response(
        handle,
        filename=f"case-{case.number}-document-{version.document_id}-v{version.number}.{extension}",
        content_type=version.content_type,
    )


@policy(CASE_POLICY)
@never_cache
def download_attachment(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    """A reporter's file of one of the case's reports (never another report's), audited."""
    user = user_of(request)
    case = access.get_case_for_user(user, pk)
    attachment = (
        Attachment.objects.select_related("report").filter(pk=attachment_pk, report__case_link__case=case).first()
    )
    if attachment is None:
        raise Http404
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    try:
        handle = attachment.file.open("rb")
    except OSError as exc:
        raise Http404 from exc
    document_actions.record_attachment_download(actor=user, case=case, attachment=attachment)
    extension = _ATTACHMENT_EXTENSIONS.get(attachment.content_type, "bin")
    return _file_response(
        handle,
        filename=f"case-{case.number}-{attachment.report.reference}-file-{attachment.pk}.{extension}",
        content_type=attachment.content_type,
    )


urlpatterns = [
    path("<int:pk>/documents/", documents_tab, name="documents"),
    path("<int:pk>/documents/upload/", upload_document, name="document_upload"),
    path("<int:pk>/documents/<int:document_pk>/versions/", upload_version, name="document_version_upload"),
    path("<int:pk>/documents/versions/<int:version_pk>/download/", download_version, name="document_download"),
    path("<int:pk>/attachments/<int:attachment_pk>/download/", download_attachment, name="attachment_download"),
]
