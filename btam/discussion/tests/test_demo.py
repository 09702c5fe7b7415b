"""load_demo adds a few discussion threads on open demo cases, with a mention of the demo counselor,
through the real action, once, in the cases' past, without moving the cases' last activity."""

from __future__ import annotations

import pytest

from btam.accounts.models import User
from btam.audit.models import AuditEvent, Verb
from btam.cases.demo import load_demo_cases
from btam.cases.models import Case
from btam.core.demo import DEMO_DOMAIN, load_demo_district, load_demo_roster
from btam.discussion.demo import load_demo_discussion
from btam.discussion.models import Comment
from btam.intake.demo import load_demo_reports
from btam.lib import clock
from btam.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_demo_discussion_is_loaded_once_through_the_action(settings_for_demo: None) -> None:
    clock.freeze(clock.now().replace(microsecond=0))
    now = clock.now()
    try:
        # The loaders the discussion builds on (not the whole load_demo: other apps' demos are
        # tested in their own modules).
        district, _created = load_demo_district()
        load_demo_roster(district, students=60)
        load_demo_reports(district)
        load_demo_cases(district)
        made = load_demo_discussion(district)
        assert clock.now() == now  # put back
    finally:
        clock.reset()
    comments = list(Comment.objects.filter(district=district).select_related("case"))
    assert made == len(comments)
    assert len(comments) >= 8 and len({c.case_id for c in comments}) == 3
    assert Comment.objects.filter(district=district, parent__isnull=False).exists()
    for comment in comments:
        case: Case = comment.case
        assert case.opened_at <= comment.created_at <= case.updated_at < now
        assert AuditEvent.objects.filter(
            verb=Verb.CREATED, target_type="discussion.comment", target_id=str(comment.pk)
        ).exists()
    counselor = User.objects.get(email=f"counselor@{DEMO_DOMAIN}")
    mention = Notification.objects.filter(recipient=counselor, kind=Notification.Kind.MENTIONED)
    assert mention.count() == 1 and mention.get().read_at is None

    counts = (Comment.objects.count(), Notification.objects.count())
    assert load_demo_discussion(district) == 0
    assert (Comment.objects.count(), Notification.objects.count()) == counts
