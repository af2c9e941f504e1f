"""Alert channels and followed feeds managed in the web UI, as `tracker channel` and
`tracker feed` manage them: through the same services, with CSRF, secrets never shown.

Everything is real: test alerts go to an aiosmtpd server and a webhook receiver on
127.0.0.1, filters are tried on alerts the pipeline enqueues for real versions, and feeds
are polled from a local HTTP server.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from alert_support import Rig, WebhookReceiver, free_port, smtp_receiver
from servers import LocalServer
from sqlalchemy import select
from test_web_support import csrf_token, make_client, submit

from tracker.notify.kinds import kinds
from tracker.notify.payload import DEFAULT_EVENTS
from tracker.services.feeds import FeedPoller
from tracker.store.alert_models import Channel
from tracker.store.feed_models import Feed
from tracker.store.models import Story

SECRET = "whsec_" + "bWFuYWdlLXRlc3Qtc2lnbmluZy1rZXktMTIzNDU2"
# One valid and one invalid target per registered kind (the test fails on a new kind until
# it is given one here: every kind must be addable through the form).
TARGETS = {
    "email": ("desk@example.org\nnight@example.org", "not an address"),
    "webhook": ("https://hooks.example.org/tracker?token=hunter2", "ftp://example.org/x"),
    "apprise": ("json://hooks.example.org/bot-token", "no-scheme-here"),
}
RSS = "application/rss+xml"


def rss(*links: str) -> str:
    items = "".join(f"<item><title>{link}</title><link>{link}</link></item>" for link in links)
    channel = f"<channel><title>Desk feed</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


@pytest.fixture
def rig(tmp_path: Path, database_url: str, server: LocalServer):
    port = free_port()
    rig = Rig(
        tmp_path,
        database_url,
        server,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="alerts@tracker.example",
        smtp_timeout=5.0,
    )
    rig.smtp_port = port  # type: ignore[attr-defined]
    yield rig
    rig.close()


@pytest.fixture
def client(rig: Rig):
    with make_client(rig.db, rig.settings) as test_client:
        yield test_client


def add_form(client, **fields) -> object:
    data = {"min_kind": "any", "events": list(DEFAULT_EVENTS), **fields}
    return submit(client, "/channels", data, page="/channels")


def channel(rig: Rig, name: str) -> Channel | None:
    with rig.db.session() as session:
        found = session.scalar(select(Channel).where(Channel.name == name))
        if found is not None:
            session.expunge(found)
        return found


def text_of(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.text))


# -- channels -------------------------------------------------------------------------------


def test_the_form_offers_every_registered_kind_and_every_kind_is_covered_here(client):
    page = client.get("/channels").text
    assert set(TARGETS) == set(kinds())
    for name in kinds():
        assert f'<option value="{name}"' in page


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_each_kind_is_added_through_the_form_and_listed_masked(client, rig, kind):
    valid, _ = TARGETS[kind]
    response = add_form(client, name=f"desk-{kind}", kind=kind, targets=valid, tags="politics")
    assert response.status_code == 200, response.text
    added = channel(rig, f"desk-{kind}")
    assert added is not None and added.kind == kind and added.source == "cli"
    assert added.tags == ["politics"]
    listing = client.get("/channels").text
    assert f"desk-{kind}" in listing
    # A target's credentials (a webhook's query value, an Apprise token) never reach a page.
    assert "hunter2" not in listing and "bot-token" not in listing
    if kinds()[kind].signed:
        # A signing secret the tracker made is shown once, on the answer to the form only.
        assert added.secret and added.secret in response.text
        assert response.headers["Cache-Control"] == "no-store"
        assert added.secret not in listing


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_invalid_input_is_refused_in_the_form_with_what_was_typed_kept(client, rig, kind):
    _, invalid = TARGETS[kind]
    response = add_form(
        client, name="desk", kind=kind, targets=invalid, tags="politics", secret=SECRET
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert 'value="desk"' in response.text and invalid in unescape(response.text)
    assert 'value="politics"' in response.text
    assert SECRET not in response.text  # a typed secret is not written back into the page
    assert channel(rig, "desk") is None


def test_the_forms_other_mistakes_are_explained_not_tracebacks(client, rig):
    add_form(client, name="desk", kind="email", targets="desk@example.org")
    cases = [
        ({"name": "desk"}, "exists already"),
        ({"digest": "soon"}, "soon"),
        ({"kinds": ["headline", "gossip"]}, "unknown change kind"),
        ({"min_kind": "loud"}, "unknown change kind"),
        ({"kind": "carrier-pigeon"}, "unknown channel kind"),
        ({"stories": "https://example.org/never-tracked"}, "never-tracked"),
        ({"kind": "webhook", "targets": "https://a.example/x\nhttps://b.example/y"}, "exactly one"),
        ({"events": []}, "at least one event"),
    ]
    for fields, message in cases:
        data = {"name": "other", "kind": "email", "targets": "o@example.org", **fields}
        response = add_form(client, **data)
        assert response.status_code == 400, (fields, response.text)
        assert message in text_of(response), (fields, text_of(response))
    assert channel(rig, "other") is None


def test_a_test_alert_reaches_a_real_smtp_server_and_the_page_says_what_it_answered(client, rig):
    add_form(client, name="desk", kind="email", targets="desk@example.org")
    added = channel(rig, "desk")
    assert added is not None
    with smtp_receiver(rig.smtp_port) as smtp:  # type: ignore[attr-defined]
        response = submit(client, f"/channels/{added.id}/test", page="/channels")
        assert len(smtp.messages) == 1
    assert smtp.messages[0]["To"] == "desk@example.org"
    assert response.status_code == 200
    shown = text_of(response)
    assert "Test alert to desk: delivered" in shown
    assert "SMTP reply" in shown and "queued as TEST123" in shown


def test_a_test_alert_to_a_webhook_is_signed_and_a_refusal_is_shown_as_a_failure(
    client, rig, server
):
    receiver = WebhookReceiver(server)
    add_form(
        client, name="bot", kind="webhook", targets=receiver.url + "?token=hunter2", secret=SECRET
    )
    added = channel(rig, "bot")
    assert added is not None and added.secret == SECRET
    ok = submit(client, f"/channels/{added.id}/test", page="/channels")
    assert ok.status_code == 200 and "Test alert to bot: delivered" in text_of(ok)
    [request] = server.requests_for("/hook?token=hunter2")
    assert request.headers.get("webhook-signature", "").startswith("v1,")

    receiver.answer(500)
    failed = submit(client, f"/channels/{added.id}/test", page="/channels")
    assert failed.status_code == 502
    assert "Test alert to bot: FAILED" in text_of(failed) and "500" in text_of(failed)
    for page in (ok.text, failed.text):
        assert SECRET not in page and "hunter2" not in page


def test_a_paused_channel_is_owed_no_alerts_until_resumed(client, rig, server):
    receiver = WebhookReceiver(server)
    add_form(client, name="bot", kind="webhook", targets=receiver.url, secret=SECRET)
    added = channel(rig, "bot")
    assert added is not None
    paused = submit(client, f"/channels/{added.id}/pause", page="/channels")
    assert paused.status_code == 303
    assert "paused" in text_of(client.get("/channels"))
    rig.publish(0)
    rig.publish(2)  # a headline rewritten: an alert, were the channel listening
    assert rig.deliveries() == []
    submit(client, f"/channels/{added.id}/resume", page="/channels")
    rig.publish(3)
    assert [d.channel_id for d in rig.deliveries()] == [added.id]


def test_only_headline_changes_and_corrections_alert_a_channel_so_filtered(client, rig, server):
    receiver = WebhookReceiver(server)
    add_form(
        client,
        name="headlines",
        kind="webhook",
        targets=receiver.url,
        secret=SECRET,
        min_kind="any",
        kinds=["headline", "correction"],
        events=["changed"],  # not "promise_fulfilled": stage 1 fulfils the page's promise
    )
    add_form(client, name="everything", kind="webhook", targets=receiver.url, secret=SECRET)
    filtered = channel(rig, "headlines")
    assert filtered is not None and sorted(filtered.kinds or []) == ["correction", "headline"]
    assert "only headline, correction" in text_of(client.get("/channels"))
    rig.publish(0)
    rig.publish(1)  # the text grows, the headline stays
    assert {d.channel_id for d in rig.deliveries()} == {channel(rig, "everything").id}  # type: ignore[union-attr]
    rig.publish(2)  # the headline is rewritten
    by_channel = [d.channel_id for d in rig.deliveries()]
    assert by_channel.count(filtered.id) == 1
    rig.runner.tick()
    assert len(receiver.requests) == 3  # everything: 2 changes; headlines: 1


def test_removing_a_channel_asks_first_and_a_settings_channel_cannot_be_removed_here(client, rig):
    add_form(client, name="desk", kind="email", targets="desk@example.org")
    added = channel(rig, "desk")
    assert added is not None
    confirm = client.get(f"/channels/{added.id}/remove")
    assert confirm.status_code == 200 and "Remove channel desk?" in text_of(confirm)
    assert channel(rig, "desk") is not None  # asking removes nothing
    gone = submit(client, f"/channels/{added.id}/remove", page="/channels")
    assert gone.status_code == 303 and channel(rig, "desk") is None
    assert client.get(f"/channels/{added.id}/remove").status_code == 404

    with rig.db.session() as session:
        declared = session.get(Channel, rig_channel_from_settings(rig))
        assert declared is not None
        declared_id = declared.id
    refused = submit(client, f"/channels/{declared_id}/remove", page="/channels")
    assert refused.status_code == 400 and "settings file" in text_of(refused)
    assert channel(rig, "from-file") is not None


def rig_channel_from_settings(rig: Rig) -> int:
    from tracker.notify.spec import ChannelSettings
    from tracker.store.channels import sync_declared

    spec = ChannelSettings(name="from-file", kind="email", to=["file@example.org"])
    with rig.db.session() as session:
        sync_declared(session, [spec], now=rig.clock())
        return session.scalar(select(Channel.id).where(Channel.name == "from-file"))  # type: ignore[return-value]


def test_every_management_form_refuses_a_post_without_its_csrf_token(client, rig, server):
    add_form(client, name="desk", kind="email", targets="desk@example.org")
    added = channel(rig, "desk")
    assert added is not None
    with rig.db.session() as session:
        session.add(Feed(url=server.url("/rss"), tags=[], added_at=rig.clock(), paused=False))
    with rig.db.session() as session:
        feed_id = session.scalar(select(Feed.id))
    csrf_token(client, "/channels")  # the cookie is set; only the form field is missing
    paths = [
        "/channels",
        f"/channels/{added.id}/test",
        f"/channels/{added.id}/pause",
        f"/channels/{added.id}/resume",
        f"/channels/{added.id}/remove",
        "/followed",
        f"/followed/{feed_id}/poll",
        f"/followed/{feed_id}/pause",
        f"/followed/{feed_id}/resume",
        f"/followed/{feed_id}/remove",
    ]
    for path in paths:
        response = client.post(
            path,
            data={
                "name": "x",
                "kind": "email",
                "targets": "x@example.org",
                "url": "https://example.org/rss",
            },
            follow_redirects=False,
        )
        assert response.status_code == 403, path
    assert channel(rig, "desk") is not None and channel(rig, "desk").enabled  # type: ignore[union-attr]
    with rig.db.session() as session:
        assert session.scalar(select(Feed.paused)) is False


# -- followed feeds -------------------------------------------------------------------------


def test_a_feed_is_followed_polled_now_and_its_last_poll_shown(client, rig, server):
    server.set(
        "/world/rss",
        rss(server.url("/world/one"), server.url("/world/two")),
        headers={"Content-Type": RSS},
    )
    response = submit(
        client,
        "/followed",
        {"url": server.url("/world/rss"), "tags": "world, desk"},
        page="/followed",
    )
    assert response.status_code == 200 and "Following" in text_of(response)
    with rig.db.session() as session:
        feed = session.scalar(select(Feed))
        assert feed is not None and feed.tags == ["desk", "world"]
        feed_id = feed.id
    polled = submit(client, f"/followed/{feed_id}/poll", page="/followed")
    assert polled.status_code == 200
    shown = text_of(polled)
    assert "2 entries, 2 new stories" in shown
    with rig.db.session() as session:
        urls = set(session.scalars(select(Story.url)))
    assert {server.url("/world/one"), server.url("/world/two")} <= urls
    listing = text_of(client.get("/followed"))
    assert "Desk feed" in listing and "HTTP 200" in listing


def test_a_failed_poll_is_reported_as_failed(client, rig, server):
    server.set("/gone/rss", "gone", status=404)
    submit(client, "/followed", {"url": server.url("/gone/rss")}, page="/followed")
    with rig.db.session() as session:
        feed_id = session.scalar(select(Feed.id))
    polled = submit(client, f"/followed/{feed_id}/poll", page="/followed")
    assert polled.status_code == 502 and "404" in text_of(polled)
    assert "404" in text_of(client.get("/followed"))


def test_a_paused_feed_is_not_polled_when_due_and_resuming_makes_it_due(client, rig, server):
    server.set("/rss", rss(server.url("/a")), headers={"Content-Type": RSS})
    submit(client, "/followed", {"url": server.url("/rss")}, page="/followed")
    with rig.db.session() as session:
        feed_id = session.scalar(select(Feed.id))
    assert submit(client, f"/followed/{feed_id}/pause", page="/followed").status_code == 303
    assert "paused" in text_of(client.get("/followed"))
    with FeedPoller(rig.db, rig.settings) as poller:
        assert poller.poll_due() == []
    submit(client, f"/followed/{feed_id}/resume", page="/followed")
    with FeedPoller(rig.db, rig.settings) as poller:
        [report] = poller.poll_due()
    assert report.outcome == "ok" and report.added == [server.url("/a")]


def test_removing_a_feed_asks_first_and_keeps_its_stories(client, rig, server):
    server.set("/rss", rss(server.url("/a")), headers={"Content-Type": RSS})
    submit(client, "/followed", {"url": server.url("/rss")}, page="/followed")
    with rig.db.session() as session:
        feed_id = session.scalar(select(Feed.id))
    submit(client, f"/followed/{feed_id}/poll", page="/followed")
    confirm = client.get(f"/followed/{feed_id}/remove")
    assert confirm.status_code == 200 and "Stop following this feed?" in text_of(confirm)
    assert submit(client, f"/followed/{feed_id}/remove", page="/followed").status_code == 303
    with rig.db.session() as session:
        assert session.scalar(select(Feed.id)) is None
        assert server.url("/a") in set(session.scalars(select(Story.url)))
    assert client.get(f"/followed/{feed_id}/remove").status_code == 404


def test_a_feed_the_cli_would_refuse_is_refused_in_the_form_with_the_input_kept(
    tmp_path, database_url, server
):
    rig = Rig(tmp_path, database_url, server, allow_private_networks=False)
    try:
        with make_client(rig.db, rig.settings) as client:
            for url, message in [
                ("ftp://example.org/feed", "ftp"),
                ("http://127.0.0.1:9/rss", "private"),
                ("", "give the feed's URL"),
            ]:
                response = submit(
                    client, "/followed", {"url": url, "include": "/world/"}, page="/followed"
                )
                assert response.status_code == 400, url
                assert message in text_of(response).lower() or message in text_of(response)
                assert 'value="/world/"' in response.text
            bad_pattern = submit(
                client,
                "/followed",
                {"url": "https://example.org/rss", "include": "("},
                page="/followed",
            )
            assert bad_pattern.status_code == 400 and 'value="("' in bad_pattern.text
        with rig.db.session() as session:
            assert session.scalar(select(Feed.id)) is None
    finally:
        rig.close()


def test_the_pages_need_the_login_when_a_token_is_set(rig: Rig):
    guarded = rig.settings.model_copy(update={"web_token": "s3cret-token-for-the-desk"})
    with make_client(rig.db, guarded) as client:
        for path in ("/channels", "/followed", "/channels/1/remove", "/followed/1/remove"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303 and "/login" in response.headers["location"], path
        refused = client.post(
            "/channels",
            data={"name": "x", "kind": "email", "targets": "x@example.org"},
            follow_redirects=False,
        )
        assert refused.status_code == 401  # not logged in: nothing is added
    assert channel(rig, "x") is None


def test_the_cli_manages_the_same_filters_and_pauses(tmp_path, database_url, server):
    from conftest import cli_runner

    run = cli_runner(tmp_path / "home", database_url)
    run(
        "channel", "add", "edits", "webhook", "https://hooks.example.org/edits",
        "--min-kind", "any", "--kind", "headline", "--kind", "correction",
    )  # fmt: skip
    [listed] = json.loads(run("channel", "list", "--json").output)
    assert listed["kinds"] == ["headline", "correction"] and listed["min_kind"] is None
    assert "only: headline, correction" in run("channel", "list").output
    run("channel", "pause", "edits")
    assert "[disabled]" in run("channel", "list").output
    run("channel", "resume", "edits")
    assert "[disabled]" not in run("channel", "list").output
    refused = run("channel", "add", "bad", "email", "x@example.org", "--kind", "gossip", ok=False)
    assert refused.exit_code == 2 and "gossip" in refused.output + refused.stderr

    server.set("/rss", rss(server.url("/a")), headers={"Content-Type": RSS})
    run("feed", "add", server.url("/rss"))
    run("feed", "pause", server.url("/rss"))
    [feed] = json.loads(run("feed", "list", "--json").output)
    assert feed["paused"] is True and "[paused]" in run("feed", "list").output
    run("feed", "resume", "1")
    [feed] = json.loads(run("feed", "list", "--json").output)
    assert feed["paused"] is False
