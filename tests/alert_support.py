"""Support for the alert tests: real receivers on 127.0.0.1 (a webhook endpoint on
LocalServer, an SMTP server from aiosmtpd) recording exactly what arrived, and a rig with
a tracked story, a check engine and a delivery runner on one simulated clock.

A pytest plugin (tests/conftest.py lists it): its `rig` fixture serves every test module;
a module that needs the rig set up otherwise defines its own `rig`, which takes precedence."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import make_settings
from servers import Exchange, LocalServer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.demo.site import STAGES, render_page
from tracker.notify.payload import DEFAULT_EVENTS
from tracker.pipeline.engine import CheckEngine
from tracker.pipeline.outbox import DeliveryRunner
from tracker.services.stories import add_stories
from tracker.store.alert_models import Delivery
from tracker.store.channels import add_channel
from tracker.store.db import Database
from tracker.store.models import Story


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WebhookReceiver:
    """Answers POSTs at ``path`` with the next scripted status (then 200s), recording each."""

    def __init__(self, server: LocalServer, path: str = "/hook") -> None:
        self.server = server
        self.path = path
        self.script: list[int] = []
        self._lock = threading.Lock()
        server.set_handler(path, self._handle)

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def answer(self, *statuses: int) -> None:
        with self._lock:
            self.script = list(statuses)

    def _handle(self, exchange: Exchange) -> None:
        with self._lock:
            status = self.script.pop(0) if self.script else 200
        headers = {"Content-Type": "text/plain"}
        if 300 <= status < 400:
            headers["Location"] = "/elsewhere"
        exchange.send(status, headers, f"receiver says {status}")

    @property
    def requests(self):
        return self.server.requests_for(self.path)


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, tuple[str, ...]]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, tuple(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued as TEST123"


class SmtpReceiver:
    def __init__(self, port: int) -> None:
        self.port = port
        self.collector = _Collector()
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@contextmanager
def smtp_receiver(port: int | None = None) -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(port or free_port()).start()
    try:
        yield receiver
    finally:
        receiver.stop()


# -- a tracked story, a clock and a delivery runner ----------------------------------------


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Rig:
    """A database, a story served by ``server``, a check engine and a delivery runner that
    share one simulated clock: back-off windows pass instantly and exactly."""

    def __init__(self, tmp_path: Path, database_url: str, server: LocalServer, **overrides):
        self.clock = SimulatedClock(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
        values = {"delivery_backoff_base": "30s", "delivery_backoff_cap": "1h", **overrides}
        self.settings = make_settings(tmp_path / "home", database_url, **values)
        self.db = Database(self.settings)
        self.server = server
        self.path = "/news/story"
        self.engine = CheckEngine(self.db, self.settings, clock=self.clock)
        self.runner = DeliveryRunner(self.db, self.settings, worker="test-worker", clock=self.clock)
        server.set(self.path, render_page(STAGES[0], 0))
        with self.db.session() as session:
            add_stories(
                session,
                [server.url(self.path)],
                now=self.clock(),
                allow_private_networks=True,
                tags=["iraq"],
            )
            self.story_id = session.scalar(select(Story.id))

    def add_channel(self, name: str, kind: str, target: str, **options) -> str:
        values = {"min_kind": "text_edited", "events": DEFAULT_EVENTS, **options}
        with self.db.session() as session:
            channel = add_channel(
                session, name=name, kind=kind, target=target, now=self.clock(), **values
            )
            return channel.uid

    def publish(self, stage: int, chrome: int = 0):
        """The page moves to ``stage``; check it now (the check enqueues the alerts)."""
        self.server.set(self.path, render_page(STAGES[stage], chrome))
        self.clock.advance(minutes=1)
        [report] = self.engine.check_now([self.story_id])
        return report

    def deliveries(self) -> list[Delivery]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Delivery)
                    .options(selectinload(Delivery.attempt_log))
                    .order_by(Delivery.id)
                )
            )

    def close(self) -> None:
        self.runner.close()
        self.engine.close()
        self.db.dispose()


@pytest.fixture
def rig(tmp_path: Path, database_url: str, server: LocalServer) -> Iterator[Rig]:
    """A story tracked on `server`, with an engine and a delivery runner on one clock."""
    made = Rig(tmp_path, database_url, server)
    yield made
    made.close()
