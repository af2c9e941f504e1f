"""What the daemon's log says about its scheduler: problems, not how it works."""

from __future__ import annotations

import io
import logging

import pytest

from tracker.cli._logging import configure_logging


@pytest.fixture
def log() -> io.StringIO:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging()
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


def test_a_tick_still_draining_a_backlog_is_not_a_warning(log: io.StringIO) -> None:
    scheduler = logging.getLogger("apscheduler.scheduler")
    scheduler.warning(
        'Execution of job "Daemon.dispatch_tick (trigger: interval[0:00:01])" skipped: '
        "maximum number of running instances reached (1)"
    )
    scheduler.warning('Run time of job "Daemon.housekeeping" was missed by 0:00:42')
    assert "maximum number of running instances" not in log.getvalue()
    assert "was missed by 0:00:42" in log.getvalue()  # other scheduler problems still show
