"""Makes multiprocessing's forkserver die with the tracker that started it.

The extraction pool names this module first in the forkserver's preload list, so the forkserver
imports it as it starts. A busy extraction worker keeps the forkserver alive after the tracker is
killed (see :mod:`tracker.pipeline.extraction_pool`); with this, the kernel kills the forkserver
when the tracker dies, and each worker (which asks for the same) dies with the forkserver.

It acts only while the forkserver's ``main`` is importing it: imported anywhere else it does
nothing, so no other process is ever tied to its parent by accident.
"""

from __future__ import annotations

import sys

from tracker.pipeline.extraction_pool import die_with_parent


def _in_forkserver_start() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "main" and frame.f_globals.get("__name__") == (
            "multiprocessing.forkserver"
        ):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


if _in_forkserver_start():
    die_with_parent()
