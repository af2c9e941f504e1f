"""CPU time by stage of a check: where a check's time goes, measured as it runs.

Each check records the CPU seconds its thread (or its extraction process) spent in each
stage, and the engine adds them up:

- ``fetch``: the HTTP request, decompression and decoding of the page;
- ``parse``: the page parsed once, for extraction, the health verdict and the article's
  region (tracker.core.region): the cheap test of a page against its region, and the
  region of a fully read page;
- ``extract``: full extraction of the article, when the region test could not settle it;
- ``fingerprint``: fingerprint, health verdict and promise of a fully read article;
- ``diff``: loading the previous version, comparing and compressing the capture;
- ``write``: the check's share of its group transaction (tracker.store.writer).

CPU time, not wall time: a check waiting for a host slot or for the network costs nothing
here. The daemon logs the figures per check in its summary; ``tracker check --timings``
prints them after a pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

STAGES = ("fetch", "parse", "extract", "fingerprint", "diff", "write")


@contextmanager
def measure(times: dict[str, float], stage: str) -> Iterator[None]:
    """Add the CPU time the calling thread spends in the block to ``times[stage]``."""
    started = time.thread_time()
    try:
        yield
    finally:
        times[stage] = times.get(stage, 0.0) + time.thread_time() - started


class StageClock:
    """CPU seconds by stage over many checks. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds = dict.fromkeys(STAGES, 0.0)
        self._checks = 0

    def add(self, times: Mapping[str, float], *, checks: int = 0) -> None:
        with self._lock:
            for stage, seconds in times.items():
                self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds
            self._checks += checks

    @property
    def checks(self) -> int:
        with self._lock:
            return self._checks

    def totals(self) -> dict[str, float]:
        with self._lock:
            return dict(self._seconds)

    def per_check(self) -> dict[str, float]:
        """Mean CPU seconds per check by stage (zeros before the first check)."""
        with self._lock:
            count = self._checks or 1
            return {stage: seconds / count for stage, seconds in self._seconds.items()}


def describe(per_check: Mapping[str, float]) -> str:
    """``fetch 0.81 ms, parse 0.00 ms, ...``: one line for a log or a terminal."""
    return ", ".join(f"{stage} {seconds * 1000:.2f} ms" for stage, seconds in per_check.items())
