"""Staff referrals: a signed-in staff member refers a student of their school to its team, and
follows the plain status of their own referrals.

A referral is a report like any other, made by the one intake action every channel calls,
:func:`btam.intake.actions.do_submit_report`, with ``channel=Channel.STAFF``, no receipt code
(the staff member follows it here, signed in) and ``actor`` the user. The other channels call it
the same way, each from its own thin adapter that turns its input into a ``NewReport``:

- the public web form (``public_views.py``): ``channel=Channel.WEB``, ``with_receipt=True``,
  ``actor=None`` (anonymous: no address is recorded);
- an API endpoint (a later ``/api/v1/reports``): authenticate the client's service account, check
  the school is one of its district's, validate the JSON against the schema, then
  ``do_submit_report(new=NewReport(school=..., narrative=..., channel=Channel.API, ...),
  actor=service_account)``; ``with_receipt=True`` when the client shows the code to a reporter;
  its ``submission_token`` is the client's idempotency key, so a retried request is the same report;
- a forwarded tip line (a state line that emails or posts tips): the adapter parses the tip into a
  ``NewReport`` with ``channel=Channel.TIP_LINE``, ``with_receipt=False`` (the tip line has its own
  follow-up), the tip's id as ``submission_token`` (a tip forwarded twice is one report), and
  ``actor`` the account of the integration.

Whatever the channel, the report, its people, links and files commit in one transaction, then the
outbox groups it (surge) and tells the team; urgency comes from the same answers.

Referring staff see the people enrolled at their schools only (``Person.objects.visible_to``), and
the person chosen is checked again on the server. They see their own referrals' status, in the
plain words a reporter gets, and nothing of other reports.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.core.access import policy, roles
from btam.intake.access import REFERRAL_ROLES, scope_own_referrals
from btam.intake.actions import IntakeError, NamedPerson, NewReport, do_submit_report
from btam.intake.models import Channel, InvolvedPerson, Report, ReporterRole
from btam.intake.triage_forms import PersonSearchForm, ReferralForm
from btam.people.access import SEARCH_ROLES
from btam.people.models import Person
from btam.people.search import SearchResults, normalize, search_people
from btam.people.views import PersonRow, person_rows

REFERRAL_POLICY = roles(*REFERRAL_ROLES, label="referral")
REFERRALS_PAGE_SIZE = 50
PERSON_RESULTS = 10
SEARCH_TARGET_TYPE = "people.search"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@policy(REFERRAL_POLICY)
@never_cache
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    """The user's own referrals: date, school and plain status. Never anyone else's."""
    user = _user(request)
    reports = scope_own_referrals(Report.objects.all(), user).select_related("school").order_by("-created_at", "-pk")
    page = Paginator(reports, REFERRALS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "intake/referral/list.html", {"page": page})


# The person search inside the form ----------------------------------------------------------------
def _search(request: HttpRequest, query: str) -> tuple[SearchResults | None, list[PersonRow]]:
    """Search the registry as the user may see it (referring staff: their schools' people), and
    record which people were listed (never the query text)."""
    user = _user(request)
    if len(normalize(query).replace(" ", "")) < 2:
        return None, []
    results = search_people(Person.objects.visible_to(user), query, limit=PERSON_RESULTS)
    rows = person_rows(results.people)
    # One event per district whose people were listed, with those people (district auditors filter
    # by district); a search that listed nobody is filed under each district the user searched.
    listed: dict[int | None, list[int]] = {}
    for row in rows:
        listed.setdefault(row.person.district_id, []).append(row.person.pk)
    searched = sorted(listed, key=lambda d: d or 0) or sorted(user.district_ids(*REFERRAL_ROLES, *SEARCH_ROLES))
    for district_id in searched or [None]:
        AuditEvent.objects.record(
            actor=user,
            verb=Verb.VIEWED,
            target_type=SEARCH_TARGET_TYPE,
            district_id=district_id,
            detail={
                "purpose": "referral",
                "result_count": len(rows),
                "kind": results.kind,
                "person_ids": listed.get(district_id, []),
            },
        )
    return results, rows


def _chosen(user: User, raw: Any) -> Person | None:
    """The person picked so far (only one the user may see)."""
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return Person.objects.visible_to(user).canonical().filter(pk=pk).first()


@policy(REFERRAL_POLICY)
@never_cache
@require_POST
def referral_people(request: HttpRequest) -> HttpResponse:
    """htmx: the search results inside the referral form (a POST: a name never goes in a URL)."""
    user = _user(request)
    search = PersonSearchForm(request.POST)
    query = search.cleaned_data.get("q", "") if search.is_valid() else ""
    results, rows = _search(request, query)
    return render(
        request,
        "intake/referral/partials/_person_results.html",
        {
            "search": search,
            "results": results,
            "rows": rows,
            "searched": True,
            "chosen": _chosen(user, request.POST.get("person")),
        },
    )


# The referral form --------------------------------------------------------------------------------
def _as_initial(form_class: type[ReferralForm], data: Any) -> dict[str, Any]:
    """The posted values as the initial values of an unbound form (re-shown after a search without
    JavaScript, without flagging the fields not filled in yet)."""
    initial: dict[str, Any] = {}
    for name in form_class.base_fields:
        if name == "observed_behaviours":
            initial[name] = data.getlist(name)
        elif name in data:
            initial[name] = data.get(name)
    return initial


@policy(REFERRAL_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest) -> HttpResponse:
    """The referral form. Its person search works with htmx (results swap in place) and without
    JavaScript (the search button posts the whole form, which comes back filled in, with results)."""
    user = _user(request)
    search = PersonSearchForm(request.POST if request.method == "POST" else None)
    results: SearchResults | None = None
    rows: list[PersonRow] = []
    searched = False
    status = 200
    if request.method == "POST" and "search" in request.POST:
        form = ReferralForm(initial=_as_initial(ReferralForm, request.POST), user=user)
        query = search.cleaned_data.get("q", "") if search.is_valid() else ""
        results, rows = _search(request, query)
        searched = True
    elif request.method == "POST":
        form = ReferralForm(request.POST, user=user)
        if form.is_valid():
            try:
                report = _submit(user, form)
            except IntakeError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "Thank you. Your referral (%(reference)s) was sent to the team of %(school)s. "
                        "Its status is below."
                    )
                    % {"reference": report.reference, "school": report.school.name},
                )
                return redirect("intake:referrals")
        status = 400
    else:
        form = ReferralForm(user=user)
    return render(
        request,
        "intake/referral/new.html",
        {
            "form": form,
            "search": search,
            "results": results,
            "rows": rows,
            "searched": searched,
            "chosen": _chosen(user, request.POST.get("person")) if request.method == "POST" else None,
            "no_schools": not form.fields["school"].queryset.exists(),  # type: ignore[attr-defined]
        },
        status=status,
    )


def _submit(user: User, form: ReferralForm) -> Report:
    data = form.cleaned_data
    person = form.chosen_person
    if person is not None:
        subject = NamedPerson(name=person.display_name, role=InvolvedPerson.Role.SUBJECT, person_id=person.pk)
    else:
        subject = NamedPerson(name=data["subject_name"].strip(), role=InvolvedPerson.Role.SUBJECT)
    new = NewReport(
        school=data["school"],
        narrative=data["narrative"],
        channel=Channel.STAFF,
        danger_now=bool(data.get("danger_now")),
        weapon=data["weapon"],
        self_harm=data["self_harm"],
        threat_date=data.get("threat_date"),
        location=data.get("location", ""),
        occurred=data.get("occurred", ""),
        people=[subject],
        reporter_role=ReporterRole.STAFF,
        observed_behaviours=list(data.get("observed_behaviours") or []),
        prior_concerns=data.get("prior_concerns", ""),
        submission_token=data["token"],
        with_receipt=False,
    )
    return do_submit_report(new=new, actor=user).report
