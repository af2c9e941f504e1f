"""CLI commands for discovery and the archive: ``feed``, ``import``, ``export``, ``reextract``
and ``db vacuum`` (attached to the ``db`` group by :mod:`tracker.cli.admin`)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from tracker.cli._app import (
    AppContext,
    CLIError,
    friendly_errors,
    iso,
    json_out,
    pass_app,
    raw_stream,
    render_option,
    utcnow,
)
from tracker.core.words import counted


def feed_row(feed: Any) -> dict[str, Any]:
    return {
        "id": feed.id,
        "url": feed.url,
        "title": feed.title,
        "kind": feed.kind,
        "tags": feed.tags,
        "include": feed.include_pattern,
        "exclude": feed.exclude_pattern,
        "interval_seconds": feed.interval_seconds,
        "render": feed.render,
        "last_polled_at": iso(feed.last_polled_at),
        "next_poll_at": iso(feed.next_poll_at),
        "last_status": feed.last_status,
        "last_error": feed.last_error,
        "last_warning": feed.last_warning,
        "any_site": feed.any_site,
        "paused": feed.paused,
        "stories_added": feed.stories_added,
    }


def poll_row(report: Any) -> dict[str, Any]:
    return {
        "feed_id": report.feed_id,
        "url": report.url,
        "outcome": report.outcome,
        "http_status": report.http_status,
        "kind": report.kind,
        "entries": report.entries,
        "added": report.added,
        "linked": report.linked,
        "rejected": report.rejected,
        "error": report.error,
        "held_back": report.held_back,
        "off_site": report.off_site,
        "warning": report.warning,
    }


@click.group()
def feed() -> None:
    """Follow RSS/Atom feeds and (news) sitemaps: each new entry becomes a story."""


@feed.command("add")
@click.argument("url")
@click.option("--tag", "tags", multiple=True, help="Tag the stories found (repeatable).")
@click.option("--include", help="Only entries whose URL matches this regular expression.")
@click.option("--exclude", help="Skip entries whose URL matches this regular expression.")
@click.option("--interval", help="Poll interval, e.g. 5m (default: feed_poll_interval).")
@render_option("How the stories it adds are fetched (see `tracker set --render`).")
@click.option(
    "--any-site/--same-site",
    "any_site",
    default=None,
    help="Also follow entries on other sites than the feed's own (default: its own site "
    "only, by registrable domain; an aggregator's feed needs --any-site).",
)
@click.option(
    "--no-check",
    is_flag=True,
    help="Follow it without fetching it first (a feed that is not up yet).",
)
@pass_app
@friendly_errors
def feed_add(
    app: AppContext,
    url: str,
    tags: tuple[str, ...],
    include: str | None,
    exclude: str | None,
    interval: str | None,
    render: str | None,
    any_site: bool | None,
    no_check: bool,
) -> None:
    """Follow a feed or sitemap (polled at once by the daemon or `tracker feed poll`).

    A new one is fetched first: an HTML page (an article, a section front) is refused, with
    the feeds it advertises, if any, to follow instead."""
    from tracker.net import netguard
    from tracker.services.feeds import FeedNotFound, find_feed, follow_feed
    from tracker.services.stories import StoryError

    try:  # before fetching it: a private address is refused unless allowed
        netguard.check_url(url.strip(), allow_private=app.settings.allow_private_networks)
    except (netguard.BadURLError, netguard.PrivateNetworkError) as exc:
        raise StoryError(str(exc)) from exc
    except netguard.HostLookupError:
        pass  # may resolve later

    with app.session() as session:
        try:
            find_feed(session, url.strip())
            known = True  # followed already: only its options change
        except FeedNotFound:
            known = False
    if not known and not no_check:
        _refuse_what_is_not_a_feed(app, url.strip())
    with app.session() as session:
        added, created = follow_feed(
            session,
            url,
            now=utcnow(),
            allow_private_networks=app.settings.allow_private_networks,
            tags=tags,
            include=include,
            exclude=exclude,
            interval=interval,
            render=render,
            any_site=any_site,
        )
        shown = added.url
    click.echo(f"{'following' if created else 'updated'}: {shown}")


def _refuse_what_is_not_a_feed(app: AppContext, url: str) -> None:
    """Fetch `url` and stop with the reason when it cannot be followed as a feed."""
    from tracker.services.feeds import FeedPoller

    with FeedPoller(app.db, app.settings) as poller:
        probe = poller.probe(url)
    if probe.ok:
        return
    if probe.advertised:
        suggestion = (
            f"; it advertises a feed: tracker feed add {probe.advertised[0]}"
            if len(probe.advertised) == 1
            else f"; it advertises these feeds: {', '.join(probe.advertised)}"
        )
    elif probe.problem and probe.problem.startswith("it is an HTML page"):
        suggestion = "; it advertises no feed (to track this page itself: tracker add URL)"
    else:
        suggestion = " (tracker feed add --no-check follows it anyway)"
    raise CLIError(f"not following {url}: {probe.problem}{suggestion}")


@feed.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def feed_list(app: AppContext, as_json: bool) -> None:
    """List followed feeds."""
    from tracker.services.feeds import list_feeds

    with app.session() as session:
        rows = [feed_row(f) for f in list_feeds(session)]
    if as_json:
        json_out(rows)
        return
    if not rows:
        click.echo("no feeds followed yet: add one with `tracker feed add URL`", err=True)
    for row in rows:
        status = row["last_error"] or (f"HTTP {row['last_status']}" if row["last_status"] else "")
        click.echo(
            f"{row['id']:>4}  {row['kind'] or '?':<13} {row['stories_added']:>5} stories  "
            f"{row['url']}  {status}"
            + ("  (any site)" if row["any_site"] else "")
            + ("  [paused]" if row["paused"] else "")
        )
        if row["last_warning"]:
            click.echo(f"      warning: {row['last_warning']}")


@feed.command("remove")
@click.argument("refs", nargs=-1, required=True)
@pass_app
@friendly_errors
def feed_remove(app: AppContext, refs: tuple[str, ...]) -> None:
    """Stop following feeds (URL or id); their stories stay tracked."""
    from tracker.services.feeds import find_feed, remove_feed

    with app.session() as session:
        # All looked up first: an unknown one among several removes none, and nothing is
        # reported removed that was rolled back.
        found = {f.id: f for f in (find_feed(session, ref) for ref in refs)}
        removed = [f.url for f in found.values()]
        for one in found.values():
            remove_feed(session, one)
    for url in removed:
        click.echo(f"removed: {url}")


def _set_paused(app: AppContext, refs: tuple[str, ...], paused: bool) -> None:
    from tracker.services.feeds import find_feed, set_feed_paused

    with app.session() as session:
        found = [find_feed(session, ref) for ref in refs]  # all found, or none changed
        urls = [f.url for f in found]
        for one in found:
            set_feed_paused(session, one, paused, now=utcnow())
    for url in urls:
        click.echo(f"{'paused' if paused else 'resumed'}: {url}")


@feed.command("pause")
@click.argument("refs", nargs=-1, required=True)
@pass_app
@friendly_errors
def feed_pause(app: AppContext, refs: tuple[str, ...]) -> None:
    """Stop polling feeds (URL or id) until resumed; they stay followed."""
    _set_paused(app, refs, True)


@feed.command("resume")
@click.argument("refs", nargs=-1, required=True)
@pass_app
@friendly_errors
def feed_resume(app: AppContext, refs: tuple[str, ...]) -> None:
    """Poll paused feeds again (due at once)."""
    _set_paused(app, refs, False)


@feed.command("poll")
@click.argument("refs", nargs=-1)
@click.option("--due", is_flag=True, help="Only feeds whose poll is due.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def feed_poll(app: AppContext, refs: tuple[str, ...], due: bool, as_json: bool) -> None:
    """Poll feeds now (all, or those named), then merge stories that are one article.

    Exit status 1 when any poll failed (each reason on stderr), 0 otherwise."""
    from tracker.core import discover
    from tracker.services.feeds import FeedPoller, find_feed, list_feeds, merge_canonical_duplicates

    with app.session() as session:
        ids = (
            [find_feed(session, r).id for r in refs]
            if refs
            else [f.id for f in list_feeds(session)]
        )
    if not ids:
        if as_json:
            json_out([])
        click.echo("no feeds to poll: add one with `tracker feed add URL`", err=True)
        return
    with FeedPoller(app.db, app.settings) as poller:
        reports = poller.poll_due() if due and not refs else poller.poll(ids)
    with app.session() as session:
        merges = merge_canonical_duplicates(
            session, tracking=discover.tracking_parameters(app.settings.tracking_parameters)
        )
    if as_json:
        json_out([poll_row(r) for r in reports])
        _exit_if_a_poll_failed(reports)
        return
    for report in reports:
        line = (
            f"{report.outcome:<12} {report.url}: {counted(report.entries, 'entry')}, "
            f"{len(report.added)} new"
        )
        if report.error:
            line += f" — {report.error}"
        click.echo(line)
        if report.warning:
            click.echo(f"  warning: {report.warning}")
    for merge in merges:
        click.echo(f"merged: {merge.duplicate_url} is {merge.kept_url} ({merge.action})")
    _exit_if_a_poll_failed(reports)


def _exit_if_a_poll_failed(reports: list[Any]) -> None:
    """Exit status 1, each failure's reason on stderr, when any poll failed: a cron job or
    a script must see a feed that is down (a poll skipped for another worker is no failure)."""
    failed = [report for report in reports if report.outcome == "error"]
    for report in failed:
        click.echo(
            f"error: polling {report.url or report.feed_id} failed: {report.error}", err=True
        )
    if failed:
        sys.exit(1)


# -- import / export --------------------------------------------------------------------------


def _sniff(path: Path) -> str:
    from tracker.services.warc_import import is_warc

    with path.open("rb") as stream:
        head = stream.read(4096)
    if is_warc(head):
        return "warc"
    head = head.lstrip()
    if head.startswith(b"{"):
        return "json"
    if b"<opml" in head.lower():
        return "opml"
    return "urls"


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["auto", "urls", "opml", "json", "warc"]),
    default="auto",
    show_default=True,
    help="urls: one URL a line; opml: feeds; json: a `tracker export`; warc: captures "
    "(.warc or .warc.gz, from any crawler or `tracker export --format warc`).",
)
@click.option("--tag", "tags", multiple=True, help="Tag what is imported (urls, opml, warc).")
@pass_app
@friendly_errors
def import_command(app: AppContext, path: Path, file_format: str, tags: tuple[str, ...]) -> None:
    """Import stories (text file of URLs), feeds (OPML), a JSON export, or a WARC file's
    captures as versions."""
    from tracker.cli._app import read_url_file
    from tracker.core.discover import parse_opml
    from tracker.services.archive import ArchiveError, import_json
    from tracker.services.feeds import add_feed
    from tracker.services.stories import add_stories

    kind = _sniff(path) if file_format == "auto" else file_format
    if kind == "warc":
        _import_warc(app, path, tags)
        return
    now = utcnow()
    with app.session() as session:
        if kind == "urls":
            results = add_stories(
                session,
                read_url_file(path),
                now=now,
                tags=tags,
                allow_private_networks=app.settings.allow_private_networks,
                tracking=app.tracking,
            )
            created = sum(r.created for r in results)
            click.echo(f"imported {len(results)} URLs: {created} new stories")
        elif kind == "opml":
            try:
                feeds = parse_opml(path.read_bytes())
            except AttributeError as exc:  # the tolerant parser found no XML element at all
                raise CLIError(f"{path}: not an OPML file (no XML in it)") from exc
            except Exception as exc:
                raise CLIError(f"{path}: not a readable OPML file ({exc})") from exc
            if not feeds:
                raise CLIError(f'{path}: no feeds in it (OPML lists them as <outline xmlUrl="…">)')
            created = 0
            for url, category in feeds:
                extra = (category,) if category else ()
                _, new = add_feed(session, url, now=now, tags=(*tags, *extra))
                created += new
            click.echo(f"imported {counted(len(feeds), 'feed')}: {created} new")
        else:
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
                report = import_json(session, document, now=now)
            except (ValueError, ArchiveError) as exc:
                raise CLIError(f"{path}: {exc}") from exc
            click.echo(
                f"imported {counted(report.stories_added, 'story')}, "
                f"{counted(report.versions_added, 'version')}, "
                f"{counted(report.feeds_added, 'feed')}"
            )
            for line in report.skipped:
                click.echo(f"skipped: {line}", err=True)
            for line in report.unverified:
                click.echo(f"warning: the export's hash chain does not verify: {line}", err=True)


def _import_warc(app: AppContext, path: Path, tags: tuple[str, ...]) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tracker.services.stories import StoryError, add_stories
    from tracker.services.warc_import import WarcReadError, import_warc
    from tracker.store.models import Story

    # URL checks (and their DNS lookups) once per story: its id and stored URL.
    story_ids: dict[str, tuple[int, str]] = {}

    def add_story(session: Any, url: str, first_seen_at: datetime) -> tuple[Any, bool]:
        if url in story_ids:
            story_id, stored_url = story_ids[url]
            story = session.get(Story, story_id)
            # Removed meanwhile (`tracker remove` in another terminal): the removal stands.
            # The URL is compared too, as SQLite may give a removed story's id to a new one.
            if story is None or story.url != stored_url:
                raise ValueError("the story was removed while importing")
            return story, False
        try:
            [added] = add_stories(
                session,
                [url],
                now=utcnow(),
                tags=tags,
                allow_private_networks=app.settings.allow_private_networks,
                first_seen_at=first_seen_at,
                tracking=app.tracking,
            )
        except StoryError as exc:
            raise ValueError(str(exc)) from exc
        story = session.get(Story, added.story_id)
        story_ids[url] = (story.id, story.url)
        return story, added.created

    console = Console(file=raw_stream(err=True))
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            report = import_warc(
                app.db,
                path,
                add_story=add_story,
                max_body_bytes=app.settings.max_body_bytes,
                on_progress=on_progress,
            )
        except WarcReadError as exc:
            raise CLIError(f"{path}: not a readable WARC file ({exc})") from exc
    click.echo(report.summary())
    for line in report.problems:
        click.echo(f"skipped: {line}", err=True)


@click.command("export")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["json", "warc", "wacz", "parquet", "csv"]),
    default="json",
    show_default=True,
    help="json: stories, versions, checks; warc: WARC 1.1 of the raw captures; wacz: that "
    "WARC as a WACZ 1.1.1 web archive (opens in ReplayWeb.page); parquet, "
    "csv: the research tables (one row per version, one per sentence-level edit) into the "
    "directory -o names.",
)
@click.option("--story", "stories", multiple=True, help="Only this story (URL or id; repeatable).")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="File (default: stdout); a directory for parquet and csv.",
)
@pass_app
@friendly_errors
def export_command(
    app: AppContext, file_format: str, stories: tuple[str, ...], output: Path | None
) -> None:
    """Export stories as JSON, their raw captures as a WARC or WACZ file, or their history
    as research tables (Parquet or CSV; docs/research-export.md)."""
    if file_format in ("parquet", "csv"):
        _export_research(app, file_format, stories, output)
        return
    if file_format == "wacz":
        _export_wacz(app, stories, output)
        return
    from tracker.services.archive import export_json, export_warc, story_ids_for

    if output is not None and output.is_dir():
        raise CLIError(f"{output} is a directory: -o names the {file_format} file to write")
    with app.session() as session:
        ids = story_ids_for(session, stories) if stories else None
        if file_format == "json":
            if output is None:
                count = export_json(session, sys.stdout, story_ids=ids, now=utcnow())
            else:
                with output.open("w", encoding="utf-8") as out:
                    count = export_json(session, out, story_ids=ids, now=utcnow())
            click.echo(f"exported {counted(count, 'story')}", err=True)
            return
        if output is None and sys.stdout.isatty():
            raise CLIError("a WARC file is binary: give --output FILE.warc.gz or redirect stdout")
        name = output.name if output else "tracker.warc.gz"
        if output is None:
            summary = export_warc(
                session,
                sys.stdout.buffer,
                user_agent=app.settings.user_agent,
                story_ids=ids,
                filename=name,
            )
        else:
            with output.open("wb") as out:
                summary = export_warc(
                    session, out, user_agent=app.settings.user_agent, story_ids=ids, filename=name
                )
    click.echo(
        f"exported {counted(summary.responses, 'capture')} "
        f"({counted(summary.metadata, 'version')}) as WARC",
        err=True,
    )


def _export_wacz(app: AppContext, stories: tuple[str, ...], output: Path | None) -> None:
    from tracker.services.archive import story_ids_for
    from tracker.services.wacz import export_wacz

    if output is None:
        raise CLIError("a WACZ file is a ZIP: give --output FILE.wacz")
    if output.is_dir():
        raise CLIError(f"{output} is a directory: -o names the wacz file to write")
    with app.session() as session:
        ids = story_ids_for(session, stories) if stories else None
        with output.open("wb") as out:
            summary = export_wacz(
                session, out, user_agent=app.settings.user_agent, now=utcnow(), story_ids=ids
            )
    click.echo(
        f"exported {counted(summary.warc.responses, 'capture')} "
        f"({counted(summary.warc.metadata, 'version')}) as WACZ to {output}",
        err=True,
    )


def _export_research(
    app: AppContext, file_format: str, stories: tuple[str, ...], output: Path | None
) -> None:
    import time

    from tracker.services.research_export import ResearchExport, export_research
    from tracker.services.stories import find_story

    if output is None:
        raise CLIError(f"--format {file_format} writes two files: give -o DIRECTORY")
    if output.exists() and not output.is_dir():
        raise CLIError(f"{output} is a file: -o names the directory for the {file_format} tables")
    show_progress = sys.stderr.isatty()

    def progress(report: ResearchExport) -> None:
        if show_progress:
            click.echo(
                f"\r{report.stories:,} stories, {report.versions:,} versions, "
                f"{report.edits:,} edits",
                nl=False,
                err=True,
            )

    started = time.perf_counter()
    with app.session() as session:
        ids = [find_story(session, ref).id for ref in stories] if stories else None
        try:
            report = export_research(session, output, file_format, story_ids=ids, progress=progress)
        except RuntimeError as exc:  # pyarrow missing
            raise CLIError(str(exc)) from exc
    elapsed = time.perf_counter() - started
    if show_progress:
        click.echo("", err=True)
    rows = report.versions + report.edits + report.lifecycle_events
    click.echo(
        f"exported {report.stories:,} stories: {report.versions:,} versions and "
        f"{report.edits:,} sentence edits (and {report.lifecycle_events:,} lifecycle events) "
        f"to {output}/ ({file_format}, "
        f"{report.bytes / 1e6:.1f} MB) in {elapsed:.1f} s, {rows / max(elapsed, 1e-9):,.0f} rows/s",
        err=True,
    )


@click.command("reextract")
@click.option("--story", "stories", multiple=True, help="Only this story (URL or id; repeatable).")
@click.option("--selector", help="Set the stories' CSS selector of the article body first.")
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def reextract_command(
    app: AppContext, stories: tuple[str, ...], selector: str | None, dry_run: bool, as_json: bool
) -> None:
    """Re-run extraction over stored captures and rebuild version histories (no refetching)."""
    from sqlalchemy import select

    from tracker.services.archive import reextract, story_ids_for
    from tracker.store.models import Story

    if selector is not None and not stories:
        raise CLIError("--selector applies to the stories named with --story")
    with app.session() as session:
        ids = (
            story_ids_for(session, stories)
            if stories
            else list(session.scalars(select(Story.id).where(Story.version_count > 0)))
        )
    try:
        reports = reextract(app.db, ids, selector=selector, apply=not dry_run, now=utcnow())
    except ValueError as exc:  # a bad selector
        raise CLIError(str(exc)) from exc
    if as_json:
        json_out(
            [
                {
                    "story_id": r.story_id,
                    "url": r.url,
                    "versions_before": r.versions_before,
                    "versions_after": r.versions_after,
                    "changes": r.changes,
                    "error": r.error,
                }
                for r in reports
            ]
        )
        return
    changed = 0
    for report in reports:
        if report.error:
            click.echo(f"unchanged   {report.url} — {report.error}")
        elif report.changed:
            changed += 1
            click.echo(
                f"{'would change' if dry_run else 'rebuilt':<11} {report.url}: "
                f"{report.versions_before} → {counted(report.versions_after, 'version')}"
            )
            for line in report.changes:
                click.echo(f"    {line}")
    click.echo(f"re-extracted {counted(len(reports), 'story')}: {changed} changed", err=True)


@click.command("vacuum")
@pass_app
@friendly_errors
def vacuum_command(app: AppContext) -> None:
    """Prune raw captures past capture_retention_days, then reclaim free space."""
    from tracker.services.archive import vacuum
    from tracker.store.captures import prune_captures

    pruned = 0
    days = app.settings.capture_retention_days
    if days > 0:
        with app.session() as session:
            pruned = prune_captures(session, utcnow() - timedelta(days=days))
    before, after = vacuum(app.db)
    click.echo(
        f"pruned {counted(pruned, 'capture')}; "
        f"database {before / 1e6:.1f} MB → {after / 1e6:.1f} MB"
    )


COMMANDS = [feed, import_command, export_command, reextract_command]
