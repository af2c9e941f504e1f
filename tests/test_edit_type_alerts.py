"""Channels subscribe to what a desk calls an edit: a figure changed, a silent correction.

Each new version is typed against the one before it (tracker.core.edit_types) when it is
stored; a channel whose kinds name edit types is alerted for those versions only. Real
checks of a local page, a real webhook receiver; SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from alert_support import Rig, WebhookReceiver
from servers import LocalServer
from sqlalchemy import select
from standardwebhooks import Webhook

from tracker.core.extract import Article
from tracker.notify.spec import check_kinds
from tracker.pipeline.check import compare
from tracker.store.models import Version

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "webhook-payload.schema.json").read_text(encoding="utf-8"))
SECRET = "whsec_" + "ZWRpdC10eXBlcy10ZXN0LXNpZ25pbmcta2V5LTEyMzQ1Ng=="

PARAGRAPHS = [
    "Floodwater rose through the night across the valley, officials said on Tuesday.",
    "At least 12 people died in the floods, according to the regional government.",
    "Residents were told to leave their homes quickly as the river burst its banks.",
    "Rescue teams worked through the night to reach villages cut off by the water.",
]


def page(paragraphs: list[str]) -> str:
    body = "".join(
        f"<p>{p} More detail follows in this paragraph of the report.</p>" for p in paragraphs
    )
    return (
        "<html><head><title>Floods sweep the valley</title></head><body><article>"
        f"<h1>Floods sweep the valley</h1>{body}</article></body></html>"
    )


def edited(index: int, old: str, new: str, paragraphs: list[str]) -> list[str]:
    out = list(paragraphs)
    assert old in out[index]
    out[index] = out[index].replace(old, new)
    return out


WORDING = edited(2, "quickly", "at once", PARAGRAPHS)
FIGURE = edited(1, "12", "14", WORDING)
NOTE = [*FIGURE, "Correction: An earlier version of this article misstated the death toll."]


def article(paragraphs: list[str]) -> Article:
    return Article(
        title="Floods",
        byline=None,
        published=None,
        modified=None,
        text="\n\n".join(paragraphs),
        canonical_url=None,
        lang="en",
    )


def test_a_stored_comparison_names_the_edit_types():
    assert compare(article(PARAGRAPHS), article(WORDING)).edit_types == ("wording",)
    assert compare(article(WORDING), article(FIGURE)).edit_types == (
        "number_changed",
        "silent_correction",
    )
    assert compare(article(FIGURE), article(NOTE)).edit_types == ("correction_note",)
    assert compare(None, article(PARAGRAPHS)).edit_types is None  # a first version


def test_channels_may_name_edit_types_and_unknown_names_are_refused():
    assert check_kinds(["headline", "number_changed", "silent_correction"]) == [
        "headline",
        "number_changed",
        "silent_correction",
    ]
    with pytest.raises(ValueError, match="edit types: number_changed"):
        check_kinds(["gossip"])


def publish(rig: Rig, paragraphs: list[str]) -> None:
    rig.server.set(rig.path, page(paragraphs))
    rig.clock.advance(minutes=1)
    [report] = rig.engine.check_now([rig.story_id])
    assert report.outcome == "changed", report


def test_a_channel_for_figures_hears_only_of_figures(rig: Rig, server: LocalServer):
    receiver = WebhookReceiver(server)
    only = {"min_kind": None, "events": ["changed"], "secret": SECRET}
    rig.add_channel("figures", "webhook", receiver.url, kinds=["number_changed"], **only)
    rig.add_channel("silent", "webhook", receiver.url, kinds=["silent_correction"], **only)
    rig.add_channel("notes", "webhook", receiver.url, kinds=["correction"], **only)

    publish(rig, PARAGRAPHS)  # the first version: no "new" event asked for
    publish(rig, WORDING)
    publish(rig, FIGURE)
    publish(rig, NOTE)
    with rig.db.session() as session:
        stored = session.execute(select(Version.seq, Version.edit_types).order_by(Version.seq))
        assert [tuple(row) for row in stored] == [
            (1, None),
            (2, ["wording"]),
            (3, ["number_changed", "silent_correction"]),
            (4, ["correction_note"]),
        ]
    rig.runner.tick()

    heard: dict[int, list[list[str]]] = {}
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for request in receiver.requests:
        payload = Webhook(SECRET).verify(request.body, request.headers)
        validator.validate(payload)
        version = payload["data"]["version"]
        heard.setdefault(version["seq"], []).append(version["edit_types"])
    # Version 3 reaches "figures" and "silent"; version 4 "notes" (its kind is correction).
    assert heard == {
        3: [["number_changed", "silent_correction"]] * 2,
        4: [["correction_note"]],
    }


def test_the_changes_page_filters_and_shows_edit_types(rig: Rig):
    from tracker.services.changes_feed import ChangeFilter, changes_page, make_filter

    now = rig.clock()
    for paragraphs in (PARAGRAPHS, WORDING, FIGURE, NOTE):
        publish(rig, paragraphs)
    with rig.db.session() as session:
        figures = changes_page(session, make_filter(kinds=["figure changed"], now=now))
        assert [row.seq for row in figures.rows] == [3]
        assert "figure changed" in figures.rows[0].kind_labels
        quiet = changes_page(session, ChangeFilter(kinds=("silent_correction",)))
        assert [row.seq for row in quiet.rows] == [3]
