"""Tracking stories: `add`, `list`, `pause`, `resume`, `remove`."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tracker.core.timefmt import OVERDUE, OVERDUE_NO_DAEMON, next_check_text, relative_time

if TYPE_CHECKING:
    pass


from tracker.cli._app import (
    AppContext,
    CLIError,
    bad_url,
    friendly_errors,
    json_out,
    pass_app,
    raw_stream,
    read_url_file,
    refuse,
    render_option,
    rich_text,
    terminal_safe,
    utcnow,
)


@click.command(short_help="Track stories (URLs, or a file of them).")
@click.argument("urls", nargs=-1)
@click.option(
    "--file",
    "url_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A text file of URLs, one per line (# comments allowed).",
)
@click.option("--tag", "tags", multiple=True, help="Tag the stories (repeatable).")
@click.option("--selector", help="CSS selector of the article body (overrides extraction).")
@render_option(
    "How to fetch the pages: plain HTTP, a headless browser (JavaScript-rendered "
    "pages), or auto (HTTP, the browser only for an app shell). Default: the render setting."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def add(
    app: AppContext,
    urls: tuple[str, ...],
    url_file: Path | None,
    tags: tuple[str, ...],
    selector: str | None,
    render: str | None,
    as_json: bool,
) -> None:
    """Track one or more stories: URLS, and/or the URLs in --file. They are checked at once
    by the daemon (`tracker run`) or by `tracker check`."""
    from tracker.services.stories import add_stories

    if selector is not None and not selector.strip():
        raise CLIError("--selector is empty: give a CSS selector such as 'div.article-body'")
    refuse([problem for problem in map(bad_url, urls) if problem], "bad URLs")
    all_urls = list(urls) + (read_url_file(url_file) if url_file else [])
    if not all_urls:
        if url_file:
            raise CLIError(f"{url_file} has no URLs (only blank lines or # comments)")
        raise CLIError("give at least one URL, or --file with URLs")
    with app.session() as session:
        results = add_stories(
            session,
            all_urls,
            now=utcnow(),
            tags=tags,
            selector=selector,
            allow_private_networks=app.settings.allow_private_networks,
            tracking=app.tracking,
            render=render,
        )
    if as_json:
        json_out([{"id": r.story_id, "url": r.url, "created": r.created} for r in results])
        return
    for result in results:
        click.echo(f"{'added' if result.created else 'already tracked'}: {result.url}")


@click.command("list")
@click.option(
    "--status",
    type=click.Choice(["active", "paused", "retired", "gone"]),
    help="Only stories in this state.",
)
@click.option("--tag", help="Only stories with this tag.")
@click.option("--developing", is_flag=True, help="Only stories carrying an update marker.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def list_command(
    app: AppContext, status: str | None, tag: str | None, developing: bool, as_json: bool
) -> None:
    """List tracked stories, most recently changed first."""
    # Not through services.stories.list_stories: on the default SQLite database this reads
    # without importing SQLAlchemy (see _story_list), and `tracker list` starts in a third of
    # the time. The rows are what services.serialize.story_fields makes of the stories.
    from tracker.cli._story_list import daemon_last_seen, list_rows
    from tracker.core.liveness import daemon_alive

    now = utcnow()
    rows = list_rows(app, status=status, tag=tag, developing=True if developing else None)
    if as_json:
        json_out(rows)
        return
    if not rows:
        if status or tag or developing:
            click.echo("no stories match (see `tracker list` for all)", err=True)
        else:
            click.echo("no stories tracked yet: add one with `tracker add URL`", err=True)
        return
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table

    # A due story is "due now" while a daemon runs, and overdue, with the reason, when none
    # does: the table must not promise a check that nothing is going to make.
    checking = daemon_alive(daemon_last_seen(app), now)
    cells = []
    for row in rows:
        status_text = row["status"] + (" · developing" if row["developing"] else "")
        if row["extraction_health"] == "suspect":
            status_text += "\n! suspect text"
        if row.get("lifecycle", "live") != "live":  # unpublished, redirected, paywalled
            status_text += f"\n! {row['lifecycle']}"
        cells.append(
            [
                str(row["id"]),
                status_text,
                str(row["versions"]),
                relative_time(_parse(row["last_changed_at"]), now),
                next_check_text(
                    row["status"], _parse(row["next_check_at"]), now, checking=checking
                ),
            ]
        )
    headers = ("id", "status", "versions", "last change", "next check")
    # The short columns keep their width; the story column gets the rest of the line, and
    # its URL is folded there at "/" boundaries (rich would cut it anywhere, mid-word).
    widths = [
        max(
            cell_len(line) for text in (header, *(c[i] for c in cells)) for line in text.split("\n")
        )
        for i, header in enumerate(headers)
    ]
    console = Console(file=raw_stream())
    story_width = console.width - sum(widths) - COLUMN_GAP * len(widths)
    if story_width < MIN_STORY_WIDTH:
        _print_stacked(console, rows, cells)
        _say_why_overdue(cells)
        return
    table = Table(box=None, pad_edge=False)
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, no_wrap=True, min_width=width)
    table.add_column("story", overflow="fold", max_width=story_width)
    for row, short in zip(rows, cells, strict=True):
        url = terminal_safe(row["url"], one_line=True)
        table.add_row(
            *short,
            # Page-derived: shown, never obeyed (no control characters, no rich markup).
            rich_text(row["title"] or "", one_line=True)
            + rich_text("\n" + "\n".join(fold_url(url, story_width))),
        )
    console.print(table)
    _say_why_overdue(cells)


def _say_why_overdue(cells: list[list[str]]) -> None:
    if any(short[-1] == OVERDUE for short in cells):
        click.echo(
            f"{OVERDUE_NO_DAEMON}: start `tracker run` (or check once: `tracker check --all`)",
            err=True,
        )


def _print_stacked(console: Any, rows: list[dict[str, Any]], cells: list[list[str]]) -> None:
    """A terminal too narrow for the table (under about 70 columns): each story as a block,
    its figures on one line (named), then its headline and its URL folded to the width."""
    import textwrap

    from rich.text import Text

    from tracker.core.words import counted

    width = max(console.width - STACK_INDENT, MIN_STORY_WIDTH)
    indent = " " * STACK_INDENT
    for row, short in zip(rows, cells, strict=True):
        story_id, status, versions, last_change, next_check = (
            cell.replace("\n", " ") for cell in short
        )
        named = (
            f"{counted(int(versions), 'version')} · last change {last_change} · "
            f"next check {next_check}"
        )
        lines = [f"{story_id}  {status}", f"{indent}{named}"]
        title = terminal_safe(row["title"] or "", one_line=True)
        lines += [indent + line for line in textwrap.wrap(title, width)]
        url = terminal_safe(row["url"], one_line=True)
        lines += [indent + line for line in fold_url(url, width)]
        # Text, not markup: a headline holding "[b]" is shown as written.
        console.print(Text("\n".join(lines)), soft_wrap=True, highlight=False)


# Where a narrow terminal's stacked listing starts a story's second and further lines.
STACK_INDENT = 4
# Between two columns of the table: the right padding of one and the left of the next.
COLUMN_GAP = 2
# Narrower than this, the story column would be unreadable: the listing is stacked instead.
MIN_STORY_WIDTH = 24
# Where a URL may be folded: after a "/" (a path segment), or inside a segment longer than
# the line, after "-", "_", ".", "?", "&" or "=".
_URL_SEGMENT = re.compile(r"[^/]*/+|[^/]+$")
_SEGMENT_PIECE = re.compile(r"[^-_.?&=]*[-_.?&=]+|[^-_.?&=]+$")


def fold_url(url: str, width: int) -> list[str]:
    """`url` as lines of at most `width` characters, broken after "/" (or, in a path segment
    longer than a line, after "-", "_", ".", "?", "&" or "="); only a run of characters
    without any of those is cut where the line ends. The lines joined are the URL."""
    scheme, sep, rest = url.partition("://")
    if sep:  # "https://example.com/" is one piece: never "https:/" then "/example.com/"
        host, slash, path = rest.partition("/")
        pieces = [scheme + sep + host + slash, *_URL_SEGMENT.findall(path)]
    else:
        pieces = _URL_SEGMENT.findall(url)
    lines: list[str] = []
    line = ""
    for piece in pieces:
        for part in [piece] if len(piece) <= width else _SEGMENT_PIECE.findall(piece):
            if line and len(line) + len(part) > width:
                lines.append(line)
                line = ""
            while len(part) > width:  # nowhere to break: cut at the end of the line
                lines.append(part[:width])
                part = part[width:]
            line += part
    if line or not lines:
        lines.append(line)
    return lines


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _story_command(
    name: str, help_text: str, action: Callable[..., str], *, destructive: bool = False
) -> click.Command:
    def command(app: AppContext, refs: tuple[str, ...], yes: bool = False) -> None:
        from tracker.services.stories import find_story

        with app.session() as session:
            # Every story is looked up before any is changed: an unknown one among several
            # changes nothing, and nothing is reported done that was rolled back.
            stories: dict[int, Any] = {}
            for ref in refs:
                story = find_story(session, ref, tracking=app.tracking)
                stories.setdefault(story.id, story)
            if destructive and not yes:
                _confirm_removal(list(stories.values()))
            lines = [f"{action(session, story)}: {story.url}" for story in stories.values()]
        for line in lines:
            click.echo(line)

    callback: Any = pass_app(friendly_errors(command))
    if destructive:
        callback = click.option(
            "--yes", "-y", is_flag=True, help="Do not ask for confirmation on a terminal."
        )(callback)
    callback = click.argument("refs", nargs=-1, required=True)(callback)
    return click.command(name, help=help_text)(callback)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm_removal(stories: list[Any]) -> None:
    """On a terminal, removing stories that have versions asks first: the versions and their
    captures cannot be fetched again. Scripts (stdin not a terminal) are not asked."""
    versions = sum(story.version_count for story in stories)
    if versions == 0 or not _interactive():
        return
    from tracker.core.words import counted

    what = f"{counted(len(stories), 'story')} and {counted(versions, 'version')}"
    if not click.confirm(f"remove {what}? This cannot be undone", default=False, err=True):
        raise CLIError("nothing removed")


def _pause(session: Any, story: Any) -> str:
    from tracker.services.stories import set_status
    from tracker.store.models import StoryStatus

    if story.status == StoryStatus.PAUSED:
        return "already paused"
    set_status(session, story, StoryStatus.PAUSED, now=utcnow())
    return "paused"


def _resume(session: Any, story: Any) -> str:
    from tracker.services.stories import set_status
    from tracker.store.models import StoryStatus

    if story.status == StoryStatus.ACTIVE:
        return "already active"  # its schedule stays as it is; `tracker check` checks now
    set_status(session, story, StoryStatus.ACTIVE, now=utcnow())
    return "resumed"


def _remove(session: Any, story: Any) -> str:
    from tracker.services.stories import remove_story

    remove_story(session, story)
    return "removed"


pause = _story_command("pause", "Stop checking stories until resumed. REFS: URLs or ids.", _pause)
resume = _story_command(
    "resume",
    "Check paused, retired or gone stories again, starting now. REFS: URLs or ids.",
    _resume,
)
remove = _story_command(
    "remove",
    "Stop tracking stories and delete their versions. REFS: URLs or ids. On a terminal, "
    "asks first when there are versions to lose (--yes does not).",
    _remove,
    destructive=True,
)

COMMANDS = [add, list_command, pause, resume, remove]
