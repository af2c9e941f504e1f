"""The ``tracker`` command. Every listing takes ``--json`` for scripts.

Errors are one readable line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tracker import __version__

# Start-up time: this module is imported by every command, `tracker --version` included, so
# it imports only click and the standard library. Settings (pydantic), the database
# (SQLAlchemy, Alembic) and everything else are imported where a command uses them;
# tests/test_startup.py checks that `tracker --version` and `tracker list` stay light.
if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.core.discover import TrackingParameters
    from tracker.store.db import Database

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def one_line(message: str) -> str:
    """A message fit for one line of stderr: SQLAlchemy's "Background on this error" link
    dropped, a driver's multi-line explanation joined with "; "."""
    lines = [line.strip() for line in str(message).splitlines()]
    kept = [line for line in lines if line and not line.startswith("(Background on this error")]
    return "; ".join(kept) or "unknown error"


# Characters a terminal acts on instead of showing: C0 controls (but newline and tab), DEL,
# C1 controls (0x9b is a one-byte CSI on some terminals), and the bidirectional overrides
# that make text display in another order than it reads ("Trojan source").
_TERMINAL_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_LINE_BREAKS = re.compile(r"[\n\t]")
# The colour and style sequences the tracker's own output uses (click.style, the diff
# renderer): bold, dim, italic, underline, strike-through, foreground colours, resets.
# Nothing that hides text, moves the cursor, sets a title or opens a link.
_OWN_SGR = re.compile(r"\x1b\[((?:(?:[0-4]|9|2[2-49]|3[0-79]|9[0-7])(?:;(?=\d)|(?=m)))*)m")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(value: object, *, one_line: bool = False) -> str:
    """`value` as text a terminal shows rather than obeys: control characters as visible
    escapes (``\\x1b``); with `one_line`, newlines and tabs too (a table cell, a field).

    Every string that came from a page, a feed, a URL or a user goes through this (or
    through the stream filter :class:`TerminalSafeStream`) before it reaches a terminal."""
    text = _TERMINAL_UNSAFE.sub(_escape, str(value))
    return _LINE_BREAKS.sub(_escape, text) if one_line else text


def rich_text(value: object, *, one_line: bool = False) -> Any:
    """A rich `Text` of `value`, made terminal-safe and never parsed as rich markup (a
    headline holding "[link=…]" or "[/b]" is shown as written)."""
    from rich.text import Text

    return Text(terminal_safe(value, one_line=one_line))


class TerminalSafeStream:
    """Wraps stdout/stderr for the whole command: whatever is written through click.echo
    (listings, messages, errors, usage errors quoting arguments) has its control characters
    escaped, except the tracker's own colour sequences. Rich consoles, which write cursor
    movements of their own, get the raw stream (:func:`raw_stream`) and safe `Text`."""

    def __init__(self, stream: Any) -> None:
        self.raw = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("a text stream")  # click probes with b"" for binary streams
        kept = _OWN_SGR.split(text)
        # split() with one group: text, sequence parameters, text, … - rebuild the sequences.
        safe = "".join(
            terminal_safe(part) if i % 2 == 0 else f"\x1b[{part}m" for i, part in enumerate(kept)
        )
        self.raw.write(safe)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":
            # Without it click writes through this wrapper instead of around it.
            raise AttributeError(name)
        return getattr(self.raw, name)


def raw_stream(err: bool = False) -> Any:
    """The stream under :class:`TerminalSafeStream`, for rich consoles."""
    stream = sys.stderr if err else sys.stdout
    return stream.raw if isinstance(stream, TerminalSafeStream) else stream


def raised(exc: BaseException, module: str, name: str) -> bool:
    """Whether `exc` is an instance of the class `name` of `module`, without importing it: if
    the module was never imported, nothing can have raised its exceptions."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(exc, getattr(loaded, name))


class CLIError(click.ClickException):
    def show(self, file: Any = None) -> None:
        click.echo(f"error: {one_line(self.format_message())}", err=True)


class LazyGroup(click.Group):
    """A group whose commands are imported when first used ("lazy loading subcommands" in
    click's documentation): `tracker list` imports the module of `list` and no other, so a
    command starts without paying for the imports of every other one.

    Each module is registered with the names of its commands (:meth:`register_lazily`), so
    the names are known without importing anything; `tracker --help` and :attr:`commands`
    (the docs, the tests that walk every command) import every module."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lazy: dict[str, str] = {}  # command name -> module not imported yet
        self._declared: dict[str, tuple[str, ...]] = {}  # module -> its command names
        super().__init__(*args, **kwargs)

    def register_lazily(self, module: str, names: Sequence[str]) -> None:
        """Commands `names`, defined in `module`'s ``COMMANDS``, imported on first use."""
        self._declared[module] = tuple(names)
        for name in names:
            self._lazy[name] = module

    # click.Group keeps its commands in `self.commands`; here that mapping holds the
    # commands imported so far, and reading it from outside imports the rest first.
    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        """Every command of the group (importing every module not imported yet)."""
        for module in dict.fromkeys(self._lazy.values()):
            self._load(module)
        return self._loaded

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        self._loaded = value

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._lazy.pop(name, None)
        self._loaded[name] = cmd

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = self._lazy.get(cmd_name)
        if module is not None:
            self._load(module)
        return self._loaded.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self._loaded, *self._lazy})

    def _load(self, module_name: str) -> None:
        import importlib

        module = importlib.import_module(module_name)
        commands = list(module.COMMANDS)
        declared = self._declared[module_name]
        if sorted(c.name or "" for c in commands) != sorted(declared):
            raise RuntimeError(
                f"{module_name} defines the commands {[c.name for c in commands]} but is "
                f"registered with {list(declared)}: make the two lists agree"
            )
        for command in commands:
            whole_first_sentences(command)
            self.add_command(command)


def whole_first_sentences(command: click.Command) -> None:
    """Command lists show each command's whole first sentence, wrapped, instead of click's
    cut to the terminal width ("Track one or more stories (checked at once by the daemon
    or..."), which hid what half the commands do."""
    if not command.short_help and command.help:
        paragraph = inspect.cleandoc(command.help).split("\n\n")[0].replace("\n", " ")
        end = paragraph.find(". ")
        command.short_help = paragraph if end == -1 else paragraph[: end + 1]
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            whole_first_sentences(subcommand)


class TrackerGroup(LazyGroup):
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
        saved = sys.stdout, sys.stderr
        if not isinstance(sys.stdout, TerminalSafeStream):
            sys.stdout = TerminalSafeStream(sys.stdout)
        if not isinstance(sys.stderr, TerminalSafeStream):
            sys.stderr = TerminalSafeStream(sys.stderr)
        try:
            return super().main(*args, **kwargs)
        finally:
            sys.stdout, sys.stderr = saved

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
            driver_error = getattr(exc, "orig", None)
            if raised(exc, "sqlalchemy.exc", "DBAPIError") and driver_error is not None:
                # The driver's words, without the SQL statement and its parameters.
                raise CLIError(f"database error: {driver_error}") from exc
            if raised(exc, "sqlalchemy.exc", "SQLAlchemyError"):
                raise CLIError(f"database error: {exc}") from exc
            raise CLIError(
                f"unexpected {type(exc).__name__}: {exc} "
                "(run with TRACKER_DEBUG=1 for the traceback, and please report it)"
            ) from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def stamp(value: datetime | str | None) -> str:
    """A time as the CLI prints it to people: UTC, to the second ("2026-03-01 14:05:09 UTC").
    A text that is not an ISO 8601 time (a page's own "published" words) is shown as it is;
    a time without a zone is taken as UTC, as the database stores it."""
    if value is None:
        return "—"
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return value.strip()  # a date only: no time to put in UTC
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        when = value
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def friendly_errors(func: F) -> F:
    """Turn expected failures into one line on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            # Looked up by module, so that a command that never imported the services or the
            # database does not import them here (see `raised`).
            if raised(exc, "tracker.services.stories", "StoryError") or raised(
                exc, "tracker.store.db", "DatabaseError"
            ):
                raise CLIError(str(exc)) from exc
            if isinstance(exc, OSError):  # a file to read or write: say which and why
                if exc.filename is None or exc.strerror is None:
                    raise CLIError(str(exc)) from exc
                raise CLIError(f"{exc.filename}: {exc.strerror}") from exc
            if raised(exc, "pydantic_core", "ValidationError"):  # pydantic's ValidationError
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                    for err in exc.errors()  # type: ignore[attr-defined]
                )
                raise CLIError(f"invalid settings: {problems}") from exc
            raise

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

            from tracker.config import _config_file, load_settings

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
            from tracker.store.db import Database

            self._db = Database(self.settings)
        return self._db

    def close(self) -> None:
        """Close the database connections, if any were opened (SQLite then folds its
        write-ahead log back into ``tracker.db``, so the file copied alone is whole)."""
        if self._db is not None:
            self._db.dispose()
            self._db = None

    @property
    def tracking(self) -> TrackingParameters:
        """The query parameters dropped from story URLs (built-in plus the setting's)."""
        from tracker.core.discover import tracking_parameters

        return tracking_parameters(self.settings.tracking_parameters)

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self.db.session() as session:
            yield session


pass_app = click.make_pass_decorator(AppContext)


def json_out(data: Any) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    # json escapes C0 controls itself, not DEL, C1 or bidi overrides: escape those the JSON
    # way (\u009b), so that the terminal filter leaves them alone and the JSON stays valid.
    click.echo(_TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


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
    ctx.call_on_close(ctx.obj.close)


def run() -> None:
    """The ``tracker`` console script (and ``python -m tracker``): :func:`main`, then an
    exit that does not free the heap object by object.

    At exit the interpreter collects and frees everything a command imported and built
    (SQLAlchemy's, requests' and pydantic's objects): 0.15-0.25 s of CPU after a
    ``tracker check --all`` has done its work, which the end of the process does anyway.
    :func:`gc.freeze` puts every object out of the collector's reach first. The rest of
    the interpreter's shutdown still happens: threads are joined, ``atexit`` handlers run
    (logging is flushed, extraction processes are stopped), stdout and stderr are flushed;
    the database was closed when the command's context closed (:meth:`AppContext.close`).
    Tests call :func:`main` in-process, where the freeze would outlive the command.
    """
    import gc

    try:
        main()
    finally:
        gc.freeze()


def read_url_file(path: Path) -> list[str]:
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
        problem = bad_url(url)
        if problem:
            problems.append(f"{path}:{number}: {problem}")
            continue
        urls.append(url)
    refuse(problems, "bad lines")
    return urls


def bad_url(url: str) -> str | None:
    """Why `url` cannot be tracked (None when it can), with a hint for a missing scheme."""
    from tracker.net import netguard

    try:
        netguard.validate_url(url)
    except netguard.BadURLError as exc:
        host = url.split("/", 1)[0]
        if "://" not in url and "." in host and " " not in url:
            return f"{exc} (did you mean https://{url} ?)"
        return str(exc)
    return None


def refuse(problems: list[str], what: str) -> None:
    """Report every problem, one line each, and fail: nothing is added."""
    if not problems:
        return
    for problem in problems[:-1]:
        click.echo(f"error: {problem}", err=True)
    if len(problems) == 1:
        raise CLIError(f"{problems[0]} (nothing added)")
    raise CLIError(f"{problems[-1]} ({len(problems)} {what}; nothing added)")


# How many rows a log listing shows (`tracker checks`, `tracker events`).
limit_option = click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="How many, newest first.",
)


def render_option(help: str) -> Callable[[F], F]:
    """``--render``: a render mode (see tracker.net.fetcher), or "default" for the setting."""
    from tracker.net.fetcher import RENDER_MODES

    return click.option("--render", type=click.Choice([*RENDER_MODES, "default"]), help=help)
