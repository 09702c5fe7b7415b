"""People on a case, related cases (links, merge, split): placeholder until that area lands."""

from typing import Any

from django.http import HttpRequest

from btam.cases.models import Case, CaseParticipant

urlpatterns: list[Any] = []


def overview_context(request: HttpRequest, case: Case, *, can_write: bool) -> dict[str, Any]:
    """What the overview shows of the people on the case and its related cases."""
    participants = list(
        CaseParticipant.objects.filter(case=case, removed_at__isnull=True).select_related("person")[:200]
    )
    return {"participants": participants}
