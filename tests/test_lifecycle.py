"""The lifecycle decisions (tracker.core.lifecycle), one check's facts at a time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.core.lifecycle import (
    Lifecycle,
    LifecycleEvent,
    LifecycleState,
    Observation,
    kept_share,
    observe,
    paywall_marker,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
URL = "https://news.example/2026/12/04/talks-resume"
LIVE = LifecycleState(Lifecycle.LIVE, URL)


def page(**facts) -> Observation:
    """A 200 with the article, as last stored, at the story's URL; `facts` change that."""
    values = {"url": URL, "status": 200, "answered": True, "final_url": URL, "kept_share": 1.0}
    return Observation(**{**values, **facts})


def kinds(step) -> list[str]:
    return [str(event.kind) for event in step.events]


@pytest.mark.parametrize("status", [404, 410])
def test_the_first_404_or_410_unpublishes_a_live_story_once(status):
    gone = Observation(URL, status, final_url=URL)
    first = observe(LIVE, gone, NOW)
    assert kinds(first) == ["unpublished"]
    assert first.events[0].detail == f"Unpublished: the page answered {status}"
    assert first.state.state is Lifecycle.UNPUBLISHED
    again = observe(first.state, gone, NOW)
    assert (kinds(again), again.state) == ([], first.state)


def test_a_story_with_no_version_yet_has_nothing_to_unpublish():
    step = observe(LifecycleState(has_version=False), Observation(URL, 404), NOW)
    assert step.events == ()


def test_network_errors_and_server_errors_change_nothing():
    for seen in (Observation(URL, None), Observation(URL, 503), Observation(URL, 500)):
        assert observe(LIVE, seen, NOW).events == ()
        assert observe(LIVE, seen, NOW).state == LIVE


@pytest.mark.parametrize("before", [Lifecycle.UNPUBLISHED, Lifecycle.REDIRECTED])
def test_the_article_answering_again_is_republished(before):
    step = observe(LifecycleState(before, URL), page(), NOW)
    assert kinds(step) == ["republished"]
    assert step.state.state is Lifecycle.LIVE
    assert not step.withhold


def test_a_republished_story_may_come_back_edited():
    step = observe(LifecycleState(Lifecycle.UNPUBLISHED, URL), page(kept_share=0.2), NOW)
    assert kinds(step) == ["republished"]


def test_a_304_after_an_outage_is_the_stored_article_again():
    step = observe(LifecycleState(Lifecycle.UNPUBLISHED, URL), page(status=304), NOW)
    assert kinds(step) == ["republished"]


def test_a_redirect_to_another_page_of_the_site_is_redirected_and_withheld():
    home = "https://news.example/"
    step = observe(LIVE, page(final_url=home, kept_share=0.02), NOW)
    assert kinds(step) == ["redirected"]
    assert step.events[0].data["to"] == home
    assert step.events[0].detail == f"Redirected to another page: {home}"
    assert step.withhold and step.state.state is Lifecycle.REDIRECTED
    still = observe(step.state, page(final_url=home, kept_share=0.02), NOW)
    assert (kinds(still), still.withhold) == ([], True)


def test_a_redirect_to_an_empty_page_is_redirected_too():
    step = observe(LIVE, page(final_url="https://news.example/world", article=False), NOW)
    assert kinds(step) == ["redirected"]


def test_the_same_article_on_another_site_is_redirected_not_moved():
    """A story sold on to another outlet is not the site's story at a new address."""
    step = observe(LIVE, page(final_url="https://other.example/talks", kept_share=1.0), NOW)
    assert kinds(step) == ["redirected"]
    assert step.events[0].detail.startswith("Redirected to another site")


def test_a_redirect_to_the_same_article_is_a_slug_change_with_no_withholding():
    new = "https://news.example/2026/12/04/talks-resume-in-geneva"
    step = observe(LIVE, page(final_url=new, kept_share=0.9), NOW)
    assert kinds(step) == ["slug_changed"]
    assert step.events[0].data == {"status": 200, "from": URL, "to": new}
    assert step.events[0].detail == f"Moved to {new} (was {URL})"
    assert step.state == LifecycleState(Lifecycle.LIVE, new)
    assert not step.withhold
    # The old URL keeps redirecting there: nothing new.
    assert observe(step.state, page(final_url=new), NOW).events == ()


def test_a_new_canonical_url_without_a_redirect_is_a_slug_change():
    new = "https://news.example/talks-resume-geneva"
    step = observe(LIVE, page(canonical_url=new, kept_share=1.0), NOW)
    assert kinds(step) == ["slug_changed"]
    assert step.state.live_url == new


def test_a_canonical_url_on_another_site_is_ignored():
    step = observe(LIVE, page(canonical_url="https://aggregator.example/copy"), NOW)
    assert step.events == ()
    assert step.state == LIVE


def test_a_page_that_shows_no_address_is_no_evidence_of_a_move():
    assert observe(LIVE, page(final_url=None), NOW).events == ()


def test_first_sight_records_the_address_without_an_event():
    """After the upgrade that adds lifecycles, no story 'moves' on its first check."""
    moved = "https://news.example/talks"
    step = observe(LifecycleState(Lifecycle.LIVE, None), page(canonical_url=moved), NOW)
    assert step.events == ()
    assert step.state.live_url == moved
    new_story = observe(LifecycleState(has_version=False), page(), NOW)
    assert (new_story.events, new_story.state.live_url) == ((), URL)


def test_a_teaser_behind_a_paywall_marker_is_paywalled_once_and_withheld():
    teaser = page(kept_share=0.15, paywall="a 'paywall' element")
    step = observe(LIVE, teaser, NOW)
    assert kinds(step) == ["paywalled"]
    assert "a 'paywall' element" in step.events[0].detail
    assert step.withhold and step.state.state is Lifecycle.PAYWALLED
    again = observe(step.state, teaser, NOW)
    assert (again.events, again.withhold) == ((), True)
    lifted = observe(step.state, page(), NOW)
    assert kinds(lifted) == ["republished"]
    assert "paywall was lifted" in lifted.events[0].detail
    assert not lifted.withhold


def test_a_full_article_on_a_page_with_a_meter_is_not_paywalled():
    step = observe(LIVE, page(kept_share=0.9, paywall="a 'meter' element"), NOW)
    assert step.events == ()
    assert not step.withhold


def test_a_collapse_with_no_paywall_marker_is_an_edit_not_a_lifecycle_event():
    step = observe(LIVE, page(kept_share=0.1), NOW)
    assert step.events == ()
    assert not step.withhold


def test_kept_share_from_a_diffs_counts():
    assert kept_share(200, 150) == 0.25
    assert kept_share(0, 0) == 1.0
    assert kept_share(10, 12) == 0.0


@pytest.mark.parametrize(
    ("html", "marker"),
    [
        (
            '<script type="application/ld+json">{"@type":"NewsArticle",'
            '"isAccessibleForFree": false,"hasPart":{"cssSelector":".paid"}}</script>',
            "schema.org isAccessibleForFree: false",
        ),
        ('{"isAccessibleForFree":"False"}', "schema.org isAccessibleForFree: false"),
        ('<div class="article-body paywall-overlay">…</div>', "a 'paywall' element"),
        ('<section id="subscriber-only">…</section>', "a 'subscriber-only' element"),
        ("<div class='meter'>2 of 5 free articles</div>", "a 'meter' element"),
        ("<p>Subscribe to continue reading.</p>", "“Subscribe to continue reading”"),
        ("<p>This article is for subscribers only.</p>", "“This article is for subscribers”"),
    ],
)
def test_paywall_markers_newsrooms_use(html, marker):
    assert paywall_marker(html) == marker


@pytest.mark.parametrize(
    "html",
    [
        None,
        "",
        '{"isAccessibleForFree": true}',
        '<div class="parameter">a parameter is not a meter</div>',
        "<p>Subscribers to the newsletter get the morning briefing.</p>",
        "<p>The wall of the old city was rebuilt in 1950.</p>",
    ],
)
def test_pages_without_a_paywall(html):
    assert paywall_marker(html) is None


def test_every_lifecycle_event_has_a_label_and_an_alert_kind():
    from tracker.core.lifecycle import EVENT_LABELS
    from tracker.notify.payload import ALERT_EVENTS
    from tracker.store.models import EventKind

    for kind in LifecycleEvent:
        assert kind in EVENT_LABELS
        assert str(kind) in ALERT_EVENTS
        assert EventKind(str(kind))
