"""Apprise alerts (optional: ``pip install 'tracker[apprise]'``): any service Apprise reaches.

Apprise only reports success or failure; what it logged while sending is kept as the
attempt's response. Apprise services have no idempotency key: a resend after a crash may
show twice there (email and webhooks carry the key).

:class:`AppriseChannel` is the ``apprise`` channel kind. An Apprise URL carries its tokens in
every part (``tgram://bottoken/ChatID``), so only its scheme is ever shown.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from tracker.notify.email import render_bodies
from tracker.notify.kinds import TARGET_MASK, ChannelKind, Destination, register
from tracker.notify.payload import Alert, digest_subject
from tracker.notify.result import SendResult
from tracker.notify.sanitize import header_text, multi_line

INSTALL_HINT = "Apprise is not installed: pip install 'tracker[apprise]'"


def available() -> bool:
    try:
        import apprise  # noqa: F401
    except ImportError:
        return False
    return True


def validate_url(url: str) -> str:
    try:
        import apprise
    except ImportError as exc:
        raise ValueError(INSTALL_HINT) from exc
    if apprise.Apprise.instantiate(url) is None:
        raise ValueError(f"Apprise does not understand the URL {url!r}")
    return url


def send(url: str, title: str, body: str, *, attachments: Sequence[str] = ()) -> SendResult:
    try:
        import apprise
    except ImportError:
        return SendResult(False, error=INSTALL_HINT)
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return SendResult(False, error="Apprise does not understand the channel's URL")
    with apprise.LogCapture(level=logging.INFO) as captured:
        ok = bool(notifier.notify(title=title, body=body))
        log = captured.getvalue().strip()
    return SendResult(ok, None, log[-1000:] or None, None if ok else "Apprise reported failure")


@register
class AppriseChannel(ChannelKind):
    name = "apprise"

    @classmethod
    def validate(cls, target: str, secret: str | None) -> tuple[str, str | None]:
        return validate_url(target.strip()), None

    @classmethod
    def mask(cls, target: str) -> str:
        scheme, separator, _ = target.partition("://")
        return f"{scheme}://{TARGET_MASK}" if separator and scheme.isalnum() else TARGET_MASK

    def send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        text, _ = render_bodies(alerts, channel=destination.name, key=key)
        # Apprise puts the title in e-mail subjects and chat headers: one clean line.
        return send(destination.target, header_text(digest_subject(alerts)), multi_line(text))
