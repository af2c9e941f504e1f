"""Proving the history: `verify`."""

from __future__ import annotations

import sys
import time

import click

from tracker.cli._app import AppContext, CLIError, friendly_errors, json_out, pass_app


@click.command("verify")
@click.argument("stories", nargs=-1)
@click.option("--all", "all_stories", is_flag=True, help="Every story (the default with no URL).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def verify_command(
    app: AppContext, stories: tuple[str, ...], all_stories: bool, as_json: bool
) -> None:
    """Recompute the hash chain of each story's versions and name the first broken link.

    Every version carries a digest of its article, of the raw page it was read from, and a
    link to the version before it (docs/evidence.md). Exit status 1 when a chain is broken.
    """
    from tracker.services.stories import find_story
    from tracker.services.verify import verify_chains

    if stories and all_stories:
        raise CLIError("give story URLs or --all, not both")
    started = time.perf_counter()
    with app.session() as session:
        ids = [find_story(session, ref).id for ref in stories] if stories else None
        show_progress = not as_json and sys.stderr.isatty()

        def progress(done: int) -> None:
            if show_progress:
                click.echo(f"\rverified {done:,} stories", nl=False, err=True)

        report = verify_chains(session, ids, progress=progress)
        if show_progress:
            click.echo("", err=True)
    elapsed = time.perf_counter() - started
    if as_json:
        json_out(
            {
                "ok": report.ok,
                "stories": report.stories,
                "versions": report.versions,
                "seconds": round(elapsed, 3),
                "broken": [{"url": b.url, "seq": b.seq, "reason": b.reason} for b in report.broken],
                "heads": report.heads,
            }
        )
    else:
        for broken in report.broken:
            click.echo(f"BROKEN  {broken.url}  at version {broken.seq}: {broken.reason}")
        if stories:
            for url, head in report.heads.items():
                click.echo(f"head    {url}  {head}")
        verdict = "every chain holds" if report.ok else f"{len(report.broken)} broken"
        click.echo(
            f"verified {report.stories:,} stories, {report.versions:,} versions "
            f"in {elapsed:.2f} s: {verdict}"
        )
    if not report.ok:
        sys.exit(1)


COMMANDS = [verify_command]
