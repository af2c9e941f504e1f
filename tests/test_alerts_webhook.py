"""Webhook alerts through the outbox, against a real HTTP receiver.

The receiver verifies every request with the `standardwebhooks` reference library and
checks the body against the JSON Schema published in docs/. Faults (500s, redirects, a
receiver that is down for hours) cost retries, never a lost or a second distinct alert.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import jsonschema
import pytest
from alert_support import Rig, WebhookReceiver, free_port
from proxy_server import ForwardProxy
from servers import LocalServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tracker.notify.webhook import new_secret
from tracker.store.alert_models import DeliveryStatus

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "webhook-payload.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
SECRET = new_secret()


def verified(request) -> dict:
    """What a receiver does: check the signature, then the documented shape."""
    payload = Webhook(SECRET).verify(request.body, request.headers)
    VALIDATOR.validate(payload)
    return payload


def test_the_schema_itself_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_a_change_arrives_signed_readable_and_as_documented(rig: Rig, server: LocalServer):
    receiver = WebhookReceiver(server)
    rig.add_channel("hook", "webhook", receiver.url, secret=SECRET)
    assert rig.publish(0).version_seq == 1  # the first version: "new" is not subscribed
    assert rig.deliveries() == []

    report = rig.publish(1)  # the press conference: paragraphs added, the promise kept
    assert report.version_seq == 2
    [delivery] = rig.deliveries()
    assert delivery.status == DeliveryStatus.PENDING  # committed with the version

    assert rig.runner.tick().sent == 1
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == delivery.idempotency_key
    payload = verified(request)
    assert payload["type"] == "story.changed"
    assert payload["id"] == delivery.idempotency_key
    data = payload["data"]
    assert data["events"] == ["changed", "promise_fulfilled"]
    assert data["story"] == {
        "id": rig.story_id,
        "url": server.url(rig.path),
        "title": 'US-Iran Have "Heated Exchange"',
        "tags": ["iraq"],
    }
    version = data["version"]
    assert (version["seq"], version["previous_seq"]) == (2, 1)
    assert "paragraphs_added" in version["kinds"]
    assert version["stats"]["words_added"] > 50
    assert any("security subcommittee on Iraq" in text for text in version["added"])
    assert any("check back for an update" in text for text in version["removed"])
    assert version["unified_diff"].startswith("--- v1\n+++ v2\n")
    assert "+Qomi told Iranian state television" in version["unified_diff"]
    assert data["detail"]  # the promise that was kept
    assert data["links"]["original"] == server.url(rig.path)

    # A tampered body or a wrong secret does not verify.
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(request.body.replace(b"Crocker", b"Crooker"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(request.body, request.headers)

    [delivery] = rig.deliveries()
    assert delivery.status == DeliveryStatus.SENT
    assert [(a.ok, a.status_code) for a in delivery.attempt_log] == [(True, 200)]
    assert rig.runner.tick().attempted == 0  # nothing is ever sent twice

    # A headline change names both headlines.
    rig.publish(2)
    rig.runner.tick()
    headline = verified(receiver.requests[-1])["data"]["version"]
    assert "headline" in headline["kinds"]
    assert headline["title_before"] == 'US-Iran Have "Heated Exchange"'
    assert headline["title_after"] == 'Crocker: Talks With Iran "Direct and Serious"'


def test_failures_including_redirects_are_retried_with_backoff_then_sent_once(
    rig: Rig, server: LocalServer
):
    receiver = WebhookReceiver(server)
    receiver.answer(500, 503, 302)  # then 200
    rig.add_channel("hook", "webhook", receiver.url, secret=SECRET)
    rig.publish(0)
    rig.publish(1)

    assert rig.runner.tick().failed == 1  # 500
    assert rig.runner.tick().attempted == 0  # not due: back-off 30 s
    rig.clock.advance(seconds=29)
    assert rig.runner.tick().attempted == 0
    rig.clock.advance(seconds=1)
    assert rig.runner.tick().failed == 1  # 503; next wait 60 s
    rig.clock.advance(seconds=59)
    assert rig.runner.tick().attempted == 0
    rig.clock.advance(seconds=1)
    assert rig.runner.tick().failed == 1  # 302 is a failure too: redirects are not followed
    rig.clock.advance(seconds=120)
    assert rig.runner.tick().sent == 1
    rig.clock.advance(hours=2)
    assert rig.runner.tick().attempted == 0

    [delivery] = rig.deliveries()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 4
    assert [(a.number, a.ok, a.status_code) for a in delivery.attempt_log] == [
        (1, False, 500),
        (2, False, 503),
        (3, False, 302),
        (4, True, 200),
    ]
    assert "receiver says 500" in delivery.attempt_log[0].response
    assert "redirect to /elsewhere" in delivery.attempt_log[2].error
    # Four requests, one alert: the same id and the same bytes every time.
    assert len(receiver.requests) == 4
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.idempotency_key}
    assert len({r.body for r in receiver.requests}) == 1
    for request in receiver.requests:
        verified(request)


def test_a_receiver_down_for_hours_gets_the_alert_when_it_returns(tmp_path, database_url, server):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    rig = Rig(tmp_path, database_url, server, delivery_max_attempts=20)
    try:
        rig.add_channel("hook", "webhook", url, secret=SECRET)
        rig.publish(0)
        rig.publish(1)
        # Three hours of "connection refused", looked at every five minutes.
        for _ in range(36):
            rig.runner.tick()
            rig.clock.advance(minutes=5)
        [delivery] = rig.deliveries()
        assert delivery.status == DeliveryStatus.FAILED
        attempts = delivery.attempt_log
        assert all(not a.ok and a.status_code is None for a in attempts)
        assert "Connection" in attempts[0].error or "refused" in attempts[0].error
        gaps = [
            (b.started_at - a.started_at).total_seconds() for a, b in itertools.pairwise(attempts)
        ]
        assert gaps == sorted(gaps), "waits between attempts never shrink"
        assert max(gaps) <= 3600 + 300, "the back-off is capped at an hour (+ tick spacing)"
        assert 5 <= len(attempts) < 36, "back-off spaced the attempts out"

        with LocalServer(port=port) as returned:
            receiver = WebhookReceiver(returned)
            rig.clock.advance(hours=1)
            assert rig.runner.tick().sent == 1
            rig.clock.advance(hours=1)
            assert rig.runner.tick().attempted == 0
            [request] = receiver.requests
            assert verified(request)["data"]["version"]["seq"] == 2
        [delivery] = rig.deliveries()
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.attempt_log[-1].ok
    finally:
        rig.close()


def test_a_delivery_failing_max_attempts_times_is_dead_and_stays_visible(
    tmp_path, database_url, server
):
    rig = Rig(tmp_path, database_url, server, delivery_max_attempts=3)
    try:
        receiver = WebhookReceiver(server)
        receiver.answer(*[410] * 10)
        rig.add_channel("hook", "webhook", receiver.url, secret=SECRET)
        rig.publish(0)
        rig.publish(1)
        for _ in range(10):
            rig.runner.tick()
            rig.clock.advance(hours=1)
        [delivery] = rig.deliveries()
        assert delivery.status == DeliveryStatus.DEAD
        assert delivery.attempts == 3
        assert len(receiver.requests) == 3
        assert "410" in delivery.last_error
    finally:
        rig.close()


def test_channel_filters_decide_who_hears_of_what(rig: Rig, server: LocalServer):
    everything = WebhookReceiver(server, "/everything")
    other_tag = WebhookReceiver(server, "/other-tag")
    headlines = WebhookReceiver(server, "/headlines")
    rig.add_channel(
        "everything", "webhook", everything.url, secret=SECRET, min_kind=None,
        events=["new", "changed"],
    )  # fmt: skip
    rig.add_channel("other", "webhook", other_tag.url, secret=SECRET, tags=["sport"])
    rig.add_channel(
        "headlines", "webhook", headlines.url, secret=SECRET, min_kind="headline",
        events=["changed"],
    )  # fmt: skip
    for stage in range(5):
        rig.publish(stage)
    while rig.runner.tick().attempted:
        pass
    versions = sorted(
        (verified(r)["data"]["version"] for r in everything.requests), key=lambda v: v["seq"]
    )
    assert [v["seq"] for v in versions] == [1, 2, 3, 4, 5]
    assert versions[0]["kinds"] == ["first"]
    assert other_tag.requests == []
    [headline] = [verified(r)["data"]["version"] for r in headlines.requests]
    assert headline["seq"] == 3 and "headline" in headline["kinds"]


def test_webhooks_go_through_the_webhook_proxy_when_one_is_set(tmp_path, database_url, server):
    """Behind a corporate proxy the receiver (Slack, a newsroom bot) is reachable only
    through it: webhook_proxy_url sends deliveries there; proxy_url alone does not."""
    with ForwardProxy(credentials=("desk", "s3cret")) as proxy:
        rig = Rig(tmp_path, database_url, server, webhook_proxy_url=proxy.url)
        try:
            receiver = WebhookReceiver(server)
            rig.add_channel("hook", "webhook", receiver.url, secret=SECRET)
            rig.publish(0)
            rig.publish(1)
            assert rig.runner.tick().sent == 1
        finally:
            rig.close()
    assert proxy.requests == [("POST", receiver.url)]
    [request] = receiver.requests
    assert verified(request)["type"] == "story.changed"
    assert "proxy-authorization" not in request.headers  # the proxy's secret stays with it
