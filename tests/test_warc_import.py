"""`tracker import FILE.warc.gz`: captures made elsewhere become a story's history.

Runs on SQLite and (with TRACKER_TEST_POSTGRES_URL) PostgreSQL.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import cli_runner
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tracker.demo.site import STAGES, render_page

STORY = "http://127.0.0.1:9/news/us-iran-talks"
OTHER = "http://127.0.0.1:9/world/other-story"
T1 = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
T2 = datetime(2024, 3, 5, 11, 0, tzinfo=UTC)
T3 = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)


class Warc:
    """A WARC file written the way crawlers write them."""

    def __init__(self, *, gzipped: bool = True) -> None:
        self.buffer = io.BytesIO()
        self.writer = WARCWriter(self.buffer, gzip=gzipped)
        self.offsets: list[int] = []  # where each record starts

    def response(
        self,
        url: str,
        when: datetime,
        body: bytes,
        *,
        status: str = "200 OK",
        content_type: str = "text/html; charset=utf-8",
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        headers = StatusAndHeaders(
            status,
            [("Content-Type", content_type), ("Content-Length", str(len(body))), *(extra or [])],
            protocol="HTTP/1.1",
        )
        record = self.writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=headers,
            warc_headers_dict={"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        self.offsets.append(self.buffer.tell())
        self.writer.write_record(record)

    def revisit(self, url: str, when: datetime) -> None:
        record = self.writer.create_revisit_record(
            url,
            digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            refers_to_uri=url,
            refers_to_date=T1.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        record.rec_headers.replace_header("WARC-Date", when.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.writer.write_record(record)

    def save(self, path: Path) -> Path:
        path.write_bytes(self.buffer.getvalue())
        return path


@pytest.fixture
def cli(tmp_path: Path, database_url: str):
    def make(home: str = "home"):
        return cli_runner(tmp_path / home, database_url)

    return make


def page(stage: int, chrome: int = 0) -> bytes:
    return render_page(STAGES[stage], chrome).encode()


@pytest.fixture
def crawl(tmp_path: Path) -> Path:
    warc = Warc()
    # Out of date order on purpose, as files concatenated from several crawls are.
    warc.response(STORY, T3, page(1, chrome=2))  # the press-conference update
    warc.response(STORY, T1, page(0, chrome=0))  # the first capture, with its promise
    warc.response(STORY, T2, page(0, chrome=1))  # page chrome changed, article did not
    warc.revisit(STORY, T3)
    warc.response(STORY, T3, b"gone", status="404 Not Found")
    warc.response(OTHER, T2, b"\x89PNG\r\n\x1a\n", content_type="image/png")
    warc.response(
        OTHER,
        T3,
        gzip.compress(page(2)),
        extra=[("Content-Encoding", "gzip")],  # as served on the wire
    )
    return warc.save(tmp_path / "crawl.warc.gz")


def test_a_crawl_becomes_the_stories_history_in_date_order(cli, crawl: Path):
    run = cli()
    result = run("import", str(crawl))
    assert result.stdout.strip() == (
        "imported 6 captures: 3 versions, 2 new stories; skipped: "
        "1 same article as the version before, 1 not an HTML page, 1 not a 200 response, "
        "1 revisit record (payload seen before)"
    )
    history = json.loads(run("history", STORY, "--json").stdout)
    assert [(v["seq"], v["captured_at"][:19]) for v in history] == [
        (1, "2024-03-05T10:00:00"),
        (2, "2024-03-05T12:00:00"),
    ]
    assert "paragraphs_added" in history[1]["kinds"]
    first = json.loads(run("show", STORY, "1", "--json").stdout)
    assert "check back for an update" in first["text"]
    other = json.loads(run("show", OTHER, "--json").stdout)
    assert other["title"] == STAGES[2].headline  # gzip-encoded on the wire, decoded here
    stories = {s["url"]: s for s in json.loads(run("list", "--json").stdout)}
    assert stories[STORY]["versions"] == 2
    assert stories[STORY]["promise"] == "none"  # imported history makes no promise events


def test_importing_the_same_file_again_adds_nothing(cli, crawl: Path):
    run = cli()
    run("import", str(crawl))
    again = run("import", str(crawl)).stdout
    assert again.startswith("imported 6 captures: 0 versions, 0 new stories; skipped:")
    assert "4 dated at or before the story's latest version" in again
    assert len(json.loads(run("history", STORY, "--json").stdout)) == 2


def test_an_exported_warc_round_trips_into_another_tracker(cli, crawl: Path, tmp_path: Path):
    source, target = cli("source"), cli("target")
    source("import", str(crawl))
    exported = tmp_path / "export.warc.gz"
    source("export", "--format", "warc", "-o", str(exported))
    target("import", str(exported))
    for url in (STORY, OTHER):
        before = json.loads(source("history", url, "--json").stdout)
        after = json.loads(target("history", url, "--json").stdout)
        keep = ("seq", "captured_at", "title", "kinds", "words_added", "capture_sha256")
        assert [{k: v[k] for k in keep} for v in after] == [{k: v[k] for k in keep} for v in before]


@pytest.mark.parametrize(
    "content",
    [
        b"WARC/1.0\r\nthis is not a record\r\n\r\n",
        gzip.compress(b"gzipped text that is not a WARC"),
        bytes(range(256)) * 8,
    ],
    ids=["bad-record", "gzipped-text", "binary"],
)
def test_a_file_that_is_not_a_warc_is_one_clear_error(cli, tmp_path: Path, content: bytes):
    broken = tmp_path / "broken.warc"
    broken.write_bytes(content)
    result = cli()("import", "--format", "warc", str(broken), ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {broken}: not a readable WARC file")
    assert len(result.stderr) < 300


def test_a_capture_without_a_usable_date_makes_no_version(cli, tmp_path: Path):
    warc = Warc()
    warc.response(STORY, T1, page(0))
    warc.response(OTHER, T1, page(2))
    # A damaged (or hand-made) record: its date cannot be read.
    raw = warc.buffer.getvalue()
    warc.buffer = io.BytesIO()
    for record in ArchiveIterator(io.BytesIO(raw)):
        if record.rec_headers.get_header("WARC-Target-URI") == OTHER:
            record.rec_headers.replace_header("WARC-Date", "sometime in March")
        WARCWriter(warc.buffer, gzip=True).write_record(record)
    run = cli()
    result = run("import", str(warc.save(tmp_path / "undated.warc.gz")))
    assert result.stdout.strip() == (
        "imported 1 capture: 1 version, 1 new story; skipped: 1 no readable WARC-Date"
    )
    # Not a version dated 1970, nor a story first seen then (the schedule would retire it).
    assert [s["url"] for s in json.loads(run("list", "--json").stdout)] == [STORY]


def test_a_story_removed_while_its_captures_are_imported(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from tracker.services import warc_import

    warc = Warc()
    for stage, when in enumerate((T1, T2, T3)):
        warc.response(STORY, when, page(stage))
    path = warc.save(tmp_path / "three.warc.gz")
    run = cli()
    real_import = warc_import.import_warc

    def import_and_remove(db, path, *, on_progress, **kwargs):
        def progress(done: int, total: int) -> None:
            on_progress(done, total)
            if done == 1:  # `tracker remove` in another terminal, after the first capture
                run("remove", "--yes", STORY)

        return real_import(db, path, on_progress=progress, **kwargs)

    monkeypatch.setattr(warc_import, "import_warc", import_and_remove)
    result = run("import", str(path))
    assert result.stdout.startswith("imported 3 captures: 1 version, 1 new story;")
    assert "removed while importing" in result.stderr
    assert json.loads(run("list", "--json").stdout) == []  # the removal stands


@pytest.mark.postgres
def test_a_version_stored_meanwhile_by_another_worker_is_built_on(tmp_path: Path, pg_schema: str):
    # On PostgreSQL an import runs beside the daemon: a check may store a version of the
    # story between the import reading the story and writing its own version.
    from conftest import make_settings

    from tracker.services.stories import add_stories
    from tracker.services.warc_import import import_warc
    from tracker.store.db import Database
    from tracker.store.models import Story, Version

    first, meanwhile = Warc(), Warc()
    first.response(STORY, T1, page(0))
    first.response(STORY, T3, page(2))
    meanwhile.response(STORY, T2, page(1))
    first_path = first.save(tmp_path / "first.warc.gz")
    meanwhile_path = meanwhile.save(tmp_path / "meanwhile.warc.gz")
    db = Database(make_settings(tmp_path / "home", pg_schema))
    calls = []

    def add_story(session, url, first_seen_at):
        [added] = add_stories(
            session, [url], now=T1, first_seen_at=first_seen_at, allow_private_networks=True
        )
        story = session.get(Story, added.story_id)
        calls.append(url)
        if len(calls) == 2:  # the other worker commits version 2 now
            import_warc(db, meanwhile_path, add_story=plain_add_story, max_body_bytes=10**7)
        return story, added.created

    def plain_add_story(session, url, first_seen_at):
        [added] = add_stories(
            session, [url], now=T1, first_seen_at=first_seen_at, allow_private_networks=True
        )
        return session.get(Story, added.story_id), added.created

    try:
        report = import_warc(db, first_path, add_story=add_story, max_body_bytes=10**7)
        assert report.versions_added == 2
        with db.session() as session:
            seqs = session.execute(
                select(Version.seq, Version.captured_at).order_by(Version.seq)
            ).all()
            assert [(seq, when) for seq, when in seqs] == [(1, T1), (2, T2), (3, T3)]
            assert session.scalars(select(Story.version_count)).one() == 3
    finally:
        db.dispose()


def test_a_url_too_long_to_store_is_refused_and_the_rest_imported(cli, tmp_path: Path):
    # Crawlers capture whatever was linked; the URL column holds 2048 characters (on
    # PostgreSQL a longer one was a database error that ended the whole import).
    long_url = f"{OTHER}?q={'x' * 2100}"
    warc = Warc()
    warc.response(long_url, T1, page(2))
    warc.response(STORY, T2, page(0))
    run = cli()
    result = run("import", str(warc.save(tmp_path / "long.warc.gz")))
    assert result.stdout.startswith("imported 2 captures: 1 version, 1 new story;")
    assert "longer than 2048 characters" in result.stderr
    assert [s["url"] for s in json.loads(run("list", "--json").stdout)] == [STORY]


@pytest.mark.parametrize("status", ["OK", "2OO OK", ""])
def test_a_response_with_a_garbled_status_line_is_skipped(cli, tmp_path: Path, status: str):
    warc = Warc()
    warc.response(OTHER, T1, page(2), status=status)
    warc.response(STORY, T2, page(0))
    run = cli()
    result = run("import", str(warc.save(tmp_path / "garbled.warc.gz")))
    assert result.stdout.strip() == (
        "imported 2 captures: 1 version, 1 new story; skipped: 1 not a 200 response"
    )


def test_a_capture_dated_in_the_future_makes_no_version(cli, tmp_path: Path):
    # A crawler with a wrong clock: a version "from 2090" would sit at the end of the
    # history for good, and every later import would skip real captures as older than it.
    warc = Warc()
    warc.response(STORY, T1, page(0))
    warc.response(STORY, datetime(2090, 1, 1, tzinfo=UTC), page(1))
    run = cli()
    result = run("import", str(warc.save(tmp_path / "future.warc.gz")))
    assert result.stdout.strip() == (
        "imported 1 capture: 1 version, 1 new story; skipped: 1 dated in the future"
    )
    later = Warc()
    later.response(STORY, T3, page(2))
    again = run("import", str(later.save(tmp_path / "later.warc.gz"))).stdout
    assert again.startswith("imported 1 capture: 1 version, 0 new stories")


# -- damaged files: one bad record costs that record only -------------------------------------

THIRD = "http://127.0.0.1:9/world/third-story"


def _after_warc_headers(data: bytes, start: int) -> int:
    return data.index(b"\r\n\r\n", start) + 4


DAMAGE = {
    # name: (gzipped, how the middle record is damaged)
    "garbage-after-warc-headers": (
        False,
        lambda data, start, end: (
            data[: _after_warc_headers(data, start)]
            + b"\x00garbage\xff" * 12
            + data[_after_warc_headers(data, start) :]
        ),
    ),
    "garbage-for-http-headers": (
        False,
        lambda data, start, end: (
            data[: _after_warc_headers(data, start)]
            + b"\x1b[31m\x00\x00" * 20
            + data[_after_warc_headers(data, start) + 80 :]
        ),
    ),
    "garbage-between-records": (
        False,
        lambda data, start, end: data[:end] + b"not a record at all\r\n" * 5 + data[end:],
    ),
    "garbage-inside-a-gzip-member": (
        True,
        lambda data, start, end: data[: start + 30] + b"garbage" * 6 + data[start + 30 :],
    ),
    "gzip-member-cut-short": (
        True,
        lambda data, start, end: data[: start + (end - start) // 2] + data[end:],
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_record_is_skipped_with_a_message_and_the_rest_imported(
    cli, tmp_path: Path, damage: str
):
    gzipped, spoil = DAMAGE[damage]
    warc = Warc(gzipped=gzipped)
    warc.response(STORY, T1, page(0))
    warc.response(OTHER, T2, page(1))
    warc.response(THIRD, T3, page(2))
    data = warc.buffer.getvalue()
    start, end = warc.offsets[1], warc.offsets[2]
    path = tmp_path / ("damaged.warc.gz" if gzipped else "damaged.warc")
    path.write_bytes(spoil(data, start, end))

    run = cli()
    result = run("import", "--format", "warc", str(path))
    assert result.exit_code == 0
    assert "damaged, skipped" in result.stderr
    urls = {s["url"] for s in json.loads(run("list", "--json").stdout)}
    # The records before and after the damage are imported, whatever became of the middle.
    assert {STORY, THIRD} <= urls
    assert urls <= {STORY, OTHER, THIRD}
