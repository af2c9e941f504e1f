"""The developing-pages benchmark's generator (benchmarks/developing_sites.py) makes what the
benchmark claims: six or more CMS families, every family rendering every round, chrome that
differs between two requests while the article served stays the same, live blogs with their
entries, and pure client-rendered pages that carry no article a plain fetch could read."""

from __future__ import annotations

import html
import json
import sys
import urllib.request
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from developing_sites import (
    CHROME,
    CLIENT_RENDERED,
    EDITS_FOR_TYPE,
    FAMILIES,
    FIRST,
    REPUBLISH,
    STATIC_FAMILIES,
    STORY_TYPES,
    DevelopingSite,
    build_stories,
    round_kind,
)

ROUNDS = 8
STORIES = build_stories(seed=3, count=len(STORY_TYPES) * len(STATIC_FAMILIES), rounds=ROUNDS)


def visible(page: str) -> str:
    return " ".join(lxml.html.fromstring(page).text_content().split())


def test_six_or_more_markup_families_and_every_type_is_generated() -> None:
    assert len(set(STATIC_FAMILIES)) >= 6
    assert {story.kind for story in STORIES} == set(STORY_TYPES)
    assert {story.family for story in STORIES} == set(FAMILIES)


def test_every_family_renders_every_round_with_the_article_served() -> None:
    for story in STORIES:
        for round_no in range(ROUNDS):
            page = story.render(round_no, request_no=1)
            source = story.api(round_no, 1) if story.family in CLIENT_RENDERED else page
            # The article text is in what the site sends: the page, its data, or its API.
            readable = html.unescape(source.replace('\\"', '"').replace("\\/", "/"))
            for part in story.truth(round_no).split("\n\n"):
                assert part in readable, (story.family, round_no, part)


def test_chrome_differs_between_requests_while_the_article_does_not() -> None:
    for story in STORIES:
        first, second = story.render(1, 1), story.render(1, 2)
        assert first != second, story.family
        assert story.truth(1) == story.truth(0)  # round 1 is chrome-only
        if story.family in STATIC_FAMILIES:
            assert visible(first) != visible(second), story.family


def test_rounds_alternate_chrome_only_and_edit_rounds_of_kinds_that_fit_the_type() -> None:
    assert [round_kind(n) for n in range(6)] == [FIRST, CHROME, "edit", REPUBLISH, "edit", CHROME]
    for story in STORIES:
        for round_no, kind in enumerate(story.round_kinds):
            if kind in (FIRST, CHROME, REPUBLISH):
                continue
            assert kind in EDITS_FOR_TYPE[story.kind]
            before, after = story.states[round_no - 1], story.states[round_no]
            assert before != after
            changed_text = story.truth(round_no) != story.truth(round_no - 1)
            assert changed_text or kind == "byline-changed"
        republished = story.round_kinds.index(REPUBLISH)
        before, after = story.states[republished - 1], story.states[republished]
        assert after.modified > before.modified
        assert story.truth(republished) == story.truth(republished - 1)


def test_a_live_blog_has_timestamped_entries_and_a_new_one_on_top_when_added() -> None:
    live = [story for story in STORIES if story.kind == "live"]
    assert {story.family for story in live} == set(STATIC_FAMILIES)
    for story in live:
        state = story.states[0]
        assert len(state.entries) >= 4
        page = html.unescape(story.render(0, 1))
        for entry in state.entries:
            assert entry.title in page
        times = [entry.posted for entry in state.entries]
        assert times == sorted(times, reverse=True)
    wordpress = next(story for story in live if story.family == "wordpress")
    assert "<h3>UPDATE " in wordpress.render(0, 1)
    assert "LiveBlogPosting" in next(s for s in live if s.family == "guardian").render(0, 1)


def test_a_client_rendered_page_carries_no_article_and_the_site_serves_it_to_its_script() -> None:
    spa = next(story for story in STORIES if story.family in CLIENT_RENDERED)
    page = spa.render(0, 1)
    assert spa.states[0].paragraphs[0] not in html.unescape(page)
    assert "<noscript>" in page
    with DevelopingSite([spa]) as site:
        site.round = 0
        with urllib.request.urlopen(site.url(spa), timeout=5) as response:
            assert spa.states[0].headline not in html.unescape(response.read().decode())
        api = f"http://127.0.0.1:{site.port}/api/v2/stories/{spa.id}?platform=web"
        with urllib.request.urlopen(api, timeout=5) as response:
            data = json.loads(response.read())
    assert data["story"]["headline"] == spa.states[0].headline
