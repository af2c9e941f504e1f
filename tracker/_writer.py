"""Group commit: check results are written many to a transaction.

Every check ends with one write (its check row, version, events, schedule). One
transaction per check spends most of a 304 check's time in transaction overhead; the
writer thread takes whatever results are waiting and writes them together, each in its own
savepoint so one bad result cannot undo the others. A check's future resolves only after
its transaction commits, so nothing is reported that is not durable.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from tracker.db import Database

log = logging.getLogger("tracker.writer")

T = TypeVar("T")
Job = Callable[[Session], T]


class GroupWriter(Generic[T]):
    def __init__(self, db: Database, *, max_batch: int = 64) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Job[T], Future[T]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job[T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((job, future))
        return future

    def write(self, job: Job[T]) -> T:
        """Run ``job`` in the next group transaction and wait for the commit."""
        return self.submit(job).result()

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
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Job[T], Future[T]]]) -> None:
        outcomes: list[tuple[Future[T], T | None, BaseException | None]] = []
        try:
            with self.db.session() as session:
                for job, future in batch:
                    try:
                        with session.begin_nested():
                            outcomes.append((future, job(session), None))
                    except Exception as exc:  # noqa: BLE001 -- handed to the waiting check
                        outcomes.append((future, None, exc))
        except Exception as exc:  # noqa: BLE001 -- the commit itself failed: all of them did
            log.error("writing %d check results failed: %s", len(batch), exc)
            for _, future in batch:
                future.set_exception(exc)
            return
        for future, result, error in outcomes:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]
