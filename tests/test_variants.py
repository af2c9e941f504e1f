"""Headline A/B tests and paragraphs that come and go (tracker.core.variants), end to end: a
local server serves the variants, real checks record them, a real webhook receiver counts
the alerts."""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alert_support import WebhookReceiver
from conftest import cli_runner, make_settings
from servers import LocalServer
from sqlalchemy import select
from test_render_and_health import Tracker
from test_web_support import make_client

from tracker.notify.payload import DEFAULT_EVENTS
from tracker.services.archive import export_json, import_json
from tracker.services.verify import verify_chains
from tracker.store.channels import add_channel
from tracker.store.db import Database
from tracker.store.variant_models import StoryVariant

NAV = "<header><nav><a href='/'>Home</a> <a href='/world'>World</a></nav></header>"
BODY = [
    "The council voted on Tuesday to close the old harbour bridge to traffic from next month, "
    "after engineers found cracks in two of its supporting piers during a routine inspection.",
    "Repairs are expected to take at least a year and to cost about 12 million euros, the "
    "council's finance committee said in a statement published after the vote.",
    "Ferries will run every twenty minutes between the two banks while the bridge is shut, "
    "and buses will be diverted over the motorway crossing further upstream.",
]
EDITED = [*BODY[:2], BODY[2].replace("every twenty minutes", "every ten minutes")]
HEADLINE_A = "Harbour bridge to close for a year of repairs"
HEADLINE_B = "Cracks force council to shut the harbour bridge"
LOCAL = (
    "Readers in the harbour district can sign up for text alerts about the ferry timetable "
    "on the council's website."
)


def page(headline: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><title>{headline}</title></head><body>{NAV}"
        f"<main><article><h1>{headline}</h1>{body}</article></main>"
        "<aside><h2>Most read</h2><ul><li><a href='/other'>Other story</a></li></ul></aside>"
        "</body></html>"
    )


@pytest.fixture
def rig(tmp_path: Path, database_url: str) -> Iterator[Tracker]:
    tracker = Tracker(tmp_path, database_url)
    yield tracker
    tracker.close()


def webhook(rig: Tracker, server: LocalServer) -> WebhookReceiver:
    receiver = WebhookReceiver(server)
    with rig.db.session() as session:
        add_channel(
            session,
            name="hook",
            kind="webhook",
            target=receiver.url,
            now=datetime.now(UTC),
            events=DEFAULT_EVENTS,
            min_kind=None,
        )
    return receiver


def sent_types(rig: Tracker, receiver: WebhookReceiver) -> list[str]:
    """The types of the alerts received so far, in a stable order (a tick sends in parallel)."""
    while rig.runner.tick().sent:
        pass
    return sorted(json.loads(request.body)["type"] for request in receiver.requests)


def detected_alert(receiver: WebhookReceiver) -> dict:
    [alert] = [
        payload
        for payload in (json.loads(request.body) for request in receiver.requests)
        if payload["type"] == "story.variants_detected"
    ]
    return alert


def variants(rig: Tracker, story_id: int) -> dict[tuple[str, str], StoryVariant]:
    with rig.db.session() as session:
        rows = list(session.scalars(select(StoryVariant).where(StoryVariant.story_id == story_id)))
        session.expunge_all()
    return {(row.kind, row.text): row for row in rows}


def test_a_headline_ab_test_is_recognised_once_and_its_flips_make_no_versions(
    rig: Tracker, server: LocalServer
):
    receiver = webhook(rig, server)
    served = [HEADLINE_A, HEADLINE_B, HEADLINE_A, HEADLINE_B, HEADLINE_A, HEADLINE_A]
    served += [HEADLINE_B, HEADLINE_B, HEADLINE_A, HEADLINE_B, HEADLINE_A]
    server.set_versions("/bridge", [page(headline, BODY) for headline in served])
    story_id = rig.add(server.url("/bridge"))

    reports = [rig.check(story_id) for _ in served]

    # A, B and the first return to A are versions (a revert may be news); the second return
    # recognises the test, once; every later flip is only counted.
    assert [r.outcome for r in reports[:3]] == ["changed"] * 3
    assert [r.outcome for r in reports[3:]] == ["unchanged"] * (len(served) - 3)
    assert [v.title for v in rig.versions(story_id)] == [HEADLINE_A, HEADLINE_B, HEADLINE_A]
    assert reports[3].events == ["variants_detected"]
    assert rig.events(story_id) == ["variants_detected"]
    assert sent_types(rig, receiver) == [
        "story.changed",
        "story.changed",
        "story.variants_detected",
    ]
    detected = detected_alert(receiver)
    assert HEADLINE_A in detected["data"]["detail"] and HEADLINE_B in detected["data"]["detail"]

    # Each variant counted as often as the server served it.
    found = variants(rig, story_id)
    assert set(found) == {("headline", HEADLINE_A), ("headline", HEADLINE_B)}
    counts = Counter(served)
    assert found["headline", HEADLINE_A].times_served == counts[HEADLINE_A]
    assert found["headline", HEADLINE_B].times_served == counts[HEADLINE_B]
    assert found["headline", HEADLINE_A].present  # the page as last read
    assert not found["headline", HEADLINE_B].present
    assert rig.story(story_id).variants_since is not None

    # A real edit of the body, under the other variant, is a version and an alert, diffed
    # against the latest version's text.
    server.set("/bridge", page(HEADLINE_B, EDITED))
    report = rig.check(story_id)
    assert report.outcome == "changed"
    latest = rig.versions(story_id)[-1]
    assert latest.seq == 4
    assert latest.text == "\n\n".join(EDITED)
    # The headline went from one variant to the other: not news, and not called a change.
    assert latest.kinds == ["text_edited"]
    assert latest.previous_title is None
    assert latest.title == HEADLINE_B
    assert (latest.words_added, latest.words_removed) == (1, 1)  # ten for twenty, nothing else
    assert sent_types(rig, receiver) == ["story.changed"] * 3 + ["story.variants_detected"]
    assert variants(rig, story_id)["headline", HEADLINE_B].times_served == counts[HEADLINE_B] + 1

    # And the chain still holds: flips wrote nothing into it.
    with rig.db.session() as session:
        chain = verify_chains(session, [story_id])
    assert chain.ok and chain.versions == 4


def test_headlines_served_at_random_are_counted_as_often_as_the_server_served_them(
    rig: Tracker, server: LocalServer
):
    receiver = webhook(rig, server)
    chooser = random.Random(16)
    served = [chooser.choice([HEADLINE_A, HEADLINE_B]) for _ in range(24)]
    server.set_versions("/bridge", [page(headline, BODY) for headline in served])
    story_id = rig.add(server.url("/bridge"))

    reports = [rig.check(story_id) for _ in served]

    detected = [i for i, report in enumerate(reports) if report.events == ["variants_detected"]]
    assert len(detected) == 1
    # Every version came before the test was recognised; none after, whatever was served.
    assert all(r.outcome == "unchanged" for r in reports[detected[0] :])
    versions = rig.versions(story_id)
    assert len(versions) == sum(r.outcome == "changed" for r in reports[: detected[0]])
    found = variants(rig, story_id)
    counts = Counter(served)
    # Counted from the versions and the unchanged checks between them, then check by check.
    assert found["headline", HEADLINE_A].times_served == counts[HEADLINE_A]
    assert found["headline", HEADLINE_B].times_served == counts[HEADLINE_B]
    assert found["headline", served[-1]].present
    # One alert per version but the first (not asked for), and one for the test.
    changed = ["story.changed"] * (len(versions) - 1)
    assert sent_types(rig, receiver) == [*changed, "story.variants_detected"]  # sorted


def test_a_new_headline_after_an_ab_test_is_still_a_version_and_an_alert(
    rig: Tracker, server: LocalServer
):
    receiver = webhook(rig, server)
    rewrite = "Harbour bridge shut after cracks found; ferries to replace it"
    served = [HEADLINE_A, HEADLINE_B, HEADLINE_A, HEADLINE_B, rewrite]
    server.set_versions("/bridge", [page(headline, BODY) for headline in served])
    story_id = rig.add(server.url("/bridge"))

    reports = [rig.check(story_id) for _ in served]

    assert reports[3].events == ["variants_detected"]
    assert reports[4].outcome == "changed"
    latest = rig.versions(story_id)[-1]
    assert (latest.seq, latest.title, latest.kinds) == (4, rewrite, ["headline"])
    assert latest.previous_title == HEADLINE_A  # against the latest version, not the flip
    assert sent_types(rig, receiver) == ["story.changed"] * 3 + ["story.variants_detected"]
    assert ("headline", rewrite) not in variants(rig, story_id)


def test_a_genuine_headline_rewrite_is_unaffected(rig: Tracker, server: LocalServer):
    receiver = webhook(rig, server)
    served = [HEADLINE_A, HEADLINE_B, HEADLINE_B, HEADLINE_B]
    server.set_versions("/bridge", [page(headline, BODY) for headline in served])
    story_id = rig.add(server.url("/bridge"))

    outcomes = [rig.check(story_id).outcome for _ in served]

    assert outcomes == ["changed", "changed", "unchanged", "unchanged"]
    assert [v.title for v in rig.versions(story_id)] == [HEADLINE_A, HEADLINE_B]
    assert rig.events(story_id) == []
    assert rig.story(story_id).variants_since is None
    assert variants(rig, story_id) == {}
    assert sent_types(rig, receiver) == ["story.changed"]


def test_a_paragraph_that_comes_and_goes_is_recognised_and_its_flips_make_no_versions(
    rig: Tracker, server: LocalServer
):
    receiver = webhook(rig, server)
    shown = [True, False, True, False, True, True, False, True, False, False, True]
    server.set_versions(
        "/bridge", [page(HEADLINE_A, [*BODY, LOCAL] if on else BODY) for on in shown]
    )
    story_id = rig.add(server.url("/bridge"))

    reports = [rig.check(story_id) for _ in shown]

    # Present, gone, back: versions (a removal is news); gone again: recognised, once.
    assert [r.outcome for r in reports[:3]] == ["changed"] * 3
    assert [r.outcome for r in reports[3:]] == ["unchanged"] * (len(shown) - 3)
    assert [v.kinds for v in rig.versions(story_id)] == [
        ["first"],
        ["paragraphs_removed"],
        ["paragraphs_added"],
    ]
    assert reports[3].events == ["variants_detected"]
    assert sent_types(rig, receiver) == [
        "story.changed",
        "story.changed",
        "story.variants_detected",
    ]
    detected = detected_alert(receiver)
    assert "comes and goes" in detected["data"]["detail"]
    found = variants(rig, story_id)
    assert set(found) == {("paragraph", LOCAL)}
    assert found["paragraph", LOCAL].times_served == sum(shown)  # the checks that showed it
    assert found["paragraph", LOCAL].present

    # Any other change is a version: here an edit while the paragraph shows, diffed against
    # the latest version (which had it too).
    server.set("/bridge", page(HEADLINE_A, [*EDITED, LOCAL]))
    report = rig.check(story_id)
    assert report.outcome == "changed"
    latest = rig.versions(story_id)[-1]
    assert (latest.seq, latest.kinds) == (4, ["text_edited"])
    assert (latest.words_added, latest.words_removed) == (1, 1)
    assert sent_types(rig, receiver) == ["story.changed"] * 3 + ["story.variants_detected"]

    # And a paragraph never seen to flip is a version too, even beside the varying one.
    server.set(
        "/bridge", page(HEADLINE_A, [*EDITED, LOCAL, "The mayor will visit the site on Friday."])
    )
    report = rig.check(story_id)
    assert report.outcome == "changed"
    assert rig.versions(story_id)[-1].kinds == ["paragraphs_added"]
    assert len(sent_types(rig, receiver)) == 5


# -- every interface shows them --------------------------------------------------------------


def ab_tested_story(rig: Tracker, server: LocalServer) -> int:
    served = [HEADLINE_A, HEADLINE_B, HEADLINE_A, HEADLINE_B, HEADLINE_B, HEADLINE_A]
    server.set_versions("/bridge", [page(headline, BODY) for headline in served])
    story_id = rig.add(server.url("/bridge"))
    for _ in served:
        rig.check(story_id)
    return story_id  # A served 3 times, B 3 times; A shown now


def test_the_cli_lists_the_variants_and_how_often_each_was_served(
    rig: Tracker, server: LocalServer, tmp_path: Path, database_url: str
):
    story_id = ab_tested_story(rig, server)
    run = cli_runner(tmp_path / "cli-home", database_url)

    text = run("variants", str(story_id)).output
    assert "serves variants since" in text
    assert f"3×  {HEADLINE_A} (shown now)" in text
    assert f"3×  {HEADLINE_B}\n" in text

    data = json.loads(run("variants", server.url("/bridge"), "--json").output)
    assert data["since"] is not None
    assert {(v["kind"], v["text"], v["times_served"], v["current"]) for v in data["items"]} == {
        ("headline", HEADLINE_A, 3, True),
        ("headline", HEADLINE_B, 3, False),
    }

    server.set("/plain", page("Nothing to test here", BODY))
    plain = rig.add(server.url("/plain"))
    assert "no variants" in run("variants", str(plain)).output


def test_the_api_and_the_story_page_show_the_variants(rig: Tracker, server: LocalServer):
    story_id = ab_tested_story(rig, server)
    client = make_client(rig.db, rig.settings)

    listed = client.get(f"/api/v1/stories/{story_id}/variants").json()
    assert [(v["text"], v["times_served"]) for v in listed["items"]] == [
        (HEADLINE_A, 3),
        (HEADLINE_B, 3),
    ]
    story = client.get(f"/api/v1/stories/{story_id}").json()
    assert story["variants_since"] == listed["since"] is not None
    assert story["variants"] == listed["items"]
    assert client.get("/api/v1/stories/999/variants").status_code == 404

    html = client.get(f"/stories/{story_id}").text
    assert '<h2 id="variants">Headline variants</h2>' in html
    assert "2 headlines at random (an A/B test)" in html
    assert HEADLINE_B in html and "shown now" in html


def test_the_json_export_carries_the_variants_and_imports_them(
    rig: Tracker, server: LocalServer, tmp_path: Path
):
    story_id = ab_tested_story(rig, server)
    out = io.StringIO()
    with rig.db.session() as session:
        export_json(session, out, story_ids=[story_id], now=datetime.now(UTC))
    [exported] = json.loads(out.getvalue())["stories"]
    assert exported["variants_since"] is not None
    assert {(v["text"], v["times_served"], v["present"]) for v in exported["variants"]} == {
        (HEADLINE_A, 3, True),
        (HEADLINE_B, 3, False),
    }

    fresh = Database(make_settings(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.db'}"))
    try:
        with fresh.session() as session:
            import_json(session, json.loads(out.getvalue()), now=datetime.now(UTC))
        with fresh.session() as session:
            again = io.StringIO()
            export_json(session, again, now=datetime.now(UTC))
        [reimported] = json.loads(again.getvalue())["stories"]
        assert reimported["variants"] == exported["variants"]
        assert reimported["variants_since"] == exported["variants_since"]
    finally:
        fresh.dispose()
