"""The ``tracker`` console script (``python -m tracker`` runs the same function): what a
command leaves behind when its process ends, and the exit status it ends with.

It skips freeing the heap object by object at exit (`tracker.cli.run`); these tests hold
that nothing else is skipped. Run as users run it: a process of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from tracker.config import Settings
from tracker.store.db import Database
from tracker.store.models import Story


def tracker(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    return subprocess.run(
        [sys.executable, "-m", "tracker", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_command_closes_the_database_before_its_process_ends(tmp_path: Path) -> None:
    home = tmp_path / "home"
    added = tracker(home, "add", "https://example.com/news/a", "https://example.com/news/b")
    assert added.returncode == 0, added.stderr

    # Closed, SQLite folded its write-ahead log into tracker.db: the file is whole alone.
    assert sorted(path.name for path in home.iterdir() if path.name.startswith("tracker.db")) == [
        "tracker.db"
    ]
    database = Database(Settings(home=home))
    try:
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Story)) == 2
    finally:
        database.dispose()


def test_the_exit_status_is_the_command_s(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert tracker(home, "--version").returncode == 0
    assert tracker(home, "show", "999").returncode == 1  # an error line, no traceback
    usage = tracker(home, "no-such-command")
    assert usage.returncode == 2
    assert "No such command" in usage.stderr
