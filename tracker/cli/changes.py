"""``tracker changes``: what changed across stories, newest first (the web's /changes)."""

from __future__ import annotations

import click

from tracker.cli._app import (
    AppContext,
    friendly_errors,
    iso,
    json_out,
    pass_app,
    terminal_safe,
    utcnow,
)

KIND_HELP = (
    "Only versions with this kind (repeat, or separate with commas): first, headline, "
    "paragraphs_added, paragraphs_removed, text_edited, byline, dates, correction, minor, "
    "entry_added, entry_edited, entry_removed; or the lifecycle events unpublished, "
    "redirected, slug_changed, paywalled, republished. None: every version and every "
    "lifecycle event."
)


@click.command("changes")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help=KIND_HELP)
@click.option("--tag", help="Only stories with this tag.")
@click.option("--site", help="Only stories of this site (a domain: example.com).")
@click.option("--since", metavar="WHEN", help="From this time on: 24h, 7d (ago) or 2026-12-01.")
@click.option("--until", metavar="WHEN", help="Before this time: 24h, 7d (ago) or 2026-12-04.")
@click.option("--before", metavar="CURSOR", help="The page older than this cursor (printed).")
@click.option("--after", metavar="CURSOR", help="The page newer than this cursor (printed).")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=1, max=500),
    metavar="N",
    help="How many, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (as /api/v1/changes).")
@pass_app
@friendly_errors
def changes_command(
    app: AppContext,
    kinds: tuple[str, ...],
    tag: str | None,
    site: str | None,
    since: str | None,
    until: str | None,
    before: str | None,
    after: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """What changed across stories, newest first: kinds, headline changes, the changed sentence."""
    from tracker.core.timefmt import relative_time
    from tracker.services.changes_feed import changes_page, make_filter, row_fields

    now = utcnow()
    changes = make_filter(kinds=kinds, tag=tag, site=site, since=since, until=until, now=now)
    with app.db.read_session() as session:
        page = changes_page(session, changes, limit=limit, before=before, after=after)
    if as_json:
        items = [{**row_fields(row), "captured_at": iso(row.captured_at)} for row in page.rows]
        json_out({"items": items, "limit": page.limit, "next": page.older, "newer": page.newer})
        return
    if not page.rows:
        filtered = kinds or tag or site or since or until
        click.echo("no changes match these filters" if filtered else "no changes yet", err=True)
    for row in page.rows:
        when = row.captured_at.strftime("%Y-%m-%d %H:%M UTC")
        if row.event is not None:  # a lifecycle event: what happened, in words
            click.echo(f"{when} ({relative_time(row.captured_at, now)})  {row.site}  event")
            click.echo(f"  {terminal_safe(row.headline, one_line=True)}")
            click.echo(f"  {terminal_safe(row.detail or row.kind_labels[0], one_line=True)}")
            continue
        click.echo(f"{when} ({relative_time(row.captured_at, now)})  {row.site}  v{row.seq}")
        click.echo(f"  {terminal_safe(row.headline, one_line=True)}")
        click.echo(f"  {', '.join(row.kind_labels)}")
        if row.previous_title is not None:
            old = terminal_safe(row.previous_title, one_line=True)
            new = terminal_safe(row.title or "(no headline)", one_line=True)
            click.echo(f"  headline: {old} → {new}")
        if row.excerpt:
            click.echo(f"  {terminal_safe(row.excerpt_text, one_line=True)}")
    if page.older:
        click.echo(f"older changes: the same command with --before {page.older}", err=True)


COMMANDS = [changes_command]
