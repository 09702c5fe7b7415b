"""The case list's filters, sorting and pages, and its search box.

The filters (stage, school, risk level, case manager, overdue, dates, closed cases, sorting) hold
no student data: they travel in the query string, so a filtered list can be bookmarked, and a
saved filter (:class:`~btam.cases.models.SavedFilter`) stores them as one canonical query string
(:meth:`CaseFilterForm.query_string`). The search words (``q``) are student data: they are read
from a POST body only, never from the query string, and never go into a saved filter or a log.

Every value is checked by the form; a bad one (an unknown stage, 2026-13-45, page=-1) is a form
error for the user, never a database error.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any, ClassVar, cast
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from btam.accounts.models import User
from btam.cases import access, search
from btam.cases.models import CaseQuerySet, Status
from btam.orgs.models import School

PAGE_SIZE = 25
# Far beyond any real list (200,000 cases are 8,000 pages): a bigger number is a typing error.
MAX_PAGE = 100_000
OPEN_STATUSES = [s.value for s in Status if s != Status.CLOSED]

ME = "me"
NOBODY = "none"
NOT_RECORDED = "none"


class Sort:
    ACTIVITY = "activity"
    OPENED = "opened"
    NUMBER = "number"
    DUE = "due"

    CHOICES: ClassVar[list[tuple[str, Any]]] = [
        (ACTIVITY, _("Last activity")),
        (OPENED, _("Date opened")),
        (NUMBER, _("Case number")),
        (DUE, _("Next due date")),
    ]
    # The columns of each order; the case's id breaks ties, so pages never overlap.
    FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {
        ACTIVITY: ("updated_at",),
        OPENED: ("opened_at",),
        NUMBER: ("year", "seq"),
        DUE: ("next_due_on",),
    }


ORDER_CHOICES = [("desc", _("Newest or highest first")), ("asc", _("Oldest or lowest first"))]


# Widgets written in Python ------------------------------------------------------------------------
# The list's form is drawn on every page (and its choices set for every request). Through Django's
# widget templates (one per input, one per option) and its choice normalising, the form took a
# third of the page's processing time: the 150 case managers of a district alone several
# milliseconds. These widgets write the same HTML directly; every value is escaped.


class _FastSelect(forms.Select):
    """A select; ``option_pairs`` (set by _ListChoiceField) bypasses Django's choice normalising."""

    option_pairs: list[tuple[str, str]] | None = None

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = set(self.format_value(value))
        pairs = self.option_pairs
        if pairs is None:
            pairs = [(str(v), str(label)) for v, label in self.choices]
        options = "".join(
            f'<option value="{escape(v)}"{" selected" if v in chosen else ""}>{escape(label)}</option>'
            for v, label in pairs
        )
        return mark_safe(f"<select{flatatt(final)}>{options}</select>")  # noqa: S308 (every value escaped above)


class _FastInput(forms.TextInput):
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        shown = self.format_value(value)
        value_attr = "" if shown is None else f' value="{escape(str(shown))}"'
        html = f'<input type="{self.input_type}" name="{escape(name)}"{value_attr}{flatatt(final)}>'
        return mark_safe(html)  # noqa: S308 (every value escaped above)


class _DateInput(_FastInput, forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        forms.DateInput.__init__(self, format="%Y-%m-%d")


class _FastCheckbox(forms.CheckboxInput):
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        if self.check_test(value):
            final["checked"] = True
        return mark_safe(f'<input type="checkbox" name="{escape(name)}"{flatatt(final)}>')  # noqa: S308 (escaped)


class _ListChoiceField(forms.Field):
    """One of a list of choices set for each form (the user's schools, the district's team): kept as
    given and checked against a set, without Django's choice normalising."""

    widget = _FastSelect
    default_error_messages = {"invalid_choice": _("%(value)s is not one of the choices.")}

    def __init__(self, *, coerce: Any = str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.coerce = coerce
        self.set_options([])

    def set_options(self, options: list[tuple[Any, Any]]) -> None:
        """Each form sets its own (new objects: the copies of a declared field share the old ones)."""
        pairs = [(str(value), str(label)) for value, label in options]
        self.valid = {value for value, _label in pairs}
        self.widget.option_pairs = pairs  # type: ignore[attr-defined]

    def to_python(self, value: Any) -> str:
        return "" if value in self.empty_values else str(value)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and value not in self.valid:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        return self.coerce(value) if value else None


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=_DateInput(),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a real date as year-month-day, for example 2026-03-14.")},
    )


class _StageField(forms.MultipleChoiceField):
    """Stages ticked; an empty value (a form that sends "stage=" for none) is no stage."""

    def to_python(self, value: Any) -> list[str]:
        return [v for v in super().to_python(value) if v]


class CaseFilterForm(forms.Form):
    """The list's filters (query string) and, on a POST, its search words (``q``)."""

    # The fields a saved filter keeps (and the query string carries), in this order.
    FILTER_FIELDS: ClassVar[tuple[str, ...]] = (
        "stage",
        "include_closed",
        "school",
        "risk",
        "manager",
        "overdue",
        "opened_from",
        "opened_to",
        "active_from",
        "active_to",
        "sort",
        "order",
    )

    q = forms.CharField(
        widget=_FastInput,
        label=_("Search words"),
        required=False,
        strip=True,
        help_text=_("Whole words of the title, summary or notes, in any order; accents and capitals do not matter."),
    )
    stage = _StageField(
        label=_("Stage"),
        choices=Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("%(value)s is not a stage of a case.")},
    )
    include_closed = forms.BooleanField(label=_("Include closed cases"), required=False, widget=_FastCheckbox)
    school = _ListChoiceField(
        label=_("School"),
        coerce=int,
        required=False,
        error_messages={"invalid_choice": _("That school is not one of yours (or no longer exists).")},
    )
    risk = _ListChoiceField(
        label=_("Risk level"),
        required=False,
        error_messages={"invalid_choice": _("%(value)s is not a risk level.")},
    )
    manager = _ListChoiceField(
        label=_("Case manager"),
        required=False,
        error_messages={"invalid_choice": _("That person is not on a team of your district.")},
    )
    overdue = forms.BooleanField(
        label=_("Overdue only (a task past its due date)"), required=False, widget=_FastCheckbox
    )
    opened_from = _date_field(_("Opened on or after"))
    opened_to = _date_field(_("Opened on or before"))
    active_from = _date_field(_("Last activity on or after"))
    active_to = _date_field(_("Last activity on or before"))
    sort = forms.ChoiceField(
        widget=_FastSelect,
        label=_("Sort by"),
        required=False,
        choices=Sort.CHOICES,
        error_messages={"invalid_choice": _("%(value)s is not a way to sort the list.")},
    )
    order = forms.ChoiceField(
        widget=_FastSelect,
        label=_("Order"),
        required=False,
        choices=ORDER_CHOICES,
        error_messages={"invalid_choice": _("%(value)s is not an order.")},
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": _("The page number must be a whole number, 1 or more."),
            "min_value": _("The page number must be a whole number, 1 or more."),
            "max_value": _("There is no page %(limit_value)s or beyond."),
        },
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        cast(_ListChoiceField, self.fields["school"]).set_options([("", _("Any school")), *school_choices(user)])
        cast(_ListChoiceField, self.fields["risk"]).set_options(
            [("", _("Any level")), *risk_choices(user), (NOT_RECORDED, _("Not recorded yet"))]
        )
        cast(_ListChoiceField, self.fields["manager"]).set_options(
            [("", _("Anyone")), (ME, _("Me")), (NOBODY, _("No case manager")), *manager_choices(user)]
        )
        self.fields["q"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "maxlength": str(search.MAX_QUERY_CHARS)}
        )

    # Checks -------------------------------------------------------------------------------------
    def clean_q(self) -> str:
        text: str = self.cleaned_data.get("q") or ""
        if text:
            try:
                search.query_tokens(text)
            except search.SearchError as exc:
                raise forms.ValidationError(str(exc), code="search") from None
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for start, end, what in (
            ("opened_from", "opened_to", _("opening dates")),
            ("active_from", "active_to", _("activity dates")),
        ):
            if data.get(start) and data.get(end) and data[start] > data[end]:
                self.add_error(
                    end, _("The %(what)s are the wrong way round: the second is before the first.") % {"what": what}
                )
        return data

    # Reading the checked values -----------------------------------------------------------------
    @property
    def words(self) -> str:
        return str(self.cleaned_data.get("q") or "")

    @property
    def page_number(self) -> int:
        return int(self.cleaned_data.get("page") or 1)

    @property
    def sort_by(self) -> str:
        return str(self.cleaned_data.get("sort") or Sort.ACTIVITY)

    @property
    def is_ascending(self) -> bool:
        return self.cleaned_data.get("order") == "asc"

    def query_string(self) -> str:
        """The filters in use as a canonical query string (no search words, no page): what the
        address bar and a saved filter hold."""
        data = self.cleaned_data
        pairs: list[tuple[str, str]] = []
        for name in self.FILTER_FIELDS:
            value = data.get(name)
            if name in ("sort", "order") and not value:
                continue
            if isinstance(value, list):
                pairs.extend((name, v) for v in value)
            elif isinstance(value, bool):
                if value:
                    pairs.append((name, "1"))
            elif isinstance(value, dt.date):
                pairs.append((name, value.isoformat()))
            elif value not in (None, ""):
                pairs.append((name, str(value)))
        return urlencode(pairs)

    def used(self) -> dict[str, Any]:
        """The filters in use, for the audit event of the list (never the search words)."""
        used: dict[str, Any] = {}
        for name, value in parse_qsl(self.query_string()):
            if name == "stage":
                used.setdefault(name, []).append(value)
            else:
                used[name] = value
        return used

    # The query ----------------------------------------------------------------------------------
    def apply(self, cases: CaseQuerySet) -> CaseQuerySet:
        """Filter and order ``cases`` (already scoped: ``Case.objects.visible_to(user)``). Call only
        on a valid form."""
        data = self.cleaned_data
        stages: list[str] = data.get("stage") or []
        include_closed = bool(data.get("include_closed"))
        if stages:
            statuses = set(stages) | ({Status.CLOSED.value} if include_closed else set())
            cases = cases.filter(status__in=sorted(statuses))
        elif not include_closed:
            cases = cases.filter(status__in=OPEN_STATUSES)
        if data.get("school"):
            cases = cases.filter(school_id=data["school"])
        risk = data.get("risk")
        if risk == NOT_RECORDED:
            cases = cases.filter(risk_level="")
        elif risk:
            cases = cases.filter(risk_level=risk)
        manager = data.get("manager")
        if manager == ME:
            cases = cases.filter(manager_id=self.user.pk)
        elif manager == NOBODY:
            cases = cases.filter(manager__isnull=True)
        elif manager:
            cases = cases.filter(manager_id=int(manager))
        if data.get("overdue"):
            cases = cases.filter(next_due_on__lt=today(), status__in=OPEN_STATUSES)
        for start, end, column in (
            ("opened_from", "opened_to", "opened_at"),
            ("active_from", "active_to", "updated_at"),
        ):
            if data.get(start):
                cases = cases.filter(**{f"{column}__gte": start_of(data[start])})
            if data.get(end):
                cases = cases.filter(**{f"{column}__lt": start_of(data[end] + dt.timedelta(days=1))})
        if self.words:
            cases = search.search_cases(cases, self.words)
        return cases.order_by(*ordering(self.sort_by, ascending=self.is_ascending))


# Columns that may be empty: their cases come last whichever the direction. (Only these: a NULLS
# clause on a column that is never empty would keep PostgreSQL from reading an index in order.)
NULLABLE_SORT_FIELDS = frozenset({"next_due_on"})


def ordering(sort: str, *, ascending: bool) -> list[OrderBy]:
    fields = Sort.FIELDS.get(sort, Sort.FIELDS[Sort.ACTIVITY])
    nulls_last = {f: True if f in NULLABLE_SORT_FIELDS else None for f in fields}
    if ascending:
        return [*(F(f).asc(nulls_last=nulls_last[f]) for f in fields), F("pk").asc()]
    return [*(F(f).desc(nulls_last=nulls_last[f]) for f in fields), F("pk").desc()]


def today() -> dt.date:
    from btam.lib import clock

    return timezone.localdate(clock.now())


def start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the site's time zone."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


# Choices of the user ------------------------------------------------------------------------------
def _case_district_ids(user: User) -> set[int]:
    return {m.district_id for m in user.active_memberships if m.role in access.CASE_PAGE_ROLES}


def school_choices(user: User) -> list[tuple[int, str]]:
    """The user's schools: every school of the districts where the user works cases district-wide,
    and the schools named on the user's team memberships."""
    whole = access.district_team_ids(user, access.CASE_PAGE_ROLES)
    named = access.named_school_ids(user, access.CASE_PAGE_ROLES)
    if not whole and not named:
        return []
    schools = School.objects.filter(Q(district_id__in=whole) | Q(pk__in=named))
    return list(schools.order_by("name", "pk").values_list("pk", "name"))


def risk_choices(user: User) -> list[tuple[str, str]]:
    """The levels of the level schemes of the user's districts, lowest first (one query; a district's
    own scheme costs a second)."""
    from btam.assessments import definitions, levels
    from btam.assessments.models import AssessmentSettings

    districts = _case_district_ids(user)
    if not districts:
        return []
    chosen = dict(
        AssessmentSettings.objects.filter(district_id__in=districts).values_list("district_id", "level_scheme")
    )
    seen: dict[str, str] = {}
    for district_id in sorted(districts):
        scheme_id = chosen.get(district_id) or levels.DEFAULT_SCHEME
        try:
            scheme = definitions.builtin().scheme(scheme_id)
        except KeyError:
            scheme = levels.scheme_for(district_id)
        for level in scheme.levels:
            seen.setdefault(level.id, str(level.label))
    return list(seen.items())


def manager_choices(user: User) -> list[tuple[str, str]]:
    """The team members of the user's districts (who may manage a case), by name."""
    districts = _case_district_ids(user)
    if not districts:
        return []
    users = (
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__role__in=access.TEAM_ROLES,
            memberships__district_id__in=districts,
        )
        .exclude(pk=user.pk)
        .order_by("full_name", "email", "pk")
        .values_list("pk", "full_name", "email")
        .distinct()
    )
    return [(str(pk), name or email) for pk, name, email in users]
