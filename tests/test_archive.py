"""The archive: WARC and JSON round trips, re-extraction, capture retention, vacuum.

Versions are made by real checks of pages on a local server; runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import make_settings
from servers import LocalServer
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from tracker.config import Settings
from tracker.pipeline.engine import CheckEngine
from tracker.services.archive import (
    export_json,
    export_warc,
    import_json,
    reextract,
    vacuum,
)
from tracker.services.stories import add_stories
from tracker.store.captures import decompress, prune_captures
from tracker.store.db import Database
from tracker.store.models import Capture, Story, Version


def page(body: str, aside: str, nonce: int | str) -> str:
    paragraphs = "".join(f"<p>{body} This is sentence {i} of the report.</p>" for i in range(4))
    return (
        f"<html><head><title>Floods</title><script>var n={nonce};</script></head><body>"
        f"<article><h1>Floods</h1>{paragraphs}</article>"
        f"<aside><p>{aside} A note that sits beside the article on the page.</p></aside>"
        "</body></html>"
    )


# Three fetched pages: the aside changes, then the article does.
PAGES = [
    page("The river rose overnight.", "Read our live blog.", 1),
    page("The river rose overnight.", "Read our weather page.", 2),
    page("The river rose overnight and the bridge closed.", "Read our weather page.", 3),
]


def make_story(db: Database, settings: Settings, server: LocalServer, path: str) -> int:
    """A story with three versions (the selector sees the article and the aside)."""
    with db.session() as session:
        [added] = add_stories(
            session,
            [server.url(path)],
            now=datetime.now(UTC),
            selector="article, aside",
            allow_private_networks=True,
        )
    with CheckEngine(db, settings) as engine:
        for html in PAGES:
            html = html.replace("var n=", f"var path='{path}', n=")  # distinct bytes per story
            # gzip on the wire: the capture keeps the decoded body.
            server.set(path, gzip.compress(html.encode()), headers={"Content-Encoding": "gzip"})
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


def test_warc_round_trip_every_capture_byte_identical(
    db: Database, settings: Settings, server: LocalServer, tmp_path: Path
):
    story_ids = [make_story(db, settings, server, p) for p in ("/one", "/two")]
    with db.session() as session:
        captures = {
            c.sha256: (c.url, decompress(c.body_zstd)) for c in session.scalars(select(Capture))
        }
    assert len(captures) == 6

    path = tmp_path / "out.warc.gz"
    with db.session() as session, path.open("wb") as out:
        summary = export_warc(session, out, user_agent="tracker-test/1")
    assert (summary.responses, summary.requests, summary.metadata) == (6, 6, 6)

    responses, requests, metadata = {}, {}, []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            headers = record.rec_headers
            assert headers.protocol == "WARC/1.1"
            # W3C ISO 8601 in UTC: "2024-03-05T10:00:00.000000Z", never "+00:00Z".
            assert re.fullmatch(
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", headers.get_header("WARC-Date")
            )
            if record.rec_type == "response":
                body = record.content_stream().read()
                responses[headers.get_header("WARC-Record-ID")] = (
                    headers.get_header("WARC-Target-URI"),
                    body,
                    record.http_headers,
                )
            elif record.rec_type == "request":
                requests[headers.get_header("WARC-Concurrent-To")] = record.http_headers
            elif record.rec_type == "metadata":
                metadata.append(json.loads(record.content_stream().read()))
    got = {hashlib.sha256(body).hexdigest(): (uri, body) for uri, body, _ in responses.values()}
    assert got == captures  # every capture, byte for byte, under its URL
    for record_id, (uri, body, http_headers) in responses.items():
        assert http_headers.get_statuscode() == "200"
        assert http_headers.get_header("Content-Length") == str(len(body))
        assert http_headers.get_header("Content-Encoding") is None
        assert http_headers.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
        request = requests[record_id]
        assert f"{request.protocol} {request.statusline}" == f"GET {urlsplit(uri).path} HTTP/1.1"
        assert request.get_header("User-Agent") == "tracker-test/1"
    assert sorted((m["story_url"].rsplit("/", 1)[1], m["seq"]) for m in metadata) == [
        ("one", 1),
        ("one", 2),
        ("one", 3),
        ("two", 1),
        ("two", 2),
        ("two", 3),
    ]

    # One story only: its three captures.
    buffer = io.BytesIO()
    with db.session() as session:
        one = export_warc(session, buffer, user_agent="t", story_ids=[story_ids[0]])
    assert one.responses == 3


def test_warc_files_pass_warcio_check(db, settings, server, tmp_path: Path, capsys):
    from warcio.cli import main as warcio_main

    make_story(db, settings, server, "/one")
    path = tmp_path / "out.warc.gz"
    with db.session() as session, path.open("wb") as out:
        export_warc(session, out, user_agent="t")
    # `warcio check` verifies the block and payload digests of every record.
    with pytest.raises(SystemExit) as exited:
        warcio_main(["check", "-v", str(path)])
    output = capsys.readouterr().out
    assert exited.value.code == 0, output
    assert " response\n" in output
    assert output.count("digest pass") == output.count("WARC-Record-ID")  # every record
    assert "fail" not in output


def test_json_export_imports_into_a_fresh_database(
    db, settings, server, tmp_path: Path, database_url
):
    story_id = make_story(db, settings, server, "/one")
    out = io.StringIO()
    with db.session() as session:
        assert export_json(session, out, now=datetime.now(UTC)) == 1
    document = json.loads(out.getvalue())
    [exported] = document["stories"]
    assert [v["seq"] for v in exported["versions"]] == [1, 2, 3]
    assert [c["outcome"] for c in exported["checks"]] == ["changed"] * 3
    # What each version was read from, and the verdict on it, travel with it.
    assert {(v["health"], v["fetcher"], v["text_source"]) for v in exported["versions"]} == {
        ("ok", "http", "selector")  # these stories are read with a CSS selector
    }
    assert [c["fetcher"] for c in exported["checks"]] == ["http"] * 3
    assert exported["extraction_health"] == "ok"

    fresh = Database(make_settings(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.db'}"))
    try:
        with fresh.session() as session:
            report = import_json(session, document, now=datetime.now(UTC))
        assert (report.stories_added, report.versions_added) == (1, 3)
        with fresh.session() as session:
            again = io.StringIO()
            export_json(session, again, now=datetime.now(UTC))
            # Importing again skips what is there.
            assert import_json(session, document, now=datetime.now(UTC)).skipped
        [reimported] = json.loads(again.getvalue())["stories"]
        for key in ("url", "selector", "first_seen_at", "versions"):
            if key == "versions":  # the raw pages did not travel: no capture references
                strip = [{**v, "capture_sha256": None} for v in exported["versions"]]
                assert reimported["versions"] == strip
            else:
                assert reimported[key] == exported[key]
        assert [c["version_seq"] for c in reimported["checks"]] == [1, 2, 3]
    finally:
        fresh.dispose()
    assert versions_of(db, story_id)  # the source is untouched


def test_reextraction_with_a_new_selector_rebuilds_versions_idempotently(db, settings, server):
    story_id = make_story(db, settings, server, "/one")
    before = versions_of(db, story_id)
    assert [v.seq for v in before] == [1, 2, 3]
    assert "live blog" in before[0].text

    # A dry run reports and changes nothing, not even the selector.
    [dry] = reextract(db, [story_id], selector="article", apply=False)
    assert (dry.versions_before, dry.versions_after) == (3, 2)
    assert [(v.id, v.text) for v in versions_of(db, story_id)] == [(v.id, v.text) for v in before]
    with db.session() as session:
        assert session.get(Story, story_id).selector == "article, aside"

    # Only the article: the aside change (v2) was never a change of the article.
    [report] = reextract(db, [story_id], selector="article")
    assert report.error is None
    assert (report.versions_before, report.versions_after) == (3, 2)
    assert any("v2: same as v1 now; merged into it" in line for line in report.changes)
    after = versions_of(db, story_id)
    assert [v.seq for v in after] == [1, 2]
    assert [v.id for v in after] == [before[0].id, before[2].id]  # rows kept, not replaced
    assert all("beside the article" not in v.text for v in after)
    assert after[0].kinds == ["first"]
    assert "bridge closed" in after[1].text
    assert after[1].kinds and "first" not in after[1].kinds
    assert after[1].capture_sha256 == before[2].capture_sha256
    with db.session() as session:
        story = session.get(Story, story_id)
        assert (story.version_count, story.selector) == (2, "article")
        assert story.last_fingerprint == after[1].fingerprint

    # Again: nothing to do, nothing written.
    [second] = reextract(db, [story_id])
    assert not second.changed
    assert [(v.id, v.seq, v.fingerprint, v.text) for v in versions_of(db, story_id)] == [
        (v.id, v.seq, v.fingerprint, v.text) for v in after
    ]

    # A selector that matches nothing changes nothing and says so.
    [bad] = reextract(db, [story_id], selector="#missing")
    assert bad.error and "no article text" in bad.error
    assert [v.id for v in versions_of(db, story_id)] == [v.id for v in after]


def test_retention_prunes_old_captures_but_keeps_versions(db, settings, server):
    story_id = make_story(db, settings, server, "/one")
    versions = versions_of(db, story_id)
    future = datetime.now(UTC) + timedelta(days=30)
    with db.session() as session:
        assert prune_captures(session, future) == 2  # the latest version's capture stays
    after = versions_of(db, story_id)
    assert [v.text for v in after] == [v.text for v in versions]
    assert [v.capture_sha256 for v in after] == [None, None, versions[2].capture_sha256]
    with db.session() as session:
        assert session.scalar(select(Capture.sha256)) == versions[2].capture_sha256
    before_bytes, after_bytes = vacuum(db)
    assert before_bytes > 0 and after_bytes > 0
    # Re-extraction still works: pruned versions keep their stored article.
    [report] = reextract(db, [story_id])
    assert report.error is None
