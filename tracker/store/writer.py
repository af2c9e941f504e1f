"""Group commit: check results are written many to a transaction.

Every check ends with one write (its check row, version, events, schedule). One
transaction per check spends most of a 304 check's time in transaction overhead, so the
writer thread takes whatever results are waiting and writes them in one transaction. If
that transaction fails, each result is written again in a transaction of its own, so one
bad result costs only itself. A check's future resolves only after its transaction
commits: nothing is reported that is not durable.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from tracker.store.db import Database

log = logging.getLogger("tracker.writer")

T = TypeVar("T")
Job = Callable[[Session], T]
# Called once per batch transaction, before its jobs, with the keys the jobs were given.
Prepare = Callable[[Session, list[Hashable]], None]
# Called once per batch transaction, after its jobs, before the commit: writes the jobs left
# to be written together.
Finish = Callable[[Session], None]


class GroupWriter(Generic[T]):
    def __init__(
        self,
        db: Database,
        *,
        max_batch: int = 64,
        max_pending: int = 128,
        prepare: Prepare | None = None,
        finish: Finish | None = None,
        on_cpu: Callable[[float], None] | None = None,
    ) -> None:
        """`on_cpu`: told the CPU seconds of the writer thread's every batch, commit included.

        `max_pending`: jobs submitted and not yet written, at most; `submit` waits for room
        beyond. A check's job holds its page, so a stalled database must not let a pass of
        thousands of stories pile them all up in memory."""
        self.db = db
        self.max_batch = max_batch
        self._room = threading.BoundedSemaphore(max_pending)
        self.prepare = prepare
        self.finish = finish
        self.on_cpu = on_cpu
        self._queue: queue.SimpleQueue[_Item[T] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job[T], *, key: Hashable = None) -> Future[T]:
        """Queue ``job`` for the next group transaction: its future resolves once that has
        committed (or with the job's exception). The caller need not wait: a check's thread
        queues its write and moves on, so the next transaction takes every write queued
        while this one ran, not only those of threads blocked on it. Waits only while
        `max_pending` jobs are already waiting to be written."""
        future: Future[T] = Future()
        self._room.acquire()
        self._queue.put(_Item(job, key, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            started = time.thread_time()
            try:
                self._write(batch)
            finally:
                for _ in batch:
                    self._room.release()
            if self.on_cpu is not None:
                self.on_cpu(time.thread_time() - started)
            if stop:
                return

    def _write(self, batch: list[_Item[T]]) -> None:
        try:
            with self.db.session() as session:
                if self.prepare is not None:
                    self.prepare(session, [item.key for item in batch])
                results = [item.job(session) for item in batch]
                if self.finish is not None:
                    self.finish(session)
        except Exception as exc:  # noqa: BLE001 -- find out which one failed, below
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            log.warning(
                "writing %d check results together failed (%s); one by one", len(batch), exc
            )
            for item in batch:
                self._write([item])
            return
        for item, result in zip(batch, results, strict=True):
            item.future.set_result(result)


class _Item(Generic[T]):
    __slots__ = ("future", "job", "key")

    def __init__(self, job: Job[T], key: Hashable, future: Future[T]) -> None:
        self.job = job
        self.key = key
        self.future = future
