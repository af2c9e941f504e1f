"""The outbox's decisions, as pure functions: back-off, attempt outcomes, digest periods,
idempotency keys and channel filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.notify.payload import sample_alert, subject, webhook_payload
from tracker.notify.result import SendResult
from tracker.notify.spec import ChannelSettings, Filters, StoryFacts
from tracker.pipeline.outbox import (
    DeliveryPolicy,
    after_attempt,
    backoff,
    digest_due,
    idempotency_key,
)

NOW = datetime(2026, 11, 27, 8, 17, 30, tzinfo=UTC)
POLICY = DeliveryPolicy(
    backoff_base=timedelta(seconds=30), backoff_cap=timedelta(hours=1), max_attempts=5
)
STORY = StoryFacts(id=7, url="https://news.example/a", canonical_url=None, tags=frozenset({"x"}))


def test_backoff_doubles_from_the_base_and_stops_at_the_cap():
    waits = [backoff(n, timedelta(seconds=30), timedelta(hours=1)) for n in range(0, 12)]
    assert [w.total_seconds() for w in waits] == [
        0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600,
    ]  # fmt: skip
    assert backoff(10_000, timedelta(seconds=30), timedelta(hours=1)) == timedelta(hours=1)


def test_an_attempt_sends_retries_or_gives_up():
    sent = after_attempt(1, SendResult(True, 200), POLICY, NOW)
    assert (sent.status, sent.sent_at, sent.next_attempt_at) == ("sent", NOW, None)
    retry = after_attempt(2, SendResult(False, 500, "oops", "HTTP 500"), POLICY, NOW)
    assert retry.status == "failed"
    assert retry.next_attempt_at == NOW + timedelta(seconds=60)
    assert "500" in retry.last_error and "oops" in retry.last_error
    dead = after_attempt(5, SendResult(False, error="refused"), POLICY, NOW)
    assert (dead.status, dead.next_attempt_at) == ("dead", None)


def test_digest_periods_end_on_round_times():
    assert digest_due(NOW, 3600) == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert digest_due(NOW, 86400) == datetime(2026, 11, 28, tzinfo=UTC)
    on_the_hour = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert digest_due(on_the_hour, 3600) == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_idempotency_keys_are_derived_from_channel_and_version_or_event():
    assert idempotency_key("abc", version_id=3) == idempotency_key("abc", version_id=3)
    assert idempotency_key("abc", version_id=3) != idempotency_key("abc", event_id=3)
    assert idempotency_key("abc", version_id=3) != idempotency_key("abd", version_id=3)
    with pytest.raises(ValueError):
        idempotency_key("abc")


def test_filters_by_default_ignore_minor_edits_and_first_versions():
    default = Filters()
    assert default.wants_version(STORY, ["text_edited"], fulfils=False) == "changed"
    assert default.wants_version(STORY, ["headline", "dates"], fulfils=False) == "changed"
    assert default.wants_version(STORY, ["minor"], fulfils=False) is None
    assert default.wants_version(STORY, ["dates", "byline"], fulfils=False) is None
    assert default.wants_version(STORY, ["first"], fulfils=False) is None
    assert Filters(events=frozenset({"new"})).wants_version(STORY, ["first"], fulfils=False)
    # A kept promise is news whatever its size, for channels that ask for it.
    assert default.wants_version(STORY, ["minor"], fulfils=True) == "promise_fulfilled"


def test_filters_on_tags_stories_and_events():
    assert Filters(tags=frozenset({"x", "y"})).covers(STORY)
    assert not Filters(tags=frozenset({"y"})).covers(STORY)
    assert Filters(stories=frozenset({"7"})).covers(STORY)
    assert Filters(stories=frozenset({"https://news.example/a"})).covers(STORY)
    assert not Filters(stories=frozenset({"8"})).covers(STORY)
    only_gone = Filters(events=frozenset({"story_gone"}))
    assert only_gone.wants_event(STORY, "story_gone")
    assert not only_gone.wants_event(STORY, "checks_failing")
    assert only_gone.wants_version(STORY, ["headline"], fulfils=True) is None


def test_settings_file_channels_are_checked():
    with pytest.raises(ValueError, match="needs 'secret'"):
        ChannelSettings(name="h", kind="webhook", url="https://x.example/h")
    with pytest.raises(ValueError, match="needs 'to'"):
        ChannelSettings(name="m", kind="email")
    with pytest.raises(ValueError, match="unknown event"):
        ChannelSettings(name="m", kind="email", to=["a@b.example"], events=["changd"])
    with pytest.raises(ValueError, match="unknown change kind"):
        ChannelSettings(name="m", kind="email", to=["a@b.example"], min_kind="big")
    ok = ChannelSettings(name="m", kind="email", to=["a@b.example", "c@d.example"], digest="1d")
    assert ok.target == "a@b.example, c@d.example"


def test_the_test_alert_is_a_realistic_change():
    alert = sample_alert(NOW)
    assert subject(alert).startswith("Headline changed: Test alert")
    version = webhook_payload([alert], "key")["data"]["version"]
    stats = version["stats"]
    assert stats["words_added"] > 0 and stats["words_removed"] > 0
    assert f"+{stats['words_added']}/-{stats['words_removed']} words" in version["summary"]
    assert version["removed"] and version["added"]
