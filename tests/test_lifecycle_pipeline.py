"""Article lifecycle events from real checks of a real local site, with alerts to a real
webhook receiver: a story taken down and put back, sent to the home page, moved to a new
slug, hidden behind a paywall. (The decisions themselves: tests/test_lifecycle.py.)"""

from __future__ import annotations

import html
import json
from pathlib import Path

import jsonschema
from alert_support import Rig, WebhookReceiver
from servers import LocalServer
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from tracker.core.lifecycle import LIFECYCLE_EVENTS
from tracker.demo.site import STAGES, render_page
from tracker.notify.webhook import new_secret
from tracker.services.stories import add_stories
from tracker.store.models import Check, Event, Story, Version

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "webhook-payload.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SECRET = new_secret()

HOME_PAGE = """<!doctype html><html lang="en"><head><title>IraqSlogger</title></head><body>
<header><nav><a href="/">Home</a> <a href="/iran">Iran Factor</a></nav></header>
<main><h1>IraqSlogger: today's news</h1>
<ul>
<li><a href="/news/a">Petraeus to brief Congress in September</a></li>
<li><a href="/news/b">Basra handover date set</a></li>
<li><a href="/news/c">Oil law stalls in parliament</a></li>
<li><a href="/news/d">Anbar tribes join fight against al-Qaeda</a></li>
</ul>
<p>Weather in Baghdad: sunny, 44 degrees. Markets closed for the holiday weekend.</p>
</main><footer>&copy; 2007 IraqSlogger</footer></body></html>"""


def paywalled_page() -> str:
    """The story's first paragraph, then a wall: what sites serve to a visitor with no
    subscription (schema.org's paywalled-content markup included)."""
    stage = STAGES[0]
    teaser = html.escape(stage.paragraphs[0])
    markup = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": stage.headline,
            "isAccessibleForFree": False,
            "hasPart": {
                "@type": "WebPageElement",
                "isAccessibleForFree": False,
                "cssSelector": ".paywall",
            },
        }
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(stage.headline)} | IraqSlogger</title>
<script type="application/ld+json">{markup}</script></head>
<body><main><article><h1>{html.escape(stage.headline)}</h1>
<p>{teaser}</p>
<div class="paywall"><p>Subscribe to continue reading. Already a subscriber? Log in.</p></div>
</article></main></body></html>"""


def check(rig: Rig):
    rig.clock.advance(minutes=1)
    [report] = rig.engine.check_now([rig.story_id])
    return report


def events(rig: Rig) -> list[tuple[str, str | None, dict | None]]:
    """The story's lifecycle events (its promise events left out), oldest first."""
    with rig.db.session() as session:
        rows = session.execute(
            select(Event.kind, Event.detail, Event.data)
            .where(Event.story_id == rig.story_id, Event.kind.in_(LIFECYCLE_EVENTS))
            .order_by(Event.id)
        )
        return [(row.kind, row.detail, row.data) for row in rows]


def story(rig: Rig) -> Story:
    with rig.db.session() as session:
        found = session.get(Story, rig.story_id)
        session.expunge(found)
        return found


def version_count(rig: Rig) -> int:
    with rig.db.session() as session:
        return len(session.scalars(select(Version.id)).all())


def webhook_types(receiver: WebhookReceiver) -> list[str]:
    """The alerts received, verified and as documented, sorted (deliveries go out
    concurrently, in no set order)."""
    payloads = [Webhook(SECRET).verify(r.body, r.headers) for r in receiver.requests]
    for payload in payloads:
        VALIDATOR.validate(payload)
        if payload["type"] != "story.changed":  # an event is not about a version
            assert payload["data"]["version"] is None
            assert payload["data"]["detail"]
    return sorted(payload["type"] for payload in payloads)


def test_a_story_taken_down_and_put_back_is_unpublished_once_then_republished(
    rig: Rig, server: LocalServer
):
    receiver = WebhookReceiver(server)
    rig.add_channel("hook", "webhook", receiver.url, secret=SECRET)
    assert rig.publish(0).version_seq == 1

    server.set(rig.path, "<h1>Not found</h1>", status=404)
    first_404 = check(rig)
    assert first_404.events == ["unpublished"]  # at the first 404, long before story_gone
    assert check(rig).events == []  # once per episode, not once per check
    assert story(rig).lifecycle == "unpublished"

    server.set(rig.path, render_page(STAGES[0], 3))  # back, as it was
    back = check(rig)
    assert back.events == ["republished"]
    assert back.version_seq is None  # the same article: no version
    assert story(rig).lifecycle == "live"

    [unpublished, republished] = events(rig)
    assert unpublished[1] == "Unpublished: the page answered 404"
    assert unpublished[2]["status"] == 404
    assert "again" in republished[1]
    rig.runner.tick()
    assert webhook_types(receiver) == ["story.republished", "story.unpublished"]


def test_a_redirect_to_the_home_page_is_recorded_not_stored_as_a_version(
    rig: Rig, server: LocalServer
):
    receiver = WebhookReceiver(server)
    rig.add_channel("hook", "webhook", receiver.url, secret=SECRET)
    rig.publish(0)
    server.set("/", HOME_PAGE)
    server.redirect(rig.path, "/", status=301)

    report = check(rig)
    assert report.events == ["redirected"]
    assert report.version_seq is None
    assert check(rig).events == []  # still redirected: nothing new
    assert version_count(rig) == 1  # the home page is not "every paragraph removed"
    [(kind, detail, data)] = events(rig)
    assert kind == "redirected"
    assert detail == f"Redirected to another page: {server.url('/')}"
    assert data["to"] == server.url("/")
    now = story(rig)
    assert (now.lifecycle, now.last_fingerprint is not None) == ("redirected", True)
    with rig.db.session() as session:
        last = session.scalars(select(Check).order_by(Check.id.desc())).first()
        assert (last.outcome, last.error_kind) == ("empty", "redirected")

    server.set(rig.path, render_page(STAGES[1], 1))  # the article again, updated meanwhile
    back = check(rig)
    assert back.events == ["republished", "promise_fulfilled"]  # the update came meanwhile
    assert back.version_seq == 2  # compared with the last real version
    rig.runner.tick()
    assert webhook_types(receiver) == ["story.changed", "story.redirected", "story.republished"]


def test_a_new_slug_for_the_same_article_moves_the_one_story(rig: Rig, server: LocalServer):
    receiver = WebhookReceiver(server)
    rig.add_channel("hook", "webhook", receiver.url, secret=SECRET)
    rig.publish(0)
    new_path = "/news/us-iran-talks-heated-exchange"
    server.set(new_path, render_page(STAGES[0], 2))
    server.redirect(rig.path, new_path, status=301)

    report = check(rig)
    assert report.events == ["slug_changed"]
    assert report.version_seq is None  # the same article
    assert check(rig).events == []
    [(kind, detail, data)] = events(rig)
    assert kind == "slug_changed"
    assert detail.startswith(f"Moved to {server.url(new_path)}")
    assert data == {"status": 200, "from": server.url(rig.path), "to": server.url(new_path)}
    moved = story(rig)
    assert (moved.lifecycle, moved.canonical_url) == ("live", server.url(new_path))

    # Adding the new address finds the story: one article, one story.
    with rig.db.session() as session:
        [added] = add_stories(
            session, [server.url(new_path)], now=rig.clock(), allow_private_networks=True
        )
        assert (added.story_id, added.created) == (rig.story_id, False)
        assert len(session.scalars(select(Story.id)).all()) == 1

    server.set(new_path, render_page(STAGES[1], 2))  # edits at the new address still count
    assert check(rig).version_seq == 2
    rig.runner.tick()
    assert webhook_types(receiver) == ["story.changed", "story.slug_changed"]


def test_a_paywalled_teaser_is_an_event_not_a_massive_deletion(rig: Rig, server: LocalServer):
    receiver = WebhookReceiver(server)
    rig.add_channel("hook", "webhook", receiver.url, secret=SECRET)
    rig.publish(0)

    server.set(rig.path, paywalled_page())
    report = check(rig)
    assert report.events == ["paywalled"]
    assert report.version_seq is None
    assert check(rig).events == []
    assert version_count(rig) == 1
    [(kind, detail, data)] = events(rig)
    assert kind == "paywalled"
    assert "isAccessibleForFree: false" in detail
    assert data["marker"] == "schema.org isAccessibleForFree: false"
    assert story(rig).lifecycle == "paywalled"

    server.set(rig.path, render_page(STAGES[0], 4))  # the paywall lifted
    lifted = check(rig)
    assert lifted.events == ["republished"]
    assert lifted.version_seq is None
    assert "paywall was lifted" in events(rig)[-1][1]
    rig.runner.tick()
    assert webhook_types(receiver) == ["story.paywalled", "story.republished"]


def test_a_short_edit_without_a_paywall_marker_is_still_a_version(rig: Rig, server: LocalServer):
    """A story cut to one paragraph by its editors, with no wall on the page, is an edit
    (the history shows it), not a paywall."""
    rig.publish(0)
    stage = STAGES[0]
    server.set(
        rig.path,
        render_page(type(stage)(stage.name, stage.headline, stage.paragraphs[:1], frozenset())),
    )
    report = check(rig)
    assert report.events != ["paywalled"]
    assert report.version_seq == 2
    assert story(rig).lifecycle == "live"


def test_lifecycle_alerts_are_emailed_with_what_happened(tmp_path, database_url, server):
    """A desk that subscribes to `unpublished` and `slug_changed` only hears of those, by
    e-mail, with the event's words in the subject and the body."""
    from alert_support import smtp_receiver

    with smtp_receiver() as smtp:
        rig = Rig(
            tmp_path,
            database_url,
            server,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_from="alerts@tracker.example",
            smtp_timeout=5.0,
        )
        try:
            rig.add_channel(
                "desk", "email", "desk@example.org", events=["unpublished", "slug_changed"]
            )
            rig.publish(0)
            server.set(rig.path, "<h1>Not found</h1>", status=410)
            assert check(rig).events == ["unpublished"]
            server.set(rig.path, render_page(STAGES[0], 5))
            assert check(rig).events == ["republished"]  # not subscribed: no mail
            assert rig.runner.tick().sent == 1
        finally:
            rig.close()
    [message] = smtp.messages
    assert message["Subject"] == 'Unpublished: US-Iran Have "Heated Exchange"'
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Unpublished: the page answered 410" in text
