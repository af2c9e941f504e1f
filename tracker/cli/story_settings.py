"""``tracker set``: a story's own settings (schedule, robots.txt, ignored lines, selector)."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli._app import (
    AppContext,
    CLIError,
    friendly_errors,
    json_out,
    pass_app,
    render_option,
    utcnow,
)

_DURATION_HELP = "a duration such as 5m, 1h30m or 2d; 'auto' drops the story's own value"


@click.command("set")
@click.argument("refs", nargs=-1, required=True)
@click.option(
    "--interval", help=f"Check at this fixed interval, never retiring ({_DURATION_HELP})."
)
@click.option("--min-interval", help=f"Never check more often than this ({_DURATION_HELP}).")
@click.option("--max-interval", help=f"Never wait longer than this ({_DURATION_HELP}).")
@click.option(
    "--robots",
    type=click.Choice(["respect", "ignore", "default"]),
    help="robots.txt for this story: respect, ignore (you have permission), or the default.",
)
@click.option(
    "--ignore",
    "ignore_patterns",
    multiple=True,
    help="A regular expression; article lines it matches never make a version (repeatable; "
    "replaces the story's list).",
)
@click.option("--clear-ignore", is_flag=True, help="Drop the story's ignore patterns.")
@click.option("--selector", help="CSS selector of the article body ('' for automatic).")
@render_option(
    "How to fetch the pages: http, browser (JavaScript-rendered pages), auto (the "
    "browser only for an app shell), or default (the render setting)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@pass_app
@friendly_errors
def set_command(
    app: AppContext,
    refs: tuple[str, ...],
    interval: str | None,
    min_interval: str | None,
    max_interval: str | None,
    robots: str | None,
    ignore_patterns: tuple[str, ...],
    clear_ignore: bool,
    selector: str | None,
    render: str | None,
    as_json: bool,
) -> None:
    """Show or change stories' own settings (without options: show them).

    \b
    tracker set URL --interval 5m          # a live blog: every 5 minutes, never retired
    tracker set URL --max-interval 1h      # keep an eye on it: at least hourly
    tracker set URL --ignore '^Updated '   # a line that changes on every visit
    tracker set URL --robots ignore        # you have the publisher's permission
    tracker set URL --interval auto        # back to the adaptive schedule
    tracker set URL --render browser       # a page that only shows its article with JavaScript
    """
    from tracker.core.cadence import CadencePolicy
    from tracker.services.stories import (
        IntervalOrderError,
        SettingError,
        StorySettings,
        configure_story,
        find_story,
        story_settings,
    )

    change = StorySettings(
        interval=interval,
        min_interval=min_interval,
        max_interval=max_interval,
        robots=robots,
        ignore_patterns=() if clear_ignore else (ignore_patterns or None),
        selector=selector,
        render=render,
    )
    policy = CadencePolicy.from_settings(app.settings)
    shown: list[dict[str, Any]] = []
    with app.session() as session:
        for ref in refs:
            story = find_story(session, ref, tracking=app.tracking)
            try:
                changes = (
                    []
                    if change.empty()
                    else configure_story(session, story, change, policy=policy, now=utcnow())
                )
            except SettingError as exc:
                raise CLIError(f"{_flag(exc.setting)}: {exc.problem}") from exc
            except IntervalOrderError as exc:
                raise CLIError(_interval_order(exc, min_interval, max_interval)) from exc
            shown.append({"url": story.url, **story_settings(story), "changed": changes})
            session.flush()
    if as_json:
        json_out(shown)
        return
    for entry in shown:
        click.echo(entry["url"])
        if not change.empty():
            for line in entry["changed"] or ["nothing changed"]:
                click.echo(f"  {line}")
            continue
        for name, value in entry.items():
            if name not in ("url", "changed"):
                click.echo(f"  {name}: {_shown(value)}")


def _flag(setting: str) -> str:
    """The option a user types for a story setting: ``min_interval`` -> ``--min-interval``."""
    return "--" + setting.replace("_", "-")


def _interval_order(exc: Any, min_typed: str | None, max_typed: str | None) -> str:
    """The min > max refusal in the words the user typed: the flags given, and the story's
    own value for the bound not given."""
    from datetime import timedelta

    from tracker.core.cadence import format_duration

    def current(seconds: int) -> str:
        return format_duration(timedelta(seconds=seconds))

    if min_typed is not None and max_typed is not None:
        return f"--min-interval {min_typed} is longer than --max-interval {max_typed}"
    if min_typed is not None:
        return (
            f"--min-interval {min_typed} is longer than the story's max interval "
            f"({current(exc.max_seconds)}); give a longer --max-interval too"
        )
    return (
        f"--max-interval {max_typed} is shorter than the story's min interval "
        f"({current(exc.min_seconds)}); give a shorter --min-interval too"
    )


def _shown(value: object) -> str:
    if value is None or value == []:
        return "- (global setting)"
    if isinstance(value, list):
        return ", ".join(repr(item) for item in value)
    return str(value)


COMMANDS = [set_command]
