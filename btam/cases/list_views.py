"""The case list: filters, sorting, search, pages of 25, saved filters.

* ``GET /cases/?stage=…&school=…&page=…``: the list with the filters of the query string (they
  hold no student data, so they may sit in the address bar and the logs). With htmx (a page
  link), only the results.
* ``POST /cases/``: the filter form, with the search words. Without search words it redirects to
  the GET address of its filters (a bookmarkable list; htmx gets the results and the new address).
  With search words it answers the results itself: the words stay in the POST body, never in a
  URL; its pages are POSTs of the same form.
* Bad input (an unknown stage, a date such as 2026-13-45, page=abc, a search of 10,000 characters)
  answers 400 with the form's messages, keeping what was typed; nothing is queried with it.

Every page that lists cases records a VIEWED event (target ``cases.list``) with the ids of the
cases shown and the filters used; a search records that there was one, never its words.

The number of queries per page is constant (whatever the number of cases): the session and user,
the form's choices (schools, case managers), the saved filters, the count (up to MAX_LISTED; a
search reads its matching ids instead, up to MAX_SEARCH_RESULTS), the page's rows (school and
manager joined) and the audit event. Performance at 200,000 cases: bench/cases.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_htmx.http import push_url, reswap, retarget

from btam.assessments.levels import LevelLabels
from btam.audit.models import AuditEvent, Verb
from btam.cases import list_actions
from btam.cases.actions import CaseError
from btam.cases.list_filters import PAGE_SIZE, CaseFilterForm, Sort, ordering, today
from btam.cases.models import Case, SavedFilter, Status
from btam.cases.pages import CASE_POLICY, user_of
from btam.core.access import policy

LIST_TARGET_TYPE = "cases.list"
# The list counts and pages through at most this many cases (400 pages): a count of every open
# case of a large district on every page would cost more than the page itself. A search stops
# sooner (8 pages): to find the first matches in the order chosen, the database may check the
# cases one by one in that order (each check reads the case's search words), and with a word found
# in a few percent of the cases that took 200-300 ms at 1,000 matches (30-80 ms at 200).
MAX_LISTED = 10_000
MAX_SEARCH_RESULTS = 200
# The columns a row needs (loading a whole case would decrypt its summary and rationales too).
ROW_FIELDS = (
    "id",
    "district_id",
    "year",
    "seq",
    "title",
    "status",
    "risk_level",
    "risk_scheme",
    "restricted",
    "next_due_on",
    "updated_at",
    "opened_at",
    "school__name",
    "manager__full_name",
    "manager__email",
)


@dataclass
class CaseRow:
    """One row of the list, ready for the template (no URL reversing or label lookups per row)."""

    pk: int
    number: str
    title: str
    url: str
    school: str
    stage: str
    closed: bool
    risk: str
    manager: str
    next_due_on: str  # ISO date, "" when nothing is due
    next_due: str  # as shown
    overdue: bool
    updated_at: str  # ISO date and time
    updated: str  # as shown
    restricted: bool


def _url_maker(name: str) -> Callable[[int], str]:
    """``pk -> reverse(name, args=[pk])``, reversing once."""
    marker = "7364019285"
    before, _sep, after = reverse(name, args=[int(marker)]).rpartition(marker)
    return lambda pk: f"{before}{pk}{after}"


def _risk_label(labels: LevelLabels, district_id: int, scheme: str, level: str) -> str:
    return labels(district_id, scheme, level)


def case_rows(cases: list[Case]) -> list[CaseRow]:
    stages = {value: str(label) for value, label in Status.choices}
    risks = LevelLabels()
    url = _url_maker("cases:detail")
    day = today()
    date_shown, time_shown = get_format("DATE_FORMAT"), get_format("DATETIME_FORMAT")
    rows = []
    for c in cases:
        is_open = c.status != Status.CLOSED
        manager = c.manager.full_name or c.manager.email if c.manager_id and c.manager else ""
        due = c.next_due_on
        updated = timezone.localtime(c.updated_at)
        rows.append(
            CaseRow(
                pk=c.pk,
                number=c.number,
                title=c.title,
                url=url(c.pk),
                school=c.school.name,
                stage=stages.get(c.status, c.status),
                closed=not is_open,
                risk=_risk_label(risks, c.district_id, c.risk_scheme, c.risk_level),
                manager=manager,
                next_due_on=due.isoformat() if due else "",
                next_due=dateformat.format(due, date_shown) if due else "",
                overdue=bool(is_open and due and due < day),
                updated_at=updated.isoformat(),
                updated=dateformat.format(updated, time_shown),
                restricted=c.restricted,
            )
        )
    return rows


class ListPaginator(Paginator):
    """Pages of the list that count at most ``cap`` cases (in the order chosen): past it, the page
    says there are more and how to reach them (a filter, another word, the other order).

    With ``read_ids`` (a search), the ids themselves are read, in order, up to the cap (one query
    instead of a count): the page then asks for 25 known ids. Asking the database for "the first
    25 matches in order" instead lets it walk every case in order looking for them, which it does
    when it cannot tell that a word is rare (1.9 s for a word found in one case of 200,000).
    """

    def __init__(self, object_list: Any, per_page: int, *, cap: int, read_ids: bool = False) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap
        self.read_ids = read_ids
        self.capped = False

    @cached_property
    def count(self) -> int:
        first = cast(Any, self.object_list)[: self.cap + 1]
        if self.read_ids:
            ids = list(first)
            self.object_list = ids[: self.cap]
            found = len(ids)
        else:
            found = int(first.count())
        self.capped = found > self.cap
        return min(found, self.cap)


def page_cases(page: Page[Any], form: CaseFilterForm) -> list[Case]:
    """The page's cases, in one query: the page's ids (known already, or chosen by a subquery that
    reads only what the filters and the order need, which an index can serve), then only those 25
    rows read whole, with their school and manager: a deep page does not read the rows it skips."""
    cases = Case.objects.filter(pk__in=page.object_list).select_related("school", "manager").only(*ROW_FIELDS)
    return list(cases.order_by(*ordering(form.sort_by, ascending=form.is_ascending)))


def _district_of(request: HttpRequest) -> int | None:
    ids = {m.district_id for m in user_of(request).active_memberships}
    return next(iter(ids)) if len(ids) == 1 else None


def _record_list(request: HttpRequest, form: CaseFilterForm, page: Page[Any], rows: list[CaseRow]) -> None:
    AuditEvent.objects.record(
        actor=user_of(request),
        verb=Verb.VIEWED,
        target_type=LIST_TARGET_TYPE,
        district_id=_district_of(request),
        detail={
            "result_count": page.paginator.count,
            "counted_up_to": cast(ListPaginator, page.paginator).cap,
            "page": page.number,
            "case_ids": [r.pk for r in rows],
            "filters": form.used(),
            "searched": bool(form.words),
        },
    )


TEMPLATES = {
    "page": "cases/list.html",
    "panel": "cases/partials/_list_panel.html",
    "results": "cases/partials/_list_results.html",
}


def _render(
    request: HttpRequest,
    form: CaseFilterForm,
    *,
    part: str = "page",
    status: int = 200,
    save_error: str = "",
    save_name: str = "",
) -> HttpResponse:
    """The list for a form: the whole page, the panel (form and results) or the results only. A
    form with errors answers 400 with its messages and no results."""
    user = user_of(request)
    context: dict[str, Any] = {
        "form": form,
        "saved_filters": list(SavedFilter.objects.filter(user=user).order_by("name", "pk").only("pk", "name", "query")),
        "save_error": save_error,
        "save_name": save_name,
    }
    if form.is_valid():
        ids = form.apply(Case.objects.visible_to(user)).values_list("pk", flat=True)
        searching = bool(form.words)
        paginator = ListPaginator(
            ids, PAGE_SIZE, cap=MAX_SEARCH_RESULTS if searching else MAX_LISTED, read_ids=searching
        )
        page = paginator.get_page(form.page_number)
        rows = case_rows(page_cases(page, form))
        _record_list(request, form, page, rows)
        context.update(
            show_results=True,
            page=page,
            rows=rows,
            filter_query=form.query_string(),
            searching=bool(form.words),
            capped=paginator.capped,
            max_results=paginator.cap,
            sort_label=dict(Sort.CHOICES).get(form.sort_by),
            ascending=form.is_ascending,
        )
    else:
        status = 400
    response = render(request, TEMPLATES[part], context, status=status)
    if part == "panel":  # an htmx request whose form had (or has) errors: swap the whole panel
        response = reswap(retarget(response, "#case-list"), "outerHTML")
    return response


def _htmx_part(request: HttpRequest, form: CaseFilterForm) -> str:
    """The results alone when they are all that changes; the panel when the form's messages must
    appear or go."""
    if not form.is_valid() or request.POST.get("errors_shown"):
        return "panel"
    return "results"


@policy(CASE_POLICY)
@never_cache
@require_http_methods(["GET", "POST"])
def case_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    htmx = bool(getattr(request, "htmx", False))
    if request.method == "GET":
        data = request.GET.copy()
        if data.pop("q", None):  # search words in an address (never from our pages): not used
            messages.warning(request, _("Search words never go in the address: type them in the search box."))
        form = CaseFilterForm(data, user=user)
        return _render(request, form, part=_htmx_part(request, form) if htmx else "page")
    form = CaseFilterForm(request.POST, user=user)
    part = _htmx_part(request, form) if htmx else "page"
    if form.is_valid() and not form.words:
        # Filters only: their own address, so the list can be bookmarked and reloaded.
        query = form.query_string()
        if form.page_number > 1:
            query = f"{query}&page={form.page_number}" if query else f"page={form.page_number}"
        address = reverse("cases:list") + (f"?{query}" if query else "")
        if not htmx:
            return redirect(address)
        return push_url(_render(request, form, part=part), address)
    return _render(request, form, part=part)


# Saved filters ------------------------------------------------------------------------------------
@policy(CASE_POLICY)
@never_cache
def save_filter(request: HttpRequest) -> HttpResponse:
    """Save the list's current filters (a canonical query string, sent by the list) under a name."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = user_of(request)
    query = request.POST.get("query", "")
    name = request.POST.get("name", "")
    data = QueryDict(query, mutable=True)
    data.pop("q", None)  # search words are never saved
    form = CaseFilterForm(data, user=user)
    if not form.is_valid():
        return _render(
            request, form, save_error=_("These filters cannot be saved: correct them first."), save_name=name
        )
    try:
        saved = list_actions.do_save_filter(
            actor=user, name=name, query=form.query_string(), allowed=CaseFilterForm.FILTER_FIELDS
        )
    except CaseError as exc:
        return _render(request, form, status=400, save_error=str(exc), save_name=name)
    messages.success(request, _("Filter “%(name)s” saved.") % {"name": saved.name})
    return redirect(reverse("cases:list") + (f"?{saved.query}" if saved.query else ""))


@policy(CASE_POLICY)
@never_cache
def delete_filter(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    saved = SavedFilter.objects.filter(pk=pk, user=user).first()
    if saved is None:  # someone else's is not found either
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        list_actions.do_delete_filter(actor=user, saved_filter=saved)
    except CaseError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    return redirect("cases:list")


urlpatterns = [
    path("", case_list, name="list"),
    path("filters/", save_filter, name="save_filter"),
    path("filters/<int:pk>/delete/", delete_filter, name="delete_filter"),
]
