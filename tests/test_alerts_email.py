"""Email alerts through the outbox, received by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alert_support import Rig, free_port, smtp_receiver
from servers import LocalServer

from tracker.core import diffing
from tracker.demo.site import STAGES, render_page
from tracker.notify.email import DEL_STYLE, INS_STYLE, html_diff_excerpt
from tracker.services.stories import add_stories
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
    assert "Kinds:   paragraphs added" in text  # in words, as the web UI says them
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


def test_a_story_s_alerts_thread_by_story_and_kinds_read_as_words(tmp_path, database_url, server):
    with smtp_receiver() as smtp:
        rig = email_rig(tmp_path, database_url, server, smtp.port)
        try:
            rig.add_channel("desk", "email", "desk@example.org")
            # Another story, on the same server, that changes once.
            other_path = "/news/other"
            server.set(other_path, render_page(STAGES[0], 0))
            with rig.db.session() as session:
                [added] = add_stories(
                    session, [server.url(other_path)], now=rig.clock(), allow_private_networks=True
                )
            rig.engine.check_now([added.story_id])
            rig.publish(0)
            rig.publish(1)  # two alerts for the rig's story
            rig.publish(2)
            server.set(other_path, render_page(STAGES[1], 0))
            rig.clock.advance(minutes=1)
            rig.engine.check_now([added.story_id])  # one alert for the other story
            assert rig.runner.tick().sent == 3
            deliveries = rig.deliveries()
        finally:
            rig.close()

    story_of = {d.idempotency_key: d.story_id for d in deliveries}
    by_story: dict[int, list] = {}
    for message in smtp.messages:
        by_story.setdefault(story_of[message["X-Tracker-Idempotency-Key"]], []).append(message)
    first, second = by_story[rig.story_id]
    [other] = by_story[added.story_id]
    # Each message is itself (a Message-ID of its own) and replies to its story's thread, one
    # id per story: `<story-ID.HASH@host of base_url>`.
    assert len({m["Message-ID"] for m in smtp.messages}) == 3
    thread = first["References"]
    assert thread == first["In-Reply-To"] == second["References"] == second["In-Reply-To"]
    assert re.fullmatch(rf"<story-{rig.story_id}\.[0-9a-f]{{12}}@tracker\.example>", thread)
    assert other["References"] == other["In-Reply-To"] != thread
    assert other["References"].startswith(f"<story-{added.story_id}.")
    assert thread not in {m["Message-ID"] for m in smtp.messages}
    # Kinds in words in the subject and both bodies; no snake_case kind anywhere.
    for message in smtp.messages:
        text, html = parts(message)
        for part in (message["Subject"], text, html):
            assert not re.search(r"\b(paragraphs|text|entry)_(added|removed|edited)\b", part)
    text, html = parts(other)
    assert re.search(r"Kinds: +[a-z ,]*(paragraphs added|text edited|headline)", text)
    assert re.search(r">Kinds</td><td[^>]*>[a-z ,]*(paragraphs added|text edited|headline)", html)


def test_the_thread_id_is_per_story_and_its_host_is_base_url_s_or_the_sender_s():
    from tracker.notify.email import story_thread_id, thread_domain

    assert thread_domain("https://news.example.org:8443/tracker/", "a@b.example") == (
        "news.example.org"
    )
    assert thread_domain(None, "Desk <alerts@b.example>") == "b.example"
    one = story_thread_id(7, "https://example.com/a", "b.example")
    assert one == story_thread_id(7, "https://example.com/a", "b.example")
    assert re.fullmatch(r"<story-7\.[0-9a-f]{12}@b\.example>", one)
    assert one != story_thread_id(7, "https://example.com/other", "b.example")
    assert one != story_thread_id(8, "https://example.com/a", "b.example")


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
