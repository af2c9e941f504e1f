"""`card`: a change as an image to share, with alt text that says it in words."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._app import AppContext, CLIError, friendly_errors, json_out, pass_app

# A negative version counts back from the latest: "-2" is the SEQ argument, not an option.
NEGATIVE_NUMBERS = {"ignore_unknown_options": True}


@click.command(context_settings=NEGATIVE_NUMBERS)
@click.argument("ref")
@click.argument("seq", type=int, required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Where to write the PNG (default: <site>-v<SEQ>.png here).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the file's path and the alt text as JSON."
)
@pass_app
@friendly_errors
def card(app: AppContext, ref: str, seq: int | None, output: Path | None, as_json: bool) -> None:
    """Draw a change as a 1200×675 PNG to share, and print its alt text.

    The card shows the source, the headline (old → new when it changed), the first change
    struck and inserted, and when it was seen; the alt text states the change in words.
    REF: the story's URL or id. SEQ: the version the change made (default: the latest;
    -1 the latest, -2 the one before). Needs Chromium (see `tracker doctor`).

    \b
      tracker card URL -o change.png
      tracker card URL 3 --json
    """
    from tracker.services.cards import (
        CARD_HEIGHT,
        CARD_WIDTH,
        CardUnavailable,
        card_file_name,
        card_png,
        load_card,
    )
    from tracker.services.stories import find_story

    with app.session() as session:
        story = find_story(session, ref, tracking=app.tracking)
        story_card = load_card(session, story, seq)
    target = output or Path(card_file_name(story_card))
    try:
        png = card_png(story_card, executable=app.settings.browser_executable)
    except CardUnavailable as exc:
        raise CLIError(str(exc)) from exc
    target.write_bytes(png)
    if as_json:
        json_out(
            {
                "path": str(target),
                "url": story_card.url,
                "version": story_card.seq,
                "width": CARD_WIDTH,
                "height": CARD_HEIGHT,
                "alt_text": story_card.alt_text,
            }
        )
        return
    click.echo(f"wrote {target} (1200×675 PNG); alt text:", err=True)
    click.echo(story_card.alt_text)


COMMANDS = [card]
