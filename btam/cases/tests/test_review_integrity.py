"""Review findings on integrity: undoing a merge never takes the lead school's access away."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from btam.accounts.models import Role
from btam.cases import access_actions, link_actions
from btam.cases.models import CaseSchool
from btam.cases.tests.people_links_helpers import client_for, open_case, school_member


def test_undoing_a_merge_keeps_the_access_of_the_school_that_now_leads_the_target(world: Any) -> None:
    leader = world.users[Role.TEAM_LEADER]
    target = open_case(world, actor=leader)
    source = open_case(world, actor=leader, school=world.other_school, title="Concern in the south building")
    merge = link_actions.do_merge_cases(actor=leader, source=source, target=target)
    # The subject moved to the source's school: the target follows (the row the merge made is reused).
    access_actions.do_transfer_case(actor=leader, case=target, to_school=world.other_school, reason="Moved schools.")

    link_actions.do_undo_merge(actor=leader, merge=merge)

    target.refresh_from_db()
    assert target.school_id == world.other_school.pk
    lead = CaseSchool.objects.get(case=target, school=world.other_school)
    assert lead.access == CaseSchool.Access.FULL
    assert lead.removed_at is None
    new_team = client_for(school_member(world, world.other_school))
    assert new_team.get(reverse("cases:detail", args=[target.pk])).status_code == 200


def test_undoing_a_merge_keeps_the_targets_case_manager_a_named_member(world: Any) -> None:
    from btam.cases import actions
    from btam.cases.models import CaseMember

    leader = world.users[Role.TEAM_LEADER]
    member = world.users[Role.TEAM_MEMBER]
    target = open_case(world, actor=leader, restricted=True)
    source = open_case(world, actor=member, restricted=True, title="Concern in the gym")
    access_actions.do_add_member(actor=member, case=source, user=leader)
    merge = link_actions.do_merge_cases(actor=leader, source=source, target=target)
    assert CaseMember.objects.filter(case=target, user=member).exists()
    # The source's manager, named on the target by the merge, now manages the target.
    actions.do_update_case(actor=leader, case=target, title=target.title, summary="", manager=member)

    link_actions.do_undo_merge(actor=leader, merge=merge)

    assert CaseMember.objects.filter(case=target, user=member).exists()
    assert client_for(member).get(reverse("cases:detail", args=[target.pk])).status_code == 200


def test_undoing_a_merge_takes_back_the_corrections_written_since_to_the_notes_it_moves(world: Any) -> None:
    import datetime as dt

    from btam.cases import note_actions
    from btam.cases.models import Note

    leader = world.users[Role.TEAM_LEADER]
    target = open_case(world, actor=leader)
    source = open_case(world, actor=leader, title="Concern in the gym")
    note = note_actions.do_add_note(
        actor=leader, case=source, kind="interview", occurred_on=dt.date(2025, 3, 1), body="He said it twice."
    )
    merge = link_actions.do_merge_cases(actor=leader, source=source, target=target)
    note.refresh_from_db()
    correction = note_actions.do_add_correction(actor=leader, note=note, body="He said it once, to a friend.")

    link_actions.do_undo_merge(actor=leader, merge=merge)

    correction.refresh_from_db()
    assert correction.case_id == source.pk
    page = client_for(leader).get(reverse("cases:notes", args=[source.pk]))
    assert "He said it once, to a friend." in page.content.decode()
    assert not Note.objects.filter(case=target).exists()
