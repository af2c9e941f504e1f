"""Issue 13, finding 3: a page's text cannot add a header to an alert e-mail, nor a line to
a webhook receiver's log, whatever it holds and whatever Python the tracker runs on.

The class: a headline (or any text an alert carries) with an RFC 2047 encoded word that
decodes to CR/LF (q or b encoding, nested), raw CR, LF, CRLF, NUL, U+0085, U+2028/U+2029,
header-looking text, very long titles. Each goes through a real SMTP server (aiosmtpd) and
a real webhook receiver; one goes all the way from a page through a check and the outbox.
"""

from __future__ import annotations

import base64
import dataclasses
import email.policy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from alert_support import Rig, WebhookReceiver, smtp_receiver
from conftest import make_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from servers import LocalServer

from tracker.demo.site import STAGES, render_page
from tracker.notify.email import EmailChannel, build_message
from tracker.notify.kinds import Destination
from tracker.notify.payload import ALERT_EVENTS, Alert, sample_alert
from tracker.notify.sanitize import (
    HEADER_TEXT_LIMIT,
    MULTI_LINE_FIELDS,
    check_header_block,
    header_text,
)
from tracker.notify.webhook import WebhookChannel
from tracker.store.alert_models import DeliveryStatus

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
EVIL = "evil@example.com"
# What every alert e-mail carries, and nothing else.
HEADERS = {
    "subject",
    "from",
    "to",
    "date",
    "message-id",
    "in-reply-to",  # the story's thread: made of its id and a hash of its URL
    "references",
    "x-tracker-idempotency-key",
    "auto-submitted",
    "mime-version",
    "content-type",
}
_NESTED = "=?utf-8?q?=0D=0ABcc=3A_" + EVIL + "?="

ATTACKS = {
    "q-encoded CRLF": f"Talks =?utf-8?q?=0D=0AReply-To=3A_{EVIL}?=",
    "q-encoded LF, upper case": f"Talks =?UTF-8?Q?=0ABcc=3A_{EVIL}?= today",
    "b-encoded CRLF": "Talks =?utf-8?b?"
    + base64.b64encode(f"\r\nBcc: {EVIL}\r\nReply-To: {EVIL}".encode()).decode()
    + "?=",
    "latin-1 with LF": f"Talks caf=?iso-8859-1?q?=E9=0ABcc=3A_{EVIL}?=",
    "nested encoded words": "Talks =?utf-8?b?" + base64.b64encode(_NESTED.encode()).decode() + "?=",
    "unknown charset": f"Talks =?x-unknown?q?=0D=0ABcc=3A_{EVIL}?=",
    "raw CRLF": f"Talks\r\nBcc: {EVIL}",
    "lone CR": f"Talks\rReply-To: {EVIL}",
    "lone LF": f"Talks\nBcc: {EVIL}",
    "NUL": f"Talks\x00\r\nBcc: {EVIL}",
    "NEL U+0085": f"Talks\x85Bcc: {EVIL}",
    "Unicode line separators": f"Talks\u2028Bcc: {EVIL}\u2029Reply-To: {EVIL}",
    "header-looking text": f"Bcc: {EVIL}",
    "very long title": "Talks " + "in the capital " * 400,
    "very long word": "Talks " + "x" * 5000,
}
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MULTI_LINE_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def poisoned(text: str) -> Alert:
    """A headline change whose every page-derived field holds ``text``."""
    alert = sample_alert(NOW)
    assert alert.change is not None
    change = dataclasses.replace(
        alert.change, title_before="Talks", title_after=text, text=f"First.\n\n{text}"
    )
    story = dataclasses.replace(alert.story, title=text)
    return dataclasses.replace(alert, story=story, change=change, detail=text)


@pytest.fixture
def smtp() -> Iterator:
    with smtp_receiver() as receiver:
        yield receiver


def email_channel(tmp_path: Path, port: int, sender: str = "alerts@tracker.example"):
    settings_ = make_settings(
        tmp_path / "home", smtp_host="127.0.0.1", smtp_port=port, smtp_from=sender
    )
    return EmailChannel(settings_)


def assert_only_our_headers(message: EmailMessage, recipients: tuple[str, ...]) -> str:
    names = [name.lower() for name in message]
    assert sorted(names) == sorted(HEADERS), names  # nothing added, nothing repeated
    assert message.defects == []
    assert message["Reply-To"] is None and message["Bcc"] is None and message["Cc"] is None
    assert tuple(a.addr_spec for a in message["To"].addresses) == recipients
    subject = str(message["Subject"]).strip()  # the folder may break right after "Subject:"
    assert not CONTROLS.search(subject)
    assert "=?" not in subject  # decoded, not left for a mail client to decode
    assert len(subject) <= HEADER_TEXT_LIMIT
    return subject


@pytest.mark.parametrize("text", list(ATTACKS.values()), ids=list(ATTACKS))
def test_page_text_cannot_add_an_email_header(tmp_path, smtp, text: str):
    channel = email_channel(tmp_path, smtp.port)
    destination = Destination(1, "desk", "email", "desk@example.org", None, "uid", None)
    result = channel.send(destination, [poisoned(text)], "trk_uid_v1", NOW)
    assert result.ok, result
    [message] = smtp.messages
    assert smtp.collector.envelopes == [("alerts@tracker.example", ("desk@example.org",))]
    subject = assert_only_our_headers(message, ("desk@example.org",))
    # It reads as the page's text: the headline, what the encoded word said, on one line.
    assert subject.startswith("Headline changed: ")
    assert "Talks" in subject or EVIL in subject
    if "=?" in text and "unknown" not in text and "nested" not in text:
        assert EVIL in subject


def test_a_digest_and_display_names_are_sanitised_too(tmp_path, smtp):
    sender = f'"Tracker =?utf-8?q?=0D=0ABcc=3A_{EVIL}?=" <alerts@tracker.example>'
    channel = email_channel(tmp_path, smtp.port, sender=sender)
    target = f'"Desk =?utf-8?q?=0D=0ABcc=3A_{EVIL}?=" <desk@example.org>, ed@example.org'
    destination = Destination(1, "desk", "email", target, None, "uid", 3600)
    alerts = [poisoned(text) for text in ATTACKS.values()]
    assert channel.send(destination, alerts, "trk_uid_d1", NOW).ok
    [message] = smtp.messages
    assert_only_our_headers(message, ("desk@example.org", "ed@example.org"))
    assert message["From"].addresses[0].addr_spec == "alerts@tracker.example"
    assert not CONTROLS.search(str(message["From"]) + str(message["To"]))


def test_a_message_whose_headers_are_not_the_ones_set_is_never_sent(tmp_path, smtp):
    # The last line of defence does not trust the e-mail library's folding: should a header
    # line appear that was not set (CVE-2024-6923), the message is refused, not sent.
    message = build_message(
        [sample_alert(NOW)],
        sender="alerts@tracker.example",
        recipients=["desk@example.org"],
        channel="desk",
        key="trk_uid_v1",
        now=NOW,
    )
    raw = message.as_bytes()
    check_header_block(raw, message.keys())
    injected = raw.replace(b"\r\nTo: ", f"\r\nBcc: {EVIL}\r\nTo: ".encode(), 1)
    with pytest.raises(ValueError, match="not the ones set"):
        check_header_block(injected, message.keys())


TOKENS = ["=?utf-8?q?", "=?utf-8?b?", "=?iso-8859-1?q?", "?=", "=0D", "=0A", "=3A", "_", "\r", "\n"]
TOKENS += ["\r\n", "\x00", "\x85", "\u2028", "\u2029", "Bcc: ", "DQpCY2M6IHhAeS56", " ", "é"]


@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=60).map("".join))
@settings(max_examples=300, deadline=None)
def test_any_text_makes_one_clean_header_line(text: str):
    value = header_text(text)
    assert not CONTROLS.search(value) and len(value) <= HEADER_TEXT_LIMIT
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = value
    message["To"] = "desk@example.org"
    raw = message.as_bytes()
    check_header_block(raw, ["Subject", "To"])
    # Nothing left for the library to decode again: the header reads back as it was set.
    assert str(message["Subject"]) == value


def payload_strings(value, field=None) -> Iterator[tuple[str | None, str]]:
    if isinstance(value, str):
        yield field, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from payload_strings(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from payload_strings(item, field)


def assert_loggable(payload: dict) -> None:
    for field, value in payload_strings(payload):
        if field in MULTI_LINE_FIELDS:
            assert not MULTI_LINE_CONTROLS.search(value), (field, value)
        else:
            assert not CONTROLS.search(value), (field, value)


@pytest.mark.parametrize("text", list(ATTACKS.values()), ids=list(ATTACKS))
def test_page_text_cannot_add_a_line_to_a_webhook_receivers_log(tmp_path, server, text):
    receiver = WebhookReceiver(server)
    channel = WebhookChannel(make_settings(tmp_path / "home"))
    destination = Destination(1, "hook", "webhook", receiver.url, SECRET, "uid", None)
    try:
        assert channel.send(destination, [poisoned(text)], "trk_uid_v1", NOW).ok
    finally:
        channel.close()
    [request] = receiver.requests
    payload = json.loads(request.body)
    assert_loggable(payload)
    data = payload["data"]
    # Short fields are one line; the multi-line ones keep their line breaks, as "\n".
    assert data["version"]["title_after"] == " ".join(data["version"]["title_after"].split())
    assert "\n" in data["version"]["unified_diff"]


def test_a_headline_from_a_page_goes_through_check_and_outbox_cleanly(
    tmp_path, database_url, server: LocalServer
):
    attack = f"Talks =?utf-8?q?=0D=0AReply-To=3A_{EVIL}?="
    receiver = WebhookReceiver(server)
    with smtp_receiver() as smtp:
        rig = Rig(
            tmp_path,
            database_url,
            server,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_from="alerts@tracker.example",
        )
        try:
            rig.add_channel("desk", "email", "desk@example.org", events=ALERT_EVENTS)
            rig.add_channel("hook", "webhook", receiver.url, secret=SECRET, events=ALERT_EVENTS)
            page = render_page(STAGES[0], 0).replace(
                "US-Iran Have &quot;Heated Exchange&quot;", attack
            )
            server.set(rig.path, page)
            rig.clock.advance(minutes=1)
            [report] = rig.engine.check_now([rig.story_id])
            assert report.version_seq == 1
            assert rig.runner.tick().sent == 2
            assert {d.status for d in rig.deliveries()} == {DeliveryStatus.SENT}
        finally:
            rig.close()
    [message] = smtp.messages
    subject = assert_only_our_headers(message, ("desk@example.org",))
    assert subject.startswith("Now tracking: ")
    [request] = receiver.requests
    assert_loggable(json.loads(request.body))
