"""Finding what was ever said: `search`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from tracker.cli._app import (
    AppContext,
    CLIError,
    friendly_errors,
    json_out,
    pass_app,
    raw_stream,
    rich_text,
)

if TYPE_CHECKING:
    from tracker.services.search import Marked, SearchResults


def _iso(value: Any) -> Any:
    """Times as ISO 8601 at any depth (the results nest them)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_iso(item) for item in value]
    return value


def _marked(pieces: Marked, prefix: str = "") -> Any:
    """Terminal-safe text with the matches in bold (plain where the output is no terminal)."""
    text = rich_text(prefix, one_line=True)
    for piece, matched in pieces:
        text.append_text(rich_text(piece, one_line=True))
        if matched:
            text.stylize("bold underline", len(text) - len(piece), len(text))
    return text


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def print_results(results: SearchResults) -> None:
    from rich.console import Console
    from rich.padding import Padding

    console = Console(file=raw_stream(), highlight=False, soft_wrap=False)
    if not results.stories:
        more = " on this page (try a smaller --offset)" if results.offset else ""
        click.echo(f"no story ever said {results.query}{more}", err=True)
        return
    first, last = results.offset + 1, results.offset + len(results.stories)
    if results.total is None:
        counted = "stories said"
        shown = f" ({first}–{last} shown; more with --offset {results.next_offset})"
    else:
        counted = f"{results.total} {'story' if results.total == 1 else 'stories'} said"
        shown = f" ({first}–{last} shown)" if results.total > len(results.stories) else ""
    console.print(rich_text(f"{counted} {results.query}, newest first{shown}", one_line=True))
    for hit in results.stories:
        story = hit.story
        count = len(hit.versions)
        console.print()
        console.print(rich_text(f"{story.title or story.url}  (story {story.id})", one_line=True))
        console.print(Padding(rich_text(story.url, one_line=True), (0, 0, 0, 2), expand=False))
        console.print(
            Padding(
                f"said in {count} version{'s' if count != 1 else ''}, "
                f"most recently {_when(hit.newest_at)}",
                (0, 0, 0, 2),
                expand=False,
            )
        )
        for headline in hit.headlines:
            if not headline.current:
                console.print(
                    Padding(
                        _marked(headline.headline, "past headline: "), (0, 0, 0, 2), expand=False
                    )
                )
        for version in hit.versions:
            if version.snippet is None:
                continue
            console.print(
                Padding(f"v{version.seq}  {_when(version.captured_at)}", (0, 0, 0, 2), expand=False)
            )
            console.print(Padding(_marked(version.snippet), (0, 0, 0, 6), expand=False))
        others = [str(version.seq) for version in hit.versions if version.snippet is None]
        if others:
            console.print(
                Padding(f"also in versions {', '.join(others)}", (0, 0, 0, 2), expand=False)
            )
    if results.next_offset is not None:
        console.print()
        console.print(f"more: add --offset {results.next_offset}")


@click.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--tag", default=None, help="Only stories with this tag.")
@click.option("--site", default=None, metavar="HOST", help="Only stories on this site.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1, max=100),
    metavar="N",
    help="How many stories.",
)
@click.option("--offset", default=0, type=click.IntRange(min=0), metavar="N", help="Skip N.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def search(
    app: AppContext,
    words: tuple[str, ...],
    tag: str | None,
    site: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Find the stories that ever said WORDS: in any version's text or in any headline, a
    past one included. Every word must appear; quote a phrase: tracker search '"city hall"'.
    Shows the versions that said it, the newest with the words in context."""
    from tracker.services.search import results_fields
    from tracker.services.search import search as run_search

    with app.db.read_session() as session:
        results = run_search(
            session, " ".join(words), limit=limit, offset=offset, tag=tag, site=site
        )
        if results.query.is_empty:
            raise CLIError("nothing to search for: give a word or a phrase (letters or digits)")
        if as_json:
            json_out(_iso(results_fields(results)))
            return
        print_results(results)


COMMANDS = [search]
