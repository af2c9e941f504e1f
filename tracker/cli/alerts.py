"""``tracker channel add|list|remove|test|secret`` and ``tracker deliveries``.

Registered on the main command group by :mod:`tracker.cli`. The commands receive the
main group's application context as ``ctx.obj`` (settings and database, opened lazily).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

import click

from tracker.cli._app import json_out
from tracker.notify.payload import ALERT_EVENTS, DEFAULT_EVENTS
from tracker.notify.spec import DEFAULT_MIN_KIND, KIND_NAMES

F = TypeVar("F", bound=Callable[..., Any])


class _Error(click.ClickException):
    def show(self, file: Any = None) -> None:
        from tracker.cli._app import one_line

        click.echo(f"error: {one_line(self.format_message())}", err=True)


def _errors(func: F) -> F:
    """Expected failures: one line on stderr, exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pydantic import ValidationError

        from tracker.notify.kinds import ChannelError
        from tracker.services.stories import StoryError
        from tracker.store.db import DatabaseError

        try:
            return func(*args, **kwargs)
        except (ChannelError, DatabaseError, StoryError, FileNotFoundError) as exc:
            raise _Error(str(exc)) from exc
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise _Error(f"invalid settings: {problems}") from exc

    return wrapper  # type: ignore[return-value]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _sync(app: Any) -> None:
    from tracker.store.channels import sync_declared

    with app.session() as session:
        sync_declared(session, app.settings.channels, now=_now())


def channel_json(channel: Any) -> dict[str, Any]:
    return {
        "name": channel.name,
        "kind": channel.kind,
        "target": channel.target,
        "tags": channel.tags,
        "stories": channel.stories,
        "min_kind": channel.min_kind,
        "kinds": channel.kinds or [],
        "events": channel.events,
        "digest_seconds": channel.digest_seconds,
        "enabled": channel.enabled,
        "source": channel.source,
        "created_at": _iso(channel.created_at),
    }


class _KindChoice(click.Choice):
    """The registered channel kinds, looked up when the argument is parsed or shown rather
    than when this module is imported: loading the kind modules (requests, smtplib, jinja2)
    would slow every other command's start."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from tracker.notify.kinds import kinds

        return tuple(kinds())

    @choices.setter
    def choices(self, value: Any) -> None:
        pass  # click.Choice.__init__ sets it; the registry is the only source


@click.group()
def channel() -> None:
    """Alert channels: email recipients, signed webhooks, Apprise URLs."""


@channel.command("add")
@click.argument("name")
@click.argument("kind", type=_KindChoice())
@click.argument("targets", nargs=-1, required=True)
@click.option("--secret", help="Webhook signing secret (whsec_…); default: a new one, shown once.")
@click.option("--tag", "tags", multiple=True, help="Only stories with this tag (repeatable).")
@click.option("--story", "stories", multiple=True, help="Only this story (URL or id; repeatable).")
@click.option(
    "--min-kind",
    type=click.Choice([*KIND_NAMES, "any"]),
    default=DEFAULT_MIN_KIND.value,
    show_default=True,
    help="Least significant change that alerts ('any': every change, minor edits included).",
)
@click.option(
    "--kind",
    "change_kinds",
    multiple=True,
    type=click.Choice(KIND_NAMES),
    help="Only versions with this change kind (repeatable), e.g. --kind headline "
    "--kind correction. Default: any kind that meets --min-kind.",
)
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(ALERT_EVENTS),
    help=f"What to alert on (repeatable). Default: {', '.join(DEFAULT_EVENTS)}.",
)
@click.option("--digest", help="Collect alerts into one message per period, e.g. 1h or 1d.")
@click.pass_obj
@_errors
def channel_add(
    app: Any,
    name: str,
    kind: str,
    targets: tuple[str, ...],
    secret: str | None,
    tags: tuple[str, ...],
    stories: tuple[str, ...],
    min_kind: str,
    change_kinds: tuple[str, ...],
    events: tuple[str, ...],
    digest: str | None,
) -> None:
    """Add a channel. TARGETS: email addresses, or one webhook or Apprise URL.

    \b
      tracker channel add desk email desk@example.org editor@example.org --tag politics
      tracker channel add bot webhook https://example.org/hooks/tracker
      tracker channel add chat apprise 'tgram://bottoken/ChatID' --event changed
    """
    from tracker.notify.kinds import kind_named
    from tracker.services.channels import create_channel

    kind_class = kind_named(kind)
    _sync(app)
    with app.session() as session:
        created = create_channel(
            session,
            name=name,
            kind=kind,
            targets=targets,
            secret=secret,
            tags=tags,
            stories=stories,
            min_kind=min_kind,
            kinds=change_kinds,
            events=events,
            digest=digest,
            now=_now(),
        )
        target, new_secret = created.target, created.secret
    click.echo(f"added channel {name}: {kind} → {target}")
    if kind_class.signed and not secret:
        click.echo("signing secret (shown only now; configure the receiver with it):")
        click.echo(f"  {new_secret}")


@channel.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@_errors
def channel_list(app: Any, as_json: bool) -> None:
    """List channels (secrets are never shown)."""
    from sqlalchemy import select

    from tracker.store.alert_models import Channel

    _sync(app)
    with app.session() as session:
        rows = [channel_json(c) for c in session.scalars(select(Channel).order_by(Channel.name))]
    if as_json:
        json_out(rows)
        return
    if not rows:
        click.echo("no channels (add one with `tracker channel add`)", err=True)
    for row in rows:
        state = "" if row["enabled"] else " [disabled]"
        click.echo(f"{row['name']}{state}  {row['kind']} → {row['target']}  ({row['source']})")
        filters = [f"events: {', '.join(row['events'])}"]
        filters.append(f"min kind: {row['min_kind'] or 'any'}")
        if row["kinds"]:
            filters.append(f"only: {', '.join(row['kinds'])}")
        if row["tags"]:
            filters.append(f"tags: {', '.join(row['tags'])}")
        if row["stories"]:
            filters.append(f"stories: {', '.join(row['stories'])}")
        if row["digest_seconds"]:
            filters.append(f"digest every {row['digest_seconds']} s")
        click.echo("    " + "; ".join(filters))


@channel.command("remove")
@click.argument("name")
@click.pass_obj
@_errors
def channel_remove(app: Any, name: str) -> None:
    """Remove a channel and the alerts still owed to it."""
    from tracker.store.channels import remove_channel

    _sync(app)
    with app.session() as session:
        owed = remove_channel(session, name)
    note = f" ({owed} undelivered alerts dropped)" if owed else ""
    click.echo(f"removed channel {name}{note}")


@channel.command("pause")
@click.argument("name")
@click.pass_obj
@_errors
def channel_pause(app: Any, name: str) -> None:
    """Pause a channel: no alerts are queued for it until it is resumed."""
    from tracker.store.channels import set_enabled

    _sync(app)
    with app.session() as session:
        set_enabled(session, name, False)
    click.echo(f"paused channel {name}")


@channel.command("resume")
@click.argument("name")
@click.pass_obj
@_errors
def channel_resume(app: Any, name: str) -> None:
    """Resume a paused channel (alerts for changes made while paused are not sent)."""
    from tracker.store.channels import set_enabled

    _sync(app)
    with app.session() as session:
        set_enabled(session, name, True)
    click.echo(f"resumed channel {name}")


@channel.command("secret")
def channel_secret() -> None:
    """Print a new webhook signing secret (for the settings file)."""
    from tracker.notify.webhook import new_secret

    click.echo(new_secret())


@channel.command("test")
@click.argument("name")
@click.pass_obj
@_errors
def channel_test(app: Any, name: str) -> None:
    """Send a real test alert now and print exactly what happened (exit 1 on failure).

    The alert is a made-up change to the most recently changed tracked story (a sample
    story when none is tracked), so its links (with base_url) lead to a real page."""
    from tracker.services.channels import destination, send_test_alert, test_subject

    _sync(app)
    with app.session() as session:
        target = destination(session, name)
        subject = test_subject(session)
    from tracker.notify.kinds import mask_target

    shown = mask_target(target.kind, target.target)
    click.echo(f"sending a test alert to {name} ({target.kind} → {shown})")
    result = send_test_alert(target, app.settings, now=_now(), subject=subject)
    click.echo(f"  result:      {'delivered' if result.ok else 'FAILED'}")
    click.echo(f"  message id:  {result.message_id}")
    if result.reply:
        click.echo(f"  {result.reply_label + ':':<12} {result.reply}")
    if result.error:
        click.echo(f"  error:       {result.error}")
    sample = " (a sample story)" if result.sample_story else ""
    click.echo(f"  about:       {result.about}{sample}")
    if not app.settings.base_url:
        click.echo("  note:        base_url is not set: alerts carry no links into the web UI")
    if not result.ok:
        raise _Error(f"the test alert to {name} was not delivered")


@click.command()
@click.option("--failed", is_flag=True, help="Only deliveries failing (retrying) or dead.")
@click.option("--channel", "channel_name", help="Only this channel.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every attempt included).")
@click.option("--send", is_flag=True, help="First send what is due now (without the daemon).")
@click.pass_obj
@_errors
def deliveries(
    app: Any, failed: bool, channel_name: str | None, limit: int, as_json: bool, send: bool
) -> None:
    """The outbox: every alert owed or sent, with each attempt's result."""
    if send:
        from tracker.pipeline.outbox import DeliveryRunner

        _sync(app)
        runner = DeliveryRunner(app.db, app.settings, worker="cli")
        try:
            report = runner.tick()
        finally:
            runner.close()
        click.echo(f"sent {report.sent}, failed {report.failed}, dead {report.dead}", err=as_json)
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from tracker.pipeline.outbox import channel_redactor
    from tracker.store.alert_models import Channel, Delivery, DeliveryStatus
    from tracker.store.channels import find_channel
    from tracker.store.models import Story, Version

    redactors: dict[int, Any] = {}

    def masked(text: str | None, channel: Any) -> str | None:
        # Errors are masked when recorded; rows from before that are masked here.
        redact = redactors.get(channel.id)
        if redact is None:
            redact = redactors[channel.id] = channel_redactor(channel, app.settings)
        return redact(text)

    with app.session() as session:
        query = (
            select(Delivery, Story.url, Version.seq, Channel)
            .join(Story, Story.id == Delivery.story_id)
            .join(Channel, Channel.id == Delivery.channel_id)
            .outerjoin(Version, Version.id == Delivery.version_id)
            .options(selectinload(Delivery.attempt_log))
            .order_by(Delivery.created_at.desc(), Delivery.id.desc())
            .limit(limit)
        )
        if failed:
            query = query.where(Delivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.DEAD]))
        if channel_name:
            query = query.where(Delivery.channel_id == find_channel(session, channel_name).id)
        rows = [
            {
                "id": d.id,
                "channel": channel.name,
                "story": url,
                "version": seq,
                "trigger": d.trigger,
                "events": d.events,
                "status": d.status,
                "attempts": d.attempts,
                "created_at": _iso(d.created_at),
                "next_attempt_at": _iso(d.next_attempt_at),
                "sent_at": _iso(d.sent_at),
                "last_error": masked(d.last_error, channel),
                "idempotency_key": d.idempotency_key,
                "attempt_log": [
                    {
                        "number": a.number,
                        "started_at": _iso(a.started_at),
                        "duration_ms": a.duration_ms,
                        "ok": a.ok,
                        "status_code": a.status_code,
                        "response": masked(a.response, channel),
                        "error": masked(a.error, channel),
                    }
                    for a in d.attempt_log
                ],
            }
            for d, url, seq, channel in session.execute(query)
        ]
    if as_json:
        json_out(rows)
        return
    if not rows:
        click.echo("no failed deliveries" if failed else "no deliveries yet", err=True)
    for row in rows:
        what = f"v{row['version']} {row['trigger']}" if row["version"] else row["trigger"]
        line = (
            f"{row['created_at'][:19].replace('T', ' ')}  {row['status']:<7} "
            f"{row['channel']:<16} {what:<20} {row['story']}"
        )
        if row["status"] == DeliveryStatus.FAILED and row["next_attempt_at"]:
            line += f"  (retry at {row['next_attempt_at'][11:19]})"
        click.echo(line)
        for attempt in row["attempt_log"]:
            parts = [f"#{attempt['number']}", attempt["started_at"][11:19]]
            parts.append("ok" if attempt["ok"] else "failed")
            if attempt["status_code"] is not None:
                parts.append(str(attempt["status_code"]))
            if attempt["response"]:
                parts.append(" ".join(attempt["response"].split())[:120])
            if attempt["error"]:
                parts.append(f"({attempt['error']})")
            click.echo("    " + " ".join(parts))


COMMANDS = [channel, deliveries]
