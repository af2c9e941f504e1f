"""The senders the outbox and ``tracker channel test`` use: one instance of each channel kind,
created on first use and shared by the delivery threads."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tracker.notify.kinds import ChannelKind, Destination, kinds, redact_result, redactor
from tracker.notify.payload import Alert
from tracker.notify.result import SendResult


class Senders:
    """One instance of each kind, created on first use."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._kinds: dict[str, ChannelKind] = {}
        self._lock = threading.Lock()

    def send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        """Send, and mask the channel's secrets in what the result says (see
        :mod:`tracker.notify.redact`): it is recorded, logged and shown."""
        redact = redactor(destination.kind, destination.target, destination.secret, self.settings)
        return redact_result(self._send(destination, alerts, key, now), redact)

    def _send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        kind_class = kinds().get(destination.kind)
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
