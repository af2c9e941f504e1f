"""One thread that fires deadlines for many fetches.

A fetch needs something outside its own thread to end it at its overall deadline (a server
that drips bytes never trips a per-read timeout). A ``threading.Timer`` per fetch did that,
but starting a thread per fetch cost ~170 µs: a tenth of a 304 check. Here one daemon thread
keeps a heap of deadlines; cancelling is O(1) and cancelled entries are dropped lazily.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable

log = logging.getLogger("tracker.watchdog")

# Cancelled entries wait in the heap for their deadline; past this many entries the heap is
# rebuilt without them, so a minute-long deadline at 1,000 fetches/s stays a small heap.
COMPACT_AT = 4096


class Watch:
    """A scheduled call; :meth:`cancel` it when the guarded work ends in time."""

    __slots__ = ("action", "at")

    def __init__(self, at: float, action: Callable[[], None]) -> None:
        self.at = at
        self.action: Callable[[], None] | None = action

    def cancel(self) -> None:
        # Dropping the callable also drops what it holds (the fetch) while the entry waits
        # in the heap for its deadline.
        self.action = None


class Watchdog:
    """Calls each watch's action at its deadline unless cancelled first. Thread-safe."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._reset()
        if hasattr(os, "register_at_fork"):
            # A forked child has none of the parent's fetches, only copies of their sockets:
            # firing their deadlines there would shut down the parent's connections. And the
            # lock may have been held by the watchdog thread, which the child does not have.
            reset = weakref.WeakMethod(self._reset)  # no hook keeps a watchdog alive

            def after_fork_in_child() -> None:
                if (method := reset()) is not None:
                    method()

            os.register_at_fork(after_in_child=after_fork_in_child)

    def _reset(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._compact_at = COMPACT_AT

    def watch(self, seconds: float, action: Callable[[], None]) -> Watch:
        entry = Watch(self._monotonic() + seconds, action)
        with self._wake:
            if len(self._heap) >= self._compact_at:
                self._heap = [item for item in self._heap if item[2].action is not None]
                heapq.heapify(self._heap)
                self._compact_at = max(COMPACT_AT, 2 * len(self._heap))
            heapq.heappush(self._heap, (entry.at, next(self._order), entry))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="fetch-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is entry:
                self._wake.notify()  # the new deadline is the earliest: sleep less
        return entry

    def pending(self) -> int:
        """Watches neither fired nor cancelled."""
        with self._wake:
            return sum(1 for _, _, entry in self._heap if entry.action is not None)

    def size(self) -> int:
        """Entries held, cancelled ones included (they are dropped lazily)."""
        with self._wake:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._wake:
                action = self._next_due()
            if action is not None:
                try:
                    action()
                except Exception:  # one failing action must not stop the others
                    log.exception("watchdog action failed")

    def _next_due(self) -> Callable[[], None] | None:
        """Wait (holding the condition) until a watch is due; pop and return its action."""
        while True:
            while self._heap and self._heap[0][2].action is None:
                heapq.heappop(self._heap)
            if not self._heap:
                self._wake.wait()
                continue
            at, _, entry = self._heap[0]
            remaining = at - self._monotonic()
            if remaining <= 0:
                heapq.heappop(self._heap)
                action, entry.action = entry.action, None
                return action
            self._wake.wait(remaining)
