"""Reading versions: `history`, `show`, `diff`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    pass


from tracker.cli._app import AppContext, CLIError, friendly_errors, json_out, pass_app, stamp

# -- reading versions -------------------------------------------------------------------


def version_json(story: Any, version: Any, *, text: bool = True) -> dict[str, Any]:
    from tracker.services.serialize import jsonable, version_fields

    return jsonable(version_fields(story, version, text=text))


@click.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def history(app: AppContext, ref: str, as_json: bool) -> None:
    """List the versions of a story. REF: its URL or id (see `tracker list`)."""
    from tracker.services.stories import find_story, list_versions

    with app.session() as session:
        story = find_story(session, ref, tracking=app.tracking)
        rows = [
            version_json(story, version, text=False) for version in list_versions(session, story)
        ]
        url, title = story.url, story.title
    if as_json:
        json_out(rows)
        return
    click.echo(f"{title or '(no headline yet)'}\n{url}")
    if not rows:
        click.echo("no versions yet (run `tracker check`; `tracker checks REF` shows why not)")
        return
    click.echo("\n".join(history_lines(rows, _terminal_width())))


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).columns  # COLUMNS, the terminal, or 80


# The kinds column never gets narrower than this: a terminal narrower still wraps lines.
MIN_KINDS_WIDTH = 20


def history_lines(rows: list[dict[str, Any]], width: int) -> list[str]:
    """`tracker history`'s table: version, capture time, kinds of change in words, words
    added and removed. The kinds column takes what the line leaves and wraps within itself
    (a kind is never split), so the other columns stay put at any width."""
    import textwrap

    from tracker.core.kinds import kind_label

    stats = [f"+{row['words_added']}/−{row['words_removed']} words" for row in rows]
    stats_width = max(map(len, stats), default=0)
    prefix_width = len("  v123 2026-01-01 00:00:00  ")
    kinds_width = max(MIN_KINDS_WIDTH, width - prefix_width - 1 - stats_width)
    lines = []
    for row, figures in zip(rows, stats, strict=True):
        # A kind's words are held together (no-break spaces) so that wrapping breaks
        # between kinds: "paragraphs" and "added" never land on two lines.
        kinds = ", ".join(kind_label(kind).replace(" ", "\u00a0") for kind in row["kinds"])
        wrapped = textwrap.wrap(kinds, kinds_width, break_long_words=False) or [""]
        wrapped = [part.replace("\u00a0", " ") for part in wrapped]
        captured = row["captured_at"][:19].replace("T", " ")
        lines.append(
            f"  v{row['seq']:<3} {captured}  {wrapped[0]:<{kinds_width}} {figures:>{stats_width}}"
        )
        lines += [" " * prefix_width + part for part in wrapped[1:]]
        if row.get("archived_url"):  # the web archive's copy (the archive hand-off)
            lines.append(" " * prefix_width + f"archived: {row['archived_url']}")
    return lines


# A negative version counts back from the latest (-1 the latest, -2 the one before), so
# "-2" must reach the SEQ argument instead of being taken for an unknown option.
NEGATIVE_NUMBERS = {"ignore_unknown_options": True}


@click.command(context_settings=NEGATIVE_NUMBERS)
@click.argument("ref")
@click.argument("seq", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def show(app: AppContext, ref: str, seq: int | None, as_json: bool) -> None:
    """Print one version of a story: the latest, or version SEQ (-1 the latest, -2 the one
    before). REF: the story's URL or id."""
    from tracker.services.stories import find_story, get_version

    with app.session() as session:
        story = find_story(session, ref, tracking=app.tracking)
        data = version_json(story, get_version(session, story, seq))
    if as_json:
        json_out(data)
        return
    click.echo(f"# {data['title'] or '(no headline)'}")
    meta = [f"version {data['seq']}", f"captured {stamp(data['captured_at'])}"]
    if data["byline"]:
        meta.append(f"by {data['byline']}")
    if data["published"]:
        meta.append(f"published {stamp(data['published'])}")
    click.echo(" · ".join(meta))
    click.echo(data["url"])
    if data["archived_url"]:
        click.echo(f"archived copy: {data['archived_url']}")
    elif data["archive_status"]:
        click.echo(f"archived copy: {data['archive_status']} (see `tracker archive-status`)")
    click.echo("")
    if data["health"] == "suspect":
        click.echo(suspect_warning(data["health_reasons"], data["text_source"]) + "\n")
    click.echo(data["text"])


def suspect_warning(reasons: list[dict[str, str]], source: str | None) -> str:
    """The lines `show` prints above a suspect version's text."""
    from tracker.core.health import suggestion_for

    lines = ["! Suspect extraction: this text is probably not the article."]
    lines += [f"!   {reason['message']}" for reason in reasons]
    lines.append(f"!   {suggestion_for([r['code'] for r in reasons], source)}")
    return "\n".join(lines)


@click.command(context_settings=NEGATIVE_NUMBERS)
@click.argument("ref")
@click.argument("from_seq", type=int, required=False)
@click.argument("to_seq", type=int, required=False)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "unified", "html", "side-by-side", "json"]),
    default="text",
    show_default=True,
    help="text: coloured word diff; unified: paragraph diff; html/side-by-side: HTML.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text diff (default: on a terminal, unless NO_COLOR is set).",
)
@click.option(
    "--context",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Changes only: keep N unchanged paragraphs around each change and fold the rest "
    "into one '… 14 unchanged paragraphs …' line (not with json).",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    "-o",
    "--output",
    "output_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the HTML formats to FILE: a complete page, styles inline (opens offline).",
)
@pass_app
@friendly_errors
def diff(
    app: AppContext,
    ref: str,
    from_seq: int | None,
    to_seq: int | None,
    output_format: str,
    color: bool | None,
    context: int | None,
    as_json: bool,
    output_file: Path | None,
) -> None:
    """Show what changed in a story, word by word. REF: its URL or id.

    \b
      tracker diff URL          the latest change
      tracker diff URL N        the change that made version N
      tracker diff URL 1 5      from version 1 to version 5 (the older one first)
      tracker diff URL -2 -1    negative numbers count back from the latest
      tracker diff URL --format side-by-side -o diff.html   a page to open or send
      tracker diff URL --context 1   only the changes, one paragraph around each
    """
    from tracker.core import diffing, liveblog
    from tracker.core.field_changes import field_change_to_json as field_json
    from tracker.core.field_changes import field_changes
    from tracker.pipeline.check import version_as_article
    from tracker.services.stories import StoryError, find_story, get_version

    if as_json:
        output_format = "json"
    if output_file is not None and output_format not in ("html", "side-by-side"):
        raise CLIError(
            "-o writes the HTML formats (--format side-by-side or html); "
            f"for {output_format}, redirect the output instead (> FILE)"
        )
    with app.session() as session:
        story = find_story(session, ref, tracking=app.tracking)
        if from_seq is not None and to_seq is None:
            to_seq, from_seq = from_seq, None
        after = get_version(session, story, to_seq)
        if from_seq is None:
            if after.seq == 1:
                raise StoryError(f"{story.url} version 1 is the first version; nothing to diff")
            from_seq = after.seq - 1
        before = get_version(session, story, from_seq)
        url = story.url
        old, new = version_as_article(before), version_as_article(after)
    # A live blog read as entries both times: entry by entry, each aligned with itself.
    units = liveblog.entry_units(old, new) if old.entries and new.entries else None
    if before.seq == after.seq:
        raise CLIError(f"FROM and TO are both version {after.seq}: nothing to diff")
    if before.seq > after.seq:
        raise CLIError(
            f"FROM (v{before.seq}) is newer than TO (v{after.seq}): give the older version "
            f"first, e.g. `tracker diff {ref} {after.seq} {before.seq}`"
        )
    if context is not None and output_format == "json":
        raise CLIError("--context folds a diff for reading; JSON always has every op")
    fields = field_changes(before, after)
    title_change = (before.title or "") != (after.title or "")
    word_diff = diffing.word_diff(before.text, after.text)
    title_diff = diffing.word_diff(before.title or "", after.title or "") if title_change else None
    if output_format == "json":
        json_out(
            {
                "url": url,
                "from": before.seq,
                "to": after.seq,
                "title_before": before.title,
                "title_after": after.title,
                "kinds": after.kinds if after.seq == before.seq + 1 else None,
                "diff": diffing.diff_to_json(word_diff),
                "title_diff": diffing.diff_to_json(title_diff) if title_diff else None,
                "fields": [field_json(change) for change in fields],
                "entries": [
                    {
                        "key": unit.key,
                        "caption": unit.caption,
                        "status": unit.status,
                        "diff": diffing.diff_to_json(unit.diff),
                    }
                    for unit in units
                ]
                if units is not None
                else None,
            }
        )
        return
    if output_format == "unified":
        click.echo(
            diffing.render_unified(
                (before.title or "") + "\n\n" + before.text,
                (after.title or "") + "\n\n" + after.text,
                from_label=f"{url} v{before.seq}",
                to_label=f"{url} v{after.seq}",
                **({"context": context} if context is not None else {}),
            ),
            nl=False,
        )
        return
    if output_format in ("html", "side-by-side"):
        from tracker.core.diff_document import diff_document

        side = output_format == "side-by-side"
        # Byline and dates first, as lines of the diff; then the article, folded with --context.
        body = diffing.render_html_lines([c.labelled() for c in fields], side_by_side=side)
        if units is not None:
            body += diffing.render_html_units(units, side_by_side=side, context=context)
        elif side:
            body += diffing.render_html_side_by_side(
                word_diff,
                before_label=f"Version {before.seq}",
                after_label=f"Version {after.seq}",
                context=context,
            )
        else:
            body += diffing.render_html_inline(word_diff, context=context)
        page = diff_document(
            body,
            title=after.title or url,
            url=url,
            versions=f"version {before.seq} ({stamp(before.captured_at)}) → "
            f"version {after.seq} ({stamp(after.captured_at)})",
            # The headline's own diff, its words inline (markup of the diff's own making).
            headline=diffing.render_html_phrase(title_diff) if title_diff else "",
        )
        if output_file is None:
            click.echo(page, nl=False)
            return
        output_file.write_text(page, encoding="utf-8")
        click.echo(f"wrote {output_file}", err=True)
        return
    use_color = _want_color(color)
    click.echo(f"{url}: v{before.seq} → v{after.seq}")
    if after.seq == before.seq + 1 and after.summary:
        click.echo(after.summary)
    if title_diff:
        click.echo(
            "Headline: " + diffing.render_terminal(title_diff, color=use_color), color=use_color
        )
    for change in fields:  # "Byline: Jane Doe{+ and John Roe+}"
        click.echo(diffing.render_terminal(change.labelled(), color=use_color), color=use_color)
    click.echo()
    if units is not None:  # the changed entries, each under its time
        for unit in units:
            if unit.status != "equal":
                click.echo(f"── {unit.caption} ──")
                text = diffing.render_terminal(unit.diff, color=use_color)
                click.echo(text + "\n", color=use_color)
        return
    # click.echo strips ANSI codes off a non-terminal unless told: --color must mean colour.
    text = diffing.render_terminal(word_diff, color=use_color, context=context)
    click.echo(text, color=use_color)


def _want_color(flag: bool | None) -> bool:
    """--color/--no-color wins; otherwise colour on a terminal unless NO_COLOR is set
    (https://no-color.org) or TERM is "dumb"."""
    import os

    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


COMMANDS = [history, show, diff]
