"""Temporary placeholder for tabs being built (removed when each area lands)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from btam.cases import access
from btam.cases.pages import CASE_POLICY, render_case, user_of
from btam.core.access import policy


@policy(CASE_POLICY)
def placeholder(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    if pk is None:
        return render(request, "cases/placeholder.html", {})
    case = access.get_case_for_user(user_of(request), pk)
    return render_case(request, case, "cases/placeholder_tab.html", {}, tab="overview")
