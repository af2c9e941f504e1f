"""A small server-rendered SVG chart of a story's changes over time. Pure: no I/O.

Each version is a bar at its capture time: words added rise above the axis (green), words
removed hang below it (red). Bar heights use a square-root scale so one rewrite does not
flatten every small edit. Under the bars, a time axis with ticks that `time_ticks` picks
for the range (minutes for an hour, hours for a day, days for a month...).

Each bar is a link to its version, reachable with the keyboard and named for screen
readers ("Version 3, 4 Dec 14:05 UTC: headline; 12 words added, 3 removed"). No scripts
or inline styles (the page's CSP allows neither): the focus ring is a CSS rule.

The bars are drawn in a nested SVG whose viewBox stretches to the page width; the tick
labels sit outside it, placed in percentages, so that stretching never distorts the text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from tracker.core.kinds import kind_label


@dataclass(frozen=True)
class ChartPoint:
    seq: int
    at: datetime
    words_added: int
    words_removed: int
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tick:
    at: datetime
    label: str


# Tick spacings, finest first: (unit, how many). Each sub-day spacing divides a day, so the
# ticks fall on the same clock times every day.
_STEPS: tuple[tuple[str, int], ...] = (
    *(("minute", n) for n in (1, 2, 5, 10, 15, 30)),
    *(("hour", n) for n in (1, 2, 3, 6, 12)),
    *(("day", n) for n in (1, 2)),
    *(("week", n) for n in (1, 2)),
    *(("month", n) for n in (1, 2, 3, 6)),
    *(("year", n) for n in (1, 2, 5, 10, 20, 50, 100)),
)
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def _first_tick(start: datetime, unit: str, count: int) -> datetime:
    """The first tick at or after `start` for a spacing of `count` `unit`s."""
    if unit in ("minute", "hour"):
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        step = _SECONDS[unit] * count
        elapsed = (start - midnight).total_seconds()
        return midnight + timedelta(seconds=math.ceil(elapsed / step) * step)
    if unit in ("day", "week"):
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if day < start:
            day += timedelta(days=1)
        if unit == "week":  # weeks start on Mondays; fortnights on every other one
            day += timedelta(days=(7 - day.weekday()) % 7)
            while (day.toordinal() // 7) % count:
                day += timedelta(days=7)
        else:
            while day.toordinal() % count:
                day += timedelta(days=1)
        return day
    if unit == "month":
        month = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if month < start:
            month = _add_months(month, 1)
        while (month.month - 1) % count:
            month = _add_months(month, 1)
        return month
    year = datetime(start.year, 1, 1, tzinfo=start.tzinfo)
    if year < start:
        year = year.replace(year=year.year + 1)
    return year.replace(year=math.ceil(year.year / count) * count)


def _add_months(value: datetime, months: int) -> datetime:
    index = value.month - 1 + months
    return value.replace(year=value.year + index // 12, month=index % 12 + 1)


def _next_tick(tick: datetime, unit: str, count: int) -> datetime:
    if unit in _SECONDS:
        return tick + timedelta(seconds=_SECONDS[unit] * count)
    if unit == "month":
        return _add_months(tick, count)
    return tick.replace(year=tick.year + count)


def _ticks_between(
    start: datetime, end: datetime, unit: str, count: int, limit: int
) -> list[datetime]:
    """The ticks in [start, end], stopping once there are more than `limit`."""
    ticks: list[datetime] = []
    tick = _first_tick(start, unit, count)
    while tick <= end and len(ticks) <= limit:
        ticks.append(tick)
        tick = _next_tick(tick, unit, count)
    return ticks


def _day(value: datetime) -> str:
    return f"{value.day} {value:%b}"


def time_ticks(start: datetime, end: datetime, *, max_ticks: int = 5) -> list[Tick]:
    """Axis ticks for a time range, in UTC: the finest round spacing (1, 2, 5, 10, 15,
    30 minutes; 1, 2, 3, 6, 12 hours; 1, 2 days; weeks; 1, 2, 3, 6 months; years) that puts
    at most `max_ticks` ticks in the range.

    Labels say no more than the reader needs: "14:00" within a day, with the date ("4 Dec
    14:00", or "5 Dec" at midnight) on the first tick and where the day changes; "4 Dec"
    for days and weeks; "Jan" for months, with the year on the first tick and at each new
    year; "2027" for years. A range of no length gets one tick with its date and time.
    """
    unit, times = _tick_times(start, end, max_ticks)
    return _labelled(unit, times)


def _tick_times(start: datetime, end: datetime, max_ticks: int) -> tuple[str, list[datetime]]:
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    for unit, count in _STEPS:
        times = _ticks_between(start, end, unit, count, max_ticks)
        if len(times) <= max_ticks:
            break
    if not times:  # no round time in the range (a few seconds long, or none)
        return "exact", [start]
    return unit, times


def _labelled(unit: str, times: Sequence[datetime]) -> list[Tick]:
    """Each time's label, saying the date or year only where it changes."""
    ticks: list[Tick] = []
    previous: datetime | None = None
    for tick in times:
        if unit == "exact":
            label = f"{_day(tick)} {tick:%H:%M}"
        elif unit in ("minute", "hour"):
            if previous is not None and previous.date() == tick.date():
                label = f"{tick:%H:%M}"
            elif tick.hour == tick.minute == 0:
                label = _day(tick)
            else:
                label = f"{_day(tick)} {tick:%H:%M}"
        elif unit in ("day", "week"):
            new_year = previous is not None and previous.year != tick.year
            label = f"{_day(tick)} {tick.year}" if new_year else _day(tick)
        elif unit == "month":
            new_year = previous is None or previous.year != tick.year
            label = f"{tick:%b} {tick.year}" if new_year else f"{tick:%b}"
        else:
            label = str(tick.year)
        ticks.append(Tick(tick, label))
        previous = tick
    return ticks


# The axis is laid out twice, for the narrowest chart of each layout (a 320 px phone; a
# 641 px window), and style.css shows the one that fits. The server cannot measure text:
# a label is taken to be LABEL_EM_PER_CHAR em a character in the axis font (.8rem).
LABEL_EM_PER_CHAR = 0.6
AXIS_FONT_PX = 12.8
AXIS_LAYOUTS: Final = (("narrow", 290.0, 3), ("wide", 600.0, 6))
LABEL_GAP_PX: Final = 8.0


@dataclass(frozen=True)
class PlacedTick:
    tick: Tick
    at_percent: float  # where the tick mark is, in percent of the chart's width
    label_percent: float  # the label's centre: moved in from an edge so it is not cut off


def place_ticks(
    start: datetime,
    end: datetime,
    position: Callable[[datetime], float],
    *,
    chart_px: float,
    max_ticks: int,
) -> list[PlacedTick]:
    """Ticks for [start, end] whose labels fit side by side in a chart `chart_px` wide.

    `position` maps a time to percent of the width. A label that would overlap the one
    before it loses its tick, and the labels are worked out again (a dropped tick may have
    carried the date)."""
    unit, times = _tick_times(start, end, max_ticks)
    while True:
        placed: list[PlacedTick] = []
        right_edge = -math.inf
        for tick in _labelled(unit, times):
            half = len(tick.label) * LABEL_EM_PER_CHAR * AXIS_FONT_PX / 2
            centre_px = min(max(position(tick.at) * chart_px / 100, half), chart_px - half)
            if centre_px - half < right_edge + LABEL_GAP_PX:
                break
            placed.append(PlacedTick(tick, position(tick.at), 100 * centre_px / chart_px))
            right_edge = centre_px + half
        else:
            return placed
        times = [tick.tick.at for tick in placed] + times[len(placed) + 1 :]


def version_name(point: ChartPoint) -> str:
    """What a screen reader announces for a bar: "Version 3, 4 Dec 14:05 UTC: headline,
    text edited; 12 words added, 3 removed"."""
    at = point.at.astimezone(UTC)
    kinds = ", ".join(kind_label(kind) for kind in point.kinds if kind != "first")
    if point.seq == 1 or "first" in point.kinds:
        words = f"first version, {point.words_added} words"
    elif point.words_added and point.words_removed:
        words = f"{point.words_added} words added, {point.words_removed} removed"
    elif point.words_added:
        words = f"{point.words_added} words added"
    elif point.words_removed:
        words = f"{point.words_removed} words removed"
    else:
        words = "no words changed"
    return f"Version {point.seq}, {_day(at)} {at:%H:%M} UTC: " + "; ".join(
        part for part in (kinds, words) if part
    )


def changes_chart(
    points: Sequence[ChartPoint],
    *,
    width: int = 640,
    height: int = 120,
    link: str | None = None,
) -> str:
    """The SVG markup (empty string for no points).

    `link`, if given, is a URL pattern with ``{seq}`` where each bar links to. `width` and
    `height` are the plot's proportions; the SVG takes the page's width, `height` pixels
    for the bars and a strip below for the time axis.
    """
    if not points:
        return ""
    pad = 4
    axis_height = 28
    mid = height / 2
    half = mid - pad
    first = min(p.at for p in points)
    last = max(p.at for p in points)
    start = first.timestamp()
    span = last.timestamp() - start
    peak = max(max(p.words_added, p.words_removed) for p in points) or 1
    bar = max(2.0, min(12.0, (width - 2 * pad) / max(1, len(points)) * 0.6))
    usable = width - 2 * pad - bar
    # A bar's link catches the pointer over the whole height, a little wider than the bar.
    hit = bar + 4

    def x_of(point: ChartPoint, index: int) -> float:
        if span > 0:
            return pad + usable * (point.at.timestamp() - start) / span
        return pad + usable * (index / max(1, len(points) - 1) if len(points) > 1 else 0.5)

    def scaled(value: int) -> float:
        return half * math.sqrt(value / peak) if value else 0.0

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="100%" '
        f'height="{height + axis_height}" role="group" '
        'aria-label="Words added and removed per version, over time (UTC)">',
        f'<svg class="plot" width="100%" height="{height}" viewBox="0 0 {width} {height}" '
        'preserveAspectRatio="none">',
        f'<line class="axis" x1="0" y1="{mid:.1f}" x2="{width}" y2="{mid:.1f}"/>',
    ]
    for index, point in enumerate(points):
        x = x_of(point, index)
        name = html.escape(version_name(point))
        up = max(scaled(point.words_added), 1.0 if point.seq == 1 else 0.0)
        down = scaled(point.words_removed)
        marks = []
        if up:
            marks.append(
                f'<rect class="added" x="{x:.1f}" y="{mid - up:.1f}" '
                f'width="{bar:.1f}" height="{up:.1f}"/>'
            )
        if down:
            marks.append(
                f'<rect class="removed" x="{x:.1f}" y="{mid:.1f}" '
                f'width="{bar:.1f}" height="{down:.1f}"/>'
            )
        if not up and not down:
            marks.append(
                f'<rect class="minor" x="{x:.1f}" y="{mid - 1:.1f}" width="{bar:.1f}" height="2"/>'
            )
        if link:
            href = html.escape(link.format(seq=point.seq))
            parts.append(
                f'<a href="{href}" aria-label="{name}"><title>{name}</title>'
                f'<rect class="hit" x="{x + bar / 2 - hit / 2:.1f}" y="2" width="{hit:.1f}" '
                f'height="{height - 4}" vector-effect="non-scaling-stroke"/>'
                + "".join(marks)
                + "</a>"
            )
        else:
            parts.append(f"<g><title>{name}</title>{''.join(marks)}</g>")
    parts.append("</svg>")

    def percent_of(at: datetime) -> float:
        """Where a time falls, in percent of the width (the middle of its bar)."""
        x = pad + usable * (at.timestamp() - start) / span if span > 0 else x_of(points[0], 0)
        return 100 * (x + bar / 2) / width

    # The time axis: read by eye only; each link above already says its version's time.
    for layout, chart_px, most in AXIS_LAYOUTS:
        parts.append(f'<g class="ticks ticks-{layout}" aria-hidden="true">')
        for placed in place_ticks(first, last, percent_of, chart_px=chart_px, max_ticks=most):
            parts.append(
                f'<line class="tick" x1="{placed.at_percent:.2f}%" y1="{height}" '
                f'x2="{placed.at_percent:.2f}%" y2="{height + 5}"/>'
                f'<text x="{placed.label_percent:.2f}%" y="{height + 20}" '
                f'text-anchor="middle">{html.escape(placed.tick.label)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
