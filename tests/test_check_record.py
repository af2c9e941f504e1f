"""What one check records, in the cases the end-to-end tests do not reach."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from servers import LocalServer, gated
from sqlalchemy import select, update

from tracker.config import Settings
from tracker.demo.site import STAGES, render_page
from tracker.pipeline.engine import CheckEngine
from tracker.pipeline.story_state import ANALYSIS_VERSION
from tracker.services.stories import add_stories
from tracker.store.db import Database
from tracker.store.models import Story, Version


def test_new_fingerprint_rules_alone_make_no_version(
    db: Database, settings: Settings, server: LocalServer
):
    """After an upgrade changes how fingerprints are computed, the first check sees a new
    fingerprint for an article that did not change: it adopts it instead of storing a
    version with an empty diff (and alerting on it)."""
    server.set("/story", render_page(STAGES[0]))
    with db.session() as session:
        [added] = add_stories(
            session, [server.url("/story")], now=datetime.now(UTC), allow_private_networks=True
        )
    with CheckEngine(db, settings) as engine:
        [first] = engine.check_now([added.story_id])
        assert first.version_seq == 1
        real = _fingerprint(db, added.story_id)
        with db.session() as session:  # what the previous release's rules made of the page
            # (a region digest is salted with the release, so the old one no longer matches)
            session.execute(update(Story).values(last_fingerprint="0" * 64, region_digest="0"))
        [after_upgrade] = engine.check_now([added.story_id])
        assert str(after_upgrade.outcome) == "unchanged"
        assert _fingerprint(db, added.story_id) == real

        server.set("/story", render_page(STAGES[1]))  # and a real change still counts
        [changed] = engine.check_now([added.story_id])
        assert changed.version_seq == 2
    with db.session() as session:
        assert session.scalars(select(Version.seq)).all() == [1, 2]


def _fingerprint(db: Database, story_id: int) -> str | None:
    with db.session() as session:
        return session.get(Story, story_id).last_fingerprint


def test_a_story_leased_by_another_worker_is_skipped_not_failed(
    db: Database, settings: Settings, server: LocalServer
):
    server.set("/story", render_page(STAGES[0]))
    story_id = _add(db, server.url("/story"))
    with db.session() as session:
        session.execute(
            update(Story).values(
                lease_owner="daemon", lease_expires_at=datetime.now(UTC) + timedelta(minutes=5)
            )
        )
    with CheckEngine(db, settings) as engine:
        [report] = engine.check_now([story_id])
    assert str(report.outcome) == "skipped"
    assert report.url == server.url("/story")
    assert report.error == "being checked by another worker"
    assert server.count("/story") == 0


def test_closing_the_engine_skips_checks_still_waiting_for_their_host(
    db: Database, settings: Settings, server: LocalServer
):
    """Checks queued behind a busy host's slot do not fetch once the engine closes; their
    leases are handed back at once instead of running out."""
    gate = threading.Event()
    server.set_handler("/slow", gated(gate))
    ids = [_add(db, server.url(f"/slow?n={n}")) for n in range(3)]
    one_at_a_time = settings.model_copy(update={"per_host_concurrency": 1})
    engine = CheckEngine(db, one_at_a_time)
    with db.session() as session:
        from tracker.pipeline import claims

        states = claims.claim_ids(
            session, ids, worker=engine.worker_id, now=datetime.now(UTC), lease=engine.lease
        )
    futures = [engine.submit(state) for state in states]
    # A page request, not the robots.txt one before it (closing then would skip all three).
    while not any(r.path.startswith("/slow") for r in server.requests):
        threading.Event().wait(0.02)
    closer = threading.Thread(target=engine.close)
    closer.start()
    while not engine.closing:  # close() has raised its flag before the first page answers
        threading.Event().wait(0.01)
    gate.set()
    closer.join(30)
    outcomes = sorted(str(future.result().outcome) for future in futures)
    assert outcomes == ["changed", "skipped", "skipped"]
    assert len([r for r in server.requests if r.path.startswith("/slow")]) == 1
    with db.session() as session:
        leased = session.scalars(select(Story.id).where(Story.lease_owner.is_not(None))).all()
    assert leased == []


def _add(db: Database, url: str) -> int:
    with db.session() as session:
        [added] = add_stories(session, [url], now=datetime.now(UTC), allow_private_networks=True)
    return added.story_id


def test_an_upgrade_that_reads_pages_differently_makes_no_version(
    db: Database, settings: Settings, server: LocalServer
):
    """Stories analysed by an older release are compared, at their first check after the
    upgrade, with their previous capture re-read by the new rules: a paragraph the old rules
    missed is not an edit. A real edit after that still is, and only it is reported."""
    server.set("/story", render_page(STAGES[1]))
    story_id = _add(db, server.url("/story"))
    with CheckEngine(db, settings) as engine:
        engine.check_now([story_id])
        with db.session() as session:  # as the old release stored it: a paragraph short
            version = session.scalar(select(Version))
            version.text = version.text.rsplit("\n\n", 1)[0]
            story = session.get(Story, story_id)
            story.last_fingerprint, story.analysis_version = "0" * 64, None

        [after_upgrade] = engine.check_now([story_id])
        assert str(after_upgrade.outcome) == "unchanged", after_upgrade.summary
        with db.session() as session:
            story = session.get(Story, story_id)
            assert story.version_count == 1
            assert story.last_fingerprint != "0" * 64  # adopted: later checks are cheap again

        server.set("/story", render_page(STAGES[2]))  # the new headline
        [edited] = engine.check_now([story_id])
        assert edited.version_seq == 2
        assert edited.kinds == ("headline",)
        with db.session() as session:
            assert session.get(Story, story_id).analysis_version == ANALYSIS_VERSION


def test_extraction_processes_leave_ctrl_c_to_the_parent(
    db: Database, settings: Settings, server: LocalServer
):
    """Ctrl-C reaches every process of the terminal's group; the parent shuts down cleanly,
    so the extraction processes must neither die of it nor print tracebacks."""
    import os
    import signal

    server.set("/story", render_page(STAGES[0]))
    story_id = _add(db, server.url("/story"))
    with CheckEngine(db, settings.model_copy(update={"extract_processes": 1})) as engine:
        engine.check_now([story_id])
        assert engine._extraction is not None
        workers = list(engine._extraction._current()._processes.values())
        assert workers
        for worker in workers:
            os.kill(worker.pid, signal.SIGINT)
        server.set("/story", render_page(STAGES[1]))
        [report] = engine.check_now([story_id])
        assert report.version_seq == 2
        assert all(worker.is_alive() for worker in workers)


def test_an_interrupted_check_now_hands_back_the_stories_it_did_not_start(
    db: Database, settings: Settings, server: LocalServer
):
    """Ctrl-C in `tracker check`: the checks in flight finish, and the stories whose checks
    had not started are free at once, not leased until the lease runs out."""
    first_gate, later_gate = threading.Event(), threading.Event()
    arrived = []

    def page(exchange):
        arrived.append(exchange.request.path)
        (first_gate if len(arrived) == 1 else later_gate).wait(10)
        exchange.send(200, {"Content-Type": "text/html"}, render_page(STAGES[0]))

    server.set_handler("/s", page)
    ids = [_add(db, server.url(f"/s?n={n}")) for n in range(3)]
    one_check_at_a_time = settings.model_copy(update={"global_concurrency": 1})
    engine = CheckEngine(db, one_check_at_a_time)
    interrupted = []

    def interrupt(report):
        raise KeyboardInterrupt

    def run():
        try:
            engine.check_now(ids, on_report=interrupt)
        except KeyboardInterrupt:
            interrupted.append(True)

    runner = threading.Thread(target=run)
    runner.start()
    while not arrived:
        threading.Event().wait(0.01)
    first_gate.set()  # the first check reports, and the report is interrupted
    runner.join(30)
    assert interrupted == [True]
    with db.session() as session:
        leased = session.scalars(select(Story.id).where(Story.lease_owner.is_not(None))).all()
    assert len(leased) == 1  # only the check running now (waiting for its page) holds one
    later_gate.set()
    engine.close()
    with db.session() as session:
        leased = session.scalars(select(Story.id).where(Story.lease_owner.is_not(None))).all()
    assert leased == []
    assert len(arrived) == 2  # the third story was never fetched


def test_check_now_racing_close_reports_the_unstarted_stories_as_skipped(
    db: Database, settings: Settings, server: LocalServer
):
    """The web's "check now" while the app shuts down: no CancelledError, and no lease left."""
    gate = threading.Event()
    server.set_handler("/s", gated(gate))
    ids = [_add(db, server.url(f"/s?n={n}")) for n in range(2)]
    engine = CheckEngine(db, settings.model_copy(update={"global_concurrency": 1}))
    reports = []
    runner = threading.Thread(target=lambda: reports.extend(engine.check_now(ids)))
    runner.start()
    while not any(r.path.startswith("/s?") for r in server.requests):  # not robots.txt
        threading.Event().wait(0.01)
    closer = threading.Thread(target=engine.close)
    closer.start()
    while not engine.closing:
        threading.Event().wait(0.01)
    gate.set()
    closer.join(30)
    runner.join(30)
    assert sorted(str(report.outcome) for report in reports) == ["changed", "skipped"]
    with db.session() as session:
        leased = session.scalars(select(Story.id).where(Story.lease_owner.is_not(None))).all()
    assert leased == []


def test_an_unreadable_previous_capture_does_not_fail_the_check_after_an_upgrade(
    db: Database, settings: Settings, server: LocalServer
):
    """The re-read of the previous capture is a refinement: if that capture cannot be read
    (damaged, or not HTML), the check compares with the version as stored instead of failing
    - otherwise it would fail at every check, since only a stored version ends the re-reads."""
    from tracker.store.models import Capture

    server.set("/story", render_page(STAGES[0]))
    story_id = _add(db, server.url("/story"))
    with CheckEngine(db, settings) as engine:
        engine.check_now([story_id])
        with db.session() as session:
            session.execute(update(Capture).values(body_zstd=b"not zstd"))
            story = session.get(Story, story_id)
            story.last_fingerprint, story.analysis_version = "0" * 64, None
        [after_upgrade] = engine.check_now([story_id])
        assert str(after_upgrade.outcome) == "unchanged", after_upgrade.error
        server.set("/story", render_page(STAGES[1]))
        [edited] = engine.check_now([story_id])
    assert edited.version_seq == 2


def test_a_story_removed_before_check_now_is_reported_removed_not_busy(
    db: Database, settings: Settings, server: LocalServer
):
    server.set("/story", render_page(STAGES[0]))
    story_id = _add(db, server.url("/story"))
    with db.session() as session:
        session.delete(session.get(Story, story_id))
    with CheckEngine(db, settings) as engine:
        [report] = engine.check_now([story_id])
    assert (str(report.outcome), report.error) == ("error", "story was removed")


def test_a_previous_capture_larger_than_a_page_may_be_is_not_re_read(
    db: Database, settings: Settings, server: LocalServer, monkeypatch
):
    """A capture bigger than max_body_bytes (a WARC import, a lowered cap) is not inflated
    into memory to re-read it after an upgrade: the version as stored is compared instead."""
    import tracker.pipeline.engine
    from tracker.store.models import Capture

    server.set("/story", render_page(STAGES[0]))
    story_id = _add(db, server.url("/story"))
    with CheckEngine(db, settings) as engine:
        engine.check_now([story_id])
        with db.session() as session:
            session.execute(update(Capture).values(size=settings.max_body_bytes + 1))
            story = session.get(Story, story_id)
            story.last_fingerprint, story.analysis_version = "0" * 64, None
        reread = []
        monkeypatch.setattr(
            tracker.pipeline.engine, "capture_html", lambda c: reread.append(c) or ""
        )
        [after_upgrade] = engine.check_now([story_id])
    assert reread == []
    assert str(after_upgrade.outcome) == "unchanged"  # the stored version is the same page


def test_a_republish_that_moves_only_the_modified_time_is_no_change():
    """A CMS re-publishing moves its "Updated" stamp and dateModified and nothing else: when the
    fingerprint moved for a reason no reader sees (new rules, a new ignore pattern), that must
    not become a version either."""
    from dataclasses import replace as replaced

    from tracker.core.article import Article
    from tracker.pipeline.check import compare

    before = Article(
        "Storm hits coast",
        "Ann Lee",
        "2026-12-04T08:00",
        "2026-12-04T08:10",
        "The storm reached the coast.",
        None,
        "en",
        ("Storm hits coast",),
    )
    assert compare(before, replaced(before, modified="2026-12-04T09:45")).identical
    assert not compare(before, replaced(before, text="The storm reached the city.")).identical
    assert not compare(before, replaced(before, byline="Bo Chen")).identical


def test_a_check_waiting_for_its_write_does_not_hold_a_fetching_thread(
    db: Database, settings: Settings, server: LocalServer
):
    """A check's thread queues its write and moves on: while a group transaction is held up
    (a slow disk, a busy PostgreSQL), the next checks still fetch, and their writes join the
    next transaction. Each report still comes only once its write has committed."""
    for n in range(6):
        server.set(f"/s{n}", render_page(STAGES[0]))
    ids = [_add(db, server.url(f"/s{n}")) for n in range(6)]
    engine = CheckEngine(db, settings.model_copy(update={"global_concurrency": 2}))
    held, release = threading.Event(), threading.Event()
    prepare = engine._writer.prepare
    assert prepare is not None
    transactions: list[int] = []

    def hold_the_first_transaction(session, keys):
        transactions.append(len(keys))
        if len(transactions) == 1:
            held.set()
            release.wait(30)
        prepare(session, keys)

    engine._writer.prepare = hold_the_first_transaction
    reports = []
    runner = threading.Thread(target=lambda: reports.extend(engine.check_now(ids)))
    runner.start()
    assert held.wait(30)
    # Two threads, one transaction held: every page is fetched all the same, and the other
    # checks' writes wait for the next transaction.
    waiting = 6 - transactions[0]
    deadline = time.monotonic() + 30
    while engine._writer._queue.qsize() < waiting:
        assert time.monotonic() < deadline, "checks waited for the held write to fetch"
        time.sleep(0.01)
    assert len([r for r in server.requests if r.path.startswith("/s")]) == 6
    assert reports == []  # nothing reported before its write commits
    with db.session() as session:
        assert session.scalars(select(Version.id)).all() == []
    release.set()
    runner.join(30)
    engine.close()
    assert sorted(str(report.outcome) for report in reports) == ["changed"] * 6
    assert transactions == [6 - waiting, waiting]  # those queued meanwhile went together
    with db.session() as session:
        assert len(session.scalars(select(Version.id)).all()) == 6


def test_a_check_that_dies_past_every_handler_fails_its_report_rather_than_hang(
    db: Database, settings: Settings, server: LocalServer, monkeypatch
):
    """The engine turns every Exception into a recorded check; anything rarer (here a
    BaseException from inside the check) must still reach whoever waits for the report."""

    class Unforeseen(BaseException):
        pass

    server.set("/s", render_page(STAGES[0]))
    story_id = _add(db, server.url("/s"))
    engine = CheckEngine(db, settings)

    def die(state, started_at):
        raise Unforeseen("past every handler")

    monkeypatch.setattr(engine, "_check", die)
    raised: list[BaseException] = []

    def run():
        try:
            engine.check_now([story_id])
        except Unforeseen as exc:
            raised.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(30)
    engine.close()
    assert not runner.is_alive(), "check_now waited forever for the report"
    assert [str(exc) for exc in raised] == ["past every handler"]
