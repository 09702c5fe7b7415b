"""Roster import pages: the district's import runs, the upload, and one run's progress and result.

For database managers and backup administrators of a district (``IMPORT_ROLES``), who see their
own districts' runs only (another district's run is a 404).

An upload is refused before it is read when it declares itself too large (Content-Length), and
cut off while it is read when it passes the limit anyway (no Content-Length): the CSRF check
therefore runs inside the view, after the limit is in place (Django reads the whole body on the
first access to ``request.POST``, which the CSRF middleware would otherwise make).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from btam.accounts.models import User
from btam.core.access import policy, roles
from btam.orgs.models import District
from btam.people import imports, staff_accounts
from btam.people.access import IMPORT_ROLES, import_district_ids, scope_import_runs
from btam.people.importers.base import SUMMARY_KEYS
from btam.people.models import ImportRun

PAGE_SIZE = 25
# Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _runs(request: HttpRequest) -> QuerySet[ImportRun]:
    return scope_import_runs(ImportRun.objects.all(), _user(request)).select_related("district", "created_by")


class ImportUploadForm(forms.Form):
    district = forms.ModelChoiceField(queryset=District.objects.none(), label=_("District"), empty_label=None)
    bundle = forms.FileField(
        label=_("Roster bundle (zip)"),
        help_text=_("The OneRoster CSV export of your student information system, as one .zip file."),
        widget=forms.FileInput(attrs={"accept": ".zip,application/zip"}),
    )
    dry_run = forms.BooleanField(
        required=False,
        label=_("Dry run: check the bundle and show what would change, without importing anything"),
    )

    def __init__(self, *args: Any, districts: QuerySet[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["district"])  # type: ignore[type-arg]
        field.queryset = districts
        self.only_district = districts.first() if districts.count() == 1 else None
        if self.only_district is not None:
            del self.fields["district"]  # nothing to choose

    def clean_bundle(self) -> Any:
        upload = self.cleaned_data["bundle"]
        imports.check_upload(upload)
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.only_district is not None:
            cleaned["district"] = self.only_district
        return cleaned


class LimitedUploadHandler(FileUploadHandler):
    """Stops reading an uploaded file once it passes the limit."""

    def __init__(self, request: HttpRequest, limit: int, *, length_known: bool) -> None:
        super().__init__(request)
        self.limit = limit
        self.length_known = length_known
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            # With a Content-Length the rest is at most FORM_OVERHEAD_BYTES: read and drop it, so
            # the browser gets the answer. Without one it could be endless: stop reading.
            raise StopUpload(connection_reset=not self.length_known)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _districts(request: HttpRequest) -> QuerySet[District]:
    return District.objects.filter(pk__in=import_district_ids(_user(request))).order_by("name")


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _render_new(request: HttpRequest, form: ImportUploadForm, *, status: int = 200, refused: str = "") -> HttpResponse:
    context = {"form": form, "max_bytes": imports.max_import_bytes(), "refused": refused}
    return render(request, "people/import_new.html", context, status=status)


def _too_large(request: HttpRequest, districts: QuerySet[District]) -> HttpResponse:
    """The answer to an upload over the limit, with a fresh form (what was sent is not kept)."""
    return _render_new(request, ImportUploadForm(districts=districts), status=413, refused=imports.too_large_message())


@policy(roles(*IMPORT_ROLES))
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_runs(request).order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(run, _totals(run), status_class(run)) for run in page.object_list]
    return render(request, "people/import_list.html", {"page": page, "rows": rows, "keys": SUMMARY_KEYS})


@policy(roles(*IMPORT_ROLES))
@csrf_exempt  # checked in _upload, once the upload limit is in place (see the module docstring)
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    districts = _districts(request)
    if request.method != "POST":
        return _render_new(request, ImportUploadForm(districts=districts))
    limit = imports.max_import_bytes()
    declared = _content_length(request)
    if declared is not None and declared > limit + FORM_OVERHEAD_BYTES:
        return _too_large(request, districts)  # refused unread
    handler = LimitedUploadHandler(request, limit, length_known=declared is not None)
    request.upload_handlers = [handler, *request.upload_handlers]
    return _upload(request, districts, handler)


@csrf_protect
def _upload(request: HttpRequest, districts: QuerySet[District], handler: LimitedUploadHandler) -> HttpResponse:
    form = ImportUploadForm(request.POST, request.FILES, districts=districts)
    if handler.exceeded:
        return _too_large(request, districts)
    if form.is_valid():
        try:
            run = imports.do_start_import(
                actor=_user(request),
                district=form.cleaned_data["district"],
                upload=form.cleaned_data["bundle"],
                dry_run=form.cleaned_data["dry_run"],
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            form.add_error("bundle", exc)
        else:
            messages.success(request, _("The bundle was uploaded. The import runs in the background."))
            return redirect("people:import_detail", pk=run.pk)
    too_large = any(e.code == "too_large" for e in form.errors.as_data().get("bundle", []))
    return _render_new(request, form, status=413 if too_large else 400)


@policy(roles(*IMPORT_ROLES))
@require_GET
@vary_on_headers("HX-Request")
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(_runs(request), pk=pk)
    context = {
        "run": run,
        "status_class": status_class(run),
        "files": _files(run),
        "totals": _totals(run),
        "keys": SUMMARY_KEYS,
        "staff_accounts": run.summary.get(staff_accounts.SUMMARY_KEY),
    }
    if getattr(request, "htmx", False):
        return render(request, "people/import_progress.html", context)
    return render(request, "people/import_detail.html", context)


# USWDS tag colours of each status (the text says the status; the colour only repeats it).
_STATUS_CLASSES = {
    ImportRun.Status.QUEUED: "",
    ImportRun.Status.RUNNING: "bg-info",
    ImportRun.Status.SUCCEEDED: "bg-success",
    ImportRun.Status.REJECTED: "bg-warning text-ink",
    ImportRun.Status.FAILED: "bg-error",
}


def status_class(run: ImportRun) -> str:
    return _STATUS_CLASSES.get(ImportRun.Status(run.status), "")


def _files(run: ImportRun) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, counts)
        for name, counts in (run.summary or {}).items()
        if name != staff_accounts.SUMMARY_KEY and isinstance(counts, dict)
    ]


def _totals(run: ImportRun) -> dict[str, int]:
    totals = dict.fromkeys(SUMMARY_KEYS, 0)
    for _name, counts in _files(run):
        for key in SUMMARY_KEYS:
            value = counts.get(key)
            if isinstance(value, int):
                totals[key] += value
    return totals
