"""Headline A/B tests and paragraphs that come and go (tracker.core.variants), end to end: a
local server serves the variants, real checks record them, a real webhook receiver counts
the alerts."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alert_support import WebhookReceiver
from servers import LocalServer
from sqlalchemy import select
from test_render_and_health import Tracker

from tracker.notify.payload import DEFAULT_EVENTS
from tracker.services.verify import verify_chains
from tracker.store.channels import add_channel
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
    while rig.runner.tick().sent:
        pass
    return [json.loads(request.body)["type"] for request in receiver.requests]


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
    [detected] = [json.loads(r.body) for r in receiver.requests][2:]
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
    assert "text_edited" in latest.kinds
    assert (latest.words_added, latest.words_removed) == (1, 1)  # ten for twenty, nothing else
    assert sent_types(rig, receiver)[-1] == "story.changed"
    assert len(receiver.requests) == 4
    assert variants(rig, story_id)["headline", HEADLINE_B].times_served == counts[HEADLINE_B] + 1

    # And the chain still holds: flips wrote nothing into it.
    with rig.db.session() as session:
        chain = verify_chains(session, [story_id])
    assert chain.ok and chain.versions == 4
