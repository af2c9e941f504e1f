"""The extraction processes: bounded in time, replaced when stuck, gone when the daemon is.

Extraction is CPU-bound, so the engine runs it in a pool of processes (the GIL would otherwise
cap a 2-core machine at one core of trafilatura). A hostile page must cost one check, not the
pool, so each job has a budget:

- CPU time: before each job the worker lowers its own soft ``RLIMIT_CPU`` to what it has used
  plus the budget; the kernel's ``SIGXCPU`` then raises :class:`ExtractionTimeout` inside the
  job, which ends it and leaves the worker ready for the next one.
- Wall time, as a backstop for code that does not return to Python (a long C loop): a job that
  has been running for twice its budget (plus a margin) gets its pool killed and replaced;
  the other jobs that were in it are run again in the new pool.

Workers also exit when the tracker dies (``kill -9``, the OOM killer), busy or not. Their
parent is multiprocessing's forkserver, which would outlive the tracker as long as a worker is
busy (each worker holds the pipe whose end tells it the tracker is gone). So on Linux both die
by ``PR_SET_PDEATHSIG``: the forkserver with the tracker (:mod:`.forkserver_guard`, which it
imports at start), each worker with the forkserver. Elsewhere a thread in each worker watches
the tracker's process id.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

log = logging.getLogger("tracker.extraction")

T = TypeVar("T")

# A job running this long past twice its CPU budget is stuck where signals cannot reach it.
WALL_MARGIN_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1
FORKSERVER_GUARD = "tracker.pipeline.forkserver_guard"
# What the engine's extraction processes import before work arrives: the analysis and its
# libraries (trafilatura, lxml, ...), about a second of imports.
ANALYSIS_MODULES = ("tracker.pipeline.check", "trafilatura")


def start_server(preload: tuple[str, ...] = ANALYSIS_MODULES) -> None:
    """Start the processes' server now, so that it imports `preload` on another core while
    the caller does other work (its own imports, claims, the first fetches). Without it, a
    pass's first page waits for those imports. Pools made later in this process use it."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload([FORKSERVER_GUARD, *preload])
    forkserver.ensure_running()


class ExtractionTimeout(BaseException):
    """An extraction ran out of its time budget (the page is recorded as an error).

    A BaseException, like KeyboardInterrupt: raised by the SIGXCPU handler anywhere inside
    the extraction, it must not be taken for a parsing error by the ``except Exception``
    that extraction code (ours, trafilatura's) uses to survive hostile markup."""

    def __init__(self, budget: float) -> None:
        super().__init__(
            f"extracting the page took longer than its {budget:g} s budget (extract_timeout); "
            "the page is probably built to be slow to read"
        )
        self.budget = budget

    def __reduce__(self) -> tuple[type[ExtractionTimeout], tuple[float]]:
        # Pickled back from the worker with its budget (the default would pass the message).
        return (ExtractionTimeout, (self.budget,))


class ExtractionPool:
    """A process pool whose jobs have a time budget. Thread-safe."""

    def __init__(
        self,
        processes: int,
        *,
        budget: float,
        preload: tuple[str, ...] = (),
        wall_margin: float = WALL_MARGIN_SECONDS,
    ) -> None:
        self.processes = processes
        self.budget = budget
        self.wall_margin = wall_margin
        self._preload = preload
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def run(self, job: Callable[[], T]) -> T:
        """Run `job` in a worker within the budget. Raises ExtractionTimeout when it runs out,
        and whatever the job raises. A pool broken under the job (a worker killed, out of
        memory) is replaced and the job run once more there."""
        for attempt in (1, 2):
            executor = self._current()
            try:
                future = executor.submit(_run_within_budget, job, self.budget)
                return self._result(future, executor)
            except BrokenProcessPool:
                self._discard(executor, kill=False)
                if attempt == 2:
                    raise
                log.warning("extraction process pool broke; running the page again in a new one")
        raise AssertionError("unreachable")

    def close(self, *, kill: bool = False) -> None:
        """Shut the pool down: wait for its jobs, or (`kill`) end them now."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._closed = True
        if executor is None:
            return
        if kill:
            _kill_workers(executor)
        executor.shutdown(wait=True, cancel_futures=True)

    # -- inside -------------------------------------------------------------------------------

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise BrokenProcessPool("the extraction pool is closed")
            if self._executor is None:
                # forkserver: forking a process that runs threads can copy held locks.
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload([FORKSERVER_GUARD, *self._preload])
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(self._preload, os.getpid()),
                )
            return self._executor

    def _result(self, future: Future[T], executor: ProcessPoolExecutor) -> T:
        # Waits in steps so that a job stuck where SIGXCPU cannot reach it is noticed: its
        # clock starts when it is handed to a worker, not while it queues behind others.
        limit = 2 * self.budget + self.wall_margin
        running_since: float | None = None
        while True:
            try:
                return future.result(timeout=1.0)
            except FutureTimeout:
                if not future.running():
                    continue
                now = time.monotonic()
                running_since = running_since or now
                if now - running_since > limit:
                    log.error(
                        "an extraction ran %.0f s, past its budget: replacing the pool", limit
                    )
                    self._discard(executor, kill=True)
                    raise ExtractionTimeout(self.budget) from None

    def _discard(self, executor: ProcessPoolExecutor, *, kill: bool) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        if kill:
            _kill_workers(executor)
        executor.shutdown(wait=False, cancel_futures=False)


def _kill_workers(executor: ProcessPoolExecutor) -> None:
    # The executor keeps its processes in a private mapping; there is no public way to end a
    # job that is running (shutdown waits for it).
    for process in list(getattr(executor, "_processes", {}).values()):
        with contextlib.suppress(OSError, ValueError):  # already gone
            process.kill()


# -- in the worker ----------------------------------------------------------------------------


def _init_worker(preload: tuple[str, ...], tracker_pid: int) -> None:
    import importlib

    for module in preload:  # the heavy modules, before work arrives
        importlib.import_module(module)
    # Ctrl-C in a terminal reaches the whole process group. Shutting down is the parent's
    # job (it finishes in-flight checks); a worker dying of KeyboardInterrupt would print a
    # traceback per process and break the pool under those checks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGXCPU, _out_of_cpu)
    if not die_with_parent():
        _watch(tracker_pid)


def die_with_parent() -> bool:
    """Ask Linux to kill this process when its parent dies; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)
    return True


def _watch(pid: int) -> None:
    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="tracker-watch", daemon=True).start()


_budget = 0.0


def _out_of_cpu(signum: int, frame: object) -> None:
    raise ExtractionTimeout(_budget)


def _run_within_budget(job: Callable[[], T], budget: float) -> T:
    global _budget
    _budget = budget
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + budget)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    try:
        return job()
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, hard))
