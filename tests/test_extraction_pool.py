"""Extraction processes are bounded: a slow page costs its own check, and the processes go
when the tracker goes.

Real processes throughout (the forkserver pool the engine uses); the jobs stand in for pages:
one that burns CPU, one stuck where no signal reaches Python, and an ordinary one after each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import make_settings
from servers import LocalServer

from tracker.pipeline.engine import CheckEngine
from tracker.pipeline.extraction_pool import ExtractionPool, ExtractionTimeout
from tracker.services.stories import add_stories
from tracker.store.db import Database


def burn_cpu() -> int:
    total = 0
    while True:
        total += 1


def block_without_cpu() -> None:
    time.sleep(120)  # no CPU used: SIGXCPU never comes, only the wall-clock backstop helps


def answer() -> int:
    return 42


def worker_pid() -> int:
    return os.getpid()


@pytest.fixture
def pool():
    pool = ExtractionPool(1, budget=1.0, wall_margin=1.0)
    yield pool
    pool.close(kill=True)


def test_a_job_over_its_cpu_budget_ends_and_the_same_worker_goes_on():
    # The wall-clock backstop far away (62 s): on a loaded machine a second of CPU can take
    # several seconds of wall time, and this test is about the CPU budget alone (the kernel's
    # SIGXCPU inside the worker), which is what leaves the worker alive and reused.
    pool = ExtractionPool(1, budget=1.0, wall_margin=60.0)
    try:
        before = pool.run(worker_pid)
        with pytest.raises(ExtractionTimeout, match="1 s budget"):
            pool.run(burn_cpu)
        assert pool.run(answer) == 42
        assert pool.run(worker_pid) == before  # reused, not replaced: SIGXCPU ended it
    finally:
        pool.close(kill=True)


def test_a_job_stuck_out_of_reach_of_signals_gets_its_pool_replaced(pool: ExtractionPool):
    before = pool.run(worker_pid)
    started = time.monotonic()
    with pytest.raises(ExtractionTimeout):
        pool.run(block_without_cpu)
    assert time.monotonic() - started < 20  # 2 x budget + margin, checked every second
    assert pool.run(answer) == 42
    assert pool.run(worker_pid) != before  # the stuck one was killed


def test_a_closed_pool_refuses_work_instead_of_starting_processes(pool: ExtractionPool):
    pool.close()
    with pytest.raises(Exception, match="closed"):
        pool.run(answer)


def test_a_slow_page_is_a_recorded_check_error_and_the_next_story_is_checked(
    tmp_path: Path, database_url: str, server: LocalServer
):
    from datetime import UTC, datetime

    # Thousands of short paragraphs: seconds of extraction, far past a budget of a millisecond.
    tiny = "".join(
        f"<p>Paragraph {n}: the council said the new road would open next spring.</p>"
        for n in range(10_000)
    )
    server.set("/slow", f"<html><body><article><h1>Slow</h1>{tiny}</article></body></html>")
    settings = make_settings(
        tmp_path / "home", database_url, extract_processes=1, extract_timeout=0.001
    )
    db = Database(settings)
    with db.session() as session:
        [slow] = add_stories(
            session, [server.url("/slow")], now=datetime.now(UTC), allow_private_networks=True
        )
    try:
        with CheckEngine(db, settings) as engine:
            [report] = engine.check_now([slow.story_id])
        assert str(report.outcome) == "error"
        assert "budget" in report.error
        from sqlalchemy import select

        from tracker.store.models import Check

        with db.session() as session:
            [check] = session.scalars(select(Check)).all()
            assert check.error_kind == "extraction"
    finally:
        db.dispose()


ORPHAN_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, {tests!r})
    from test_extraction_pool import block_without_cpu, worker_pid
    from tracker.pipeline.extraction_pool import ExtractionPool
    pool = ExtractionPool(2, budget=600)
    print(pool.run(worker_pid), flush=True)
    pool._current().submit(block_without_cpu)  # a busy worker
    time.sleep(600)
    """
)


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_extraction_processes_die_with_a_killed_tracker(tmp_path: Path):
    tests = str(Path(__file__).parent)
    process = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT.format(tests=tests)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        worker = int(process.stdout.readline())
        time.sleep(0.5)  # the second job reaches a worker
        helpers = descendants(process.pid)
        assert worker in helpers and len(helpers) >= 3  # forkserver, workers, tracker
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in helpers):
        time.sleep(0.2)
    assert [pid for pid in helpers if alive(pid)] == []


def test_closing_with_kill_ends_a_running_extraction_and_its_caller_hears_of_it():
    """What SIGTERM does after the grace period: the engine closes its pool with kill, and a
    check waiting on a stuck extraction gets an error (and gives its story back) instead of
    holding the daemon's exit for as long as the page takes."""
    import threading
    from concurrent.futures.process import BrokenProcessPool

    pool = ExtractionPool(1, budget=600)
    assert pool.run(answer) == 42
    outcome: list[BaseException | None] = []

    def caller() -> None:
        try:
            pool.run(block_without_cpu)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 -- recorded for the assertion
            outcome.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    time.sleep(0.5)  # the job reaches the worker
    pool.close(kill=True)
    thread.join(timeout=30)
    assert not thread.is_alive()
    [error] = outcome
    assert isinstance(error, BrokenProcessPool)
