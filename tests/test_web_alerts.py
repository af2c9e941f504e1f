"""Channels and the delivery log in the web UI and the JSON API: read-only, secrets never
shown, a hostile receiver's answers rendered as text, bad input answered 4xx.

Deliveries come from the real pipeline: a check stores a version and enqueues its alert,
the delivery runner posts it to a receiver on 127.0.0.1 that answers as scripted.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from alert_support import Rig
from servers import Exchange, LocalServer
from test_web_support import make_client

from tracker.notify.kinds import mask_target
from tracker.notify.payload import DEFAULT_EVENTS
from tracker.store.alert_models import Delivery, DeliveryStatus
from tracker.store.channels import add_channel
from tracker.web.security import PAGE_CSP

API = "/api/v1"
SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="
HOSTILE = '"><script>alert(1)</script>'
HOSTILE_BODY = "<script>alert(2)</script><img src=x onerror=alert(3)>"


class HostileReceiver:
    """A webhook receiver that fails with a redirect whose Location and body are hostile."""

    def __init__(self, server: LocalServer) -> None:
        self.answers: list[int] = []
        server.set_handler("/hook", self._handle)

    def _handle(self, exchange: Exchange) -> None:
        status = self.answers.pop(0) if self.answers else 200
        headers = {"Content-Type": "text/html"}
        if status == 302:
            headers["Location"] = f"/moved{HOSTILE}"
        exchange.send(status, headers, HOSTILE_BODY if status != 200 else "ok")


@pytest.fixture
def alerts(rig: Rig, server: LocalServer):
    """Two channels; on `hook` a change failed twice (a 500, then a redirect), one pending."""
    receiver = HostileReceiver(server)
    hook_url = server.url("/hook") + "?token=hunter2"
    rig.add_channel("hook", "webhook", hook_url, secret=SECRET, tags=["iraq"])
    with rig.db.session() as session:
        add_channel(
            session,
            name="chat",
            kind="apprise",
            target="tgram://123456:bot-token/987",
            min_kind="text_edited",
            events=DEFAULT_EVENTS,
            enabled=False,
            now=rig.clock(),
        )
    rig.publish(0)
    rig.publish(1)
    receiver.answers = [500, 302]
    assert rig.runner.tick().failed == 1
    rig.clock.advance(hours=2)
    rig.runner.tick()
    rig.publish(3)  # pending: not tried yet
    [failed, pending] = rig.deliveries()
    assert (failed.status, pending.status) == (DeliveryStatus.FAILED, DeliveryStatus.PENDING)
    assert failed.attempts == 2 and HOSTILE in (failed.last_error or "")
    return {"failed": failed.id, "pending": pending.id, "story": rig.story_id}


@pytest.fixture
def bare_client(db, settings):
    """An installation without channels or deliveries."""
    with make_client(db, settings) as test_client:
        yield test_client


@pytest.fixture
def client(rig: Rig):
    with make_client(rig.db, rig.settings) as test_client:
        yield test_client


def no_secret_in(text: str) -> None:
    assert SECRET not in text
    assert "hunter2" not in text
    assert "bot-token" not in text


def test_targets_are_masked_by_kind():
    assert mask_target("email", "a@example.org, b@example.org") == "a@example.org, b@example.org"
    assert (
        mask_target("webhook", "https://user:pw@example.org:8443/hooks/x?token=s&v=2")
        == "https://***@example.org:8443/hooks/x?token=%2A%2A%2A&v=%2A%2A%2A"
    )
    assert mask_target("webhook", "https://example.org/hooks") == "https://example.org/hooks"
    assert mask_target("apprise", "tgram://bottoken/ChatID") == "tgram://***"
    assert mask_target("webhook", "http://[::1") == "***"


def test_channels_are_listed_read_only_with_counts_and_no_secret(client, alerts):
    listing = client.get(f"{API}/channels").json()
    assert listing["total"] == 2 and listing["next_offset"] is None
    chat, hook = listing["items"]
    assert (chat["name"], hook["name"]) == ("chat", "hook")
    assert hook["kind"] == "webhook" and hook["has_secret"] is True
    assert hook["target"].endswith("/hook?token=%2A%2A%2A")
    assert hook["tags"] == ["iraq"] and hook["enabled"] is True
    assert hook["deliveries"] == {"pending": 1, "failed": 1, "sent": 0, "dead": 0}
    assert chat["target"] == "tgram://***" and chat["enabled"] is False
    assert chat["deliveries"] == {"pending": 0, "failed": 0, "sent": 0, "dead": 0}
    no_secret_in(client.get(f"{API}/channels").text)

    page = client.get(f"{API}/channels", params={"limit": 1, "offset": 1}).json()
    assert [c["name"] for c in page["items"]] == ["hook"] and page["next_offset"] is None

    by_name = client.get(f"{API}/channels/hook")
    assert by_name.json()["id"] == hook["id"]
    no_secret_in(by_name.text)
    assert client.get(f"{API}/channels/{hook['id']}").json()["name"] == "hook"

    home = client.get("/").text
    assert 'href="/channels"' in home and 'href="/deliveries"' in home
    html = client.get("/channels")
    assert html.status_code == 200
    assert html.headers["Content-Security-Policy"] == PAGE_CSP
    text = html.text
    no_secret_in(text)
    assert "Add a channel" in text and "tracker channel" in text
    assert "tgram://***" in text and "/hook?token=%2A%2A%2A" in text
    assert "1 failed" in text and "1 pending" in text
    assert 'href="/deliveries?channel=hook&amp;status=failed"' in text


def test_the_deliveries_api_filters_paginates_and_shows_attempts(client, rig, alerts):
    log = client.get(f"{API}/deliveries").json()
    assert log["total"] == 2
    assert [d["id"] for d in log["items"]] == [alerts["pending"], alerts["failed"]]  # newest first
    pending, failed = log["items"]
    assert (pending["version"], pending["status"], pending["attempts"]) == (3, "pending", 0)
    assert (failed["version"], failed["status"], failed["attempts"]) == (2, "failed", 2)
    assert failed["channel"] == "hook" and failed["story_id"] == alerts["story"]
    assert HOSTILE in failed["last_error"]

    only_failed = client.get(f"{API}/deliveries", params={"status": "failed"}).json()
    assert [d["id"] for d in only_failed["items"]] == [alerts["failed"]]
    assert client.get(f"{API}/deliveries", params={"status": "sent"}).json()["total"] == 0
    assert client.get(f"{API}/deliveries", params={"channel": "chat"}).json()["items"] == []
    first = client.get(f"{API}/deliveries", params={"channel": "hook", "limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_offset"] == 1

    detail = client.get(f"{API}/deliveries/{alerts['failed']}").json()
    assert [a["number"] for a in detail["attempt_log"]] == [1, 2]
    attempt = detail["attempt_log"][0]
    assert attempt["ok"] is False and attempt["status_code"] == 500
    assert attempt["response"] == HOSTILE_BODY
    assert attempt["error"].startswith("HTTP 500")
    assert detail["attempt_log"][1]["status_code"] == 302
    assert HOSTILE in detail["attempt_log"][1]["error"]
    untried = client.get(f"{API}/deliveries/{alerts['pending']}").json()
    assert untried["attempt_log"] == []

    # A delivery given up on, another sent: both counted and filterable.
    with rig.db.session() as session:
        dead = session.get(Delivery, alerts["failed"])
        dead.status = DeliveryStatus.DEAD
        dead.next_attempt_at = None
        sent = session.get(Delivery, alerts["pending"])
        sent.status = DeliveryStatus.SENT
        sent.sent_at = rig.clock() + timedelta(minutes=1)
    [_, hook] = client.get(f"{API}/channels").json()["items"]
    assert hook["deliveries"] == {"pending": 0, "failed": 0, "sent": 1, "dead": 1}
    dead_only = client.get(f"{API}/deliveries", params={"status": "dead"}).json()
    assert [d["id"] for d in dead_only["items"]] == [alerts["failed"]]


BAD_REQUESTS = [
    ("/channels/nope", 404, "no channel named 'nope'"),
    ("/channels/99999", 404, "no channel named '99999'"),
    ("/channels/99999999999999999999999", 404, "no channel named"),
    ("/deliveries/99999", 404, "no delivery 99999"),
    ("/deliveries/0", 422, None),
    ("/deliveries/abc", 422, None),
    ("/deliveries?status=bogus", 422, None),
    ("/deliveries?channel=nope", 404, "no channel named 'nope'"),
    ("/deliveries?channel=%00", 422, None),
    ("/deliveries?limit=0", 422, None),
    ("/channels?offset=-1", 422, None),
]


def test_bad_api_requests_are_4xx_with_a_reason(bare_client):
    for path, status, message in BAD_REQUESTS:
        response = bare_client.get(API + path)
        assert response.status_code == status, (path, response.text)
        if message:
            assert message in response.json()["detail"], path


def test_the_delivery_log_escapes_a_hostile_receiver(client, alerts):
    page = client.get("/deliveries")
    assert page.status_code == 200
    text = page.text
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert f'href="/deliveries/{alerts["failed"]}"' in text
    assert text.index(f'href="/deliveries/{alerts["pending"]}"') < text.index(
        f'href="/deliveries/{alerts["failed"]}"'
    )
    no_secret_in(text)

    failed_only = client.get("/deliveries", params={"status": "failed"}).text
    assert f'href="/deliveries/{alerts["failed"]}"' in failed_only
    assert f'href="/deliveries/{alerts["pending"]}"' not in failed_only
    assert "No deliveries match" in client.get("/deliveries", params={"channel": "chat"}).text

    detail = client.get(f"/deliveries/{alerts['failed']}")
    assert detail.status_code == 200
    assert "<script>" not in detail.text and "<img" not in detail.text
    assert "&lt;img src=x onerror=alert(3)&gt;" in detail.text
    assert "HTTP 302 Found" in detail.text
    no_secret_in(detail.text)


BAD_PAGES = [
    ("/deliveries/99999", 404, "no delivery 99999"),
    ("/deliveries/0", 400, "invalid request"),
    ("/deliveries?status=bogus", 400, "invalid request"),
    ("/deliveries?channel=nope", 404, "no channel named"),
]


def test_bad_page_requests_are_4xx_pages(bare_client):
    for path, status, message in BAD_PAGES:
        response = bare_client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html")
        assert message in response.text, path
