"""`tracker check` starts the extraction processes (about a core-second of imports) at once
only when a page surely comes: some story has no validators to send. A pass whose stories
all have them may be all 304s, which need no extraction; its processes start with the
first page instead, as the pool starts them on first use."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from servers import LocalServer

from tracker.cli import main
from tracker.demo.site import STAGES, render_page
from tracker.pipeline import extraction_pool


@pytest.fixture
def early_starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the early starts: each call of extraction_pool.start_server."""
    calls: list[int] = []
    real = extraction_pool.start_server

    def spy(preload: tuple[str, ...] = extraction_pool.ANALYSIS_MODULES) -> None:
        calls.append(1)
        real(preload)

    monkeypatch.setattr(extraction_pool, "start_server", spy)
    return calls


def test_processes_start_early_for_new_stories_and_with_the_first_page_otherwise(
    tmp_path: Path, database_url: str, server: LocalServer, early_starts: list[int]
) -> None:
    env = {
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_EXTRACT_PROCESSES": "1",
    }

    def run(*args: str) -> Result:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    paths = [f"/story/{n}" for n in range(3)]
    for n, path in enumerate(paths):
        server.set(path, render_page(STAGES[0]).replace("</h1>", f" {n}</h1>"), etag=f'"{n}"')
    run("add", *(server.url(path) for path in paths))

    first = run("check", "--all")  # no validators yet: pages surely come
    assert "checked 3: 3 changed" in first.output
    assert len(early_starts) == 1

    again = run("check", "--all")  # all have ETags: perhaps all 304s
    assert "3 not modified" in again.output
    assert len(early_starts) == 1  # not started for a pass that read no page

    server.set(paths[0], render_page(STAGES[1]), etag='"new"')
    changed = run("check", "--all")  # a page came after all: read in the processes
    assert "1 changed" in changed.output and "2 not modified" in changed.output
    assert len(early_starts) == 1
