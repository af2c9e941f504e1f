"""The story page's chart: a time axis whose ticks suit the range, and one named link per
version for keyboards and screen readers. Pure functions: no server, no browser (the
browser test in test_web_accessibility.py tabs through the real page)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from tracker.web.charts import (
    AXIS_FONT_PX,
    AXIS_LAYOUTS,
    LABEL_EM_PER_CHAR,
    ChartPoint,
    PlacedTick,
    changes_chart,
    place_ticks,
    time_ticks,
    version_name,
)

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 12, 4, 14, 5, tzinfo=UTC)  # a Friday


def labels(start: datetime, end: datetime, **options) -> list[str]:
    return [tick.label for tick in time_ticks(start, end, **options)]


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (timedelta(hours=1), ["4 Dec 14:15", "14:30", "14:45", "15:00"]),
        (timedelta(hours=8), ["4 Dec 16:00", "18:00", "20:00", "22:00"]),
        # A day: hours, with the date where the day changes (midnight is just the date).
        (timedelta(days=1), ["4 Dec 18:00", "5 Dec", "06:00", "12:00"]),
        (timedelta(days=3), ["5 Dec", "6 Dec", "7 Dec"]),
        # A month: Mondays.
        (timedelta(days=30), ["7 Dec", "14 Dec", "21 Dec", "28 Dec"]),
        (timedelta(days=120), ["Jan 2027", "Feb", "Mar", "Apr"]),
        (timedelta(days=800), ["Jan 2027", "Jul", "Jan 2028", "Jul", "Jan 2029"]),
        (timedelta(days=8000), ["2030", "2035", "2040", "2045"]),
    ],
    ids=[
        "hour",
        "working-day",
        "day",
        "three-days",
        "month",
        "four-months",
        "two-years",
        "decades",
    ],
)
def test_ticks_are_round_times_spaced_for_the_range(length, expected):
    assert labels(START, START + length) == expected


def test_ticks_fall_inside_the_range_and_never_exceed_the_maximum():
    for hours in (0.5, 3, 30, 24 * 9, 24 * 45, 24 * 400, 24 * 3000):
        end = START + timedelta(hours=hours)
        for most in (2, 4, 5, 8):
            ticks = time_ticks(START, end, max_ticks=most)
            assert 1 <= len(ticks) <= most, (hours, most)
            assert all(START <= tick.at <= end for tick in ticks)
            assert [tick.at for tick in ticks] == sorted({tick.at for tick in ticks})


def test_more_room_gives_finer_ticks():
    end = START + timedelta(days=1)
    assert labels(START, end, max_ticks=8) == [
        "4 Dec 15:00", "18:00", "21:00", "5 Dec", "03:00", "06:00", "09:00", "12:00"
    ]  # fmt: skip


def test_the_year_appears_where_it_changes():
    assert labels(datetime(2026, 12, 20, tzinfo=UTC), datetime(2027, 1, 20, tzinfo=UTC)) == [
        "21 Dec", "28 Dec", "4 Jan 2027", "11 Jan", "18 Jan"
    ]  # fmt: skip


def test_a_range_without_length_or_round_time_gets_one_dated_tick():
    assert labels(START, START) == ["4 Dec 14:05"]
    assert labels(START, START + timedelta(seconds=20)) == ["4 Dec 14:05"]


def test_ticks_are_in_utc_whatever_the_zone_given():
    from zoneinfo import ZoneInfo

    paris = START.astimezone(ZoneInfo("Europe/Paris"))
    assert labels(paris, paris + timedelta(hours=8)) == ["4 Dec 16:00", "18:00", "20:00", "22:00"]


def test_a_version_is_named_by_number_time_kinds_and_words():
    assert (
        version_name(ChartPoint(3, START, 12, 3, ("headline", "text_edited")))
        == "Version 3, 4 Dec 14:05 UTC: headline, text edited; 12 words added, 3 removed"
    )
    assert version_name(ChartPoint(1, START, 250, 0, ("first",))) == (
        "Version 1, 4 Dec 14:05 UTC: first version, 250 words"
    )
    assert version_name(ChartPoint(4, START, 0, 7, ("paragraphs_removed",))) == (
        "Version 4, 4 Dec 14:05 UTC: paragraphs removed; 7 words removed"
    )
    assert version_name(ChartPoint(5, START, 0, 0, ())) == (
        "Version 5, 4 Dec 14:05 UTC: no words changed"
    )


def points(count: int, step: timedelta) -> list[ChartPoint]:
    return [
        ChartPoint(seq, START + step * (seq - 1), 10 * seq, seq - 1, ("text_edited",))
        for seq in range(1, count + 1)
    ]


def parse(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(markup)  # well-formed: it is inlined as SVG in HTML


def test_each_version_is_a_focusable_link_named_for_screen_readers():
    chart = parse(changes_chart(points(3, timedelta(hours=2)), link="/stories/7/versions/{seq}"))
    links = chart.findall(f".//{SVG}a")
    assert [link.get("href") for link in links] == [f"/stories/7/versions/{n}" for n in (1, 2, 3)]
    assert links[1].get("aria-label") == (
        "Version 2, 4 Dec 16:05 UTC: text edited; 20 words added, 1 removed"
    )
    # A tooltip for the mouse says the same; a column the chart's height takes the pointer.
    assert links[1].find(f"{SVG}title").text == links[1].get("aria-label")
    assert all(link.find(f"{SVG}rect").get("class") == "hit" for link in links)
    # Not role="img": that would hide the links inside from assistive technology.
    assert chart.get("role") == "group" and chart.get("aria-label")


def axis_labels(chart: ElementTree.Element, layout: str) -> list[tuple[float, str]]:
    [axis] = chart.findall(f"{SVG}g[@class='ticks ticks-{layout}']")
    assert axis.get("aria-hidden") == "true"
    return [(float(text.get("x").rstrip("%")), text.text) for text in axis.findall(f"{SVG}text")]


def test_the_time_axis_is_drawn_under_the_bars_and_hidden_from_screen_readers():
    chart = parse(changes_chart(points(9, timedelta(hours=6)), link="/v/{seq}"))
    wide = axis_labels(chart, "wide")
    assert [label for _, label in wide] == ["5 Dec", "12:00", "6 Dec", "12:00"]
    assert [x for x, _ in wide] == sorted(x for x, _ in wide)
    # A phone gets fewer ticks, labelled for themselves (the date where it changes).
    assert [label for _, label in axis_labels(chart, "narrow")] == ["5 Dec", "6 Dec"]
    # Percentages of the real width: the labels are outside the stretched plot.
    plot = chart.find(f"{SVG}svg")
    assert plot.get("preserveAspectRatio") == "none"
    assert not list(plot.iter(f"{SVG}text"))


def label_extents(placed: list[PlacedTick], chart_px: float) -> list[tuple[float, float]]:
    """Each label's left and right edge in pixels, at the width estimate place_ticks uses."""
    extents = []
    for tick in placed:
        half = len(tick.tick.label) * LABEL_EM_PER_CHAR * AXIS_FONT_PX / 2
        centre = tick.label_percent * chart_px / 100
        extents.append((centre - half, centre + half))
    return extents


@pytest.mark.parametrize("hours", [0.01, 0.3, 1, 5, 9, 20, 30, 50, 24 * 9, 24 * 45, 24 * 400])
@pytest.mark.parametrize("count", [2, 3, 7])
def test_axis_labels_never_overlap_at_the_narrowest_width_of_their_layout(hours, count):
    span = timedelta(hours=hours)
    for layout, chart_px, most in AXIS_LAYOUTS:
        placed = place_ticks(
            START, START + span, lambda at: 100 * (at - START) / span, chart_px=chart_px,
            max_ticks=most,
        )  # fmt: skip
        assert 1 <= len(placed) <= most, layout
        extents = label_extents(placed, chart_px)
        assert extents[0][0] >= 0 and extents[-1][1] <= chart_px, (layout, placed)
        for (_, left_end), (right_start, _) in pairwise(extents):
            assert left_end < right_start, (layout, placed)


def test_a_label_that_would_not_fit_loses_its_tick_and_the_next_label_says_the_date():
    # Quarter hours from 23:45 in 200 px: "5 Dec" and "00:15" collide with "4 Dec 23:45";
    # once "5 Dec" is dropped, the label of 00:30 must carry the new date itself.
    start = START.replace(hour=23, minute=40)
    span = timedelta(hours=1)
    assert labels(start, start + span, max_ticks=4) == ["4 Dec 23:45", "5 Dec", "00:15", "00:30"]
    placed = place_ticks(
        start, start + span, lambda at: 100 * (at - start) / span, chart_px=200, max_ticks=4
    )
    assert [tick.tick.label for tick in placed] == ["4 Dec 23:45", "5 Dec 00:30"]
    assert placed[1].at_percent == pytest.approx(100 * 50 / 60)  # the mark stays at its time
    assert placed[1].label_percent < placed[1].at_percent  # the label moves in from the edge


def test_a_single_version_gets_its_date_on_the_axis():
    chart = parse(changes_chart(points(1, timedelta(0)), link="/v/{seq}"))
    assert [label for _, label in axis_labels(chart, "wide")] == ["4 Dec 14:05"]
    assert [label for _, label in axis_labels(chart, "narrow")] == ["4 Dec 14:05"]


def test_the_chart_escapes_and_carries_no_script_or_inline_style():
    markup = changes_chart(points(2, timedelta(minutes=5)), link='/v/{seq}?"><script>')
    assert "<script" not in markup and "style=" not in markup
    assert parse(markup) is not None
    assert changes_chart([]) == ""
