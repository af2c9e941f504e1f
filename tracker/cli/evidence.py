"""Proving the history: `verify`, `timestamp`."""

from __future__ import annotations

import sys
import time

import click

from tracker.cli._app import AppContext, CLIError, friendly_errors, json_out, pass_app, utcnow


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
    link to the version before it (docs/evidence.md). The RFC 3161 timestamps covering the
    stories are checked too: their heads, imprint, and the TSA's signature (with
    tsa_ca_file). Exit status 1 when a chain or a timestamp is broken.
    """
    from tracker.services.stories import find_story
    from tracker.services.timestamps import verify_timestamps
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
        stamps = verify_timestamps(session, app.settings, ids)
    elapsed = time.perf_counter() - started
    stamps_ok = all(check.ok for check in stamps)
    if as_json:
        json_out(
            {
                "ok": report.ok,
                "stories": report.stories,
                "versions": report.versions,
                "seconds": round(elapsed, 3),
                "broken": [{"url": b.url, "seq": b.seq, "reason": b.reason} for b in report.broken],
                "heads": report.heads,
                "timestamps": [
                    {
                        "id": check.timestamp_id,
                        "tsa_url": check.tsa_url,
                        "gen_time": check.gen_time.isoformat() if check.gen_time else None,
                        "heads": check.heads,
                        "signature_checked": check.signature_checked,
                        "ok": check.ok,
                        "problems": check.problems,
                    }
                    for check in stamps
                ],
            }
        )
    else:
        for broken in report.broken:
            click.echo(f"BROKEN  {broken.url}  at version {broken.seq}: {broken.reason}")
        if stories:
            for url, head in report.heads.items():
                click.echo(f"head    {url}  {head}")
        for check in stamps:
            when = check.gen_time.isoformat() if check.gen_time else "?"
            if check.ok:
                signed = (
                    "" if check.signature_checked else " (signature not checked: no tsa_ca_file)"
                )
                click.echo(
                    f"stamped {check.heads} heads at {when} by {check.tsa_url}: holds{signed}"
                )
            else:
                click.echo(
                    f"BROKEN  timestamp {check.timestamp_id} ({when}, {check.tsa_url}): "
                    + "; ".join(check.problems)
                )
        verdict = "every chain holds" if report.ok else f"{len(report.broken)} broken"
        if stamps:
            broken_stamps = sum(not check.ok for check in stamps)
            verdict += (
                f"; {len(stamps)} timestamps hold"
                if stamps_ok
                else f"; {broken_stamps} of {len(stamps)} timestamps broken"
            )
        click.echo(
            f"verified {report.stories:,} stories, {report.versions:,} versions "
            f"in {elapsed:.2f} s: {verdict}"
        )
    if not report.ok or not stamps_ok:
        sys.exit(1)


@click.command("timestamp")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def timestamp_command(app: AppContext, as_json: bool) -> None:
    """Timestamp the chain heads that changed since the last timestamp, now, with the RFC
    3161 time-stamping authority of tsa_url (docs/evidence.md).

    One request covers every changed story. The daemon does the same at most every
    tsa_interval. A TSA that cannot be reached or refuses is recorded; exit status 1.
    """
    from tracker.services.timestamps import TimestampingOff, stamp_changed_heads

    try:
        result = stamp_changed_heads(app.db, app.settings, now=utcnow())
    except TimestampingOff as exc:
        raise CLIError(str(exc)) from exc
    if as_json:
        json_out(
            {
                "ok": result.ok,
                "id": result.timestamp_id,
                "heads": result.heads,
                "gen_time": result.gen_time.isoformat() if result.gen_time else None,
                "message_imprint": result.message_imprint,
                "error": result.error,
            }
        )
    elif result.timestamp_id is None:
        click.echo("no chain head changed since the last timestamp: nothing to stamp")
    elif result.ok:
        assert result.gen_time is not None
        click.echo(
            f"timestamped {result.heads:,} chain heads: {app.settings.tsa_url} "
            f"at {result.gen_time.isoformat()} (imprint {result.message_imprint})"
        )
    else:
        click.echo(f"timestamp of {result.heads:,} chain heads failed: {result.error}", err=True)
    if not result.ok:
        sys.exit(1)


COMMANDS = [verify_command, timestamp_command]
