"""`archive-status`: the web-archive hand-off's queue (docs/discovery-and-archive.md)."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli._app import AppContext, friendly_errors, json_out, pass_app, stamp


@click.command("archive-status")
@click.option("--retry-failed", is_flag=True, help="Try the failed submissions again.")
@click.option(
    "--backfill",
    is_flag=True,
    help="Queue each live story's latest version that was never handed off (stored while "
    "the hand-off was off). Older versions cannot be: the archive saves the page as it is now.",
)
@click.option("--limit", default=20, show_default=True, help="Unfinished submissions listed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def archive_status(
    app: AppContext, retry_failed: bool, backfill: bool, limit: int, as_json: bool
) -> None:
    """Show the web-archive hand-off: is it on, how many versions were archived, which
    submissions wait or failed, and why. Exit status 1 when some failed."""
    from tracker.pipeline import web_archive
    from tracker.pipeline.engine import utcnow

    settings = app.settings
    if backfill and settings.archive_endpoint is None:
        raise click.UsageError(
            "the archive hand-off is off: set archive_endpoint first "
            "(docs/discovery-and-archive.md), then --backfill queues the versions it missed"
        )
    with app.session() as session:
        retried = web_archive.retry_failed(session, now=utcnow()) if retry_failed else 0
        backfilled = web_archive.backfill_latest(session, now=utcnow()) if backfill else 0
        summary = web_archive.queue_summary(session)
        rows: list[dict[str, Any]] = [
            {
                "url": row.url,
                "seq": seq,
                "status": row.status,
                "attempts": row.attempts,
                "next_attempt_at": row.next_attempt_at,
                "last_error": row.last_error,
            }
            for row, seq in web_archive.unfinished(session, limit=limit)
        ]
    enabled = settings.archive_endpoint is not None
    failed = summary.counts.get("failed", 0)
    if as_json:
        json_out(
            {
                "enabled": enabled,
                "endpoint": settings.archive_endpoint,
                "api": settings.archive_api,
                "per_minute": settings.archive_per_minute,
                "counts": summary.counts,
                "oldest_waiting_since": _iso(summary.oldest_pending_at),
                "retried": retried,
                "backfilled": backfilled,
                "unfinished": [{**r, "next_attempt_at": _iso(r["next_attempt_at"])} for r in rows],
            }
        )
    else:
        if enabled:
            click.echo(
                f"archive hand-off: on ({settings.archive_endpoint}, {settings.archive_api}, "
                f"at most {settings.archive_per_minute} saves a minute)"
            )
        else:
            click.echo("archive hand-off: off (set archive_endpoint to turn it on)")
        if retried:
            click.echo(f"retrying {retried} failed submissions")
        if backfill:
            click.echo(
                f"queued {backfilled} latest versions never handed off"
                " (the daemon saves them at the configured rate)"
            )
        counts = " · ".join(
            f"{status} {summary.counts.get(status, 0)}"
            for status in ("pending", "submitted", "archived", "failed")
        )
        if summary.oldest_pending_at is not None:
            counts += f" (oldest waiting since {stamp(summary.oldest_pending_at)})"
        click.echo(counts)
        for r in rows:
            line = f"  {r['status']:<9} v{r['seq']:<3} {r['url']}"
            if r["status"] != "failed" and r["next_attempt_at"]:
                line += f"  next {stamp(r['next_attempt_at'])}"
            click.echo(line)
            if r["last_error"]:
                click.echo(f"            {r['last_error']}")
    if failed and not retried:
        raise click.exceptions.Exit(1)


def _iso(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


COMMANDS = [archive_status]
