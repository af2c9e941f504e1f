"""The channel registry: one small class per kind (email, webhook, apprise), and the
channels table managed from the CLI or declared in the settings file.

Each kind knows how to check a target and how to send alerts to it; the outbox does not
care which kind it talks to. Adding a kind is adding a class to :data:`KINDS`.

Channels live in the database (deliveries refer to them, so they need a stable id). The
CLI adds and removes them there; channels declared in the settings file are synced into
the table when the daemon starts (and before every ``tracker channel`` command), marked
``source = "settings"``: the file is their single source of truth, so the CLI refuses to
remove them, and removing one from the file removes it from the table.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.notify import apprise as apprise_channel
from tracker.notify import email as email_channel
from tracker.notify import webhook as webhook_channel
from tracker.notify.payload import Alert, digest_subject, webhook_payload
from tracker.notify.result import SendResult
from tracker.notify.spec import ChannelSettings, Filters, check_events, check_min_kind
from tracker.store.alert_models import Channel


class ChannelError(Exception):
    """A channel cannot be added, found or used; the message says why."""


@dataclass(frozen=True)
class Destination:
    """A channel row detached from its session: what a sender needs."""

    id: int
    name: str
    kind: str
    target: str
    secret: str | None
    uid: str
    digest_seconds: int | None

    @classmethod
    def of(cls, channel: Channel) -> Destination:
        return cls(
            id=channel.id,
            name=channel.name,
            kind=channel.kind,
            target=channel.target,
            secret=channel.secret,
            uid=channel.uid,
            digest_seconds=channel.digest_seconds,
        )


class ChannelKind:
    """One way of sending alerts. Instances are shared by the delivery threads."""

    name: ClassVar[str]

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    @classmethod
    def validate(cls, target: str, secret: str | None) -> tuple[str, str | None]:
        """The normalised (target, secret); ValueError saying what is wrong."""
        raise NotImplementedError

    def send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


class EmailChannel(ChannelKind):
    name = "email"

    @classmethod
    def validate(cls, target: str, secret: str | None) -> tuple[str, str | None]:
        return email_channel.validate_recipients(target), None

    def send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        config = email_channel.SmtpConfig.from_settings(self.settings)
        recipients = email_channel.recipients_of(destination.target)
        message = email_channel.build_message(
            alerts,
            sender=config.sender,
            recipients=recipients,
            channel=destination.name,
            key=key,
            now=now,
        )
        return email_channel.send_message(message, recipients, config)


class WebhookChannel(ChannelKind):
    name = "webhook"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    @classmethod
    def validate(cls, target: str, secret: str | None) -> tuple[str, str | None]:
        url = webhook_channel.validate_url(target.strip())
        secret = webhook_channel.validate_secret(secret) if secret else webhook_channel.new_secret()
        return url, secret

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # Never a proxy from the environment; one only when the operator names it.
            session.trust_env = False
            proxy = getattr(self.settings, "webhook_proxy_url", None)
            if proxy is not None:
                url = proxy.get_secret_value()
                session.proxies = {"http": url, "https": url}
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        if not destination.secret:
            return SendResult(False, error="the channel has no signing secret")
        body = webhook_channel.encode_body(webhook_payload(alerts, key))
        headers = webhook_channel.signed_headers(
            body, secret=destination.secret, message_id=key, now=now
        )
        return webhook_channel.post(
            self._session(),
            destination.target,
            body,
            headers,
            timeout=self.settings.webhook_timeout,
        )

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


class AppriseChannel(ChannelKind):
    name = "apprise"

    @classmethod
    def validate(cls, target: str, secret: str | None) -> tuple[str, str | None]:
        return apprise_channel.validate_url(target.strip()), None

    def send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        text, _ = email_channel.render_bodies(alerts, channel=destination.name, key=key)
        return apprise_channel.send(destination.target, digest_subject(alerts), text)


KINDS: dict[str, type[ChannelKind]] = {
    kind.name: kind for kind in (EmailChannel, WebhookChannel, AppriseChannel)
}


class Senders:
    """One instance of each kind, created on first use."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._kinds: dict[str, ChannelKind] = {}
        self._lock = threading.Lock()

    def send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        kind_class = KINDS.get(destination.kind)
        if kind_class is None:
            return SendResult(False, error=f"unknown channel kind {destination.kind!r}")
        with self._lock:
            sender = self._kinds.get(destination.kind)
            if sender is None:
                sender = self._kinds[destination.kind] = kind_class(self.settings)
        try:
            return sender.send(destination, alerts, key, now)
        except Exception as exc:  # noqa: BLE001 -- a bug in one send must be a recorded failure
            return SendResult(False, error=f"internal error: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        with self._lock:
            for sender in self._kinds.values():
                sender.close()
            self._kinds.clear()


# -- the channels table -----------------------------------------------------------------


def filters_of(channel: Channel) -> Filters:
    return Filters(
        tags=frozenset(channel.tags or ()),
        stories=frozenset(channel.stories or ()),
        min_kind=channel.min_kind,
        events=frozenset(channel.events or ()),
    )


def new_uid() -> str:
    return secrets.token_hex(8)


def find_channel(session: Session, name: str) -> Channel:
    channel = session.scalar(select(Channel).where(Channel.name == name))
    if channel is None:
        known = ", ".join(session.scalars(select(Channel.name).order_by(Channel.name))) or "none"
        raise ChannelError(f"no channel named {name!r} (channels: {known})")
    return channel


def add_channel(
    session: Session,
    *,
    name: str,
    kind: str,
    target: str,
    secret: str | None = None,
    tags: Sequence[str] = (),
    stories: Sequence[str] = (),
    min_kind: str | None,
    events: Sequence[str],
    digest_seconds: int | None = None,
    enabled: bool = True,
    source: str = "cli",
    now: datetime,
) -> Channel:
    """Add a channel (a webhook without a secret gets a fresh one: read it back once)."""
    if kind not in KINDS:
        raise ChannelError(f"unknown channel kind {kind!r}; known: {', '.join(KINDS)}")
    if session.scalar(select(Channel.id).where(Channel.name == name)) is not None:
        raise ChannelError(f"a channel named {name!r} exists already")
    try:
        target, secret = KINDS[kind].validate(target, secret)
        events = check_events(events)
        min_kind = check_min_kind(min_kind)
    except ValueError as exc:
        raise ChannelError(f"channel {name!r}: {exc}") from exc
    channel = Channel(
        name=name,
        kind=kind,
        target=target,
        secret=secret,
        uid=new_uid(),
        tags=sorted(set(tags)),
        stories=list(dict.fromkeys(stories)),
        min_kind=min_kind,
        events=list(events),
        digest_seconds=digest_seconds,
        enabled=enabled,
        source=source,
        created_at=now,
    )
    session.add(channel)
    session.flush()
    return channel


def remove_channel(session: Session, name: str) -> int:
    """Remove a CLI-managed channel and its deliveries; returns how many were still owed."""
    from tracker.store.alert_models import Delivery, DeliveryStatus

    channel = find_channel(session, name)
    if channel.source == "settings":
        raise ChannelError(f"channel {name!r} is declared in the settings file: remove it there")
    owed = len(
        session.scalars(
            select(Delivery.id).where(
                Delivery.channel_id == channel.id,
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
            )
        ).all()
    )
    session.delete(channel)
    session.flush()
    return owed


def sync_declared(
    session: Session, declared: Sequence[ChannelSettings], *, now: datetime
) -> list[str]:
    """Make the table's settings-file channels match ``declared``; returns what changed.

    A channel keeps its id and uid across syncs (pending deliveries and idempotency keys
    stay valid); a CLI channel of the same name is an error rather than silently replaced.
    """
    from tracker.notify.spec import digest_seconds

    changes: list[str] = []
    existing = {
        channel.name: channel
        for channel in session.scalars(select(Channel).where(Channel.source == "settings"))
    }
    for spec in declared:
        secret = spec.secret.get_secret_value() if spec.secret else None
        try:
            target, secret = KINDS[spec.kind].validate(spec.target, secret)
        except ValueError as exc:
            raise ChannelError(f"settings: channel {spec.name!r}: {exc}") from exc
        values = {
            "kind": spec.kind,
            "target": target,
            "secret": secret,
            "tags": sorted(set(spec.tags)),
            "stories": list(dict.fromkeys(spec.stories)),
            "min_kind": spec.min_kind,
            "events": list(spec.events),
            "digest_seconds": digest_seconds(spec.digest),
            "enabled": spec.enabled,
        }
        channel = existing.pop(spec.name, None)
        if channel is None:
            if session.scalar(select(Channel.id).where(Channel.name == spec.name)) is not None:
                raise ChannelError(
                    f"settings: channel {spec.name!r} also exists as a CLI channel; "
                    "rename one of them"
                )
            session.add(
                Channel(name=spec.name, uid=new_uid(), source="settings", created_at=now, **values)
            )
            changes.append(f"added {spec.name}")
        elif any(getattr(channel, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(channel, key, value)
            changes.append(f"updated {spec.name}")
    for name, channel in existing.items():
        session.delete(channel)
        changes.append(f"removed {name}")
    session.flush()
    return changes
