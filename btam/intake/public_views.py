"""The public reporting pages: choose a school, the report form, the receipt, and follow-up with the
receipt code. No sign-in; everything works without JavaScript (``static/btam/js/report.js`` only
adds a copy button, a school filter and an early warning about files).

What these pages never do:

- take a report id (or anything else that names a report) in a URL: a report and its thread are
  reached only with the receipt code, typed into a POST form. After a correct code the session
  holds the report id, bound to the report's receipt hash, for 30 minutes without activity;
- put the receipt code in a URL, a cookie or a log: the receipt is the response to the POST that
  sent the report (``Cache-Control: no-store``), and the text-file download is a POST too;
- tell apart a malformed code from an unknown one: one message for both, and wrong codes are
  throttled per address and overall (``throttle.py``); a throttled request is not even checked;
- drop a report silently: a refused submission (rate limit) answers 429 with everything typed
  still in the form, says so, and is recorded as an audit event for the team;
- store the reporter's address: throttles count keyed hashes, audit events omit it;
- answer 500 to bad input: oversized bodies (413, refused before the body is read), too many
  fields or files, malformed uploads, invalid text all get a page that says what to do.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from btam.audit.models import AuditEvent, Verb
from btam.core.access import PUBLIC, policy
from btam.intake import receipt, throttle
from btam.intake.actions import (
    MAX_ATTACHMENTS,
    IntakeError,
    SchoolNotTakingReports,
    do_mark_thread_read_by_reporter,
    do_post_reporter_message,
    do_submit_report,
    find_report_by_code,
)
from btam.intake.models import Report, ReporterMessage
from btam.intake.public_forms import (
    MAX_BYTES,
    MAX_FILE_MB,
    CodeForm,
    ReplyForm,
    ReportForm,
    error_summary,
    new_submission_token,
)
from btam.lib import clock, pagecache
from btam.lib.multipart import load_multipart
from btam.orgs.models import District, School
from btam.people.search import normalize

# A report POST carries at most MAX_ATTACHMENTS files of MAX_BYTES, plus 1 MB for the text and the
# multipart framing. A larger body is refused from its Content-Length, before it is read.
MAX_POST_BYTES = MAX_ATTACHMENTS * MAX_BYTES + 1024 * 1024
# A small form (the receipt code, sign-out, the download) never needs more than this.
MAX_SMALL_POST_BYTES = 64 * 1024

SESSION_KEY = "followup_report"
FOLLOWUP_IDLE = dt.timedelta(minutes=30)
THROTTLE_TARGET_TYPE = "intake.report_throttle"
ANONYMOUS = "anonymous reporter"

T = Callable[..., HttpResponseBase]


# The crisis line ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CrisisLine:
    text: str  # as written by the district, e.g. "988" or "1-800-555-0199 (text or call)"
    tel: str  # the digits for a tel: link; empty when the text holds no number

    @classmethod
    def of(cls, district: District | None) -> CrisisLine:
        text = ((district.crisis_line if district is not None else "") or settings.BTAM_CRISIS_LINE or "").strip()
        match = re.search(r"\+?\d[\d\s().-]*\d|\d", text)
        digits = re.sub(r"[^\d+]", "", match.group(0)) if match else ""
        return cls(text=text, tel=digits)


def path_of(name: str, *args: str) -> str:
    """``reverse(name, args=args)``, remembered by the process: reversing these names took 0.13 ms
    each, three times per report. Only addresses of schools that were found are reversed, so what
    is remembered is bounded by the schools (and by the cache's size)."""
    return _address(get_script_prefix(), name, args)


@functools.lru_cache(maxsize=4096)
def _address(prefix: str, name: str, args: tuple[str, ...]) -> str:
    return reverse(name, args=args)


@receiver(setting_changed)
def _forget_addresses(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _address.cache_clear()


def public_url(path: str) -> str:
    """The address a reporter writes down: on ``BTAM_PUBLIC_BASE_URL``, like posters and emails."""
    return str(settings.BTAM_PUBLIC_BASE_URL).rstrip("/") + path


# Reading a POST safely ---------------------------------------------------------------------------
def _refusal(request: HttpRequest, status: int, *, too_large: bool) -> HttpResponse:
    return render(
        request,
        "intake/public/bad_post.html",
        {
            "too_large": too_large,
            "max_files": MAX_ATTACHMENTS,
            "max_mb": MAX_FILE_MB,
            "back": request.path,
            "crisis": CrisisLine.of(None),
        },
        status=status,
    )


class InMemoryUploads(MemoryFileUploadHandler):
    """Uploaded files stay in memory: never in a temporary file, in plain text, on disk.

    The body was capped by its declared length before reading; what arrives is capped again here.
    """

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def handle_raw_input(self, *args: Any, **kwargs: Any) -> None:
        self.activated = True

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise RequestDataTooBig("Upload larger than the form allows.")
        return super().receive_data_chunk(raw_data, start)  # type: ignore[no-any-return]


def guarded_post(max_bytes: int) -> Callable[[T], T]:
    """Check a POST's size before its body is read, parse it within Django's limits (files in
    memory only), then check the CSRF token (which the CSRF middleware would otherwise do by reading
    the body first).

    A body larger than ``max_bytes`` gets 413 unread; too many files or a body over Django's limits
    413; too many fields or a malformed body 400. Never a 500.
    """

    def decorate(view: T) -> T:
        protected = csrf_protect(view)

        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method == "POST":
                try:
                    length = int(request.META.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    length = 0
                if length > max_bytes:
                    return _refusal(request, 413, too_large=True)
                request.upload_handlers = [InMemoryUploads(request, max_bytes)]
                try:
                    if request.content_type == "application/x-www-form-urlencoded":
                        # Django would read bytes that are not UTF-8 as Latin-1 and keep garbled text.
                        request.body.decode("utf-8")
                    # Multipart (the forms with files) is parsed here, files in memory, at a
                    # fifteenth of the time Django's parser takes (btam/lib/multipart.py).
                    load_multipart(request, max_bytes=max_bytes)
                    request.POST  # noqa: B018 (parse now, inside the limits)
                    request.FILES  # noqa: B018
                except (RequestDataTooBig, TooManyFilesSent):
                    return _refusal(request, 413, too_large=True)
                except (
                    TooManyFieldsSent,
                    MultiPartParserError,
                    BadRequest,
                    UnreadablePostError,
                    UnicodeError,  # UnicodeDecodeError included
                    LookupError,  # a charset Python does not know, in Django's parser
                ):
                    return _refusal(request, 400, too_large=False)
            return protected(request, *args, **kwargs)

        return csrf_exempt(guarded)

    return decorate


# Choosing the school -----------------------------------------------------------------------------
def _active_schools() -> list[School]:
    return list(School.objects.filter(is_active=True).select_related("district").order_by("district__name", "name"))


@dataclass
class DistrictGroup:
    district: District
    crisis: CrisisLine
    schools: list[School]


def _grouped(schools: list[School]) -> list[DistrictGroup]:
    groups: dict[int, DistrictGroup] = {}
    for school in schools:
        group = groups.get(school.district_id)
        if group is None:
            group = groups[school.district_id] = DistrictGroup(school.district, CrisisLine.of(school.district), [])
        group.schools.append(school)
    return list(groups.values())


@policy(PUBLIC)
@never_cache
@require_GET
def choose_school(request: HttpRequest) -> HttpResponse:
    """Every school that takes reports, by district. ``?q=`` narrows the list (no JavaScript needed)."""
    schools = _active_schools()
    query = request.GET.get("q", "")[:100].strip()
    if query:
        words = normalize(query).split()
        schools = [s for s in schools if all(w in normalize(f"{s.name} {s.district.name}") for w in words)]
    groups = _grouped(schools)
    districts = {s.district_id for s in schools} if schools else set()
    crisis = groups[0].crisis if len(districts) == 1 else CrisisLine.of(None)
    return render(
        request,
        "intake/public/choose_school.html",
        {"groups": groups, "query": query, "crisis": crisis, "multiple_districts": len(groups) > 1},
    )


def _school_not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/public/school_not_found.html", {"crisis": CrisisLine.of(None)}, status=404)


# Finding the school of a form address. The pages read the schools from the process's memory, kept
# for SCHOOL_LOOKUP_SECONDS and dropped in this process whenever a school or district is saved or
# deleted: in the other processes a school closed, renamed or moved, or a crisis line changed, shows
# within that many seconds (as on a page loaded that long before). A POST to the form, which files a
# report, checks what decides where it goes in the database: the school still takes reports and is
# still in the same district (else the school is looked up again). A report is never taken for a
# school that no longer takes them, nor filed under its former district; its receipt may show a
# name or crisis line changed in the last few seconds.
SCHOOL_LOOKUP_SECONDS = 10
_LOOKUP_PREFIX = "intake:public:schools"


def _schools_named(school_slug: str) -> list[School]:
    """The active schools with this short name, by district name."""
    return list(
        School.objects.filter(slug=school_slug, is_active=True).select_related("district").order_by("district__name")
    )


def _school_in_district(district_slug: str, school_slug: str) -> School | None:
    return (
        School.objects.filter(district__slug=district_slug, slug=school_slug, is_active=True)
        .select_related("district")
        .first()
    )


def _remembered(key: str, lookup: Callable[[], list[School]]) -> list[School]:
    """``lookup()``, from the process's memory when it found schools in the last
    SCHOOL_LOOKUP_SECONDS (each request gets its own copy: the cache keeps pickled values). An
    address that leads nowhere is not remembered: a new school takes reports at once, and made-up
    addresses cannot crowd the rendered forms out of the cache."""
    local = caches["local"]
    found = local.get(key)
    if found is None:
        found = lookup()
        if found:
            local.set(key, found, SCHOOL_LOOKUP_SECONDS)
    return found  # type: ignore[no-any-return]


def _forget_schools(**kwargs: Any) -> None:
    """A school or district changed in this process: forget what was remembered (and the rendered
    forms, which name the school and its crisis line)."""
    caches["local"].clear()


for _model in (School, District):
    post_save.connect(_forget_schools, sender=_model, dispatch_uid=f"intake-public-forget-{_model.__name__}-saved")
    post_delete.connect(_forget_schools, sender=_model, dispatch_uid=f"intake-public-forget-{_model.__name__}-deleted")
del _model


@policy(PUBLIC)
@guarded_post(MAX_POST_BYTES)
@never_cache
@require_http_methods(["GET", "POST"])
def school_form(request: HttpRequest, school_slug: str) -> HttpResponse:
    """``/report/<school>/`` (posters): the form when the short name is one active school's, else
    a choice between the schools of several districts that share it."""
    if request.method == "POST":
        matches = _schools_named(school_slug)
    else:
        matches = _remembered(f"{_LOOKUP_PREFIX}:{school_slug}", lambda: _schools_named(school_slug))
    if not matches:
        return _school_not_found(request)
    if len(matches) > 1:
        return render(
            request,
            "intake/public/choose_among.html",
            {"groups": _grouped(matches), "crisis": CrisisLine.of(None)},
        )
    try:
        return _report_form(request, matches[0])
    except SchoolNotTakingReports:  # closed between the lookup and the report: nothing stored
        return _school_not_found(request)


@policy(PUBLIC)
@guarded_post(MAX_POST_BYTES)
@never_cache
@require_http_methods(["GET", "POST"])
def district_school_form(request: HttpRequest, district_slug: str, school_slug: str) -> HttpResponse:
    found = _remembered(
        f"{_LOOKUP_PREFIX}:{district_slug}/{school_slug}",
        lambda: [s for s in [_school_in_district(district_slug, school_slug)] if s is not None],
    )
    school = found[0] if found else None
    if school is None:
        return _school_not_found(request)
    try:
        return _report_form(request, school)
    except SchoolNotTakingReports:
        # Closed or moved since this process remembered it (the report action checks that in the
        # database, with the report): nothing was stored. Looked up again: a school moved to
        # another district is not found at this address; one whose remembered details were only
        # out of date takes the report.
        caches["local"].delete(f"{_LOOKUP_PREFIX}:{district_slug}/{school_slug}")
        school = _school_in_district(district_slug, school_slug)
        if school is None:
            return _school_not_found(request)
        try:
            return _report_form(request, school)
        except SchoolNotTakingReports:
            return _school_not_found(request)


# The report form ---------------------------------------------------------------------------------
def _page_key(school: School, crisis: CrisisLine, *addresses: str) -> str:
    """What a kept public page shows besides fixed text and its holes (see btam.lib.pagecache): the
    school, its name, the crisis line, and the addresses and limits it shows."""
    return "\x1f".join([str(school.pk), school.name, crisis.text, crisis.tel, *addresses])


def _form_page(
    request: HttpRequest, school: School, form: ReportForm | None, *, status: int = 200, **extra: Any
) -> HttpResponse:
    """The form page; ``form=None`` for a new, empty form (the page of a GET)."""
    crisis = CrisisLine.of(school.district)
    action = path_of("report:school_in_district", school.district.slug, school.slug)
    context: dict[str, Any] = {
        "school": school,
        "crisis": crisis,
        "action": action,
        "max_files": MAX_ATTACHMENTS,
        "max_mb": MAX_FILE_MB,
    }
    if form is None:
        # The same page for every anonymous visitor but for the two tokens: kept rendered (see
        # btam.lib.pagecache). The form itself is only made when the page has to be rendered.
        token = new_submission_token()
        context["form"] = SimpleLazyObject(lambda: ReportForm(initial={"submission_token": token}))
        context["fresh"] = True
        context["errors"] = []
        context.update(extra)
        key = _page_key(school, crisis, action, str(MAX_ATTACHMENTS), str(MAX_FILE_MB), repr(sorted(extra.items())))
        return pagecache.render(
            request,
            "intake/public/report_form.html",
            context,
            key=key,
            holes={"submission_token": token},
            status=status,
        )
    context["form"] = form
    context["errors"] = error_summary(form) if form.is_bound else []
    context.update(extra)
    return render(request, "intake/public/report_form.html", context, status=status)


def _record_refusal(kind: str, address: str, school: School, limit: throttle.Limit) -> None:
    if not throttle.report_refusal_is_first(kind, address, school.pk):
        return
    AuditEvent.objects.record(
        actor=None,
        actor_label=ANONYMOUS,
        verb=Verb.ACCESS_DENIED,
        target_type=THROTTLE_TARGET_TYPE,
        district_id=school.district_id,
        detail={"school": school.pk, "limit": kind, "max": limit.limit, "window_minutes": limit.window_minutes},
        omit_ip=True,
    )


def _already_received(token: str) -> bool:
    """Whether a report was already made from the form carrying this one-time token."""
    if not token:
        return False
    return Report.objects.filter(submission_key=receipt.keyed_hash(token, purpose="submission")).exists()


def _report_form(request: HttpRequest, school: School) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, school, None)
    files_chosen = bool(request.FILES)
    address = throttle.client_address(request)
    refused = throttle.report_limit_reached(address, school.pk)
    if refused is not None and _already_received(request.POST.get("submission_token", "")[:64]):
        # A resend of a report that was taken (a refresh of the receipt): not a new report to refuse.
        return render(
            request, "intake/public/already_received.html", {"school": school, "crisis": CrisisLine.of(school.district)}
        )
    if refused is not None:
        kind, limit = refused
        _record_refusal(kind, address, school, limit)
        # Shown again as typed, without checking it (nothing is stored; files must be chosen again).
        typed = ReportForm(initial={name: request.POST.get(name) for name in ReportForm().fields})
        return _form_page(request, school, typed, status=429, throttled=kind, files_dropped=files_chosen)
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_page(request, school, form, status=400, files_dropped=files_chosen)
    try:
        submitted = do_submit_report(new=form.new_report(school), actor=None)
    except SchoolNotTakingReports:
        raise  # the caller looks the school up again
    except IntakeError as exc:
        form.add_error(None, str(exc))
        return _form_page(request, school, form, status=400, files_dropped=files_chosen)
    crisis = CrisisLine.of(school.district)
    if submitted.resubmitted:
        return render(request, "intake/public/already_received.html", {"school": school, "crisis": crisis})
    throttle.report_submitted(address, school.pk)
    followup_url = public_url(path_of("report:followup"))
    again = path_of("report:school_in_district", school.district.slug, school.slug)
    code = submitted.receipt_code
    assert code is not None  # a public report always has one
    return pagecache.render(
        request,
        "intake/public/receipt.html",
        {"school": school, "crisis": crisis, "followup_url": followup_url},
        key=_page_key(school, crisis, followup_url, again),
        holes={"code": code},
    )


@policy(PUBLIC)
@guarded_post(MAX_SMALL_POST_BYTES)
@never_cache
@require_POST
def receipt_download(request: HttpRequest) -> HttpResponse:
    """The receipt code as a small text file (posted back from the receipt page).

    Only a well-formed code of an existing report is answered; it is throttled like the follow-up
    form, so it cannot be used to test codes.
    """
    address = throttle.client_address(request)
    if throttle.followup_blocked(address):
        return _followup_throttled(request)
    typed = request.POST.get("code", "")[:100]
    canonical = receipt.normalize(typed)
    report = find_report_by_code(canonical) if canonical is not None else None
    if report is None or canonical is None:
        throttle.followup_failed(address)
        return render(request, "400.html", {"error_page": True}, status=400)
    crisis = CrisisLine.of(report.district)
    lines = [
        _("%(site)s: the receipt of your report") % {"site": settings.BTAM_SITE_NAME},
        "",
        _("Your receipt code: %(code)s") % {"code": receipt.format_code(canonical)},
        "",
        _("Keep this code secret and safe. Nobody at school can look it up for you."),
        _("To read messages from the school team, or to add something to your report, go to:"),
        public_url(reverse("report:followup")),
        _("and enter the code."),
        "",
        _("If someone is in danger right now, call 911."),
    ]
    if crisis.text:
        lines.append(_("Crisis line: %(line)s") % {"line": crisis.text})
    response = HttpResponse("\r\n".join(lines) + "\r\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="report-receipt.txt"'
    return response


# Follow-up with the receipt code -----------------------------------------------------------------
def wrong_code_message() -> str:
    """The one answer to a code that opens nothing, malformed or unknown alike."""
    return _("We could not find a report with that code. Check the code and try again.")


def _binding(report: Report) -> str:
    """Ties the session to the report *and* its receipt: the id alone opens nothing."""
    return receipt.keyed_hash(f"{report.pk}:{report.receipt_hash}", purpose="followup-session")


def _open_thread(request: HttpRequest, report: Report) -> None:
    request.session.cycle_key()  # a new session id once the code is proven (no fixation)
    request.session[SESSION_KEY] = {
        "report": report.pk,
        "binding": _binding(report),
        "seen": clock.now().timestamp(),
    }


def _close_thread(request: HttpRequest) -> None:
    if SESSION_KEY in request.session:
        del request.session[SESSION_KEY]
        request.session.cycle_key()


def _thread_report(request: HttpRequest) -> tuple[Report | None, bool]:
    """(the report this session proved the code of, whether an earlier one expired)."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None, False
    pk, binding, seen = data.get("report"), data.get("binding"), data.get("seen")
    if not isinstance(pk, int) or not isinstance(binding, str) or not isinstance(seen, int | float):
        _close_thread(request)
        return None, False
    now = clock.now().timestamp()
    if now - seen > FOLLOWUP_IDLE.total_seconds():
        _close_thread(request)
        return None, True
    report = Report.objects.select_related("district").filter(pk=pk, receipt_hash__isnull=False).first()
    if report is None or not hmac.compare_digest(binding, _binding(report)):
        _close_thread(request)
        return None, False
    request.session[SESSION_KEY] = {**data, "seen": now}
    return report, False


def _followup_throttled(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "intake/public/followup_throttled.html",
        {"crisis": CrisisLine.of(None), "minutes": throttle.FOLLOWUP_FAILURES_PER_ADDRESS.window_minutes},
        status=429,
    )


@policy(PUBLIC)
@guarded_post(MAX_SMALL_POST_BYTES)
@never_cache
@require_http_methods(["GET", "POST"])
def followup(request: HttpRequest) -> HttpResponse:
    """The code form. A correct code opens the thread (in the session) and redirects to it."""
    if request.method == "POST":
        address = throttle.client_address(request)
        if throttle.followup_blocked(address):
            return _followup_throttled(request)
        form = CodeForm(request.POST)
        if form.is_valid():
            report = find_report_by_code(form.cleaned_data["code"])
            if report is not None:
                _open_thread(request, report)
                AuditEvent.objects.record(
                    actor=None,
                    actor_label=ANONYMOUS,
                    verb=Verb.VIEWED,
                    target=report,
                    detail={"via": "receipt code"},
                    omit_ip=True,
                )
                return redirect("report:followup_thread")
            throttle.followup_failed(address)
            form.add_error("code", wrong_code_message())
        return _followup_page(request, form, status=400)
    current, _expired = _thread_report(request)
    return _followup_page(request, CodeForm(), signed_in=current is not None)


def _followup_page(request: HttpRequest, form: CodeForm, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "form": form,
        "errors": error_summary(form) if form.is_bound else [],
        "crisis": CrisisLine.of(None),
        **extra,
    }
    return render(request, "intake/public/followup.html", context, status=status)


@policy(PUBLIC)
@guarded_post(MAX_POST_BYTES)
@never_cache
@require_http_methods(["GET", "POST"])
def followup_thread(request: HttpRequest) -> HttpResponse:
    """The thread of the report whose code this session proved: status, messages, a reply form."""
    report, expired = _thread_report(request)
    if report is None:
        if request.method == "POST":
            # The reply could not be sent: give its text back so that nothing typed is lost.
            draft = request.POST.get("body", "")[:20_000]
            return _followup_page(
                request, CodeForm(), status=403, expired=expired, draft=draft, files_dropped=bool(request.FILES)
            )
        if expired:
            messages.info(request, _("For your safety, you were signed out after 30 minutes without activity."))
        return redirect("report:followup")
    files_dropped = False
    status = 200
    throttled = False
    if request.method == "POST":
        files_dropped = bool(request.FILES)
        address = throttle.client_address(request)
        if throttle.reply_blocked(address):
            form = ReplyForm(initial={"body": request.POST.get("body", "")})
            status, throttled = 429, True
        else:
            form = ReplyForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    do_post_reporter_message(
                        report=report, body=form.cleaned_data["body"], attachments=form.cleaned_data["attachments"]
                    )
                except IntakeError as exc:
                    form.add_error(None, str(exc))
                else:
                    throttle.reply_sent(address)
                    messages.success(request, _("Your message was sent to the school team."))
                    return redirect("report:followup_thread")
            status = 400
    else:
        form = ReplyForm()
    thread = list(
        ReporterMessage.objects.filter(report=report).prefetch_related("attachments").order_by("created_at", "pk")
    )
    if request.method == "GET":
        do_mark_thread_read_by_reporter(report=report)
    return render(
        request,
        "intake/public/thread.html",
        {
            "report": report,
            "status_text": report.public_status.label,
            "thread": thread,
            "form": form,
            "errors": error_summary(form) if form.is_bound else [],
            "crisis": CrisisLine.of(report.district),
            "files_dropped": files_dropped,
            "throttled": throttled,
            "max_files": MAX_ATTACHMENTS,
            "max_mb": MAX_FILE_MB,
            "idle_minutes": int(FOLLOWUP_IDLE.total_seconds() // 60),
        },
        status=status,
    )


@policy(PUBLIC)
@guarded_post(MAX_SMALL_POST_BYTES)
@never_cache
@require_POST
def followup_sign_out(request: HttpRequest) -> HttpResponse:
    _close_thread(request)
    messages.info(request, _("You are signed out of the report. Your code still works: keep it safe."))
    return redirect("report:followup")
