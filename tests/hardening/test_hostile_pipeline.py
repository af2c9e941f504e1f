"""Hostile servers and hostile HTML through the whole pipeline: the daemon and `tracker check`.

Every hostile page must end as one clear, recorded check outcome (never an internal error,
never a stuck lease), and the daemon must keep checking the well-behaved story beside them.
tests/test_fetch.py covers the fetcher's handling of each case on its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_settings
from hostile_site import (
    CASES,
    PARAGRAPHS,
    article_page,
    loopback_only_127_0_0_1_or_public,
    serve_cases,
    wait_for,
)
from servers import LocalServer
from sqlalchemy import func, select, update

from tracker.cli import main
from tracker.net.http import HttpFetcher
from tracker.pipeline.engine import CheckEngine, fetch_options
from tracker.services.daemon import Daemon
from tracker.services.stories import add_stories
from tracker.store.db import Database
from tracker.store.models import Check, Story, Version

pytestmark = pytest.mark.slow


def print_outcomes(title: str, rows: list[tuple[str, str, str | None, str | None]]) -> None:
    print(f"\n{title}")
    for what, outcome, kind, error in rows:
        print(f"  {what:<45} {outcome:<8} {kind or '':<16} {(error or '')[:70]}")


def test_daemon_records_a_clear_outcome_for_every_hostile_page_and_keeps_going(
    tmp_path: Path, database_url: str, server: LocalServer
):
    settings = make_settings(
        tmp_path / "home", database_url, fetch_deadline=4.0, extract_processes=1, jitter=0.0
    )
    db = Database(settings)
    serve_cases(server)
    server.set("/good", article_page("Budget approved"))
    urls = {case.path: server.url(case.path) for case in CASES}
    with db.session() as session:
        add_stories(
            session,
            [*urls.values(), server.url("/good")],
            now=datetime.now(UTC),
            allow_private_networks=True,
        )
    # Private networks refused, except the test server's own address.
    fetcher = HttpFetcher(
        fetch_options(settings), address_allowed=loopback_only_127_0_0_1_or_public
    )
    daemon = Daemon(db, settings, engine=CheckEngine(db, settings, fetcher=fetcher))

    def checked_stories() -> int:
        with db.session() as session:
            return session.scalar(select(func.count(func.distinct(Check.story_id)))) or 0

    def good_versions() -> int:
        with db.session() as session:
            return session.scalar(
                select(Story.version_count).where(Story.url == server.url("/good"))
            )

    daemon.start()
    try:
        wait_for(lambda: checked_stories() == len(CASES) + 1, 90, "a check of every story")
        assert good_versions() == 1
        # The daemon keeps going: the good story changes and is checked again.
        server.set("/good", article_page("Budget approved", (*PARAGRAPHS, "A new paragraph.")))
        with db.session() as session:
            session.execute(
                update(Story)
                .where(Story.url == server.url("/good"))
                .values(next_check_at=datetime.now(UTC))
            )
        wait_for(lambda: good_versions() == 2, 60, "the good story's second version")
        assert not daemon.stopped.is_set()
    finally:
        daemon.stop()

    with db.session() as session:
        stories = {s.url: s for s in session.scalars(select(Story))}
        first_checks = {}
        for check in session.scalars(select(Check).order_by(Check.started_at, Check.id)):
            first_checks.setdefault(check.story_id, check)
        version_texts = {
            story_id: text
            for story_id, text in session.execute(select(Version.story_id, Version.text))
        }
    rows = []
    for case in CASES:
        story = stories[urls[case.path]]
        check = first_checks[story.id]
        rows.append((case.what, check.outcome, check.error_kind, check.error))
    print_outcomes("hostile pages through the daemon (first check of each):", rows)

    for case, (what, outcome, kind, error) in zip(CASES, rows, strict=True):
        assert (outcome, kind) == (case.outcome, case.error_kind), what
        if outcome != "changed":
            assert error and "internal" not in error, what
    for story in stories.values():
        assert story.lease_owner is None, f"{story.url} still leased"
    by_path = {case.path: stories[urls[case.path]] for case in CASES}
    # Retry-After is honoured (jitter off): no check before the server said so.
    assert by_path["/429"].next_check_at - first_checks[by_path["/429"].id].started_at >= (
        timedelta(seconds=7200)
    )
    assert by_path["/503"].next_check_at - first_checks[by_path["/503"].id].started_at >= (
        timedelta(hours=3) - timedelta(minutes=1)
    )
    for path in ("/404", "/410"):
        assert by_path[path].consecutive_gone == 1
    # A lying charset header does not turn the text into mojibake.
    assert "Café owners in Zürich" in version_texts[by_path["/lying-charset"].id]
    assert "regional council" in version_texts[by_path["/invalid-utf8"].id]
    db.dispose()


def test_tracker_check_reports_every_hostile_page_and_exits_normally(
    tmp_path: Path, database_url: str, server: LocalServer
):
    # The command line cannot inject an address policy: with private networks allowed (to
    # reach 127.0.0.1) the redirect to 169.254.169.254 is the daemon test's business.
    cases = tuple(case for case in CASES if not case.needs_address_policy)
    serve_cases(server, cases)
    server.set("/good", article_page("Budget approved"))
    env = {
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_PER_HOST_CONCURRENCY": "8",
        "TRACKER_CONNECT_TIMEOUT": "2",
        "TRACKER_READ_TIMEOUT": "2",
        "TRACKER_FETCH_DEADLINE": "4",
    }
    runner = CliRunner()
    urls = [server.url(case.path) for case in cases] + [server.url("/good")]
    added = runner.invoke(main, ["add", *urls], env=env)
    assert added.exit_code == 0, added.output

    result = runner.invoke(main, ["check", "--all", "--json"], env=env)

    assert result.exit_code == 0, result.output  # some stories failed, not all
    reports = {report["url"]: report for report in json.loads(result.stdout)}
    rows = []
    for case in cases:
        report = reports[server.url(case.path)]
        rows.append((case.what, report["outcome"], None, report["error"]))
        assert report["outcome"] == case.outcome, (case.what, report)
        assert report["outcome"] == "changed" or report["error"], case.what
    print_outcomes("hostile pages through `tracker check --all`:", rows)
    assert reports[server.url("/good")]["outcome"] == "changed"
    db = Database(make_settings(tmp_path / "home", database_url))
    with db.session() as session:
        kinds = dict(
            session.execute(
                select(Story.url, Check.error_kind).join(Check, Check.story_id == Story.id)
            ).all()
        )
    db.dispose()
    for case in cases:
        assert kinds[server.url(case.path)] == case.error_kind, case.what
