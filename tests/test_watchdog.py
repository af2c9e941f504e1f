"""The fetch watchdog: one thread that fires deadlines, so a fetch needs no thread of its own."""

from __future__ import annotations

import threading
import time

from tracker.net.watchdog import COMPACT_AT, Watchdog


def test_a_due_watch_fires_once():
    watchdog = Watchdog()
    fired = threading.Event()
    calls = []
    watchdog.watch(0.05, lambda: (calls.append(1), fired.set()))
    assert fired.wait(5)
    time.sleep(0.1)
    assert calls == [1]
    assert watchdog.pending() == 0


def test_a_cancelled_watch_never_fires():
    watchdog = Watchdog()
    calls = []
    watch = watchdog.watch(0.05, lambda: calls.append("late"))
    watch.cancel()
    later = threading.Event()
    watchdog.watch(0.1, later.set)  # fires after the cancelled one was due
    assert later.wait(5)
    assert calls == []


def test_an_earlier_deadline_wakes_the_thread_early():
    watchdog = Watchdog()
    watchdog.watch(60, lambda: None)  # the thread now sleeps for a minute
    fired = threading.Event()
    started = time.monotonic()
    watchdog.watch(0.05, fired.set)
    assert fired.wait(5)
    assert time.monotonic() - started < 30  # not the minute-long sleep


def test_deadlines_fire_in_order_whatever_the_order_they_were_set_in():
    watchdog = Watchdog()
    order: list[int] = []
    done = threading.Event()
    for delay, label in [(0.3, 3), (0.1, 1), (0.2, 2)]:
        watchdog.watch(
            delay, lambda label=label: (order.append(label), len(order) == 3 and done.set())
        )
    assert done.wait(5)
    assert order == [1, 2, 3]


def test_a_failing_action_does_not_stop_the_others():
    watchdog = Watchdog()
    fired = threading.Event()
    watchdog.watch(0.01, lambda: 1 / 0)
    watchdog.watch(0.05, fired.set)
    assert fired.wait(5)


def test_cancelled_entries_do_not_pile_up():
    watchdog = Watchdog()
    for _ in range(COMPACT_AT * 3):
        watchdog.watch(600, lambda: None).cancel()
    assert watchdog.pending() == 0
    assert watchdog.size() <= COMPACT_AT + 1


def _in_a_forked_child(check) -> int:
    """Run `check` in a forked child; its exit code (0 when `check` returns True)."""
    import os
    import signal
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking a threaded process
        pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.alarm(10)  # a child stuck on a lock dies rather than hang the tests
            code = 0 if check() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_forked_child_neither_inherits_the_parents_watches_nor_its_lock():
    # A child forked while fetches run must not fire their deadlines: its copies of their
    # sockets are the parent's connections, and shutting one down ends the parent's fetch.
    # Nor may a lock the watchdog thread held at the fork leave the child's fetches stuck.
    watchdog = Watchdog()
    parent_watch = watchdog.watch(3600, lambda: None)
    held, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with watchdog._wake:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert held.wait(5)

    def child_check() -> bool:
        if watchdog.pending() != 0:
            return False
        fired = threading.Event()
        watchdog.watch(0, fired.set)
        return fired.wait(5)

    try:
        exit_code = _in_a_forked_child(child_check)
    finally:
        release.set()
        holder.join()
        parent_watch.cancel()
    assert exit_code == 0
    assert watchdog.pending() == 0  # the parent's own state is untouched by the child
