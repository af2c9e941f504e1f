"""`doctor`: is what this installation needs in place? One line per check, and what to do."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

import click

from tracker.cli._app import AppContext, friendly_errors, one_line, pass_app

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session

    from tracker.config import Settings

Status = Literal["ok", "warn", "FAIL"]
T = TypeVar("T")

# How long the proxy check waits for a TCP connection.
PROXY_CONNECT_TIMEOUT = 3.0


@dataclass(frozen=True)
class Finding:
    status: Status  # FAIL: something required is missing (exit status 1)
    check: str
    message: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.check}: {self.message}"


@click.command()
@pass_app
@friendly_errors
def doctor(app: AppContext) -> None:
    """Check the installation: home directory, database, browser, proxies.

    Prints one line per check ("ok", "warn" or "FAIL", and what to do). Exit status 1 when
    something required is missing. The browser is required only when the render setting or
    some active story or feed renders with it."""
    settings = app.settings
    findings = [check_home(settings.home)]
    database, browser_users = check_database(settings)
    findings.append(database)
    findings.append(check_browser(settings, browser_users))
    findings.extend(check_proxies(settings))
    if settings.archive_endpoint and database.status == "ok":
        findings.append(check_archive(settings))
    if settings.tsa_url and database.status == "ok":
        findings.append(check_timestamps(settings))
    for finding in findings:
        click.echo(finding.line())
    if any(finding.status == "FAIL" for finding in findings):
        raise click.exceptions.Exit(1)


def _read(settings: Settings, read: Callable[[Session], T]) -> T:
    """`read` in a session of its own on the configured database, closed afterwards."""
    from tracker.store.db import Database

    database = Database(settings)
    try:
        with database.session() as session:
            return read(session)
    finally:
        database.dispose()


def check_archive(settings: Settings) -> Finding:
    """The web-archive hand-off (only when it is on): is its queue moving?"""
    from tracker.pipeline.web_archive import queue_summary

    try:
        summary = _read(settings, queue_summary)
    except Exception as exc:  # noqa: BLE001 -- any driver's failure is the finding
        return Finding("warn", "archive", f"cannot read the queue: {one_line(str(exc))}")
    counts = summary.counts
    waiting = counts.get("pending", 0) + counts.get("submitted", 0)
    said = f"{counts.get('archived', 0)} archived, {waiting} waiting"
    failed = counts.get("failed", 0)
    if failed:
        return Finding(
            "warn",
            "archive",
            f"{said}, {failed} failed (last: {one_line(summary.last_error or '?')}); "
            "`tracker archive-status --retry-failed` tries them again",
        )
    return Finding("ok", "archive", f"{settings.archive_endpoint}: {said}")


def check_timestamps(settings: Settings) -> Finding:
    """RFC 3161 timestamps (only when a TSA is set): is the TSA granting them?"""
    from tracker.store.timestamps import timestamp_summary

    try:
        summary = _read(settings, timestamp_summary)
    except Exception as exc:  # noqa: BLE001 -- any driver's failure is the finding
        return Finding("warn", "timestamps", f"cannot read them: {one_line(str(exc))}")
    said = f"{summary.granted} granted, {summary.failed} failed"
    if summary.failing_since_granted:
        since = (
            f"since the last granted one ({summary.last_granted_at:%Y-%m-%d %H:%M} UTC)"
            if summary.last_granted_at
            else "and none was ever granted"
        )
        return Finding(
            "warn",
            "timestamps",
            f"{settings.tsa_url}: the last {summary.failing_since_granted} request(s) failed "
            f"{since} (last: {one_line(summary.last_error or '?')}); `tracker timestamp` "
            "tries now (docs/evidence.md)",
        )
    if summary.last_attempt_at is None:
        return Finding(
            "ok",
            "timestamps",
            f"{settings.tsa_url}: none requested yet (the daemon asks every "
            f"{settings.tsa_interval}; `tracker timestamp` asks now)",
        )
    return Finding("ok", "timestamps", f"{settings.tsa_url}: {said}")


def check_home(home: Path) -> Finding:
    """The home directory exists and is writable, or can be created."""
    home = home.expanduser()
    if home.exists():
        if not home.is_dir():
            return Finding("FAIL", "home", f"{home} is not a directory")
        try:
            with tempfile.TemporaryFile(dir=home):
                pass
        except OSError as exc:
            return Finding("FAIL", "home", f"{home} is not writable: {exc.strerror or exc}")
        return Finding("ok", "home", f"{home} is writable")
    parent = home.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if os.access(parent, os.W_OK | os.X_OK):
        return Finding("ok", "home", f"{home} does not exist yet; it is created on first start")
    return Finding("FAIL", "home", f"{home} does not exist and cannot be created in {parent}")


def check_database(settings: Settings) -> tuple[Finding, str | None]:
    """Reachable and at the head revision? Also: which active stories or feeds render with
    the browser (a phrase such as "3 stories", or None)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import make_url

    from tracker.store.db import READ_ONLY, head_revision, make_engine

    url = settings.effective_database_url
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    on_disk = parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None,
        "",
        ":memory:",
    )
    if on_disk and not Path(str(parsed.database)).exists():
        # Not opened: connecting would create the file, and a doctor changes nothing.
        missing = f"{shown} does not exist yet; it is created on first start"
        return Finding("warn", "database", missing), None
    try:
        engine = make_engine(url)
    except Exception as exc:  # noqa: BLE001 -- any driver's failure is the finding
        return Finding("FAIL", "database", f"cannot open {shown}: {one_line(str(exc))}"), None
    try:
        # Read-only: on SQLite a writing transaction would queue behind a running daemon.
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            finding = _revision_finding(engine, shown, current, head_revision(engine))
            browser_users = _browser_users(connection) if current is not None else None
    except Exception as exc:  # noqa: BLE001 -- any driver's failure is the finding
        return Finding("FAIL", "database", f"cannot read {shown}: {one_line(str(exc))}"), None
    finally:
        engine.dispose()
    return finding, browser_users


def _revision_finding(engine: Engine, shown: str, current: str | None, head: str | None) -> Finding:
    from alembic.script import ScriptDirectory

    from tracker.store.db import alembic_config

    if current == head:
        return Finding("ok", "database", f"{shown} at revision {current} (the head)")
    if current is None:
        return Finding(
            "warn", "database", f"{shown} is empty; the schema is created on first start"
        )
    known = {
        script.revision
        for script in ScriptDirectory.from_config(alembic_config(engine)).walk_revisions()
    }
    if current not in known:
        return Finding(
            "FAIL",
            "database",
            f"{shown} is at revision {current}, unknown to this tracker (head {head}): "
            "written by a newer version? Upgrade the tracker",
        )
    return Finding(
        "warn",
        "database",
        f"{shown} is at revision {current}, head is {head}: upgraded on start, or run "
        "`tracker db upgrade`",
    )


def _browser_users(connection: Connection) -> str | None:
    """Which active stories and feeds render with the browser ("2 stories and 1 feed"), or
    None. A database from before render modes has none: the render setting alone decides."""
    from sqlalchemy import inspect, text

    inspector = inspect(connection)
    counts: list[str] = []
    active_stories = "SELECT count(*) FROM stories WHERE render = 'browser' AND status = 'active'"
    queries = (
        ("stories", "story", active_stories),
        ("feeds", "feed", "SELECT count(*) FROM feeds WHERE render = 'browser'"),
    )
    for table, noun, query in queries:
        if not inspector.has_table(table):
            continue
        if "render" not in {column["name"] for column in inspector.get_columns(table)}:
            continue
        count = int(connection.execute(text(query)).scalar_one())
        if count:
            counts.append(f"{count} {noun}" + ("" if count == 1 else "s"))
    return " and ".join(counts) or None


def check_browser(settings: Settings, browser_users: str | None) -> Finding:
    """Can the browser start? Required when the render setting or some story needs it."""
    from tracker.net.browser import browser_status

    ok, message = browser_status(settings.browser_executable)
    if settings.render == "browser":
        needed_by: str | None = "render = browser"
    elif browser_users:
        needed_by = f"{browser_users} render with it"
    else:
        needed_by = None
    if ok:
        return Finding("ok", "browser", message)
    if needed_by is not None:
        return Finding("FAIL", "browser", f"{message} (needed: {needed_by})")
    reason = (
        "pages that need rendering cannot be rendered"
        if settings.render == "auto"
        else "not needed while render = http"
    )
    return Finding("warn", "browser", f"{message} ({reason})")


def check_proxies(settings: Settings) -> list[Finding]:
    """Each proxy set is a usable URL and accepts connections."""
    from tracker.net.netguard import is_valid_proxy_url

    findings = []
    for name in ("proxy_url", "webhook_proxy_url"):
        secret = getattr(settings, name)
        if secret is None:
            continue
        url = secret.get_secret_value()
        if not is_valid_proxy_url(url):
            findings.append(Finding("FAIL", name, "not a valid http://host:port URL"))
            continue
        from urllib3.util import parse_url

        parsed = parse_url(url)
        host = parsed.host or ""
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        where = f"{parsed.scheme}://{host}:{port}"  # without the credentials
        try:
            with socket.create_connection((host.strip("[]"), port), PROXY_CONNECT_TIMEOUT):
                pass
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            findings.append(Finding("FAIL", name, f"{where} does not accept connections: {reason}"))
            continue
        findings.append(Finding("ok", name, f"{where} accepts connections"))
    return findings


COMMANDS = [doctor]
