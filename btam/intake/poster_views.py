"""Public poster pages: the list of schools with their posters, and each school's poster PDF.

Public on purpose (``@policy(PUBLIC)``): a poster holds the school's name, the report link, 911
and the crisis line, nothing else, and is meant to be printed and pinned on walls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import groupby

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from btam.core.access import PUBLIC, policy
from btam.intake import poster
from btam.orgs.models import District, School


def _active_schools() -> QuerySet[School]:
    return School.objects.filter(is_active=True).select_related("district")


def find_school(school_slug: str, district_slug: str | None = None) -> School:
    """The active school a poster URL names. 404 when there is none, and for a short slug that
    schools of two districts share (the index links those through the district-qualified URL)."""
    schools = _active_schools().filter(slug=school_slug)
    if district_slug is not None:
        schools = schools.filter(district__slug=district_slug)
    found = list(schools[:2])
    if len(found) != 1:
        raise Http404("No such school.")
    return found[0]


@policy(PUBLIC)
@require_GET
def poster_pdf(request: HttpRequest, school_slug: str, district_slug: str | None = None) -> HttpResponse:
    school = find_school(school_slug, district_slug)
    response = HttpResponse(poster.school_poster(request, school), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="report-poster-{school.slug}.pdf"'
    return response


def poster_path(school: School, *, ambiguous: bool) -> str:
    """The poster's URL: the short one when the slug is unique among active schools."""
    if ambiguous:
        return reverse(
            "report:poster_in_district", kwargs={"district_slug": school.district.slug, "school_slug": school.slug}
        )
    return reverse("report:poster", kwargs={"school_slug": school.slug})


@dataclass(frozen=True)
class PosterEntry:
    school: School
    url: str


@policy(PUBLIC)
@require_GET
def poster_index(request: HttpRequest) -> HttpResponse:
    schools = list(_active_schools().order_by("district__name", "district_id", "name"))
    shared = Counter(school.slug for school in schools)
    districts: list[tuple[District, list[PosterEntry]]] = [
        (district, [PosterEntry(s, poster_path(s, ambiguous=shared[s.slug] > 1)) for s in group])
        for district, group in groupby(schools, key=lambda s: s.district)
    ]
    return render(request, "intake/public/posters.html", {"districts": districts})
