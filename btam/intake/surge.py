"""Surge grouping: reports about one thing arriving together become one item of the triage queue.

When a school is in the news, 200 students may report the same rumour within an hour. The team
should see one item holding 200 reports (and the one different report next to it), not 200 rows.

Two reports of the same district created within :data:`SURGE_WINDOW` of each other (abuse reports
left out) are about the same thing when they

- name the same person (``InvolvedPerson.name_key`` equal and not blank, or the same registry
  person),
- share a link (``ReportLink.link_key``),
- share an identical attachment (``Attachment.content_key``), or
- have very similar text (``text_simhash`` at most :data:`TEXT_MAX_DISTANCE` bits apart, see
  :func:`btam.intake.features.simhash`).

:func:`assign_group` runs once per report, from the ``intake.report_received`` outbox handler, after
the report is committed. It finds the matching reports, then: if none of them (nor the report) is
in a group, makes a group of them all; otherwise every one joins the most recent of their groups,
and when the report bridges several groups they are merged into that one (the others are deleted:
a group is derived data, its reports keep their history). ``SurgeGroup.reasons`` counts, for each
reason, the reports that joined because of it.

Properties:

- **Idempotent**: ``surge_checked_at`` is set with the grouping; a second run changes nothing.
- **Concurrency-safe**: each run locks its district's row (``SELECT ... FOR UPDATE``) in its
  transaction, so two workers grouping reports of one district run one after the other and never
  make two groups of the same reports.
- **Cheap**: the candidates come from indexed lookups (name_key, link_key, content_key; reports by
  district and time); the text comparison loads ``(pk, text_simhash)`` pairs of the district's
  reports in the window, nothing else, which is fine for thousands of reports.
- **Nothing decrypted**: only keyed hashes and signatures are compared.

A group that gains reports is announced through ``notifications.intake_hooks.surge_grown`` (which
decides at which sizes to tell anyone).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils.translation import gettext_lazy as _

from btam.intake.features import hamming
from btam.intake.models import Attachment, InvolvedPerson, Report, ReportLink, SurgeGroup
from btam.lib import clock
from btam.orgs.models import District

SURGE_WINDOW = dt.timedelta(hours=72)
# Texts whose signatures differ in at most this many bits (of 64) group. Measured on paraphrases
# (features.simhash): one word changed in a 20-word sentence is within 4 bits 3 times in 4 (30
# words: 9 in 10; 50 words: 49 in 50); unrelated texts were never closer than 17 bits.
TEXT_MAX_DISTANCE = 4

PERSON = "person"
LINK = "link"
ATTACHMENT = "attachment"
TEXT = "text"
REASONS = (PERSON, LINK, ATTACHMENT, TEXT)
REASON_LABELS = {
    PERSON: _("the same person named"),
    LINK: _("the same link"),
    ATTACHMENT: _("the same file attached"),
    TEXT: _("very similar text"),
}


def assign_group(report: Report) -> None:
    """Put ``report`` in the surge group of the reports it matches (or in none). Idempotent."""
    with transaction.atomic():
        # One grouping at a time per district: the lock is held until the commit.
        District.objects.select_for_update().only("pk").get(pk=report.district_id)
        current = Report.objects.select_for_update().filter(pk=report.pk).first()
        if current is None or current.surge_checked_at is not None:
            return
        group = None if current.is_abuse else _group(current)
        current.surge_checked_at = clock.now()
        Report.objects.filter(pk=current.pk).update(surge_checked_at=current.surge_checked_at)
        if group is not None:
            _announce(group)
    report.surge_group_id = current.surge_group_id
    report.surge_checked_at = current.surge_checked_at


def find_matches(report: Report) -> dict[int, set[str]]:
    """The reports ``report`` matches, with the reasons: {report pk: {"person", "text", ...}}."""
    start, end = report.created_at - SURGE_WINDOW, report.created_at + SURGE_WINDOW
    window = Report.objects.filter(
        district_id=report.district_id, created_at__gte=start, created_at__lte=end, is_abuse=False
    ).exclude(pk=report.pk)
    related = {
        "report__district_id": report.district_id,
        "report__created_at__gte": start,
        "report__created_at__lte": end,
        "report__is_abuse": False,
    }
    matches: dict[int, set[str]] = defaultdict(set)

    named = list(report.involved.values_list("name_key", "person_id"))
    keys = {key for key, _ in named if key}
    person_ids = {pid for _, pid in named if pid is not None}
    if keys or person_ids:
        same_person = Q()
        if keys:
            same_person |= Q(name_key__in=keys)
        if person_ids:
            same_person |= Q(person_id__in=person_ids)
        found = InvolvedPerson.objects.filter(same_person, **related).exclude(report_id=report.pk)
        for pk in found.values_list("report_id", flat=True):
            matches[pk].add(PERSON)

    links = list(report.links.values_list("link_key", flat=True))
    if links:
        found_links = ReportLink.objects.filter(link_key__in=links, **related).exclude(report_id=report.pk)
        for pk in found_links.values_list("report_id", flat=True):
            matches[pk].add(LINK)

    contents = [key for key in report.attachments.values_list("content_key", flat=True) if key]
    if contents:
        found_files = Attachment.objects.filter(content_key__in=contents, **related).exclude(report_id=report.pk)
        for pk in found_files.values_list("report_id", flat=True):
            matches[pk].add(ATTACHMENT)

    if report.text_simhash is not None:
        signature = report.text_simhash
        for pk, other in window.filter(text_simhash__isnull=False).values_list("pk", "text_simhash"):
            if other is not None and hamming(signature, other) <= TEXT_MAX_DISTANCE:
                matches[pk].add(TEXT)
    return dict(matches)


def _group(report: Report) -> SurgeGroup | None:
    """Group ``report`` with its matches (called under the district lock). The group that gained
    reports, or None when nothing changed."""
    matches = find_matches(report)
    if not matches:
        return None
    in_groups = dict(
        Report.objects.filter(pk__in=matches, surge_group__isnull=False).values_list("pk", "surge_group_id")
    )
    group_ids = set(in_groups.values())
    if report.surge_group_id is not None:
        group_ids.add(report.surge_group_id)

    reasons: dict[str, int] = defaultdict(int)
    if group_ids:
        groups = list(SurgeGroup.objects.filter(pk__in=group_ids).order_by("-last_report_at", "-pk"))
        target, merged = groups[0], groups[1:]
        for key, count in (target.reasons or {}).items():
            reasons[key] += int(count)
        if merged:
            merged_ids = [g.pk for g in merged]
            for g in merged:
                for key, count in (g.reasons or {}).items():
                    reasons[key] += int(count)
            Report.objects.filter(surge_group_id__in=merged_ids).update(surge_group=target)
            SurgeGroup.objects.filter(pk__in=merged_ids).delete()
    else:
        at = clock.now()
        target = SurgeGroup.objects.create(
            district_id=report.district_id,
            reasons={},
            first_report_at=report.created_at,
            last_report_at=report.created_at,
            created_at=at,
        )

    # Who joins now: the report (unless already in the group) and the matches in no group yet.
    joining: dict[int, set[str]] = {}
    if report.surge_group_id is None:
        joining[report.pk] = set().union(*matches.values())
    for pk, why in matches.items():
        if pk not in in_groups:
            joining[pk] = why
    if joining:
        Report.objects.filter(pk__in=joining).update(surge_group=target)
        for why in joining.values():
            for key in why:
                reasons[key] += 1
    report.surge_group_id = target.pk

    span = Report.objects.filter(surge_group=target).aggregate(first=Min("created_at"), last=Max("created_at"))
    target.reasons = {key: reasons[key] for key in REASONS if reasons.get(key)}
    target.first_report_at = span["first"] or report.created_at
    target.last_report_at = span["last"] or report.created_at
    target.save(update_fields=["reasons", "first_report_at", "last_report_at"])
    return target if joining or len(group_ids) > 1 else None


def _announce(group: SurgeGroup) -> None:
    """Tell the notifications app the group grew (it decides at which sizes to tell anyone)."""
    from btam.notifications import intake_hooks

    hook = getattr(intake_hooks, "surge_grown", None)
    if hook is not None:
        hook(group)
