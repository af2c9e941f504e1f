"""Checking now and reading the logs: `check`, `checks`, `events`."""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    pass


from tracker.cli._app import (
    EXIT_INTERRUPTED,
    AppContext,
    CLIError,
    friendly_errors,
    iso,
    json_out,
    limit_option,
    pass_app,
    raw_stream,
    rich_text,
)
from tracker.core.words import counted

# -- checking ---------------------------------------------------------------------------


FAILED_OUTCOMES = ("error", "empty", "blocked")


def summary_line(counts: Counter[str], total: int) -> str:
    parts = [
        f"{counts['changed']} changed",
        f"{counts['unchanged']} unchanged",
        f"{counts['not_modified']} not modified",
        counted(sum(counts[outcome] for outcome in FAILED_OUTCOMES), "error"),
    ]
    if counts["skipped"]:
        parts.append(f"{counts['skipped']} skipped (being checked by another worker)")
    return f"checked {total}: " + ", ".join(parts)


def check_exit_status(counts: Counter[str], total: int, *, strict: bool) -> int:
    """`tracker check`'s exit status: 0 when the pass did its job, 1 when it did not.

    By default a pass "did its job" when at least one check succeeded: one dead page among
    hundreds is the normal state of a news list and must not make cron mail every hour.
    With --strict any failed check makes it 1 (a script that wants every page fetched).
    """
    failed = sum(counts[outcome] for outcome in FAILED_OUTCOMES)
    if failed == 0:
        return 0
    return 1 if strict or failed == total else 0


@click.command()
@click.argument("refs", nargs=-1)
@click.option("--all", "check_all", is_flag=True, help="Check every active story.")
@click.option("--strict", is_flag=True, help="Exit 1 if any check fails (default: if all do).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report per story.")
@click.option(
    "--timings",
    is_flag=True,
    help="Also print the CPU time per check spent in each stage "
    "(fetch, parse, extract, fingerprint, diff, write).",
)
@pass_app
@friendly_errors
def check(
    app: AppContext,
    refs: tuple[str, ...],
    check_all: bool,
    strict: bool,
    as_json: bool,
    timings: bool,
) -> None:
    """Check stories now (one pass), whether due or not, and print a summary line.

    \b
    Exit status:
      0    every check succeeded, or some did (without --strict)
      1    every check failed (with --strict: any check failed), or a usage error
      130  interrupted (Ctrl-C): the checks in flight finish and are counted
    A failed check is an outcome of error, empty or blocked (see `tracker checks --errors`).
    """
    from sqlalchemy import select

    from tracker.services.stories import find_story
    from tracker.store.models import Story, StoryStatus

    if refs and check_all:
        raise CLIError("give story URLs or ids, or --all, not both")
    if not refs and not check_all:
        raise CLIError("name stories to check (URL or id), or use --all")
    # Whether some story has no validators to send: its check surely reads a page.
    unconditional = Story.etag.is_(None) & Story.last_modified.is_(None)
    with app.session() as session:
        if check_all:
            rows = session.execute(
                select(Story.id, unconditional)
                .where(Story.status == StoryStatus.ACTIVE)
                .order_by(Story.id)
            ).all()
            ids, pages_expected = [row[0] for row in rows], any(row[1] for row in rows)
        else:
            stories = [find_story(session, ref, tracking=app.tracking) for ref in refs]
            ids = list(dict.fromkeys(story.id for story in stories))
            pages_expected = any(
                story.etag is None and story.last_modified is None for story in stories
            )
    if not ids:
        if as_json:
            json_out([])
        click.echo("no active stories to check (see `tracker list`)", err=True)
        return

    reports, interrupted, cpu = _run_checks(
        app, ids, show_progress=not as_json, pages_expected=pages_expected
    )
    counts = Counter(str(report.outcome) for report in reports)
    if as_json:
        json_out([_report_json(report) for report in reports])
    line = summary_line(counts, len(reports))
    if interrupted:
        line += f" (interrupted: {len(ids) - len(reports)} not checked)"
    # With --json the summary goes to stderr so that stdout stays one JSON document.
    click.echo(line, err=as_json)
    if timings:
        from tracker.pipeline.stages import describe

        click.echo(f"CPU per check: {describe(cpu)}", err=as_json)
    if interrupted:
        sys.exit(EXIT_INTERRUPTED)
    status = check_exit_status(counts, len(reports), strict=strict)
    if status:
        sys.exit(status)


def _run_checks(
    app: AppContext, ids: Sequence[int], *, show_progress: bool, pages_expected: bool = True
) -> tuple[list[Any], bool, dict[str, float]]:
    """Check the stories; returns the reports, whether Ctrl-C cut the pass short, and the
    mean CPU seconds per check by stage (tracker.pipeline.stages).

    `pages_expected`: some check will surely read a page (a story has no validators to
    send), so the extraction processes are started at once; otherwise only when a page
    comes (every story may answer 304, and they would cost a core's second of imports).

    On Ctrl-C no new check starts, the ones in flight finish (their versions are stored),
    and the leases of the stories not checked are given back at once, so that the daemon
    does not wait for them to expire. A second Ctrl-C exits at once.
    """
    settings = app.settings
    if len(ids) <= 2:
        # Starting extraction processes costs more than it saves for a couple of pages.
        settings = settings.model_copy(update={"extract_processes": 0})
    elif settings.extract_processes != 0 and pages_expected:
        from tracker.pipeline.extraction_pool import start_server

        start_server()  # its imports run on another core while this process imports its own

    from tracker.pipeline import claims
    from tracker.pipeline.engine import CheckEngine

    # On a terminal, a progress bar with each report printed above it; else (a log, a pipe,
    # cron) one plain line per report, without importing rich at all.
    console = _terminal_console() if show_progress else None
    bar = _progress_bar(console, len(ids)) if console is not None else None
    reports: list[Any] = []
    interrupted = False
    worker = None
    cpu: dict[str, float] = {}
    try:
        with CheckEngine(app.db, settings) as engine, bar or contextlib.nullcontext():
            worker = engine.worker_id

            def on_report(report: Any) -> None:
                reports.append(report)
                if bar is not None:
                    bar.advance(bar.task_ids[0])
                    bar.console.print(
                        rich_text(_report_line(report)), highlight=False, soft_wrap=True
                    )
                elif show_progress:  # one write (made safe by the stream), not a render
                    click.echo(_report_line(report), err=True)

            try:
                engine.check_now(ids, on_report=on_report)
                cpu = engine.stage_cpu.per_check()
            except KeyboardInterrupt:
                interrupted = True
                note = "interrupted: finishing the checks in flight (Ctrl-C again to quit at once)"
                if bar is not None:
                    bar.console.print(note, highlight=False)  # above the bar, as the reports
                else:
                    click.echo(note, err=True)
    except KeyboardInterrupt:
        click.echo("interrupted again: quitting; unfinished checks' leases expire", err=True)
        os._exit(EXIT_INTERRUPTED)  # worker threads are not daemons; do not wait for them
    if interrupted and worker is not None:
        done = {report.story_id for report in reports}
        with app.session() as session:
            claims.release(session, [i for i in ids if i not in done], worker=worker)
    return reports, interrupted, cpu


def _terminal_console() -> Any:
    """A rich console on stderr if rich would draw there (a terminal, or TTY_COMPATIBLE /
    FORCE_COLOR set to say so); else None. rich (about 15 ms of imports) is asked only when
    a plain isatty() cannot tell."""
    stream = raw_stream(err=True)
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        tty = False
    if not tty and not {"TTY_COMPATIBLE", "FORCE_COLOR"} & os.environ.keys():
        return None
    from rich.console import Console

    console = Console(file=stream)
    return console if console.is_terminal else None


def _progress_bar(console: Any, total: int) -> Any:
    """A transient rich progress bar on `console`, counting `total` checks (one task)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    )
    bar.add_task("", total=total)
    return bar


def _report_line(report: Any) -> str:
    outcome = str(report.outcome)
    line = f"{outcome:<12} {report.url or report.story_id}"
    if report.version_seq:
        line += f" → v{report.version_seq}: {report.summary}"
    if report.error:
        line += f" — {report.error}"
    if report.fetcher == "browser":
        line += " [rendered in the browser]"
    if "extraction_suspect" in report.events:
        line += " — SUSPECT: the stored text is probably not the article (`tracker show`)"
    return line


def _report_json(report: Any) -> dict[str, Any]:
    return {
        "story_id": report.story_id,
        "url": report.url,
        "outcome": str(report.outcome),
        "http_status": report.http_status,
        "error": report.error,
        "version": report.version_seq,
        "kinds": list(report.kinds),
        "summary": report.summary,
        "events": report.events,
        "status": str(report.status),
        "next_check_at": iso(report.next_check_at),
        "schedule": report.schedule_reason,
        "fetcher": report.fetcher,
        "render_reason": report.render_reason,
        "extraction_health": report.extraction_health,
    }


@click.command()
@click.argument("ref", required=False)
@click.option("--errors", is_flag=True, help="Only failed checks.")
@limit_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def checks(app: AppContext, ref: str | None, errors: bool, limit: int, as_json: bool) -> None:
    """The log of check attempts, newest first: all stories, or the one REF (URL or id)."""
    from sqlalchemy import select

    from tracker.services.stories import find_story
    from tracker.store.models import Check, CheckOutcome, Story

    with app.session() as session:
        query = (
            select(Check, Story.url)
            .join(Story, Story.id == Check.story_id)
            .order_by(Check.started_at.desc(), Check.id.desc())
            .limit(limit)
        )
        if ref:
            query = query.where(
                Check.story_id == find_story(session, ref, tracking=app.tracking).id
            )
        if errors:
            query = query.where(
                Check.outcome.in_([CheckOutcome.ERROR, CheckOutcome.EMPTY, CheckOutcome.BLOCKED])
            )
        rows = [
            {
                "url": url,
                "started_at": iso(check_row.started_at),
                "duration_ms": check_row.duration_ms,
                "wait_ms": check_row.wait_ms,
                "outcome": check_row.outcome,
                "http_status": check_row.http_status,
                "error_kind": check_row.error_kind,
                "error": check_row.error,
                "bytes": check_row.bytes,
            }
            for check_row, url in session.execute(query)
        ]
    if as_json:
        json_out(rows)
        return
    if not rows:
        what = "failed checks" if errors else "checks"
        click.echo(f"no {what} yet (run `tracker check` or `tracker run`)", err=True)
    for row in rows:
        status = row["http_status"] or "—"
        when = row["started_at"][:19].replace("T", " ")
        line = f"{when}  {row['outcome']:<12} {status!s:<4} {_times(row)}  {row['url']}"
        if row["error"]:
            line += f"\n    {row['error']}"
        click.echo(line)


def _times(row: dict[str, Any]) -> str:
    """The fetch's own time, and apart from it the wait for the host's politeness slot."""
    wait = row["wait_ms"] or 0
    text = f"{row['duration_ms'] - wait:>6} ms"
    return f"{text} (+{wait} ms waiting for the host)" if wait else text


@click.command()
@click.argument("ref", required=False)
@limit_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def events(app: AppContext, ref: str | None, limit: int, as_json: bool) -> None:
    """Story events, newest first: promises made, fulfilled and overdue; stories gone or
    retired; articles unpublished, redirected, moved, paywalled or republished. All
    stories, or the one REF (URL or id)."""
    from sqlalchemy import select

    from tracker.services.stories import find_story
    from tracker.store.models import Event, Story

    with app.session() as session:
        query = (
            select(Event, Story.url)
            .join(Story, Story.id == Event.story_id)
            .order_by(Event.created_at.desc(), Event.id.desc())
            .limit(limit)
        )
        if ref:
            query = query.where(
                Event.story_id == find_story(session, ref, tracking=app.tracking).id
            )
        rows = [
            {
                "url": url,
                "kind": event.kind,
                "created_at": iso(event.created_at),
                "detail": event.detail,
                "data": event.data,  # a lifecycle event's facts: from, to, status
            }
            for event, url in session.execute(query)
        ]
    if as_json:
        json_out(rows)
        return
    if not rows:
        click.echo("no events for this story yet" if ref else "no events yet", err=True)
    for row in rows:
        when = row["created_at"][:19].replace("T", " ")
        click.echo(f"{when}  {row['kind']:<18} {row['url']}")
        if row["detail"]:
            click.echo(f"    {row['detail']}")


COMMANDS = [check, checks, events]
