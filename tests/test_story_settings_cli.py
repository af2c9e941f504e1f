"""`tracker set`: show and change a story's own settings from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli_runner
from servers import LocalServer

from tracker.demo.site import STAGES, render_page


@pytest.fixture
def cli(tmp_path: Path, database_url: str):
    return cli_runner(tmp_path / "home", database_url)


@pytest.fixture
def story(cli, server: LocalServer) -> str:
    url = server.url("/news/talks")
    server.set("/news/talks", render_page(STAGES[0]))
    cli("add", url)
    cli("check", url)
    return url


def test_without_options_it_shows_the_settings(cli, story: str):
    shown = cli("set", story).stdout
    assert shown.splitlines() == [
        story,
        "  interval: - (global setting)",
        "  min_interval: - (global setting)",
        "  max_interval: - (global setting)",
        "  robots: default",
        "  ignore_patterns: - (global setting)",
        "  selector: - (global setting)",
        "  render: default",
    ]


def test_changes_are_listed_and_kept(cli, story: str):
    changed = cli("set", story, "--interval", "10m", "--robots", "ignore", "--ignore", "^Updated")
    assert changed.stdout.splitlines() == [
        story,
        "  interval: - → 10 min",
        "  robots: default → ignore",
        "  ignore_patterns: - → ['^Updated']",
    ]
    [settings] = json.loads(cli("set", story, "--json").stdout)
    assert settings["interval"] == "10 min"
    assert settings["ignore_patterns"] == ["^Updated"]
    [listed] = json.loads(cli("list", "--json").stdout)
    assert listed["settings"]["robots"] == "ignore"

    again = cli("set", story, "--interval", "10m").stdout
    assert again.splitlines()[1] == "  nothing changed"
    back = cli("set", story, "--interval", "auto", "--clear-ignore").stdout
    assert "  interval: 10 min → -" in back.splitlines()
    assert "  ignore_patterns: ['^Updated'] → -" in back.splitlines()


def test_the_render_mode_is_a_story_setting(cli, story: str, server: LocalServer):
    changed = cli("set", story, "--render", "browser").stdout
    assert changed.splitlines() == [story, "  render: default → browser"]
    [settings] = json.loads(cli("set", story, "--json").stdout)
    assert settings["render"] == "browser"
    assert "  render: browser → default" in cli("set", story, "--render", "default").stdout
    refused = cli("set", story, "--render", "javascript", ok=False)
    assert refused.exit_code == 2 and "'javascript' is not one of" in refused.stderr

    other = server.url("/news/other")
    cli("add", other, "--render", "http")
    [shown] = json.loads(cli("set", other, "--json").stdout)
    assert shown["render"] == "http"


def test_bad_settings_are_one_line_and_change_nothing(cli, story: str):
    result = cli("set", story, "--min-interval", "2h", "--max-interval", "30m", ok=False)
    assert result.exit_code == 1
    # The refusal names the flags typed, not the settings behind them.
    assert result.stderr == "error: --min-interval 2h is longer than --max-interval 30m\n"
    result = cli("set", story, "--min-interval", "0s", ok=False)
    assert result.stderr == "error: --min-interval: must be at least one second\n"
    result = cli("set", story, "--selector", "div.nothing-here", ok=False)
    assert "has no article text" in result.stderr
    [settings] = json.loads(cli("set", story, "--json").stdout)
    assert settings["min_interval"] is None and settings["selector"] is None


def test_a_bound_that_crosses_the_story_s_other_bound_names_both(cli, story: str):
    cli("set", story, "--min-interval", "2h")
    result = cli("set", story, "--max-interval", "1h", ok=False)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --max-interval 1h is shorter than the story's min interval (2 h); "
        "give a shorter --min-interval too\n"
    )
    cli("set", story, "--min-interval", "auto", "--max-interval", "30m")
    result = cli("set", story, "--min-interval", "1h", ok=False)
    assert result.stderr == (
        "error: --min-interval 1h is longer than the story's max interval (30 min); "
        "give a longer --max-interval too\n"
    )


def test_a_new_interval_keeps_an_unchecked_story_due_at_once(db, settings):
    from datetime import UTC, datetime

    from tracker.core.cadence import CadencePolicy
    from tracker.services.stories import StorySettings, add_stories, configure_story
    from tracker.store.models import Story

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with db.session() as session:
        [added] = add_stories(session, ["https://example.org/live"], now=now)
        story = session.get(Story, added.story_id)
        configure_story(
            session,
            story,
            StorySettings(interval="1h"),
            policy=CadencePolicy.from_settings(settings),
            now=now,
        )
        # `tracker add` makes a story due at once; its first check is not an hour away.
        assert story.next_check_at == now


def test_a_new_interval_never_retires_a_story_silently(db, settings):
    from datetime import UTC, datetime, timedelta

    from tracker.core.cadence import CadencePolicy
    from tracker.services.stories import StorySettings, add_stories, configure_story
    from tracker.store.models import Story, StoryStatus

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    long_ago = datetime(2023, 1, 1, tzinfo=UTC)
    policy = CadencePolicy.from_settings(settings)
    with db.session() as session:
        [added] = add_stories(session, ["https://example.org/old"], now=now, first_seen_at=long_ago)
        story = session.get(Story, added.story_id)
        # Checked every 5 minutes for three years (a fixed interval never retires) ...
        story.fixed_interval_seconds = 300
        story.last_checked_at = now - timedelta(minutes=1)
        # ... and now back to the adaptive schedule, or its bounds changed.
        for change in (StorySettings(interval="auto"), StorySettings(max_interval="1h")):
            configure_story(session, story, change, policy=policy, now=now)
            # Retiring is the next check's verdict, with its event; a settings change only
            # moves the next check.
            assert story.status == StoryStatus.ACTIVE
            assert story.next_check_at == now


@pytest.mark.parametrize("pattern", ["(a+)+$", "^(\\w+\\s?)*$", "(?:x{1,3})*y", "((ab)*c)*d"])
def test_a_pattern_that_can_backtrack_for_ever_is_refused(cli, story: str, pattern: str):
    # Matched against every line of every check (and in the web request that saves it),
    # "(a+)+$" on a line of 30 a's and a b holds a worker, and the GIL, for minutes.
    result = cli("set", story, "--ignore", pattern, ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: ignore pattern {pattern!r}: a repeat inside a repeat")
    [settings] = json.loads(cli("set", story, "--json").stdout)
    assert settings["ignore_patterns"] == []


@pytest.mark.parametrize(
    "pattern", ["^Updated .*$", "(?:ab{2})+", "(a++)+$", "(?>a+)*b", "^\\d+ comments?$"]
)
def test_ordinary_patterns_are_accepted(cli, story: str, pattern: str):
    cli("set", story, "--ignore", pattern)
    [settings] = json.loads(cli("set", story, "--json").stdout)
    assert settings["ignore_patterns"] == [pattern]


def test_an_interval_too_long_to_store_is_refused(cli, story: str):
    # The columns are 32-bit on PostgreSQL: 30000 days (2.6e9 s) was an "integer out of
    # range" database error there, and stored on SQLite.
    result = cli("set", story, "--max-interval", "30000d", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --max-interval: at most ")
    [settings] = json.loads(cli("set", story, "--json").stdout)
    assert settings["max_interval"] is None


def test_a_pattern_the_story_already_has_does_not_block_other_changes(db, settings):
    from datetime import UTC, datetime

    from tracker.core.cadence import CadencePolicy
    from tracker.services.stories import StorySettings, add_stories, configure_story
    from tracker.store.models import Story

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with db.session() as session:
        [added] = add_stories(session, ["https://example.org/live"], now=now)
        story = session.get(Story, added.story_id)
        story.ignore_patterns = ["^(Updated \\d+ )+"]  # from an older release or an import
        # The web form sends the whole list back with any change.
        change = StorySettings(interval="5m", ignore_patterns=("^(Updated \\d+ )+",))
        configure_story(
            session, story, change, policy=CadencePolicy.from_settings(settings), now=now
        )
        assert story.fixed_interval_seconds == 300


@pytest.mark.parametrize("ref", ["²", "99999999999999999999", "3000000000"])
def test_a_ref_that_is_no_story_id_is_not_found(cli, ref: str):
    # '²' is a digit to str.isdigit but not to int(); ids past 32 bits overflowed SQLite's
    # driver and PostgreSQL's integer column.
    result = cli("set", ref, ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: no story {ref!r} is tracked")
