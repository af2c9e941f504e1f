"""A live blog tracked end to end: real local server, checks, versions, webhook and email alerts.

A new entry at the top is one version of kind entry_added whose alert carries that entry (its
time and text), never "paragraphs removed" for the old top entry; an edit inside an old entry
is entry_edited with the word diff inside it; a removed entry is entry_removed.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from alert_support import Rig, WebhookReceiver, smtp_receiver
from conftest import make_settings
from liveblog_pages import NEW_ENTRY, guardian_like, json_ld_only, sample_entries, wordpress_like
from servers import LocalServer
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from tracker.notify.webhook import new_secret
from tracker.pipeline.check import version_as_article
from tracker.services.archive import export_json, import_json
from tracker.store.db import Database
from tracker.store.models import Version

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "webhook-payload.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
SECRET = new_secret()
SHAPES = [guardian_like, wordpress_like, json_ld_only]


def publish(rig: Rig, page: str):
    rig.server.set(rig.path, page)
    rig.clock.advance(minutes=1)
    [report] = rig.engine.check_now([rig.story_id])
    return report


def payloads(receiver: WebhookReceiver) -> list[dict]:
    out = []
    for request in receiver.requests:
        payload = Webhook(SECRET).verify(request.body, request.headers)
        VALIDATOR.validate(payload)
        out.append(payload)
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_a_live_blog_is_tracked_entry_by_entry_and_alerts_carry_the_entries(
    rig: Rig, server: LocalServer, shape
):
    receiver = WebhookReceiver(server)
    rig.add_channel("hook", "webhook", receiver.url, secret=SECRET)
    entries = sample_entries()
    first = publish(rig, shape(entries))
    assert (first.version_seq, first.kinds) == (1, ("first",))

    # A new entry at the top: one version, one entry added, nothing removed.
    added = publish(rig, shape([NEW_ENTRY, *entries]))
    assert added.version_seq == 2
    assert added.kinds == ("entry_added",)
    assert added.summary.startswith("New entry 10:12")
    rig.runner.tick()
    [payload] = payloads(receiver)
    assert payload["payload_version"] == 2
    version = payload["data"]["version"]
    assert version["kinds"] == ["entry_added"]
    [entry] = version["entries"]["added"]
    assert entry["time"] == "2026-12-04T10:12:00Z"
    assert entry["text"].startswith("A strong aftershock was felt in the capital")
    assert entry["headline"].endswith("Aftershock felt in the capital")
    assert version["entries"]["removed"] == [] and version["entries"]["edited"] == []
    assert version["removed"] == []
    assert any("A strong aftershock" in text for text in version["added"])

    # Editing an old entry: the word diff inside that entry.
    edited = replace(entries[1], paragraphs=(entries[1].paragraphs[0].replace("14", "17"),))
    report = publish(rig, shape([NEW_ENTRY, entries[0], edited, entries[2]]))
    assert report.kinds == ("entry_edited",)
    rig.runner.tick()
    version = payloads(receiver)[-1]["data"]["version"]
    [entry] = version["entries"]["edited"]
    assert (entry["added"], entry["removed"]) == (["17"], ["14"])
    assert entry["text"].startswith("The number of people confirmed dead has risen to 17")

    # Removing one.
    report = publish(rig, shape([NEW_ENTRY, entries[0], edited]))
    assert report.kinds == ("entry_removed",)
    rig.runner.tick()
    version = payloads(receiver)[-1]["data"]["version"]
    [entry] = version["entries"]["removed"]
    assert entry["text"].startswith("A magnitude 6.8 earthquake")

    # The entries are stored with each version and read back as they were.
    with rig.db.read_session() as session:
        stored = session.scalars(select(Version).order_by(Version.seq)).all()
        assert [len(v.entries or []) for v in stored] == [3, 4, 4, 3]
        article = version_as_article(stored[-1])
    assert [e.key for e in article.entries][:2] == [e.key for e in article.entries][:2]
    assert "10:12" in stored[1].text  # the entry's time stays in the stored text


def test_an_email_alert_shows_the_new_entry_not_a_page_diff(tmp_path, database_url, server):
    with smtp_receiver() as smtp:
        rig = Rig(tmp_path, database_url, server, smtp_host="127.0.0.1", smtp_port=smtp.port)
        try:
            rig.add_channel("mail", "email", "desk@news.example")
            publish(rig, guardian_like(sample_entries()))
            publish(rig, guardian_like([NEW_ENTRY, *sample_entries()]))
            rig.runner.tick()
        finally:
            rig.close()
        [message] = smtp.messages
    text = message.get_body(("plain",)).get_content()
    assert "New entry 10:12 a.m.: Aftershock felt in the capital" in text
    assert "A strong aftershock was felt" in text
    assert "--- v1" not in text  # no whole-page unified diff
    html = message.get_body(("html",)).get_content()
    assert "New entry 10:12 a.m.: Aftershock felt in the capital" in html


def test_a_live_blog_whose_page_does_not_change_makes_no_version(rig: Rig):
    publish(rig, guardian_like(sample_entries()))
    again = publish(rig, guardian_like(sample_entries()))
    assert again.version_seq is None
    assert str(again.outcome) == "unchanged"


def test_an_export_carries_the_entries_into_a_fresh_database(rig: Rig, tmp_path: Path):
    publish(rig, guardian_like(sample_entries()))
    publish(rig, guardian_like([NEW_ENTRY, *sample_entries()]))
    out = io.StringIO()
    with rig.db.session() as session:
        export_json(session, out, now=rig.clock())
    document = json.loads(out.getvalue())
    [story] = document["stories"]
    assert [len(v["entries"]) for v in story["versions"]] == [3, 4]
    assert story["versions"][1]["entries"][0]["key"] == "block-d4"
    fresh = Database(make_settings(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.db'}"))
    try:
        with fresh.session() as session:
            import_json(session, document, now=rig.clock())
        with fresh.read_session() as session:
            latest = session.scalars(select(Version).order_by(Version.seq.desc())).first()
            assert latest is not None
            assert (
                version_as_article(latest).entries[0].headline == "Aftershock felt in the capital"
            )
    finally:
        fresh.dispose()
