"""Tamper-evident history: every version is chained to the one before it, `tracker verify`
names the first broken link, and an export verifies offline with nothing but Python.

Versions are made by real checks of pages on a local server; runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from conftest import cli_runner, make_settings
from servers import LocalServer
from sqlalchemy import delete, select, update

import tracker.core.chain as chain_module
from tracker.config import Settings
from tracker.core.chain import (
    GENESIS,
    chain_link,
    content_digest,
    first_break,
    links_for,
)
from tracker.pipeline.engine import CheckEngine
from tracker.services.archive import export_json, import_json, reextract
from tracker.services.stories import add_stories
from tracker.services.verify import verify_chains
from tracker.store.db import Database, alembic_config
from tracker.store.models import Event, Story, Version

CHAIN_FILE = Path(chain_module.__file__)


def page(sentence: str, nonce: int) -> str:
    paragraphs = "".join(f"<p>{sentence} This is sentence {i} of the report.</p>" for i in range(4))
    return (
        f"<html><head><title>Floods</title><script>var n={nonce};</script></head><body>"
        f"<article><h1>Floods</h1>{paragraphs}</article></body></html>"
    )


STAGES = [
    page("The river rose overnight.", 1),
    page("The river rose overnight and the bridge closed.", 2),
    page("The river rose overnight; the bridge closed and 40 homes were evacuated.", 3),
]


def tracked_story(db: Database, settings: Settings, server: LocalServer, path: str) -> int:
    """A story checked through three edits: three versions."""
    with db.session() as session:
        [added] = add_stories(
            session, [server.url(path)], now=datetime.now(UTC), allow_private_networks=True
        )
    with CheckEngine(db, settings) as engine:
        for html in STAGES:
            server.set(path, html.replace("var n=", f"var path='{path}', n="))
            [report] = engine.check_now([added.story_id])
            assert report.outcome == "changed", report
    return added.story_id


def versions_of(db: Database, story_id: int) -> list[Version]:
    with db.session() as session:
        return list(
            session.scalars(
                select(Version).where(Version.story_id == story_id).order_by(Version.seq)
            )
        )


# -- the chain itself (pure) ------------------------------------------------------------------

WHEN = datetime(2026, 12, 4, 14, 5, tzinfo=UTC)
VERSIONS = [
    {
        "seq": 1,
        "captured_at": WHEN,
        "title": "Floods",
        "headlines": ["Floods"],
        "text": "The river rose.",
        "raw_sha256": "a" * 64,
    },
    {
        "seq": 2,
        "captured_at": WHEN + timedelta(minutes=15),
        "title": "Floods: bridge closed",
        "headlines": [],
        "text": "The river rose. The bridge closed.",
        "raw_sha256": None,
    },
]
URL = "https://example.com/news/floods"


def stored(versions: list[dict]) -> list[dict]:
    """The versions with the digests a writer would have stored beside them."""
    links = links_for(URL, versions)
    return [
        {**v, "content_sha256": link.content_sha256, "chain_sha256": link.chain_sha256}
        for v, link in zip(versions, links, strict=True)
    ]


def test_the_first_version_links_to_the_genesis_and_each_next_to_the_one_before():
    first, second = links_for(URL, VERSIONS)
    assert first.chain_sha256 == chain_link(
        GENESIS,
        seq=1,
        captured_at=WHEN,
        url=URL,
        content_sha256=content_digest(VERSIONS[0]),
        raw_sha256="a" * 64,
    )
    assert second.chain_sha256 == chain_link(
        first.chain_sha256,
        seq=2,
        captured_at=VERSIONS[1]["captured_at"],
        url=URL,
        content_sha256=content_digest(VERSIONS[1]),
        raw_sha256=None,
    )
    assert first_break(URL, stored(VERSIONS)) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", "The river rose. The bridge stayed open."),
        ("title", "Floods: all clear"),
        ("headlines", ["Another headline"]),
        ("byline", "A. Writer"),
        ("entries", [{"id": "e1", "text": "added later"}]),
    ],
)
def test_any_change_to_a_stored_article_breaks_its_own_link(field, value):
    versions = stored(VERSIONS)
    versions[0] = {**versions[0], field: value}
    problem = first_break(URL, versions)
    assert problem is not None and problem.seq == 1
    assert "content hash" in problem.reason


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("captured_at", WHEN - timedelta(days=1)),  # back-dated
        ("raw_sha256", "b" * 64),  # another page behind the same article
    ],
)
def test_a_changed_time_or_raw_capture_breaks_the_chain_at_that_version(field, value):
    versions = stored(VERSIONS)
    versions[1] = {**versions[1], field: value}
    problem = first_break(URL, versions)
    assert problem is not None and problem.seq == 2
    assert "chain hash does not match" in problem.reason


def test_a_deleted_version_and_another_url_break_the_chain():
    versions = stored(VERSIONS)
    assert first_break(URL, versions[1:]).seq == 2  # version 1 deleted
    assert first_break("https://example.com/news/other", versions).seq == 1


def test_capture_times_are_hashed_in_utc_whatever_their_zone():
    from datetime import timezone

    paris = WHEN.astimezone(timezone(timedelta(hours=1)))
    assert chain_module.capture_time(paris) == "2026-12-04T14:05:00.000000Z"
    assert chain_module.capture_time(paris.isoformat()) == "2026-12-04T14:05:00.000000Z"
    with pytest.raises(ValueError, match="time zone"):
        chain_module.capture_time("2026-12-04T14:05:00")


# -- as stored ---------------------------------------------------------------------------------


def test_checks_chain_each_new_version_to_the_one_before(
    db: Database, settings: Settings, server: LocalServer
):
    story_id = tracked_story(db, settings, server, "/floods")
    versions = versions_of(db, story_id)
    assert [v.seq for v in versions] == [1, 2, 3]
    assert all(v.raw_sha256 == v.capture_sha256 and v.raw_sha256 for v in versions)
    assert len({v.chain_sha256 for v in versions}) == 3
    with db.session() as session:
        report = verify_chains(session)
    assert (report.ok, report.stories, report.versions) == (True, 1, 3)
    assert report.heads == {server.url("/floods"): versions[-1].chain_sha256}


def test_verify_names_the_first_broken_link(
    db: Database, settings: Settings, server: LocalServer, database_url: str, tmp_path: Path
):
    intact = tracked_story(db, settings, server, "/intact")
    edited = tracked_story(db, settings, server, "/edited")
    pruned = tracked_story(db, settings, server, "/pruned")
    with db.session() as session:
        # Someone with database access rewrites what version 2 said ...
        session.execute(
            update(Version)
            .where(Version.story_id == edited, Version.seq == 2)
            .values(text="The river never rose.")
        )
        # ... and someone deletes a version of another story.
        session.execute(delete(Version).where(Version.story_id == pruned, Version.seq == 2))

    cli = cli_runner(tmp_path / "home", database_url)
    result = cli("verify", ok=False)
    assert result.exit_code == 1, result.output
    assert f"BROKEN  {server.url('/edited')}  at version 2: the article does not match" in (
        result.output
    )
    assert f"BROKEN  {server.url('/pruned')}  at version 3: version 2 is missing" in result.output
    assert server.url("/intact") not in result.output
    assert "verified 3 stories, 8 versions" in result.output and "2 broken" in result.output

    one = cli("verify", server.url("/intact"), "--json")
    assert one.exit_code == 0, one.output
    data = json.loads(one.output)
    assert (data["ok"], data["stories"], data["versions"]) == (True, 1, 3)
    assert data["heads"] == {server.url("/intact"): versions_of(db, intact)[-1].chain_sha256}


def test_an_export_verifies_offline_with_the_standard_library_alone(
    db: Database, settings: Settings, server: LocalServer, tmp_path: Path
):
    tracked_story(db, settings, server, "/one")
    tracked_story(db, settings, server, "/two")
    path = tmp_path / "export.json"
    with db.session() as session, path.open("w", encoding="utf-8") as out:
        export_json(session, out, now=datetime.now(UTC))

    # -I: isolated mode, no site-packages and no current directory: only the standard library.
    verifier = [sys.executable, "-I", str(CHAIN_FILE), str(path)]
    ok = subprocess.run(verifier, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("ok      ") == 2 and "2 stories, 0 broken" in ok.stdout

    document = json.loads(path.read_text(encoding="utf-8"))
    document["stories"][1]["versions"][0]["text"] += " (quietly added)"
    path.write_text(json.dumps(document), encoding="utf-8")
    broken = subprocess.run(verifier, capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert f"BROKEN  {server.url('/two')}  at version 1: the article does not match" in (
        broken.stdout
    )


def test_an_import_keeps_the_chain_and_warns_of_one_that_does_not_verify(
    db: Database, settings: Settings, server: LocalServer, tmp_path: Path
):
    story_id = tracked_story(db, settings, server, "/floods")
    heads = [v.chain_sha256 for v in versions_of(db, story_id)]
    out = io.StringIO()
    with db.session() as session:
        export_json(session, out, now=datetime.now(UTC))
    document = json.loads(out.getvalue())

    fresh = Database(make_settings(tmp_path / "fresh"))  # SQLite, whatever the source
    try:
        with fresh.session() as session:
            report = import_json(session, document, now=datetime.now(UTC))
        assert report.unverified == []
        with fresh.session() as session:
            imported = session.scalars(select(Version.chain_sha256).order_by(Version.seq)).all()
            assert imported == heads
            assert verify_chains(session).ok
    finally:
        fresh.dispose()

    document["stories"][0]["versions"][1]["captured_at"] = "2020-01-01T00:00:00+00:00"
    other = Database(make_settings(tmp_path / "other"))
    try:
        with other.session() as session:
            report = import_json(session, document, now=datetime.now(UTC))
        assert report.unverified == [
            f"{server.url('/floods')}: version 2: the chain hash does not match (an earlier "
            "version, this one's time, number, URL or raw capture digest changed)"
        ]
    finally:
        other.dispose()


def test_reextraction_rechains_and_keeps_the_old_head_on_the_record(
    db: Database, settings: Settings, server: LocalServer
):
    story_id = tracked_story(db, settings, server, "/floods")
    old_head = versions_of(db, story_id)[-1].chain_sha256
    [report] = reextract(db, [story_id], selector="article p:first-of-type")
    assert report.changed, report
    new_head = versions_of(db, story_id)[-1].chain_sha256
    assert new_head != old_head
    with db.session() as session:
        assert verify_chains(session).ok
        [event] = session.scalars(select(Event).where(Event.kind == "chain_rebuilt")).all()
    assert old_head in event.detail and new_head in event.detail


def test_the_migration_back_fills_the_chain_of_existing_versions(
    db: Database, settings: Settings, server: LocalServer
):
    story_id = tracked_story(db, settings, server, "/floods")
    expected = [(v.content_sha256, v.raw_sha256, v.chain_sha256) for v in versions_of(db, story_id)]

    config = alembic_config(db.engine)
    before_chain = ScriptDirectory.from_config(config).get_revision("0015").down_revision
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, before_chain)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    back_filled = [
        (v.content_sha256, v.raw_sha256, v.chain_sha256) for v in versions_of(db, story_id)
    ]
    assert back_filled == expected
    with db.session() as session:
        assert session.get(Story, story_id).version_count == 3
        assert verify_chains(session).ok
