"""The risk-level history of a case (its :class:`~btam.assessments.models.LevelChange` rows) and a
small server-rendered chart of it: a step line over time, the scheme's levels on the y axis by rank
with their names. The chart is an inline SVG with a ``<title>`` and a ``<desc>`` saying the same as
the table that is always shown with it (the table is the accessible version, not an extra).

Level names come from one registry per page (:class:`Labels`), so the page's queries do not grow
with the number of changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from btam.assessments import levels
from btam.assessments.definitions import LevelScheme, Registry
from btam.assessments.models import LevelChange
from btam.cases.models import Case
from btam.lib import clock


class Labels:
    """Level names of a district's schemes (shipped and its own), read from one registry."""

    def __init__(self, district_id: int) -> None:
        self.district_id = district_id
        self._registry: Registry | None = None

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = levels.registry_for(self.district_id)
        return self._registry

    def scheme(self, scheme_id: str, version: int | None = None) -> LevelScheme | None:
        if not scheme_id:
            return None
        try:
            return self.registry.scheme(scheme_id, version)
        except KeyError:
            try:
                return self.registry.scheme(scheme_id)
            except KeyError:
                return None

    def label(self, scheme_id: str, level_id: str, version: int | None = None) -> str:
        if not level_id:
            return ""
        scheme = self.scheme(scheme_id, version)
        if scheme is not None:
            try:
                return str(scheme.level(level_id).label)
            except KeyError:
                pass
        return level_id.replace("-", " ").capitalize()


@dataclass(frozen=True)
class HistoryRow:
    """One level that took effect, with the level it replaced."""

    change: LevelChange
    label: str
    previous_label: str

    @property
    def changed(self) -> bool:
        """A different level than before (the first level of a case is not a change)."""
        return bool(self.change.previous_level) and self.change.previous_level != self.change.level

    @property
    def direction(self) -> str:
        """One of first, up, down, changed (another scheme's level of the same rank) or same (never
        shown by colour alone: the table says it in words)."""
        previous = self.change.previous_rank
        if not self.change.previous_level or previous is None:
            return "first"
        if self.change.rank > previous:
            return "up"
        if self.change.rank < previous:
            return "down"
        return "changed" if self.changed else "same"


def level_history(case: Case, labels: Labels | None = None) -> list[HistoryRow]:
    """The case's levels in the order they took effect (one query). The level a row replaced is
    named in the scheme of the row before it (a district may change its scheme in between)."""
    labels = labels or Labels(case.district_id)
    changes = LevelChange.objects.filter(case=case).select_related("set_by").order_by("set_at", "pk")
    rows: list[HistoryRow] = []
    for change in changes:
        before = rows[-1].change if rows else None
        if before is not None and before.level == change.previous_level:
            previous_label = rows[-1].label
        else:
            previous_label = labels.label(change.scheme_id, change.previous_level, change.scheme_version)
        rows.append(
            HistoryRow(
                change=change,
                label=labels.label(change.scheme_id, change.level, change.scheme_version),
                previous_label=previous_label,
            )
        )
    return rows


# The chart --------------------------------------------------------------------------------------

WIDTH = 640
LEFT_MIN, LEFT_MAX = 90, 260  # room for the level names (about 7 units a character at 13px)
RIGHT = 20
TOP = 16
ROW = 36
BOTTOM = 40


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    when: str


@dataclass
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: float
    path: str
    points: list[Point] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    title: str = ""
    desc: str = ""

    @property
    def y_label_x(self) -> int:
        return self.plot_left - 8

    @property
    def x_label_y(self) -> float:
        return self.plot_bottom + 18


def _day(at: dt.datetime) -> str:
    local = timezone.localtime(at) if timezone.is_aware(at) else at
    return str(formats.date_format(local.date(), "DATE_FORMAT"))


def _axis_levels(rows: list[HistoryRow], labels: Labels) -> list[str]:
    """The y axis: the levels of the latest change's scheme, lowest first (ranks beyond it named by
    the rows that reached them)."""
    latest = rows[-1].change
    scheme = labels.scheme(latest.scheme_id, latest.scheme_version)
    names = [str(level.label) for level in scheme.levels] if scheme is not None else []
    top_rank = max(row.change.rank for row in rows)
    for row in rows:
        while len(names) <= top_rank:
            names.append("")
        if not names[row.change.rank]:
            names[row.change.rank] = row.label
    return names


def chart(case: Case, rows: list[HistoryRow], labels: Labels, *, until: dt.datetime | None = None) -> Chart | None:
    """The step chart of ``rows`` up to ``until`` (now, or the day the case was closed); None when
    the case has no level yet."""
    if not rows:
        return None
    names = _axis_levels(rows, labels)
    left = max(LEFT_MIN, min(LEFT_MAX, 7 * max(len(name) for name in names) + 16))
    start = rows[0].change.set_at
    end = until or (case.closed_at if case.is_closed and case.closed_at else clock.now())
    end = max(end, rows[-1].change.set_at)
    span = max((end - start).total_seconds(), 86_400.0)
    height = TOP + ROW * len(names) + BOTTOM
    plot_bottom = TOP + ROW * len(names) - ROW / 2
    plot_right = WIDTH - RIGHT

    def x_of(at: dt.datetime) -> float:
        return round(left + (plot_right - left) * (at - start).total_seconds() / span, 1)

    def y_of(rank: int) -> float:
        return float(TOP + ROW * (len(names) - 1 - rank) + ROW / 2)

    points = [
        Point(x=x_of(row.change.set_at), y=y_of(row.change.rank), label=row.label, when=_day(row.change.set_at))
        for row in rows
    ]
    segments = [f"M {points[0].x} {points[0].y}"]
    for point in points[1:]:
        segments.append(f"H {point.x} V {point.y}")
    segments.append(f"H {plot_right}")
    story = "; ".join(_("%(level)s from %(day)s") % {"level": point.label, "day": point.when} for point in points)
    return Chart(
        width=WIDTH,
        height=height,
        plot_left=left,
        plot_right=plot_right,
        plot_bottom=plot_bottom + ROW / 2,
        path=" ".join(segments),
        points=points,
        y_ticks=[Tick(position=y_of(rank), label=name) for rank, name in enumerate(names)],
        x_ticks=[Tick(position=float(left), label=_day(start)), Tick(position=float(plot_right), label=_day(end))],
        title=_("Risk level of case %(number)s over time") % {"number": case.number},
        desc=ngettext("%(count)d level decision: %(story)s.", "%(count)d level decisions: %(story)s.", len(points))
        % {"count": len(points), "story": story},
    )
