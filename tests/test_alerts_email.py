"""Email alerts through the outbox, received by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alert_support import Rig, free_port, smtp_receiver
from servers import LocalServer

from tracker.core import diffing
from tracker.notify.email import DEL_STYLE, INS_STYLE, html_diff_excerpt
from tracker.store.alert_models import DeliveryStatus


def email_rig(tmp_path: Path, database_url: str, server: LocalServer, port: int) -> Rig:
    return Rig(
        tmp_path,
        database_url,
        server,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="alerts@tracker.example",
        smtp_timeout=5.0,
        base_url="https://tracker.example/",
    )


def parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def test_a_change_is_emailed_as_readable_text_and_html(tmp_path, database_url, server):
    with smtp_receiver() as smtp:
        rig = email_rig(tmp_path, database_url, server, smtp.port)
        try:
            rig.add_channel("desk", "email", "desk@example.org, editor@example.org")
            rig.publish(0)
            rig.publish(1)
            rig.publish(2)
            assert rig.runner.tick().sent == 2
            first, second = rig.deliveries()
        finally:
            rig.close()

    assert len(smtp.messages) == 2
    # Sent concurrently: tell them apart by their idempotency keys.
    by_key = {m["X-Tracker-Idempotency-Key"]: m for m in smtp.messages}
    update, headline = by_key[first.idempotency_key], by_key[second.idempotency_key]
    assert set(smtp.collector.envelopes) == {
        ("alerts@tracker.example", ("desk@example.org", "editor@example.org"))
    }
    assert update["Subject"].startswith("Promised update: 3 paragraphs added")
    assert update["Subject"].endswith('— US-Iran Have "Heated Exchange"')
    assert headline["Subject"] == 'Headline changed: Crocker: Talks With Iran "Direct and Serious"'
    assert update["To"] == "desk@example.org, editor@example.org"
    assert update["Message-ID"] == f"<{first.idempotency_key}@tracker.example>"
    assert update.get_content_type() == "multipart/alternative"

    text, html = parts(update)
    # Text: what changed, in words and figures, then the unified diff and the links.
    assert "Change:  3 paragraphs added" in text
    assert "Kinds:   paragraphs_added" in text
    assert "The update this story promised has arrived" in text
    assert "\n--- v1\n+++ v2\n" in text
    assert (
        '\n+At a press conference after the meeting, Crocker said the talks had been "direct'
        in text
    )
    assert f"Full diff: https://tracker.example/stories/{rig.story_id}/diff/1/2" in text
    # HTML: the added words inside inline-styled <ins>, nothing else marked up as changed.
    assert f'<ins style="{INS_STYLE}">' in html
    assert "security subcommittee on Iraq" in html
    assert "<style" not in html and 'class="' not in html
    assert f'href="https://tracker.example/stories/{rig.story_id}/diff/1/2"' in html
    assert "Most read" not in html  # page chrome never reaches an alert

    _, headline_html = parts(headline)
    assert f'<del style="{DEL_STYLE}">' in headline_html
    assert "Headline:" in headline_html
    assert [a.status_code for a in first.attempt_log] == [250]
    assert "queued as TEST123" in first.attempt_log[0].response


def test_an_smtp_server_that_is_down_is_retried_until_it_accepts(tmp_path, database_url, server):
    port = free_port()
    rig = email_rig(tmp_path, database_url, server, port)
    try:
        rig.add_channel("desk", "email", "desk@example.org")
        rig.publish(0)
        rig.publish(1)
        assert rig.runner.tick().failed == 1
        rig.clock.advance(seconds=30)
        assert rig.runner.tick().failed == 1
        [delivery] = rig.deliveries()
        assert delivery.status == DeliveryStatus.FAILED
        assert f"cannot connect to 127.0.0.1:{port}" in delivery.attempt_log[0].error
        with smtp_receiver(port) as smtp:
            rig.clock.advance(seconds=60)
            assert rig.runner.tick().sent == 1
            rig.clock.advance(hours=1)
            assert rig.runner.tick().attempted == 0
        assert len(smtp.messages) == 1
        [delivery] = rig.deliveries()
        assert delivery.status == DeliveryStatus.SENT
        assert [a.ok for a in delivery.attempt_log] == [False, False, True]
    finally:
        rig.close()


def test_a_digest_channel_sends_one_email_per_period_listing_every_change(
    tmp_path, database_url, server
):
    with smtp_receiver() as smtp:
        rig = email_rig(tmp_path, database_url, server, smtp.port)
        try:
            rig.add_channel("daily", "email", "desk@example.org", digest_seconds=3600)
            for stage in range(4):
                rig.publish(stage)  # 08:01 … 08:04: v2, v3, v4 alert
            assert rig.runner.tick().attempted == 0  # the period ends at 09:00
            rig.clock.advance(hours=1)
            assert rig.runner.tick().sent == 1  # one message for three deliveries
            deliveries = rig.deliveries()
            assert [d.status for d in deliveries] == [DeliveryStatus.SENT] * 3
        finally:
            rig.close()
    [message] = smtp.messages
    assert message["Subject"] == "3 updates to 1 story"
    assert len({d.batch_key for d in deliveries}) == 1
    assert message["X-Tracker-Idempotency-Key"] == deliveries[0].batch_key
    text, html = parts(message)
    assert text.count("== ") == 3
    assert "Headline changed" in text
    assert html.count("<h2 ") == 3


def test_the_html_diff_shows_changed_paragraphs_escaped_with_gaps_marked():
    before = "One.\n\nTwo <b>bold</b>.\n\nThree.\n\nFour."
    after = "One.\n\nTwo <b>bolder</b>.\n\nThree.\n\nFour and more."
    html = str(html_diff_excerpt(diffing.word_diff(before, after)))
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "One." not in html and "Three." not in html
    assert html.count("…") == 2  # before "Two", between "Two" and "Four"
    assert f'<ins style="{INS_STYLE}">' in html


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_modes_report_a_clear_error_against_a_plain_server(security, tmp_path):
    from tracker.notify.email import SmtpConfig, build_message, send_message
    from tracker.notify.payload import sample_alert

    with smtp_receiver() as smtp:
        config = SmtpConfig("127.0.0.1", smtp.port, security, None, None, "a@b.example", 3.0)
        alert = sample_alert(datetime.now(UTC))
        message = build_message(
            [alert],
            sender="a@b.example",
            recipients=["c@d.example"],
            channel="x",
            key="k",
            now=datetime.now(UTC),
        )
        result = send_message(message, ["c@d.example"], config)
    assert not result.ok
    assert result.error
    assert smtp.messages == []
