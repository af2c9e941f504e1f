"""The web-archive hand-off against a fake Save Page Now server on 127.0.0.1, on SQLite
and PostgreSQL: each new version's page is submitted once, from a queue written with the
version, under a rate limit, with retries, without ever holding up a check.

A simulated clock drives back-off and polling: no test waits or asserts on timing.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alert_support import SimulatedClock
from conftest import make_settings
from servers import LocalServer
from spn_server import FakeSavePageNow
from sqlalchemy import select

from tracker.core.web_archive import Outcome, read_simple, read_status
from tracker.demo.site import STAGES, render_page
from tracker.pipeline.engine import CheckEngine
from tracker.pipeline.web_archive import ArchiveRunner
from tracker.services.stories import add_stories
from tracker.store.archive_models import ArchiveSubmission
from tracker.store.db import Database
from tracker.store.models import Version

KEYS = ("access123", "secret456")


class ArchiveRig:
    """Stories on ``server``, a check engine and an archive runner on one simulated clock."""

    def __init__(self, tmp_path: Path, database_url: str, server: LocalServer, **overrides):
        self.clock = SimulatedClock(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
        self.settings = make_settings(tmp_path / "home", database_url, **overrides)
        self.db = Database(self.settings)
        self.server = server
        self.engine = CheckEngine(self.db, self.settings, clock=self.clock)
        self.runner: ArchiveRunner | None = None

    def story(self, path: str, stage: int = 0) -> int:
        self.server.set(path, render_page(STAGES[stage], 0))
        with self.db.session() as session:
            [added] = add_stories(
                session, [self.server.url(path)], now=self.clock(), allow_private_networks=True
            )
        return added.story_id

    def check(self, *story_ids: int):
        return self.engine.check_now(list(story_ids))

    def tick(self):
        if self.runner is None:
            self.runner = ArchiveRunner(self.db, self.settings, clock=self.clock)
        return self.runner.tick()

    def runner_lease(self):
        from tracker.pipeline.web_archive import policy_from_settings

        return policy_from_settings(self.settings).lease

    def submissions(self) -> list[ArchiveSubmission]:
        with self.db.session() as session:
            rows = list(session.scalars(select(ArchiveSubmission).order_by(ArchiveSubmission.id)))
            session.expunge_all()
            return rows

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()
        self.engine.close()
        self.db.dispose()


@pytest.fixture
def spn() -> Iterator[FakeSavePageNow]:
    with FakeSavePageNow(keys=KEYS) as fake:
        yield fake


@pytest.fixture
def rig_for(tmp_path: Path, database_url: str, server: LocalServer, spn: FakeSavePageNow):
    rigs: list[ArchiveRig] = []

    def make(**overrides) -> ArchiveRig:
        values = {
            "archive_endpoint": spn.endpoint,
            "archive_access_key": KEYS[0],
            "archive_secret_key": KEYS[1],
            **overrides,
        }
        rig = ArchiveRig(tmp_path, database_url, server, **values)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


def test_off_by_default_nothing_is_queued_and_no_archive_is_asked(
    tmp_path: Path, database_url: str, server: LocalServer, spn: FakeSavePageNow
):
    rig = ArchiveRig(tmp_path, database_url, server)
    try:
        assert rig.settings.archive_endpoint is None
        story = rig.story("/news/quiet")
        [report] = rig.check(story)
        assert report.version_seq == 1
        assert rig.submissions() == []
    finally:
        rig.close()
    assert spn.requests == []


def test_a_new_version_is_saved_polled_and_its_archived_copy_recorded(rig_for, spn):
    rig = rig_for()
    story = rig.story("/news/budget")
    [first] = rig.check(story)
    # Queued with the version, before any request: a check never waits for the archive.
    [queued] = rig.submissions()
    assert (queued.status, queued.url, spn.requests) == (
        "pending",
        rig.server.url("/news/budget"),
        [],
    )

    assert rig.tick().saved == 1
    [save] = spn.requests
    assert (save.method, save.path, save.url) == ("POST", "/save", rig.server.url("/news/budget"))
    assert save.authorization == "LOW access123:secret456"
    [submitted] = rig.submissions()
    assert submitted.status == "submitted" and submitted.job_id

    assert rig.tick().polled == 0  # the first poll waits archive_poll_interval
    rig.clock.advance(seconds=30)
    assert rig.tick().polled == 1  # the fake answers "pending" once
    assert rig.submissions()[0].status == "submitted"
    rig.clock.advance(seconds=30)
    assert rig.tick().archived == 1

    [done] = rig.submissions()
    assert done.status == "archived" and done.last_error is None
    assert done.archived_url == (
        f"https://web.archive.org/web/{done.archived_url.split('/')[4]}/"
        + rig.server.url("/news/budget")
    )
    assert done.archived_url.split("/")[4].isdigit()
    assert [r.path.split("/")[2] if r.method == "GET" else r.path for r in spn.requests] == [
        "/save",
        "status",
        "status",
    ]
    with rig.db.session() as session:
        version_id = session.scalar(select(Version.id).where(Version.seq == first.version_seq))
    assert done.version_id == version_id

    # An unchanged page makes no version and so no submission; a changed one does.
    rig.clock.advance(minutes=10)
    [same] = rig.check(story)
    assert str(same.outcome) == "unchanged"
    assert len(rig.submissions()) == 1
    rig.server.set("/news/budget", render_page(STAGES[1], 0))
    rig.clock.advance(minutes=10)
    [changed] = rig.check(story)
    assert changed.version_seq == 2
    assert [s.status for s in rig.submissions()] == ["archived", "pending"]


def test_the_rate_limit_holds_saves_to_so_many_a_minute(rig_for, spn):
    rig = rig_for(archive_per_minute=2)
    stories = [rig.story(f"/news/{n}") for n in range(5)]
    rig.check(*stories)
    assert len(rig.submissions()) == 5

    first = rig.tick()
    assert (first.saved, first.deferred) == (2, 3)
    assert rig.tick().saved == 0  # the same minute: no room left
    rig.clock.advance(seconds=59)
    assert rig.tick().saved == 0
    rig.clock.advance(seconds=2)
    assert rig.tick().saved == 2
    rig.clock.advance(seconds=61)
    assert rig.tick().saved == 1
    assert len([r for r in spn.requests if r.method == "POST"]) == 5
    # Each page submitted exactly once, in the order the queue got them.
    assert [r.url for r in spn.requests if r.method == "POST"] == [s.url for s in rig.submissions()]
    assert sorted(s.url for s in rig.submissions()) == [
        rig.server.url(f"/news/{n}") for n in range(5)
    ]


def test_429_and_500_are_retried_with_back_off_then_succeed(rig_for, spn):
    rig = rig_for(archive_backoff_base="2m", archive_backoff_cap="1h")
    spn.fail_next(429, body={"message": "You have already reached the limit"})
    spn.fail_next(500)
    rig.check(rig.story("/news/busy"))

    assert rig.tick().saved == 1
    [row] = rig.submissions()
    assert row.status == "pending"
    assert row.last_error == "HTTP 429: You have already reached the limit"
    rig.clock.advance(minutes=1, seconds=59)
    assert rig.tick().saved == 0  # backing off: 2 minutes after the first failure
    rig.clock.advance(seconds=1)
    assert rig.tick().saved == 1
    assert rig.submissions()[0].last_error == "HTTP 500: fake 500"
    rig.clock.advance(minutes=3, seconds=59)
    assert rig.tick().saved == 0  # then 4 minutes
    rig.clock.advance(seconds=1)
    assert rig.tick().saved == 1
    rig.clock.advance(seconds=30)
    rig.tick()  # pending once
    rig.clock.advance(seconds=30)
    assert rig.tick().archived == 1
    [done] = rig.submissions()
    assert (done.status, done.attempts, done.last_error) == ("archived", 3, None)
    assert len(spn.saves()) == 3


def test_a_dead_archive_gives_a_recorded_error_and_checks_go_on(
    tmp_path: Path, database_url: str, server: LocalServer
):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    rig = ArchiveRig(
        tmp_path,
        database_url,
        server,
        archive_endpoint=dead,
        archive_max_attempts=2,
        archive_timeout=2.0,
    )
    try:
        story = rig.story("/news/dead-archive")
        [first] = rig.check(story)
        assert first.version_seq == 1
        assert rig.tick().saved == 1
        [row] = rig.submissions()
        assert row.status == "pending" and row.last_error.startswith("ConnectError")

        # Checks carry on meanwhile, and their versions queue up.
        rig.server.set("/news/dead-archive", render_page(STAGES[1], 0))
        rig.clock.advance(minutes=2)
        [second] = rig.check(story)
        assert second.version_seq == 2

        report = rig.tick()
        assert (report.saved, report.failed) == (2, 1)
        gave_up, retrying = rig.submissions()
        assert gave_up.status == "failed"
        assert gave_up.last_error.startswith("gave up after 2 attempts: ConnectError")
        assert retrying.status == "pending"
        rig.clock.advance(days=1)
        rig.tick()
        assert rig.tick().saved == 0  # failed rows are never sent again
        assert [s.status for s in rig.submissions()] == ["failed", "failed"]
    finally:
        rig.close()


def test_a_refused_url_fails_at_once(rig_for, spn):
    rig = rig_for()
    spn.fail_next(
        200,
        body={"status": "error", "status_ext": "error:blocked-url", "message": "Blocked by robots"},
    )
    rig.check(rig.story("/news/blocked"))
    assert rig.tick().failed == 1
    [row] = rig.submissions()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "error:blocked-url: Blocked by robots"


def test_a_submission_survives_a_restart_and_an_interrupted_save_is_sent_again(
    tmp_path: Path, database_url: str, server: LocalServer, spn: FakeSavePageNow
):
    overrides = {
        "archive_endpoint": spn.endpoint,
        "archive_access_key": KEYS[0],
        "archive_secret_key": KEYS[1],
    }
    before = ArchiveRig(tmp_path, database_url, server, **overrides)
    story = before.story("/news/restart")
    before.check(story)
    now = before.clock()
    before.close()  # the daemon stops (or dies) before the archive duty ran
    assert spn.requests == []

    after = ArchiveRig(tmp_path, database_url, server, **overrides)
    after.clock.now = now
    try:
        [row] = after.submissions()
        assert row.status == "pending"
        # A worker claimed it and died before the answer was recorded: the lease runs out
        # and the save is sent again.
        from tracker.pipeline.web_archive import _claim

        with after.db.session() as session:
            assert _claim(session, [row.id], "pending", now, after.runner_lease())
        assert after.tick().saved == 0  # still leased
        after.clock.advance(minutes=5)
        assert after.tick().saved == 1
        assert [r.url for r in spn.saves()] == [server.url("/news/restart")]
    finally:
        after.close()


def test_the_simple_form_is_archived_at_once(rig_for, spn):
    rig = rig_for(archive_api="simple", archive_replay_base="https://archive.example/web")
    rig.check(rig.story("/news/simple"))
    assert rig.tick().archived == 1
    [save] = spn.requests
    assert (save.method, save.path) == ("GET", "/save/" + rig.server.url("/news/simple"))
    [done] = rig.submissions()
    assert done.archived_url.startswith("https://archive.example/web/2026120418")
    assert done.archived_url.endswith("/" + rig.server.url("/news/simple"))


def test_the_archive_answers_are_read_as_documented():
    base = "https://web.archive.org/web"
    success = {"status": "success", "timestamp": "20261204170000", "original_url": "https://a/b"}
    answer = read_status(200, success, base)
    assert answer.archived_url == "https://web.archive.org/web/20261204170000/https://a/b"
    assert read_status(200, {"status": "pending"}, base).outcome == Outcome.PENDING
    assert read_status(503, None, base).outcome == Outcome.RETRY
    assert read_status(404, None, base).outcome == Outcome.FAILED
    moved = read_simple(302, "/web/20261204170000/https://a/b", "https://web.archive.org", base)
    assert moved.archived_url == "https://web.archive.org/web/20261204170000/https://a/b"
    assert read_simple(200, None, "https://web.archive.org", base).outcome == Outcome.RETRY


def test_the_archived_copy_is_shown_by_the_api_pages_cli_and_exports(
    rig_for, spn, tmp_path: Path, database_url: str
):
    import csv
    import json

    from conftest import cli_runner
    from test_web_support import make_client
    from warcio.archiveiterator import ArchiveIterator

    rig = rig_for()
    story = rig.story("/news/surfaces")
    rig.check(story)
    rig.server.set("/news/surfaces", render_page(STAGES[1], 0))
    rig.clock.advance(minutes=5)
    rig.check(story)
    spn.fail_next(200, body={"status": "error", "status_ext": "error:blocked-url", "message": "no"})
    saved = rig.tick()  # both saved at once: version 1 is refused, version 2 accepted
    assert (saved.saved, saved.failed) == (2, 1)
    rig.clock.advance(minutes=1)
    assert rig.tick().polled == 1  # pending once
    rig.clock.advance(minutes=1)
    assert rig.tick().archived == 1
    refused, archived = rig.submissions()
    assert (refused.status, archived.status) == ("failed", "archived")
    copy = archived.archived_url
    assert copy.startswith("https://web.archive.org/web/")

    client = make_client(rig.db, rig.settings)
    one = client.get(f"/api/v1/stories/{story}/versions/2").json()
    assert (one["archived_url"], one["archive_status"]) == (copy, "archived")
    listed = client.get(f"/api/v1/stories/{story}/versions").json()["items"]
    assert [(v["seq"], v["archive_status"]) for v in listed] == [(2, "archived"), (1, "failed")]
    status = client.get("/api/v1/archive").json()
    assert status["enabled"] is True
    assert status["counts"] == {"archived": 1, "failed": 1}
    [unfinished] = status["unfinished"]
    assert (unfinished["seq"], unfinished["last_error"]) == (1, "error:blocked-url: no")

    page = client.get(f"/stories/{story}/versions/2").text
    assert "Archived copy" in page and f'href="{copy}"' in page
    assert "the web archive did not save it" in client.get(f"/stories/{story}/versions/1").text
    assert f'href="{copy}"' in client.get(f"/stories/{story}").text
    metrics = client.get("/metrics").text
    assert 'tracker_archive_submissions{status="archived"} 1.0' in metrics
    assert 'tracker_archive_submissions{status="failed"} 1.0' in metrics

    cli = cli_runner(tmp_path / "home", database_url)
    url = rig.server.url("/news/surfaces")
    assert f"archived copy: {copy}" in cli("show", url).stdout
    assert f"archived: {copy}" in cli("history", url).stdout
    assert json.loads(cli("show", url, "--json").stdout)["archived_url"] == copy
    report = cli("archive-status", ok=False)
    assert report.exit_code == 1  # a submission failed
    assert "archived 1 · failed 1" in report.stdout
    assert "error:blocked-url: no" in report.stdout

    exported = tmp_path / "export.json"
    cli("export", "-o", str(exported))
    [data] = json.loads(exported.read_text())["stories"]
    assert [v["archived_url"] for v in data["versions"]] == [None, copy]
    research = tmp_path / "research"
    cli("export", "--format", "csv", "-o", str(research))
    with (research / "versions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["seq"], row["archived_url"]) for row in rows] == [("1", ""), ("2", copy)]
    warc = tmp_path / "export.warc.gz"
    cli("export", "--format", "warc", "-o", str(warc))
    with warc.open("rb") as stream:
        about = [
            json.loads(r.content_stream().read())
            for r in ArchiveIterator(stream)
            if r.rec_type == "metadata"
        ]
    assert [a["archived_url"] for a in about] == [None, copy]

    retried = cli("archive-status", "--retry-failed")
    assert "retrying 1 failed submissions" in retried.stdout
    assert [s.status for s in rig.submissions()] == ["pending", "archived"]


def test_an_imported_export_keeps_its_archived_copies(rig_for, spn, tmp_path: Path):
    import io

    from tracker.services.archive import export_json, import_json

    rig = rig_for(archive_api="simple")
    rig.check(rig.story("/news/moving"))
    assert rig.tick().archived == 1
    out = io.StringIO()
    with rig.db.session() as session:
        export_json(session, out, now=rig.clock())
    document = __import__("json").loads(out.getvalue())
    [copy] = [v["archived_url"] for v in document["stories"][0]["versions"]]
    with rig.db.session() as session:
        session.execute(ArchiveSubmission.__table__.delete())
        session.execute(Version.__table__.delete())
        from tracker.store.models import Story

        session.execute(Story.__table__.delete())
    document["stories"][0]["versions"][0]["archived_url"] = copy
    with rig.db.session() as session:
        report = import_json(session, document, now=rig.clock())
    assert report.versions_added == 1
    [row] = rig.submissions()
    assert (row.status, row.archived_url) == ("archived", copy)
    # A link on the version page: an address that is not http(s) is refused with the record.
    document["stories"][0]["versions"][0]["archived_url"] = "javascript:alert(1)"
    document["stories"][0]["url"] = rig.server.url("/news/other")
    with rig.db.session() as session:
        refused = import_json(session, document, now=rig.clock())
    assert refused.stories_added == 0 and "archived_url" in refused.skipped[0]


def test_removing_a_story_removes_its_submissions(rig_for, spn):
    from tracker.services.stories import find_story
    from tracker.store.models import Story

    rig = rig_for()
    keep = rig.story("/news/keep")
    drop = rig.story("/news/drop")
    rig.check(keep, drop)
    assert len(rig.submissions()) == 2
    with rig.db.session() as session:
        session.delete(find_story(session, str(drop)))
    assert [s.story_id for s in rig.submissions()] == [keep]
    with rig.db.session() as session:
        assert session.get(Story, keep) is not None
    assert rig.tick().saved == 1


def _wait_for(condition, what: str, seconds: float = 30.0) -> None:
    """Wait for a state (not a duration): fails only if it never comes."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_the_daemon_archives_new_versions_by_itself(
    tmp_path: Path, database_url: str, server: LocalServer, spn: FakeSavePageNow
):
    from tracker.services.daemon import Daemon

    settings = make_settings(
        tmp_path / "home",
        database_url,
        dispatch_interval=0.1,
        archive_endpoint=spn.endpoint,
        archive_access_key=KEYS[0],
        archive_secret_key=KEYS[1],
        archive_interval=0.1,
        archive_poll_interval="0.1s",
    )
    db = Database(settings)
    server.set("/news/daemon", render_page(STAGES[0], 0))
    with db.session() as session:
        add_stories(
            session,
            [server.url("/news/daemon")],
            now=datetime.now(UTC),
            allow_private_networks=True,
        )

    def archived() -> list[str | None]:
        with db.session() as session:
            return list(session.scalars(select(ArchiveSubmission.archived_url)))

    daemon = Daemon(db, settings)
    daemon.start()
    try:
        _wait_for(lambda: any(archived()), "the version archived")
    finally:
        daemon.stop(grace=5)
        db.dispose()
    assert [r.url for r in spn.saves()] == [server.url("/news/daemon")]


def test_a_stuck_archive_holds_up_no_check(tmp_path: Path, database_url: str, server: LocalServer):
    import threading

    from servers import gated

    from tracker.services.daemon import Daemon
    from tracker.store.models import Story

    gate = threading.Event()
    with LocalServer() as archive:
        archive.set_handler("/save", gated(gate, timeout=60))  # answers only when let go
        settings = make_settings(
            tmp_path / "home",
            database_url,
            dispatch_interval=0.1,
            archive_endpoint=archive.base_url,
            archive_interval=0.1,
            archive_timeout=60.0,
        )
        db = Database(settings)
        for path in ("/news/first", "/news/second"):
            server.set(path, render_page(STAGES[0], 0))
        with db.session() as session:
            add_stories(
                session,
                [server.url("/news/first")],
                now=datetime.now(UTC),
                allow_private_networks=True,
            )

        def versions(path: str) -> int:
            with db.session() as session:
                story = session.scalar(select(Story).where(Story.url == server.url(path)))
                return story.version_count if story is not None else 0

        daemon = Daemon(db, settings)
        daemon.start()
        try:
            _wait_for(lambda: archive.in_flight == 1, "the first version's save under way")
            # The archive holds that request: a story added now is still checked.
            with db.session() as session:
                add_stories(
                    session,
                    [server.url("/news/second")],
                    now=datetime.now(UTC),
                    allow_private_networks=True,
                )
            _wait_for(lambda: versions("/news/second") == 1, "the second story checked")
            assert (archive.in_flight, archive.count("/save")) == (1, 1)  # still stuck
        finally:
            gate.set()
            _wait_for(lambda: archive.in_flight == 0, "the save answered")
            daemon.stop(grace=5)
        with db.session() as session:
            first = session.scalar(select(ArchiveSubmission).order_by(ArchiveSubmission.id))
            # The stuck request's answer (a web page, not SPN's JSON) is a recorded retry.
            assert first.url == server.url("/news/first")
            assert first.last_error == "the archive's answer is not a JSON object"
            assert first.status == "pending"
        db.dispose()


def test_doctor_warns_when_submissions_failed(rig_for, spn):
    from tracker.cli.doctor import check_archive

    rig = rig_for()
    rig.check(rig.story("/news/doctor"))
    assert check_archive(rig.settings).status == "ok"
    spn.fail_next(404, body={"message": "no such page"})
    rig.tick()
    finding = check_archive(rig.settings)
    assert finding.status == "warn"
    assert "0 archived, 0 waiting, 1 failed (last: HTTP 404: no such page)" in finding.message


def test_backfill_queues_each_live_storys_latest_version_stored_while_off(
    tmp_path: Path, database_url: str, server: LocalServer, spn: FakeSavePageNow, rig_for
):
    """Turned on later, the hand-off can be owed what it missed: the latest version of each
    live story (the archive saves the page as it is now, so never an older one), once."""
    from conftest import cli_runner

    off = ArchiveRig(tmp_path, database_url, server)
    try:
        edited = off.story("/news/edited")
        off.check(edited)
        server.set("/news/edited", render_page(STAGES[1], 0))
        off.clock.advance(minutes=5)
        off.check(edited)  # version 2
        taken_down = off.story("/news/taken-down")
        off.check(taken_down)
        server.set("/news/taken-down", "<h1>Not found</h1>", status=404)
        off.clock.advance(minutes=5)
        assert off.check(taken_down)[0].events == ["unpublished"]
    finally:
        off.close()

    cli = cli_runner(tmp_path / "cli-off", database_url)
    refused = cli("archive-status", "--backfill", ok=False)
    assert refused.exit_code == 2 and "the archive hand-off is off" in refused.output

    home = tmp_path / "cli-on"
    home.mkdir()
    (home / "tracker.toml").write_text(
        f'archive_endpoint = "{spn.endpoint}"\n'
        f'archive_access_key = "{KEYS[0]}"\narchive_secret_key = "{KEYS[1]}"\n',
        encoding="utf-8",
    )
    cli = cli_runner(home, database_url)
    assert "queued 1 latest versions never handed off" in cli("archive-status", "--backfill").stdout
    assert json.loads(cli("archive-status", "--backfill", "--json").stdout)["backfilled"] == 0

    rig = rig_for()
    rig.clock.now = datetime.now(UTC)  # the CLI queued them at the real time
    [owed] = rig.submissions()
    with rig.db.session() as session:
        seq = session.scalar(select(Version.seq).where(Version.id == owed.version_id))
    assert (owed.url, seq, owed.status) == (server.url("/news/edited"), 2, "pending")
    assert rig.tick().saved == 1
    assert [request.url for request in spn.requests] == [server.url("/news/edited")]
