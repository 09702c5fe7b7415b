"""The people registry: search, a person's page, and merging two records of one person.

No student data in URLs: the search is a POST form (names go in the body, with the CSRF token),
its pages are POSTs too, and a person's page is addressed by its number only. Every page that
shows a person's data records a VIEWED event: the person's page targets the person; a list of
results targets ``people.search`` with the number of results, the query's kind (name or id) and
the filters, never the query text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import reswap, retarget

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.core.access import policy, roles
from btam.lib import clock
from btam.people import access
from btam.people.actions import MergeError, do_merge_people, do_undo_merge
from btam.people.forms import DuplicateSearchForm, PersonSearchForm, ReasonForm
from btam.people.models import Demographics, Enrollment, GuardianLink, Person, PersonMerge, SourceStatus
from btam.people.search import PAGE_SIZE, SearchResults, search_people

SEARCH_TARGET_TYPE = "people.search"
MERGE_LIST_TARGET_TYPE = "people.merges"
MERGES_PAGE_SIZE = 50

SEARCH_POLICY = roles(*access.SEARCH_ROLES, label="people")
MERGE_POLICY = roles(*access.MERGE_ROLES, label="people merge")

# Labels of the OneRoster demographics fields; other keys are shown as they come.
DEMOGRAPHIC_LABELS: dict[str, Any] = {
    "sex": gettext_lazy("Sex"),
    "americanIndianOrAlaskaNative": gettext_lazy("American Indian or Alaska Native"),
    "asian": gettext_lazy("Asian"),
    "blackOrAfricanAmerican": gettext_lazy("Black or African American"),
    "nativeHawaiianOrOtherPacificIslander": gettext_lazy("Native Hawaiian or other Pacific Islander"),
    "white": gettext_lazy("White"),
    "demographicRaceTwoOrMoreRaces": gettext_lazy("Two or more races"),
    "hispanicOrLatinoEthnicity": gettext_lazy("Hispanic or Latino"),
    "countryOfBirthCode": gettext_lazy("Country of birth"),
    "stateOfBirthAbbreviation": gettext_lazy("State of birth"),
    "cityOfBirth": gettext_lazy("City of birth"),
    "publicSchoolResidenceStatus": gettext_lazy("Public school residence status"),
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _district_of(user: User, roles_: frozenset[str]) -> int | None:
    """The district to file a record under when the user works in exactly one."""
    ids = user.district_ids(*roles_)
    return next(iter(ids)) if len(ids) == 1 else None


# Rows of a results list ---------------------------------------------------------------------
@dataclass
class PersonRow:
    person: Person
    name: str  # preferred names when given
    legal_name: str  # shown in brackets when different
    schools: list[str] = field(default_factory=list)
    # Ready for the results table (a list renders 25 of them: no URL reversing, lazy translation
    # or filter per row in the template).
    url: str = ""  # the person's page
    kind: str = ""  # translated
    grade: str = "—"
    school_list: str = "—"  # the schools, comma-separated
    active: bool = True

    @property
    def identifier(self) -> str:
        p = self.person
        return p.local_id or p.state_id or p.username or p.source_id


def legal_name(person: Person) -> str:
    return f"{person.given_name} {person.family_name}".strip()


def _detail_url_maker() -> Callable[[int], str]:
    """``pk -> reverse("people:detail", args=[pk])``, reversing once (reversing takes ~50 µs)."""
    marker = "7364019285"
    before, _sep, after = reverse("people:detail", args=[int(marker)]).rpartition(marker)
    return lambda pk: f"{before}{pk}{after}"


def person_rows(people: list[Person]) -> list[PersonRow]:
    """Rows for a results list, with each person's current schools (one query for them all)."""
    if not people:
        return []
    today = clock.now().date()
    current = (
        Enrollment.objects.filter(person_id__in=[p.pk for p in people], status=SourceStatus.ACTIVE)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values_list("person_id", "school__name", "org_source_id")
        .distinct()
    )
    schools: dict[int, set[str]] = defaultdict(set)
    for person_id, school_name, org in current:
        schools[person_id].add(school_name or org)
    kinds = {value: str(label) for value, label in Person.Kind.choices}  # get_kind_display, once per kind
    url = _detail_url_maker()
    rows = []
    for p in people:
        names = sorted(schools[p.pk])
        rows.append(
            PersonRow(
                person=p,
                name=p.display_name,
                legal_name=legal_name(p),
                schools=names,
                url=url(p.pk),
                kind=kinds.get(p.kind, p.kind),
                grade=p.grade or "—",
                school_list=", ".join(names) or "—",
                active=p.status == SourceStatus.ACTIVE,
            )
        )
    return rows


def _record_list(
    request: HttpRequest, *, results: SearchResults, rows: list[PersonRow], district_id: int | None, **detail: Any
) -> None:
    AuditEvent.objects.record(
        actor=_user(request),
        verb=Verb.VIEWED,
        target_type=SEARCH_TARGET_TYPE,
        district_id=district_id,
        detail={
            "result_count": len(rows),
            "kind": results.kind,
            "page": results.offset // PAGE_SIZE + 1,
            "person_ids": [r.person.pk for r in rows],
            **detail,
        },
    )


# Search ------------------------------------------------------------------------------------
@policy(SEARCH_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """GET: the empty form. POST: the results.

    With htmx, a valid search swaps only the results (the form stays as it is); a search with
    errors, or the first one after errors were shown, swaps the whole panel. Without JS, the page.
    """
    user = _user(request)
    form = PersonSearchForm(request.POST if request.method == "POST" else None, user=user)
    results: SearchResults | None = None
    rows: list[PersonRow] = []
    if form.is_bound and form.is_valid():
        results = form.search(Person.objects.visible_to(user))
        rows = person_rows(results.people)
        _record_list(
            request,
            results=results,
            rows=rows,
            district_id=_district_of(user, access.SEARCH_ROLES),
            filters=form.filters(),
        )
    context = {"form": form, "results": results, "rows": rows, "page": form.page_number if results else 1}
    if not getattr(request, "htmx", False):
        return render(request, "people/search.html", context)
    if results is not None and not request.POST.get("errors_shown"):
        return render(request, "people/partials/_results.html", context)
    response = render(request, "people/partials/_search_panel.html", context)
    return reswap(retarget(response, "#people-search"), "outerHTML")


# A person's page ---------------------------------------------------------------------------
@dataclass
class SchoolSpan:
    """A person's time at one school in one role, from its enrolments (one per class in OneRoster)."""

    school: str
    role: str
    begin: Any = None
    end: Any = None
    current: bool = False
    enrollments: list[Enrollment] = field(default_factory=list)


def school_history(enrollments: list[Enrollment]) -> list[SchoolSpan]:
    today = clock.now().date()
    spans: dict[tuple[str, str], SchoolSpan] = {}
    for e in enrollments:
        name = e.school.name if e.school else e.org_source_id
        span = spans.setdefault((name, e.role), SchoolSpan(school=name, role=e.role))
        span.enrollments.append(e)
        if e.begin_date and (span.begin is None or e.begin_date < span.begin):
            span.begin = e.begin_date
        is_current = e.status == SourceStatus.ACTIVE and (e.end_date is None or e.end_date >= today)
        span.current = span.current or is_current
    for span in spans.values():
        ends = [e.end_date for e in span.enrollments]
        span.end = None if span.current or None in ends else max(d for d in ends if d is not None)
    return sorted(spans.values(), key=lambda s: (not s.current, -(s.begin.toordinal() if s.begin else 0), s.school))


@dataclass
class RelatedRecord:
    """A report or a case about the person, for the "Reports and cases" section.

    Later issues (intake reports, cases) add theirs in :func:`reports_and_cases`: every record of
    the district about this person or any record merged into it, across schools and years,
    filtered by what the user may see.
    """

    kind: str
    title: str
    school: str
    date: Any
    status: str
    url: str
    # How the record is connected: linked to this record, or naming someone with the same name.
    note: str = ""


def _name_keys(people: list[Person]) -> set[str]:
    """Keyed hashes of every way these records name the person (legal and preferred, with and
    without the middle name), as intake stores the names a report gives."""
    from btam.intake.features import name_key

    keys: set[str] = set()
    for p in people:
        givens = {p.given_name, p.preferred_given_name} - {""}
        families = {p.family_name, p.preferred_family_name} - {""}
        middles = {"", p.middle_name, p.preferred_middle_name}
        for given in givens:
            for family in families:
                for middle in middles:
                    key = name_key(" ".join(part for part in (given, middle, family) if part))
                    if key:
                        keys.add(key)
    return keys


def reports_and_cases(user: User, person: Person) -> list[RelatedRecord]:
    """Reports about the person (or a record merged into it) that the user's team may see: linked
    to the record by a staff referral, or naming someone with one of the person's names; and the
    cases the user may see where the person (or a merged record) is on the case, with their role
    (the case's number, stage and school only: its content is read, and audited, on the case)."""
    from btam.cases.models import Case, CaseParticipant
    from btam.intake.models import InvolvedPerson, Report

    records = [person, *Person.objects.filter(merged_into=person)]
    ids = [p.pk for p in records]
    mentions = (
        InvolvedPerson.objects.filter(report__district_id=person.district_id)
        .filter(Q(person_id__in=ids) | Q(name_key__in=_name_keys(records)))
        .filter(report__in=Report.objects.visible_to(user))
        .select_related("report__school")
        .order_by("-report__created_at", "pk")
    )
    seen: dict[int, RelatedRecord] = {}
    for mention in mentions[:200]:
        report = mention.report
        linked = mention.person_id in ids
        if report.pk in seen and not linked:
            continue
        seen[report.pk] = RelatedRecord(
            kind=_("Report"),
            title=f"{report.reference} ({mention.get_role_display()})",
            school=report.school.name,
            date=report.created_at,
            status=report.get_status_display(),
            url=reverse("intake:report", args=[report.pk]),
            note=_("Linked to this record") if linked else _("Names someone with this name"),
        )
    records_found = list(seen.values())
    # One query: the person's places on cases the user may see (the scope is a subquery).
    on_cases = (
        CaseParticipant.objects.filter(person_id__in=ids, removed_at__isnull=True)
        .filter(case__in=Case.objects.visible_to(user))
        .select_related("case__school")
        .order_by("-case__opened_at", "case_id", "role", "pk")
    )
    cases: dict[int, tuple[Case, list[str]]] = {}
    for place in on_cases[:200]:
        case, roles_ = cases.setdefault(place.case_id, (place.case, []))
        role = place.get_role_display()
        if role not in roles_:
            roles_.append(role)
    for case, roles_ in cases.values():
        records_found.append(
            RelatedRecord(
                kind=_("Case"),
                title=f"{case.number} ({', '.join(roles_)})",
                school=case.school.name,
                date=case.opened_at,
                status=case.get_status_display(),
                url=reverse("cases:detail", args=[case.pk]),
            )
        )
    return sorted(records_found, key=lambda r: r.date, reverse=True)


@policy(SEARCH_POLICY)
@never_cache
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    person = access.get_person_for_user(user, pk)
    enrollments = list(person.enrollments.select_related("school").order_by("-begin_date", "-pk"))
    visible = Person.objects.visible_to(user).canonical()
    guardians = list(
        GuardianLink.objects.filter(student=person, guardian__in=visible)
        .select_related("guardian")
        .order_by("guardian__family_name", "guardian__given_name")
    )
    guardian_of = list(
        GuardianLink.objects.filter(guardian=person, student__in=visible)
        .select_related("student")
        .order_by("student__family_name", "student__given_name")
    )
    demographics = None
    show_demographics = person.district.store_demographics and access.can_see_demographics(user, person.district_id)
    if show_demographics:
        record = Demographics.objects.filter(person=person).first()
        if record is not None and record.data:
            demographics = [(DEMOGRAPHIC_LABELS.get(k, k), v) for k, v in sorted(record.data.items())]
    merges = list(
        PersonMerge.objects.filter(Q(survivor=person) | Q(merged=person))
        .select_related("survivor", "merged", "merged_by", "undone_by")
        .order_by("-merged_at", "-pk")
    )
    can_merge = access.can_merge(user, person.district_id)
    AuditEvent.objects.record(actor=user, verb=Verb.VIEWED, target=person)
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "legal_name": legal_name(person),
            "schools": school_history(enrollments),
            "enrollments": enrollments,
            "guardians": guardians,
            "guardian_of": guardian_of,
            "demographics": demographics,
            "merges": merges,
            "can_merge": can_merge and person.merged_into_id is None,
            "can_undo": can_merge,
            "reports_and_cases": reports_and_cases(user, person),
        },
    )


# Merging -----------------------------------------------------------------------------------
def _mergeable(user: User, pk: int) -> Person:
    """A record the user may merge: visible (else 404), in a district where they merge (else 403)."""
    person = access.get_person_for_user(user, pk)
    if not access.can_merge(user, person.district_id):
        raise PermissionDenied
    return person


@policy(MERGE_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def merge_pick(request: HttpRequest, pk: int) -> HttpResponse:
    """Find the duplicate of ``pk`` among the same district's records."""
    user = _user(request)
    person = _mergeable(user, pk)
    form = DuplicateSearchForm(request.POST if request.method == "POST" else None)
    rows: list[PersonRow] = []
    results = None
    if person.merged_into_id is None and form.is_bound and form.is_valid():
        candidates = Person.objects.visible_to(user).filter(district_id=person.district_id).exclude(pk=person.pk)
        results = search_people(candidates, form.cleaned_data["q"], include_inactive=True)
        rows = person_rows(results.people)
        _record_list(
            request, results=results, rows=rows, district_id=person.district_id, purpose="merge", person_id=person.pk
        )
    return render(
        request,
        "people/merge_pick.html",
        {"person": person, "legal_name": legal_name(person), "form": form, "results": results, "rows": rows},
    )


def _side(person: Person) -> dict[str, Any]:
    enrollments = list(person.enrollments.select_related("school").order_by("-begin_date", "-pk"))
    return {
        "person": person,
        "legal_name": legal_name(person),
        "schools": school_history(enrollments),
        "guardian_count": GuardianLink.objects.filter(Q(student=person) | Q(guardian=person)).count(),
        "has_demographics": Demographics.objects.filter(person=person).exists(),
    }


@policy(MERGE_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def merge_confirm(request: HttpRequest, pk: int, duplicate_pk: int) -> HttpResponse:
    """Both records side by side; the duplicate (right) is merged into the record kept (left)."""
    user = _user(request)
    survivor = _mergeable(user, pk)
    duplicate = _mergeable(user, duplicate_pk)
    if survivor.district_id != duplicate.district_id or survivor.pk == duplicate.pk:
        raise Http404
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            do_merge_people(actor=user, survivor=survivor, merged=duplicate, reason=form.cleaned_data["reason"])
        except MergeError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Merged. The duplicate's records now belong to this person; the merge can be undone."),
            )
            return redirect("people:detail", pk=survivor.pk)
    for person in (survivor, duplicate):
        AuditEvent.objects.record(actor=user, verb=Verb.VIEWED, target=person, detail={"page": "merge_confirm"})
    return render(
        request,
        "people/merge_confirm.html",
        {
            "form": form,
            "keep": _side(survivor),
            "duplicate": _side(duplicate),
            "blocked": survivor.merged_into_id is not None or duplicate.merged_into_id is not None,
        },
    )


@policy(MERGE_POLICY)
@never_cache
@require_GET
def merge_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    merges = access.scope_merges(PersonMerge.objects.all(), user).select_related(
        "survivor", "merged", "merged_by", "undone_by"
    )
    page = Paginator(merges.order_by("-merged_at", "-pk"), MERGES_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    person_ids = sorted({m.survivor_id for m in shown} | {m.merged_id for m in shown})
    AuditEvent.objects.record(
        actor=user,
        verb=Verb.VIEWED,
        target_type=MERGE_LIST_TARGET_TYPE,
        district_id=_district_of(user, access.MERGE_ROLES),
        detail={"result_count": len(shown), "page": page.number, "person_ids": person_ids},
    )
    return render(request, "people/merge_list.html", {"page": page, "merges": shown})


@policy(MERGE_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    merge = (
        access.scope_merges(PersonMerge.objects.all(), user)
        .select_related("survivor", "merged", "merged_by", "undone_by")
        .filter(pk=pk)
        .first()
    )
    if merge is None:
        raise Http404
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if merge.undone_at is None and form.is_bound and form.is_valid():
        try:
            do_undo_merge(actor=user, merge=merge, reason=form.cleaned_data["reason"])
        except MergeError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The merge was undone: the two records are separate again."))
            return redirect("people:detail", pk=merge.merged_id)
    AuditEvent.objects.record(
        actor=user,
        verb=Verb.VIEWED,
        target=merge,
        detail={"survivor_id": merge.survivor_id, "merged_id": merge.merged_id},
    )
    moved: dict[str, Any] = merge.moved or {}
    return render(
        request,
        "people/merge_undo.html",
        {
            "merge": merge,
            "form": form,
            "moved_enrollments": len(moved.get("enrollments", [])),
            "moved_links": len(moved.get("guardian_links_as_guardian", []))
            + len(moved.get("guardian_links_as_student", [])),
            "moved_demographics": moved.get("demographics") is not None,
        },
    )
