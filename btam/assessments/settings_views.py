"""A district's assessment settings pages (``/assessments/settings/``): the level scheme, the
instruments, the intervals and rules per level; the district's own definition files (upload,
list, audited download, delete while unused); its own intervention kinds (add, rename, turn off and
on again: never deleted).

Reached by database managers and team leaders (the policy); each page then works on one district
the user manages (``access.settings_district_ids``: a database manager's, or a team leader's
whose membership covers the whole district). The district is a number in the query string or the
form (``district``; a user who manages several picks it with a select); a district the user does
not manage is a 403, a malformed one a 400, a file or kind of another district a 404.

A definition upload is refused before its body is read when the request says it is larger than
the limit (413), and cut off while it is read when it is larger anyway (the document upload's
reader, ``btam.cases.document_views.CappedMemoryUploads``); the CSRF check runs once the limit is
in place, as for documents.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.http.multipartparser import MultiPartParserError
from django.http.request import UnreadablePostError
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from btam.accounts.models import Role
from btam.assessments import access, definitions, levels, settings_actions
from btam.assessments.models import AssessmentSettings, CustomDefinition, InterventionKind
from btam.assessments.settings_actions import SettingsError
from btam.assessments.settings_forms import DefinitionUploadForm, KindEditForm, KindForm, SettingsForm
from btam.cases.document_views import FORM_OVERHEAD_BYTES, CappedMemoryUploads
from btam.cases.models import Case, Status
from btam.cases.pages import user_of
from btam.core.access import policy, roles
from btam.orgs.models import District

SETTINGS_POLICY = roles(Role.DATABASE_MANAGER, Role.TEAM_LEADER, label="assessment settings")

SECTIONS = (
    ("levels", "assessments:settings", gettext_lazy("Levels and instruments")),
    ("files", "assessments:settings_files", gettext_lazy("Definition files")),
    ("kinds", "assessments:settings_kinds", gettext_lazy("Intervention kinds")),
)


# The district --------------------------------------------------------------------------------------


def _district(request: HttpRequest, raw: str | None = None) -> District:
    """The district the page is about: the one named (``district`` in the form or the query), else
    the first the user manages (by name). 403 when the user manages none or not that one."""
    user = user_of(request)
    ids = access.settings_district_ids(user)
    if not ids:
        raise PermissionDenied
    if raw is None:
        raw = request.POST.get("district", "") if request.method == "POST" else ""
        raw = raw or request.GET.get("district", "")
    raw = raw.strip()
    if raw:
        if not raw.isdigit() or len(raw) > 12:
            raise BadRequest("district")
        district_id = int(raw)
        access.require_settings_district(user, district_id)
        return District.objects.get(pk=district_id)
    first = District.objects.filter(pk__in=ids).order_by("name", "pk").first()
    if first is None:
        raise PermissionDenied
    return first


def _url(name: str, district: District, *args: Any, **query: str) -> str:
    return reverse(name, args=args) + "?" + urlencode({"district": district.pk, **query})


def _redirect(name: str, district: District, *args: Any) -> HttpResponseRedirect:
    return HttpResponseRedirect(_url(name, district, *args))


def _render(
    request: HttpRequest,
    template: str,
    district: District,
    section: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    ids = access.settings_district_ids(user_of(request))
    districts = list(District.objects.filter(pk__in=ids).order_by("name", "pk")) if len(ids) > 1 else []
    nav = [(key, _url(name, district), label, key == section) for key, name, label in SECTIONS]
    base = {"district": district, "districts": districts, "section": section, "nav": nav}
    return render(request, template, {**base, **context}, status=status)


def _definition(request: HttpRequest, definition_pk: int) -> CustomDefinition:
    """A file of a district the user manages (404 otherwise)."""
    ids = access.settings_district_ids(user_of(request))
    row = CustomDefinition.objects.filter(pk=definition_pk, district_id__in=ids).select_related("district").first()
    if row is None:
        raise Http404
    return row


def _kind(request: HttpRequest, kind_pk: int) -> InterventionKind:
    """A kind of a district the user manages (404 otherwise)."""
    ids = access.settings_district_ids(user_of(request))
    row = InterventionKind.objects.filter(pk=kind_pk, district_id__in=ids).select_related("district").first()
    if row is None:
        raise Http404
    return row


# Levels and instruments ----------------------------------------------------------------------------


def _settings_form(
    district: District, registry: definitions.Registry, current: AssessmentSettings, scheme_id: str, data: Any = None
) -> SettingsForm:
    try:
        scheme = registry.scheme(scheme_id)
    except KeyError:
        scheme = levels.scheme_for(district.pk)
    initial = {
        "level_scheme": scheme.id,
        "instruments": settings_actions.offered_instruments(current, registry),
    }
    return SettingsForm(
        data,
        registry=registry,
        scheme=scheme,
        kinds=settings_actions.kinds_for(district.pk),
        current=current,
        initial=initial,
    )


def _settings_page(
    request: HttpRequest, district: District, form: SettingsForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    current = levels.settings_for(district.pk)
    current_scheme = levels.scheme_for(district.pk)
    cases_on_other_schemes = (
        Case.objects.filter(district=district)
        .exclude(risk_level="")
        .exclude(risk_scheme=current_scheme.id)
        .exclude(status=Status.CLOSED)
        .count()
    )
    context = {
        "form": form,
        "error": error,
        "current": current,
        "current_scheme": current_scheme,
        "cases_with_levels": Case.objects.filter(district=district)
        .exclude(risk_level="")
        .exclude(status=Status.CLOSED)
        .count(),
        "cases_on_other_schemes": cases_on_other_schemes,
        "min_days": settings_actions.MIN_DAYS,
        "max_days": settings_actions.MAX_DAYS,
    }
    return _render(request, "assessments/settings.html", district, "levels", context, status=status)


@policy(SETTINGS_POLICY)
@never_cache
def settings_page(request: HttpRequest) -> HttpResponse:
    """GET: the form (with htmx and ``level_scheme``: the levels part for that scheme). POST: save."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    district = _district(request)
    registry = levels.registry_for(district.pk)
    current = levels.settings_for(district.pk)
    if request.method == "GET":
        preview = request.GET.get("level_scheme", "")
        if preview and getattr(request, "htmx", False):
            form = _settings_form(district, registry, current, preview)
            context = {
                "form": form,
                "district": district,
                "min_days": settings_actions.MIN_DAYS,
                "max_days": settings_actions.MAX_DAYS,
            }
            return render(request, "assessments/partials/_set_levels.html", context)
        return _settings_page(request, district, _settings_form(district, registry, current, current.level_scheme))
    form = _settings_form(district, registry, current, request.POST.get("form_scheme", ""), data=request.POST)
    if not form.is_valid():
        return _settings_page(
            request, district, form, error=_("The settings were not saved: check the form."), status=400
        )
    scheme_changed = form.cleaned_data["level_scheme"] != current.level_scheme
    try:
        settings_actions.do_update_assessment_settings(
            actor=user_of(request),
            district_id=district.pk,
            level_scheme=form.cleaned_data["level_scheme"],
            instruments=form.cleaned_data["instruments"],
            reassess_days=form.reassess_days(),
            intervention_rules=form.intervention_rules(),
        )
    except SettingsError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, exc.message)
        error = _("The settings were not saved: %(problem)s") % {"problem": exc.message}
        return _settings_page(request, district, form, error=error, status=400)
    if scheme_changed and not form.levels_posted():
        messages.success(
            request,
            _(
                "Settings saved with the new level scheme. Its intervals and intervention rules are its own "
                "defaults: review them below."
            ),
        )
    else:
        messages.success(request, _("Settings saved."))
    return _redirect("assessments:settings", district)


# The district's own definition files ---------------------------------------------------------------


def _files_page(
    request: HttpRequest,
    district: District,
    *,
    form: DefinitionUploadForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    files = []
    for entry in levels.district_files(district.pk):
        files.append(
            {"row": entry.row, "problem": entry.problem, "in_use": settings_actions.definition_in_use(entry.row)}
        )
    registry = levels.registry_for(district.pk)
    context = {
        "form": form or DefinitionUploadForm(),
        "error": error,
        "files": files,
        "shipped": list(definitions.builtin().definitions()),
        "registry_instruments": registry.instruments(),
        "max_kb": settings_actions.MAX_DEFINITION_BYTES // 1024,
    }
    return _render(request, "assessments/settings_files.html", district, "files", context, status=status)


def _read_upload(request: HttpRequest) -> tuple[str, int]:
    """Parse the POST within the limit: the refusal's message and status (("", 200) when it was read)."""
    limit = settings_actions.MAX_DEFINITION_BYTES
    too_large = _("The file is too large: a definition file may be at most %(max)d KB.") % {"max": limit // 1024}
    try:
        declared: int | None = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        declared = None
    if declared is not None and declared > limit + FORM_OVERHEAD_BYTES:
        return too_large, 413  # refused unread
    handler = CappedMemoryUploads(request, limit, length_known=declared is not None)
    request.upload_handlers = [handler]
    try:
        request.POST  # noqa: B018 (parse now, inside the limit)
        request.FILES  # noqa: B018
    except (RequestDataTooBig, TooManyFilesSent):
        return too_large, 413
    except (TooManyFieldsSent, MultiPartParserError, BadRequest, UnreadablePostError, UnicodeDecodeError):
        return _("The upload could not be read. Please try again."), 400
    if handler.exceeded:
        return too_large, 413
    return "", 200


@policy(SETTINGS_POLICY)
@never_cache
@csrf_exempt  # checked in _upload once the upload limit is in place (see the module docstring)
def files_page(request: HttpRequest) -> HttpResponse:
    """GET: the district's files and the upload form. POST: upload a file."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "GET":
        return _files_page(request, _district(request))
    # Who may upload at all is known before the body is read; which district, after.
    if not access.settings_district_ids(user_of(request)):
        raise PermissionDenied
    refusal, status = _read_upload(request)
    if refusal:
        # The body was not read: the district comes from the address (the form posts to it).
        district = _district(request, raw=request.GET.get("district", ""))
        return _files_page(request, district, error=refusal, status=status)
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    district = _district(request)
    form = DefinitionUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _files_page(
            request, district, form=form, error=_("The file was not stored: check the form."), status=400
        )
    upload = form.cleaned_data["file"]
    try:
        row = settings_actions.do_upload_definition(
            actor=user_of(request), district_id=district.pk, file_name=upload.name or "", data=upload.read()
        )
    except SettingsError as exc:
        form.add_error("file", exc.message)
        return _files_page(request, district, form=form, error=_("The file was not stored."), status=400)
    messages.success(
        request, _("Stored: %(id)s, version %(version)d.") % {"id": row.definition_id, "version": row.version}
    )
    return _redirect("assessments:settings_files", district)


@policy(SETTINGS_POLICY)
@never_cache
def file_download(request: HttpRequest, definition_pk: int) -> HttpResponse:
    """The stored JSON of a district's file, as an attachment named ``<id>.v<version>.json`` (audited)."""
    row = _definition(request, definition_pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    settings_actions.record_definition_download(actor=user_of(request), definition=row)
    body = json.dumps(row.content, ensure_ascii=False, indent=2) + "\n"
    response = HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{row.definition_id}.v{row.version}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@policy(SETTINGS_POLICY)
@never_cache
def file_delete(request: HttpRequest, definition_pk: int) -> HttpResponse:
    """GET: what deleting the file means (or why it cannot be). POST: delete it."""
    row = _definition(request, definition_pk)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    district = row.district
    if request.method == "GET":
        context = {"row": row, "in_use": settings_actions.definition_in_use(row)}
        return _render(request, "assessments/settings_file_delete.html", district, "files", context)
    try:
        settings_actions.do_delete_definition(actor=user_of(request), definition=row)
    except SettingsError as exc:
        context = {"row": row, "in_use": exc.message}
        return _render(request, "assessments/settings_file_delete.html", district, "files", context, status=400)
    messages.success(
        request, _("Deleted: %(id)s, version %(version)d.") % {"id": row.definition_id, "version": row.version}
    )
    return _redirect("assessments:settings_files", district)


# The district's own intervention kinds --------------------------------------------------------------


def _kinds_page(
    request: HttpRequest, district: District, *, form: KindForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    own = list(InterventionKind.objects.filter(district=district).order_by("-active", "label", "pk"))
    context = {
        "form": form or KindForm(),
        "error": error,
        "own": [(kind, settings_actions.kind_in_rules(district.pk, kind.code) if kind.active else "") for kind in own],
        "builtin": [k for k in settings_actions.kinds_for(district.pk) if k.builtin],
    }
    return _render(request, "assessments/settings_kinds.html", district, "kinds", context, status=status)


@policy(SETTINGS_POLICY)
@never_cache
def kinds_page(request: HttpRequest) -> HttpResponse:
    """GET: the catalogue and the district's own kinds. POST: add one."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    district = _district(request)
    if request.method == "GET":
        return _kinds_page(request, district)
    form = KindForm(request.POST)
    if not form.is_valid():
        return _kinds_page(
            request, district, form=form, error=_("The intervention was not added: check the form."), status=400
        )
    try:
        row = settings_actions.do_add_intervention_kind(
            actor=user_of(request),
            district_id=district.pk,
            code=form.cleaned_data["code"],
            label=form.cleaned_data["label"],
            description=form.cleaned_data["description"],
        )
    except SettingsError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, exc.message)
        error = _("The intervention was not added: %(problem)s") % {"problem": exc.message}
        return _kinds_page(request, district, form=form, error=error, status=400)
    messages.success(request, _("Intervention added: %(code)s.") % {"code": row.code})
    return _redirect("assessments:settings_kinds", district)


@policy(SETTINGS_POLICY)
@never_cache
def kind_edit(request: HttpRequest, kind_pk: int) -> HttpResponse:
    """Rename a district kind or change its description (the code stays)."""
    row = _kind(request, kind_pk)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    district = row.district
    if request.method == "GET":
        form = KindEditForm(initial={"label": row.label, "description": row.description})
        return _render(request, "assessments/settings_kind_edit.html", district, "kinds", {"kind": row, "form": form})
    form = KindEditForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            settings_actions.do_edit_intervention_kind(
                actor=user_of(request),
                kind=row,
                label=form.cleaned_data["label"],
                description=form.cleaned_data["description"],
            )
        except SettingsError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            error = _("Not saved: %(problem)s") % {"problem": exc.message}
        else:
            messages.success(request, _("Intervention saved: %(code)s.") % {"code": row.code})
            return _redirect("assessments:settings_kinds", district)
    else:
        error = _("Not saved: check the form.")
    context = {"kind": row, "form": form, "error": error}
    return _render(request, "assessments/settings_kind_edit.html", district, "kinds", context, status=400)


@policy(SETTINGS_POLICY)
@never_cache
def kind_active(request: HttpRequest, kind_pk: int) -> HttpResponse:
    """POST ``active=0`` turns a district kind off, ``active=1`` on again."""
    row = _kind(request, kind_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    district = row.district
    value = request.POST.get("active", "")
    if value not in ("0", "1"):
        return _kinds_page(request, district, error=_("Choose whether to turn it on or off."), status=400)
    try:
        settings_actions.do_set_intervention_kind_active(actor=user_of(request), kind=row, active=value == "1")
    except SettingsError as exc:
        error = _("%(code)s stays on: %(problem)s") % {"code": row.code, "problem": exc.message}
        return _kinds_page(request, district, error=error, status=400)
    if value == "1":
        messages.success(request, _("Turned on: %(code)s. Teams can add it to plans again.") % {"code": row.code})
    else:
        messages.success(
            request,
            _("Turned off: %(code)s. Plans that have it keep it; it cannot be added any more.") % {"code": row.code},
        )
    return _redirect("assessments:settings_kinds", district)


urlpatterns = [
    path("assessments/settings/", settings_page, name="settings"),
    path("assessments/settings/files/", files_page, name="settings_files"),
    path("assessments/settings/files/<int:definition_pk>/download/", file_download, name="settings_file_download"),
    path("assessments/settings/files/<int:definition_pk>/delete/", file_delete, name="settings_file_delete"),
    path("assessments/settings/kinds/", kinds_page, name="settings_kinds"),
    path("assessments/settings/kinds/<int:kind_pk>/", kind_edit, name="settings_kind_edit"),
    path("assessments/settings/kinds/<int:kind_pk>/active/", kind_active, name="settings_kind_active"),
]
