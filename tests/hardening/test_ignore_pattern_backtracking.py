"""An ignore pattern can never hold a worker: refused when saved, bounded when matched.

The class: patterns whose backtracking runs away on an unlucky line. The shape check refuses a
repeat inside a repeat ((a+)+); overlapping alternatives inside a repeat ((\\w|\\w\\w)+) have no
such shape, so saving a pattern also tries it on lines built to make it run away. A pattern
that got in anyway (an older tracker, a database edit) is matched with a time budget per line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli_runner
from servers import LocalServer
from sqlalchemy import update

from tracker.core.normalize import compile_ignore_patterns
from tracker.store.db import Database
from tracker.store.models import Story

RUNAWAY = [
    r"^(\w|\w\w)+$",
    r"(a|aa)+b",
    r"(\d|\d\d)+x",
    r"^(\s|\s\s)+$",
    r"(.|..)+!",
    r"((ab)*|a)*c",
]
FINE = [r"^Updated ", r"\d+ comments", r"^(?:Share|Tweet)$", r"(?i)advert", r"a++b"]


@pytest.fixture
def story(tmp_path: Path, database_url: str, server: LocalServer):
    cli = cli_runner(tmp_path / "home", database_url)
    url = server.url("/story")
    line = "a" * 5000 + "!"
    server.set(
        "/story",
        "<html><body><article><h1>Storm</h1><p>The storm reached the coast on Tuesday "
        f"morning, officials said.</p><p>{line}</p><p>Power was cut to 30,000 homes across "
        "the region overnight.</p></article></body></html>",
    )
    cli("add", url)
    return cli, url


@pytest.mark.parametrize("pattern", RUNAWAY)
def test_a_runaway_pattern_is_refused_when_saved(story, pattern: str):
    cli, url = story
    result = cli("set", url, "--ignore", pattern, ok=False)
    assert result.exit_code != 0
    assert "too long" in result.stderr or "repeat inside a repeat" in result.stderr


@pytest.mark.parametrize("pattern", FINE)
def test_an_ordinary_pattern_is_accepted(story, pattern: str):
    cli, url = story
    cli("set", url, "--ignore", pattern)


@pytest.mark.parametrize("pattern", RUNAWAY[:3])
def test_a_runaway_pattern_that_got_in_costs_a_moment_not_the_check(
    story, tmp_path: Path, database_url: str, pattern: str
):
    cli, url = story
    from conftest import make_settings

    db = Database(make_settings(tmp_path / "home", database_url))
    with db.session() as session:
        session.execute(update(Story).values(ignore_patterns=[pattern]))
    db.dispose()
    [report] = json.loads(cli("check", url, "--json").stdout)
    assert report["outcome"] == "changed"
    assert "30,000 homes" in cli("show", url).stdout


def test_matching_gives_up_on_a_line_rather_than_run_for_ever():
    [compiled] = compile_ignore_patterns([r"^(\w|\w\w)+$"])
    assert compiled.search("ab")  # it still matches what it should
    assert not compiled.search("a" * 5000 + "!")  # out of time: not ignored
    assert compiled.runs_away("a" * 5000 + "!")
