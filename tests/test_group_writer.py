"""The group writer (tracker.store.writer): many jobs to a transaction, and a `finish` hook
that writes what the jobs left for it (the 304 checks' bulk write) in that transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

import pytest
from sqlalchemy.orm import Session

from tracker.store.db import Database
from tracker.store.writer import GroupWriter


def _batched_run(
    db: Database, jobs: dict[int, Callable[[Session], int]]
) -> tuple[list[list[int]], dict[int, Future[int]]]:
    """Run job 0 alone, then the others queued while it runs (so they go together), and
    return what each `finish` found left by its transaction's jobs, and the futures."""
    finished: list[list[int]] = []
    writer: GroupWriter[int] = GroupWriter(
        db, finish=lambda session: finished.append(session.info.pop("left", []))
    )
    started, go = threading.Event(), threading.Event()

    def first(session: Session) -> int:
        started.set()
        assert go.wait(10)
        return jobs[0](session)

    try:
        futures = {0: writer.submit(first)}
        assert started.wait(10)
        futures |= {n: writer.submit(job) for n, job in jobs.items() if n}  # behind job 0
        go.set()
    finally:
        writer.close()
    return finished, futures


def _leaves(n: int) -> Callable[[Session], int]:
    def job(session: Session) -> int:
        session.info.setdefault("left", []).append(n)
        return n

    return job


def test_finish_runs_once_per_transaction_after_all_its_jobs(db: Database) -> None:
    finished, futures = _batched_run(db, {n: _leaves(n) for n in range(4)})
    assert finished == [[0], [1, 2, 3]]
    assert {n: future.result() for n, future in futures.items()} == {0: 0, 1: 1, 2: 2, 3: 3}


def test_a_failing_job_costs_only_itself_and_finish_sees_each_retry_alone(
    db: Database,
) -> None:
    def fails(session: Session) -> int:
        session.info.setdefault("left", []).append(2)
        raise RuntimeError("this result cannot be written")

    finished, futures = _batched_run(db, {0: _leaves(0), 1: _leaves(1), 2: fails, 3: _leaves(3)})
    # The batch of 1, 2, 3 failed as a whole before its finish; then one transaction each.
    assert finished == [[0], [1], [3]]
    with pytest.raises(RuntimeError, match="cannot be written"):
        futures[2].result()
    assert [futures[n].result() for n in (0, 1, 3)] == [0, 1, 3]


def test_submit_returns_at_once_and_its_future_resolves_at_the_commit(db: Database) -> None:
    """A check's thread queues its write and goes on (CheckEngine); the report waits."""
    writer: GroupWriter[int] = GroupWriter(db)
    go = threading.Event()

    def slow(session: Session) -> int:
        assert go.wait(10)
        return 7

    try:
        future = writer.submit(slow)
        assert not future.done()  # submit did not wait for the transaction
        go.set()
        assert future.result(timeout=10) == 7
    finally:
        writer.close()


def test_submit_waits_while_max_pending_jobs_wait_to_be_written(db: Database) -> None:
    """Backpressure: a check's job holds its page, so a stalled database must not let a
    pass pile up every page in memory; submitters wait for room instead."""
    writer: GroupWriter[int] = GroupWriter(db, max_pending=2)
    started, go = threading.Event(), threading.Event()

    def held(session: Session) -> int:
        started.set()
        assert go.wait(10)
        return 0

    try:
        first = writer.submit(held)
        assert started.wait(10)  # in its transaction, still counted until it is written
        second = writer.submit(_leaves(1))
        third: list[Future[int]] = []
        submitter = threading.Thread(target=lambda: third.append(writer.submit(_leaves(2))))
        submitter.start()
        submitter.join(0.5)
        assert submitter.is_alive() and third == []  # no room: it waits
        go.set()
        submitter.join(10)
        assert not submitter.is_alive()
        assert [first.result(10), second.result(10), third[0].result(10)] == [0, 1, 2]
    finally:
        go.set()
        writer.close()
