"""`tracker variants`: a story's headline variants and the paragraphs that come and go."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli._app import AppContext, friendly_errors, json_out, pass_app, terminal_safe


@click.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def variants(app: AppContext, ref: str, as_json: bool) -> None:
    """Show the headlines a story serves at random (an A/B test) and the paragraphs that come
    and go, with how often each was served. Flips between them make no versions or alerts.
    REF: the story's URL or id."""
    from tracker.services.serialize import jsonable
    from tracker.services.stories import find_story
    from tracker.services.variants import story_variants, variant_fields

    with app.session() as session:
        story = find_story(session, ref, tracking=app.tracking)
        rows = [jsonable(variant_fields(v)) for v in story_variants(session, story.id)]
        since = story.variants_since
        url, title = story.url, story.title
    if as_json:
        json_out({"url": url, "since": since.isoformat() if since else None, "items": rows})
        return
    click.echo(terminal_safe(f"{title or '(no headline yet)'}\n{url}"))
    if since is None:
        click.echo(
            "no variants: this story has not been seen flipping between headlines or paragraphs"
        )
        return
    click.echo(f"serves variants since {since.isoformat(timespec='seconds')}")
    for kind, heading in (("headline", "Headlines"), ("paragraph", "Paragraphs that come and go")):
        shown = [row for row in rows if row["kind"] == kind]
        if shown:
            click.echo(f"\n{heading}:")
            click.echo("\n".join(_line(row) for row in shown))


def _line(row: dict[str, Any]) -> str:
    text = terminal_safe(row["text"], one_line=True)
    if len(text) > 100:
        text = text[:99] + "…"
    now = " (shown now)" if row["current"] else ""
    first, last = (
        row["first_seen_at"][:16].replace("T", " "),
        row["last_seen_at"][:16].replace("T", " "),
    )
    return (
        f"  {row['times_served']:>5}×  {text}{now}\n         first seen {first}, last seen {last}"
    )


COMMANDS = [variants]
