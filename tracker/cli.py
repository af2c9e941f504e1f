"""The ``tracker`` command. Every listing takes ``--json`` for scripts.

Errors are one readable line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from pydantic import ValidationError

from tracker import __version__
from tracker.config import Settings, load_settings
from tracker.db import Database, DatabaseError
from tracker.timefmt import relative_time

if TYPE_CHECKING:
    from tracker.discover import TrackingParameters

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def one_line(message: str) -> str:
    """A message fit for one line of stderr: SQLAlchemy's "Background on this error" link
    dropped, a driver's multi-line explanation joined with "; "."""
    lines = [line.strip() for line in str(message).splitlines()]
    kept = [line for line in lines if line and not line.startswith("(Background on this error")]
    return "; ".join(kept) or "unknown error"


class CLIError(click.ClickException):
    def show(self, file: Any = None) -> None:
        click.echo(f"error: {one_line(self.format_message())}", err=True)


class TrackerGroup(click.Group):
    """The command group, with two safety nets a user should never have to think about:

    - a terminal that cannot encode a character (``LANG=C`` on an old system, a Windows code
      page, ``PYTHONIOENCODING=ascii``) gets a ``?`` instead of a UnicodeEncodeError;
    - an unexpected exception (a bug, a database gone mid-command) is one ``error:`` line and
      exit status 1, not a traceback; ``TRACKER_DEBUG=1`` shows the traceback instead.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                with suppress(ValueError, OSError):  # a closed or unusual stream
                    reconfigure(errors="replace")
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        import os

        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            # What a shell reports for Ctrl-C (click's default is "Aborted!" and status 1,
            # which a script cannot tell from a failure).
            click.echo("\ninterrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except EOFError:
            raise  # click prints "Aborted!" and exits 1 (a prompt's input ended)
        except OSError as exc:
            import errno

            if exc.errno == errno.EPIPE or os.environ.get("TRACKER_DEBUG"):
                raise  # click exits quietly on a closed pipe (`tracker list | head`)
            where = f": {exc.filename}" if exc.filename else ""
            raise CLIError(f"{exc.strerror or exc}{where}") from exc
        except Exception as exc:
            if os.environ.get("TRACKER_DEBUG"):
                raise
            from sqlalchemy.exc import DBAPIError, SQLAlchemyError

            if isinstance(exc, DBAPIError) and exc.orig is not None:
                # The driver's words, without the SQL statement and its parameters.
                raise CLIError(f"database error: {exc.orig}") from exc
            if isinstance(exc, SQLAlchemyError):
                raise CLIError(f"database error: {exc}") from exc
            raise CLIError(
                f"unexpected {type(exc).__name__}: {exc} "
                "(run with TRACKER_DEBUG=1 for the traceback, and please report it)"
            ) from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _friendly_errors(func: F) -> F:
    """Turn expected failures into one line on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tracker.stories import StoryError

        try:
            return func(*args, **kwargs)
        except (StoryError, DatabaseError) as exc:
            raise CLIError(str(exc)) from exc
        except OSError as exc:  # a file to read or write: say which and why, in one line
            if exc.filename is None or exc.strerror is None:
                raise CLIError(str(exc)) from exc
            raise CLIError(f"{exc.filename}: {exc.strerror}") from exc
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise CLIError(f"invalid settings: {problems}") from exc

    return wrapper  # type: ignore[return-value]


class AppContext:
    """Settings and the database, opened on first use."""

    def __init__(self, home: Path | None) -> None:
        self._home = home
        self._settings: Settings | None = None
        self._db: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            import tomllib

            from tracker.config import _config_file

            overrides = {"home": self._home} if self._home is not None else {}
            try:
                self._settings = load_settings(**overrides)
            except tomllib.TOMLDecodeError as exc:
                where = _config_file(self._home)
                raise CLIError(f"settings file {where}: not valid TOML: {exc}") from exc
        return self._settings

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings)
        return self._db

    @property
    def tracking(self) -> TrackingParameters:
        """The query parameters dropped from story URLs (built-in plus the setting's)."""
        from tracker.discover import tracking_parameters

        return tracking_parameters(self.settings.tracking_parameters)

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self.db.session() as session:
            yield session


pass_app = click.make_pass_decorator(AppContext)


def _json_out(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(
    cls=TrackerGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="tracker")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: $TRACKER_HOME or ./tracker-data).",
)
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """Track live news stories: every version kept, word-level diffs, alerts on real changes."""
    ctx.obj = AppContext(home)


# -- stories ----------------------------------------------------------------------------


def story_row(story: Any) -> dict[str, Any]:
    from tracker.serialize import jsonable, story_fields

    return jsonable(story_fields(story))


def _read_url_file(path: Path) -> list[str]:
    """The URLs of a text file: one a line; blank lines and ``#`` comments skipped.

    Every line that is not an http(s) URL is reported with its line number, and nothing
    is added: a typo on line 40 should not leave 39 stories added and the rest not.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CLIError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except OSError as exc:
        raise CLIError(f"{path}: {exc.strerror or exc}") from exc
    urls: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        url = line.strip()
        if not url or url.startswith("#"):
            continue
        problem = _bad_url(url)
        if problem:
            problems.append(f"{path}:{number}: {problem}")
            continue
        urls.append(url)
    _refuse(problems, "bad lines")
    return urls


def _bad_url(url: str) -> str | None:
    """Why `url` cannot be tracked (None when it can), with a hint for a missing scheme."""
    from tracker import netguard

    try:
        netguard.validate_url(url)
    except netguard.BadURLError as exc:
        host = url.split("/", 1)[0]
        if "://" not in url and "." in host and " " not in url:
            return f"{exc} (did you mean https://{url} ?)"
        return str(exc)
    return None


def _refuse(problems: list[str], what: str) -> None:
    """Report every problem, one line each, and fail: nothing is added."""
    if not problems:
        return
    for problem in problems[:-1]:
        click.echo(f"error: {problem}", err=True)
    if len(problems) == 1:
        raise CLIError(f"{problems[0]} (nothing added)")
    raise CLIError(f"{problems[-1]} ({len(problems)} {what}; nothing added)")


@main.command(short_help="Track stories (URLs, or a file of them).")
@click.argument("urls", nargs=-1)
@click.option(
    "--file",
    "url_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A text file of URLs, one per line (# comments allowed).",
)
@click.option("--tag", "tags", multiple=True, help="Tag the stories (repeatable).")
@click.option("--selector", help="CSS selector of the article body (overrides extraction).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_friendly_errors
def add(
    app: AppContext,
    urls: tuple[str, ...],
    url_file: Path | None,
    tags: tuple[str, ...],
    selector: str | None,
    as_json: bool,
) -> None:
    """Track one or more stories: URLS, and/or the URLs in --file. They are checked at once
    by the daemon (`tracker run`) or by `tracker check`."""
    from tracker.stories import add_stories

    if selector is not None and not selector.strip():
        raise CLIError("--selector is empty: give a CSS selector such as 'div.article-body'")
    _refuse([problem for problem in map(_bad_url, urls) if problem], "bad URLs")
    all_urls = list(urls) + (_read_url_file(url_file) if url_file else [])
    if not all_urls:
        if url_file:
            raise CLIError(f"{url_file} has no URLs (only blank lines or # comments)")
        raise CLIError("give at least one URL, or --file with URLs")
    with app.session() as session:
        results = add_stories(
            session,
            all_urls,
            now=utcnow(),
            tags=tags,
            selector=selector,
            allow_private_networks=app.settings.allow_private_networks,
            tracking=app.tracking,
        )
    if as_json:
        _json_out([{"id": r.story_id, "url": r.url, "created": r.created} for r in results])
        return
    for result in results:
        click.echo(f"{'added' if result.created else 'already tracked'}: {result.url}")


@main.command("list")
@click.option(
    "--status",
    type=click.Choice(["active", "paused", "retired", "gone"]),
    help="Only stories in this state.",
)
@click.option("--tag", help="Only stories with this tag.")
@click.option("--developing", is_flag=True, help="Only stories carrying an update marker.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_friendly_errors
def list_command(
    app: AppContext, status: str | None, tag: str | None, developing: bool, as_json: bool
) -> None:
    """List tracked stories, most recently changed first."""
    from tracker.stories import list_stories

    now = utcnow()
    with app.session() as session:
        stories = list_stories(
            session, status=status, tag=tag, developing=True if developing else None
        )
        rows = [story_row(story) for story in stories]
    if as_json:
        _json_out(rows)
        return
    if not rows:
        if status or tag or developing:
            click.echo("no stories match (see `tracker list` for all)", err=True)
        else:
            click.echo("no stories tracked yet: add one with `tracker add URL`", err=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("id", "status", "versions", "last change", "next check", "story"):
        table.add_column(column, overflow="fold")
    for row in rows:
        status_text = row["status"] + (" · developing" if row["developing"] else "")
        table.add_row(
            str(row["id"]),
            status_text,
            str(row["versions"]),
            relative_time(_parse(row["last_changed_at"]), now),
            relative_time(_parse(row["next_check_at"]), now),
            (row["title"] or "") + f"\n{row['url']}",
        )
    Console().print(table)


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _story_command(
    name: str, help_text: str, action: Callable[..., str], *, destructive: bool = False
) -> None:
    def command(app: AppContext, refs: tuple[str, ...], yes: bool = False) -> None:
        from tracker.stories import find_story

        with app.session() as session:
            # Every story is looked up before any is changed: an unknown one among several
            # changes nothing, and nothing is reported done that was rolled back.
            stories = {}
            for ref in refs:
                story = find_story(session, ref, tracking=app.tracking)
                stories.setdefault(story.id, story)
            if destructive and not yes:
                _confirm_removal(list(stories.values()))
            lines = [f"{action(session, story)}: {story.url}" for story in stories.values()]
        for line in lines:
            click.echo(line)

    command = _friendly_errors(command)
    command = pass_app(command)
    if destructive:
        command = click.option(
            "--yes", "-y", is_flag=True, help="Do not ask for confirmation on a terminal."
        )(command)
    command = click.argument("refs", nargs=-1, required=True)(command)
    main.command(name, help=help_text)(command)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm_removal(stories: list[Any]) -> None:
    """On a terminal, removing stories that have versions asks first: the versions and their
    captures cannot be fetched again. Scripts (stdin not a terminal) are not asked."""
    versions = sum(story.version_count for story in stories)
    if versions == 0 or not _interactive():
        return
    what = f"{len(stories)} stor{'y' if len(stories) == 1 else 'ies'} and {versions} versions"
    if not click.confirm(f"remove {what}? This cannot be undone", default=False, err=True):
        raise CLIError("nothing removed")


def _pause(session: Any, story: Any) -> str:
    from tracker.models import StoryStatus
    from tracker.stories import set_status

    if story.status == StoryStatus.PAUSED:
        return "already paused"
    set_status(session, story, StoryStatus.PAUSED, now=utcnow())
    return "paused"


def _resume(session: Any, story: Any) -> str:
    from tracker.models import StoryStatus
    from tracker.stories import set_status

    if story.status == StoryStatus.ACTIVE:
        return "already active"  # its schedule stays as it is; `tracker check` checks now
    set_status(session, story, StoryStatus.ACTIVE, now=utcnow())
    return "resumed"


def _remove(session: Any, story: Any) -> str:
    from tracker.stories import remove_story

    remove_story(session, story)
    return "removed"


_story_command("pause", "Stop checking stories until resumed. REFS: URLs or ids.", _pause)
_story_command(
    "resume",
    "Check paused, retired or gone stories again, starting now. REFS: URLs or ids.",
    _resume,
)
_story_command(
    "remove",
    "Stop tracking stories and delete their versions. REFS: URLs or ids. On a terminal, "
    "asks first when there are versions to lose (--yes does not).",
    _remove,
    destructive=True,
)


# How many rows a log listing shows (`tracker checks`, `tracker events`).
limit_option = click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="How many, newest first.",
)


# -- checking ---------------------------------------------------------------------------


FAILED_OUTCOMES = ("error", "empty", "blocked")


def summary_line(counts: Counter[str], total: int) -> str:
    parts = [
        f"{counts['changed']} changed",
        f"{counts['unchanged']} unchanged",
        f"{counts['not_modified']} not modified",
        f"{sum(counts[outcome] for outcome in FAILED_OUTCOMES)} errors",
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


@main.command()
@click.argument("refs", nargs=-1)
@click.option("--all", "check_all", is_flag=True, help="Check every active story.")
@click.option("--strict", is_flag=True, help="Exit 1 if any check fails (default: if all do).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report per story.")
@pass_app
@_friendly_errors
def check(
    app: AppContext, refs: tuple[str, ...], check_all: bool, strict: bool, as_json: bool
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

    from tracker.models import Story, StoryStatus
    from tracker.stories import find_story

    if refs and check_all:
        raise CLIError("give story URLs or ids, or --all, not both")
    if not refs and not check_all:
        raise CLIError("name stories to check (URL or id), or use --all")
    with app.session() as session:
        if check_all:
            ids = list(
                session.scalars(
                    select(Story.id).where(Story.status == StoryStatus.ACTIVE).order_by(Story.id)
                )
            )
        else:
            ids = list(
                dict.fromkeys(find_story(session, ref, tracking=app.tracking).id for ref in refs)
            )
    if not ids:
        if as_json:
            _json_out([])
        click.echo("no active stories to check (see `tracker list`)", err=True)
        return

    reports, interrupted = _run_checks(app, ids, show_progress=not as_json)
    counts = Counter(str(report.outcome) for report in reports)
    if as_json:
        _json_out([_report_json(report) for report in reports])
    line = summary_line(counts, len(reports))
    if interrupted:
        line += f" (interrupted: {len(ids) - len(reports)} not checked)"
    # With --json the summary goes to stderr so that stdout stays one JSON document.
    click.echo(line, err=as_json)
    if interrupted:
        sys.exit(EXIT_INTERRUPTED)
    status = check_exit_status(counts, len(reports), strict=strict)
    if status:
        sys.exit(status)


def _run_checks(
    app: AppContext, ids: Sequence[int], *, show_progress: bool
) -> tuple[list[Any], bool]:
    """Check the stories; returns the reports and whether Ctrl-C cut the pass short.

    On Ctrl-C no new check starts, the ones in flight finish (their versions are stored),
    and the leases of the stories not checked are given back at once, so that the daemon
    does not wait for them to expire. A second Ctrl-C exits at once.
    """
    import os

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tracker import claims
    from tracker.engine import CheckEngine

    settings = app.settings
    if len(ids) <= 2:
        # Starting extraction processes costs more than it saves for a couple of pages.
        settings = settings.model_copy(update={"extract_processes": 0})
    console = Console(stderr=True)
    reports: list[Any] = []
    interrupted = False
    worker = None
    try:
        with (
            CheckEngine(app.db, settings) as engine,
            Progress(
                TextColumn("checking"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                console=console,
                transient=True,
                disable=not show_progress or not console.is_terminal,
            ) as progress,
        ):
            worker = engine.worker_id
            task = progress.add_task("", total=len(ids))

            def on_report(report: Any) -> None:
                reports.append(report)
                progress.advance(task)
                if show_progress:
                    console.print(_report_line(report), highlight=False, soft_wrap=True)

            try:
                engine.check_now(ids, on_report=on_report)
            except KeyboardInterrupt:
                interrupted = True
                console.print(
                    "interrupted: finishing the checks in flight (Ctrl-C again to quit at once)",
                    highlight=False,
                )
    except KeyboardInterrupt:
        click.echo("interrupted again: quitting; unfinished checks' leases expire", err=True)
        os._exit(EXIT_INTERRUPTED)  # worker threads are not daemons; do not wait for them
    if interrupted and worker is not None:
        done = {report.story_id for report in reports}
        with app.session() as session:
            claims.release(session, [i for i in ids if i not in done], worker=worker)
    return reports, interrupted


def _report_line(report: Any) -> str:
    outcome = str(report.outcome)
    line = f"{outcome:<12} {report.url or report.story_id}"
    if report.version_seq:
        line += f" → v{report.version_seq}: {report.summary}"
    if report.error:
        line += f" — {report.error}"
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
    }


# -- reading versions -------------------------------------------------------------------


def version_json(story: Any, version: Any, *, text: bool = True) -> dict[str, Any]:
    from tracker.serialize import jsonable, version_fields

    return jsonable(version_fields(story, version, text=text))


@main.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_friendly_errors
def history(app: AppContext, ref: str, as_json: bool) -> None:
    """List the versions of a story. REF: its URL or id (see `tracker list`)."""
    from tracker.stories import find_story, list_versions

    with app.session() as session:
        story = find_story(session, ref, tracking=app.tracking)
        rows = [
            version_json(story, version, text=False) for version in list_versions(session, story)
        ]
        url, title = story.url, story.title
    if as_json:
        _json_out(rows)
        return
    click.echo(f"{title or '(no headline yet)'}\n{url}")
    if not rows:
        click.echo("no versions yet (run `tracker check`; `tracker checks REF` shows why not)")
    for row in rows:
        stats = f"+{row['words_added']}/−{row['words_removed']} words"
        click.echo(
            f"  v{row['seq']:<3} {row['captured_at'][:19].replace('T', ' ')}  "
            f"{', '.join(row['kinds']):<32} {stats}"
        )


# A negative version counts back from the latest (-1 the latest, -2 the one before), so
# "-2" must reach the SEQ argument instead of being taken for an unknown option.
_NEGATIVE_NUMBERS = {"ignore_unknown_options": True}


@main.command(context_settings=_NEGATIVE_NUMBERS)
@click.argument("ref")
@click.argument("seq", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_friendly_errors
def show(app: AppContext, ref: str, seq: int | None, as_json: bool) -> None:
    """Print one version of a story: the latest, or version SEQ (-1 the latest, -2 the one
    before). REF: the story's URL or id."""
    from tracker.stories import find_story, get_version

    with app.session() as session:
        story = find_story(session, ref, tracking=app.tracking)
        data = version_json(story, get_version(session, story, seq))
    if as_json:
        _json_out(data)
        return
    click.echo(f"# {data['title'] or '(no headline)'}")
    meta = [f"version {data['seq']}", f"captured {data['captured_at']}"]
    if data["byline"]:
        meta.append(f"by {data['byline']}")
    if data["published"]:
        meta.append(f"published {data['published']}")
    click.echo(" · ".join(meta))
    click.echo(f"{data['url']}\n")
    click.echo(data["text"])


@main.command(context_settings=_NEGATIVE_NUMBERS)
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
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@pass_app
@_friendly_errors
def diff(
    app: AppContext,
    ref: str,
    from_seq: int | None,
    to_seq: int | None,
    output_format: str,
    color: bool | None,
    as_json: bool,
) -> None:
    """Show what changed in a story, word by word. REF: its URL or id.

    \b
      tracker diff URL          the latest change
      tracker diff URL N        the change that made version N
      tracker diff URL 1 5      from version 1 to version 5 (the older one first)
      tracker diff URL -2 -1    negative numbers count back from the latest
    """
    from tracker import diffing
    from tracker.stories import StoryError, find_story, get_version

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
    if before.seq == after.seq:
        raise CLIError(f"FROM and TO are both version {after.seq}: nothing to diff")
    if before.seq > after.seq:
        raise CLIError(
            f"FROM (v{before.seq}) is newer than TO (v{after.seq}): give the older version "
            f"first, e.g. `tracker diff {ref} {after.seq} {before.seq}`"
        )
    if as_json:
        output_format = "json"
    title_change = (before.title or "") != (after.title or "")
    word_diff = diffing.word_diff(before.text, after.text)
    title_diff = diffing.word_diff(before.title or "", after.title or "") if title_change else None
    if output_format == "json":
        _json_out(
            {
                "url": url,
                "from": before.seq,
                "to": after.seq,
                "title_before": before.title,
                "title_after": after.title,
                "kinds": after.kinds if after.seq == before.seq + 1 else None,
                "diff": diffing.diff_to_json(word_diff),
                "title_diff": diffing.diff_to_json(title_diff) if title_diff else None,
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
            ),
            nl=False,
        )
        return
    if output_format in ("html", "side-by-side"):
        render = (
            diffing.render_html_inline
            if output_format == "html"
            else diffing.render_html_side_by_side
        )
        if title_diff:
            click.echo(f"<h1>{diffing.render_html_inline(title_diff)}</h1>")
        click.echo(render(word_diff))
        return
    use_color = _want_color(color)
    click.echo(f"{url}: v{before.seq} → v{after.seq}")
    if after.seq == before.seq + 1 and after.summary:
        click.echo(after.summary)
    if title_diff:
        click.echo(
            "Headline: " + diffing.render_terminal(title_diff, color=use_color), color=use_color
        )
    click.echo()
    # click.echo strips ANSI codes off a non-terminal unless told: --color must mean colour.
    click.echo(diffing.render_terminal(word_diff, color=use_color), color=use_color)


def _want_color(flag: bool | None) -> bool:
    """--color/--no-color wins; otherwise colour on a terminal unless NO_COLOR is set
    (https://no-color.org) or TERM is "dumb"."""
    import os

    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


@main.command()
@click.argument("ref", required=False)
@click.option("--errors", is_flag=True, help="Only failed checks.")
@limit_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_friendly_errors
def checks(app: AppContext, ref: str | None, errors: bool, limit: int, as_json: bool) -> None:
    """The log of check attempts, newest first: all stories, or the one REF (URL or id)."""
    from sqlalchemy import select

    from tracker.models import Check, CheckOutcome, Story
    from tracker.stories import find_story

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
                "outcome": check_row.outcome,
                "http_status": check_row.http_status,
                "error_kind": check_row.error_kind,
                "error": check_row.error,
                "bytes": check_row.bytes,
            }
            for check_row, url in session.execute(query)
        ]
    if as_json:
        _json_out(rows)
        return
    if not rows:
        what = "failed checks" if errors else "checks"
        click.echo(f"no {what} yet (run `tracker check` or `tracker run`)", err=True)
    for row in rows:
        status = row["http_status"] or "—"
        when = row["started_at"][:19].replace("T", " ")
        line = f"{when}  {row['outcome']:<12} {status!s:<4} {row['url']}"
        if row["error"]:
            line += f"\n    {row['error']}"
        click.echo(line)


@main.command()
@limit_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_friendly_errors
def events(app: AppContext, limit: int, as_json: bool) -> None:
    """Story events: promises made, fulfilled and overdue; stories gone or retired."""
    from sqlalchemy import select

    from tracker.models import Event, Story

    with app.session() as session:
        query = (
            select(Event, Story.url)
            .join(Story, Story.id == Event.story_id)
            .order_by(Event.created_at.desc(), Event.id.desc())
            .limit(limit)
        )
        rows = [
            {
                "url": url,
                "kind": event.kind,
                "created_at": iso(event.created_at),
                "detail": event.detail,
            }
            for event, url in session.execute(query)
        ]
    if as_json:
        _json_out(rows)
        return
    if not rows:
        click.echo("no events yet", err=True)
    for row in rows:
        when = row["created_at"][:19].replace("T", " ")
        click.echo(f"{when}  {row['kind']:<18} {row['url']}")
        if row["detail"]:
            click.echo(f"    {row['detail']}")


# -- the daemon -------------------------------------------------------------------------


def _run_daemon(app: AppContext, *, web: bool, log_format: str | None) -> None:
    import os
    import signal
    import threading

    from tracker._memory import limit_malloc_arenas
    from tracker.logs import configure_logging
    from tracker.scheduler import Daemon

    settings = app.settings
    configure_logging(log_format or settings.log_format)
    limit_malloc_arenas()  # before the thread pools and extraction processes start
    daemon = Daemon(app.db, settings)
    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop_requested.is_set():
            # A second signal: the operator wants out now. Leases expire by themselves.
            os._exit(128 + signum)
        click.echo(
            f"{signal.Signals(signum).name}: finishing in-flight checks "
            "(send it again to exit at once)",
            err=True,
        )
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    web_server = _start_web(app, settings) if web else None
    daemon.start()
    try:
        while not stop_requested.wait(0.5):
            pass
    finally:
        if web_server is not None:
            web_server.should_exit = True
        daemon.stop()


def _start_web(app: AppContext, settings: Settings) -> Any:
    from tracker.web import WebConfigError, start_in_thread

    try:
        return start_in_thread(app.db, settings)
    except (WebConfigError, OSError) as exc:
        raise CLIError(f"web UI: {exc} (or run with --no-web)") from exc


@main.command()
@click.option("--no-web", is_flag=True, help="Leave out the web UI.")
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log line format.")
@pass_app
@_friendly_errors
def run(app: AppContext, no_web: bool, log_format: str | None) -> None:
    """Run the daemon: check every story when due (and serve the web UI)."""
    _run_daemon(app, web=not no_web, log_format=log_format)


@main.command()
@click.option("--host", help="Address to bind (default: the web_host setting).")
@click.option("--port", type=int, help="Port (default: the web_port setting).")
@pass_app
@_friendly_errors
def serve(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve the web UI, JSON API and feeds only (no checking; see `tracker run`)."""
    from tracker.web import WebConfigError, make_server

    updates = {k: v for k, v in (("web_host", host), ("web_port", port)) if v is not None}
    settings = app.settings.model_copy(update=updates)
    try:
        server = make_server(app.db, settings)
    except WebConfigError as exc:
        raise CLIError(str(exc)) from exc
    _check_port_free(settings.web_host, settings.web_port)
    click.echo(f"serving on http://{settings.web_host}:{settings.web_port}/", err=True)
    server.run()


def _check_port_free(host: str, port: int) -> None:
    """Fail with one line before announcing "serving on …" when the port is taken (uvicorn
    would log its own ERROR line and exit 3 after the announcement)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise CLIError(f"cannot serve on {host}:{port}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            raise CLIError(
                f"cannot serve on {host}:{port}: {exc.strerror or exc} "
                "(another `tracker serve` or `tracker run`? choose another --port)"
            ) from exc


@main.command()
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log line format.")
@pass_app
@_friendly_errors
def worker(app: AppContext, log_format: str | None) -> None:
    """Run a worker without the web UI (start several against one PostgreSQL)."""
    _run_daemon(app, web=False, log_format=log_format)


@main.command()
@click.option("--step", default=5.0, show_default=True, help="Seconds between story updates.")
@click.option("--interval", default=1.5, show_default=True, help="Seconds between checks.")
@pass_app
@_friendly_errors
def demo(app: AppContext, step: float, interval: float) -> None:
    """Watch the tracker follow a developing story served locally (no internet needed)."""
    from tracker.demo import run_demo

    if step <= interval:
        raise CLIError("--step must be longer than --interval, or changes are missed")
    versions = run_demo(app.settings, step=step, interval=interval)
    if versions == 0:
        raise CLIError("the demo stored no versions; see the messages above")


# -- settings ---------------------------------------------------------------------------


@main.group()
def config() -> None:
    """Settings: see the effective values or the documented example file."""


MASK = "**********"  # what pydantic shows for a SecretStr


def redact(value: Any, key: str = "") -> Any:
    """Settings as they may be shown: values of keys naming a token, secret or password
    masked, and the password in any URL (a database URL) replaced by the mask."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if value and any(word in key.lower() for word in ("token", "secret", "password")):
        return MASK
    if isinstance(value, str) and "://" in value and "@" in value:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(value)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
    return value


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_friendly_errors
def config_show(app: AppContext, as_json: bool) -> None:
    """The effective settings (file + environment + defaults); tokens, secrets and
    passwords are masked, so the output can be pasted into a bug report."""
    data = app.settings.model_dump(mode="json")
    data["effective_database_url"] = app.settings.effective_database_url
    from tracker.notify.spec import mask_target

    for declared in data.get("channels") or []:
        if declared.get("url"):  # Apprise URLs carry tokens in every part
            declared["url"] = mask_target(declared["kind"], declared["url"])
    data = redact(data)
    if as_json:
        _json_out(data)
        return
    for name, value in data.items():
        click.echo(f"{name} = {value!r}")


@config.command("example")
def config_example() -> None:
    """Print config/tracker.example.toml (every setting, documented)."""
    from tracker.config import example_toml

    click.echo(example_toml(), nl=False)


# -- database ---------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_app
@_friendly_errors
def db_upgrade(app: AppContext) -> None:
    """Apply pending schema migrations (also done automatically on start)."""
    from tracker.db import current_revision, head_revision

    database = app.db  # opening the database upgrades it
    click.echo(
        f"database at revision {current_revision(database.engine)} "
        f"(head {head_revision(database.engine)})"
    )


# -- alerts -----------------------------------------------------------------------------

from tracker.notify.cli import channel, deliveries  # noqa: E402

main.add_command(channel)
main.add_command(deliveries)

# -- discovery and archive --------------------------------------------------------------

from tracker.discover_cli import COMMANDS as _discovery_commands  # noqa: E402
from tracker.discover_cli import vacuum_command  # noqa: E402

for _command in _discovery_commands:
    main.add_command(_command)
db.add_command(vacuum_command)

# -- a story's own settings -------------------------------------------------------------

from tracker.story_cli import set_command  # noqa: E402

main.add_command(set_command)


def _whole_first_sentences(group: click.Group) -> None:
    """Command lists show each command's whole first sentence, wrapped, instead of click's
    cut to the terminal width ("Track one or more stories (checked at once by the daemon
    or..."), which hid what half the commands do."""
    import inspect

    for command in group.commands.values():
        if not command.short_help and command.help:
            paragraph = inspect.cleandoc(command.help).split("\n\n")[0].replace("\n", " ")
            end = paragraph.find(". ")
            command.short_help = paragraph if end == -1 else paragraph[: end + 1]
        if isinstance(command, click.Group):
            _whole_first_sentences(command)


_whole_first_sentences(main)


if __name__ == "__main__":  # pragma: no cover
    main()
