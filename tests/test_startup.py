"""Start-up: `tracker --version` and `tracker list` import only what they use (issue 14).

Importing SQLAlchemy alone takes about as long as these commands may take in all, and
Alembic, trafilatura, httpx and FastAPI are heavier still; CONTRIBUTING.md ("CLI start-up")
says how to keep them out. Checked in a fresh interpreter with ``-X importtime``, which
names every module imported: a list, not a timing, so it holds on a busy machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from servers import LocalServer

from tracker.cli import COMMAND_MODULES
from tracker.config import Settings
from tracker.pipeline.engine import CheckEngine
from tracker.services.stories import add_stories
from tracker.store.db import Database

HEAVY = ("sqlalchemy", "alembic", "trafilatura", "httpx", "fastapi", "uvicorn")


def imported_by(*args: str, home: Path, **settings: str) -> set[str]:
    """The modules `tracker ARGS` imports, run as a user runs it (its own process), with
    `settings` as TRACKER_ variables (allow_private_networks="1": TRACKER_ALLOW_...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["TRACKER_HOME"] = str(home)
    env |= {f"TRACKER_{name.upper()}": value for name, value in settings.items()}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tracker", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=home.parent,
        timeout=120,
        check=True,
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # [0]: the header


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with the default SQLite database, at the head revision, tracking a story."""
    home = tmp_path / "home"
    database = Database(Settings(home=home))
    try:
        with database.session() as session:
            add_stories(session, ["https://example.com/news/a"], now=datetime.now(UTC))
    finally:
        database.dispose()
    return home


def test_version_imports_the_command_line_and_nothing_else(home: Path) -> None:
    modules = imported_by("--version", home=home)
    assert heavy(modules) == []
    # Not even the settings: a version needs no configuration.
    assert "tracker.config" not in modules and "pydantic" not in modules
    assert sorted(m for m in modules if m.startswith("tracker.cli.")) == ["tracker.cli._app"]


def test_list_imports_no_database_library_and_no_other_command(home: Path) -> None:
    for args in (("list",), ("list", "--json")):
        modules = imported_by(*args, home=home)
        assert heavy(modules) == [], args
        others = {f"tracker.cli.{name}" for name in COMMAND_MODULES} - {"tracker.cli.stories"}
        assert sorted(modules & others) == [], args
        # Settings name change kinds for channel filters; they need the vocabulary
        # (tracker.core.kinds), not the classifiers and their compiled patterns.
        classifiers = {"tracker.core.changes", "tracker.core.diffing", "tracker.core.edit_types"}
        assert sorted(modules & classifiers) == [], args


def test_a_command_on_a_database_at_the_head_revision_does_not_import_alembic(
    home: Path,
) -> None:
    # Opening the database reads its revision; Alembic runs only when there is work for it.
    modules = imported_by("checks", "--limit", "1", home=home)
    assert "sqlalchemy" in modules  # the database was opened
    assert not any(m.split(".")[0] == "alembic" for m in modules)


def test_the_check_engine_does_not_import_the_web_archive_client() -> None:
    # httpx (with rich.syntax and pygments behind it) is about 0.15 s of every `tracker
    # check`; only the web-archive worker sends requests with it.
    imports = "import sys, tracker.pipeline.engine, tracker.pipeline.check"
    result = subprocess.run(
        [sys.executable, "-c", f"{imports}; print(*sys.modules)"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules = set(result.stdout.split())
    assert "tracker.pipeline.web_archive" in modules  # imported: enqueue_submission
    assert not any(m.split(".")[0] in ("httpx", "pygments") for m in modules)


# What only a page read needs: the record step for a page, extraction, the change and edit
# classifiers, alert payloads, lxml's HTML parser and trafilatura.
PAGE_READING = (
    "tracker.pipeline.check",
    "tracker.core.extract",
    "tracker.core.changes",
    "tracker.core.edit_types",
    "tracker.pipeline.outbox",
    "lxml.html",
    "trafilatura",
)


def test_a_pass_whose_pages_all_answer_304_imports_nothing_that_reads_a_page(
    tmp_path: Path, server: LocalServer
) -> None:
    """About 0.1 s of a whole `tracker check` that reads no page (tracker.pipeline.engine)."""
    home = tmp_path / "home"
    server.set("/story", b"<html><body><article><h1>A</h1><p>" + b"Words. " * 60, etag='"v1"')
    settings = Settings(home=home, allow_private_networks=True, extract_processes=0)
    database = Database(settings)
    try:
        with database.session() as session:
            [added] = add_stories(
                session, [server.url("/story")], now=datetime.now(UTC), allow_private_networks=True
            )
        with CheckEngine(database, settings) as engine:
            [first] = engine.check_now([added.story_id])
        assert first.version_seq == 1  # the page was read once, its ETag kept
    finally:
        database.dispose()

    modules = imported_by("check", "--all", home=home, allow_private_networks="1")
    assert server.requests_for("/story")[-1].headers.get("if-none-match") == '"v1"'
    assert "tracker.pipeline.not_modified" in modules  # the 304 was written
    assert sorted(m for m in modules if m.startswith(PAGE_READING)) == []
