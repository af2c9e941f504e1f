"""Webhook alerts: a JSON POST signed per the Standard Webhooks specification.

Headers ``webhook-id`` (the delivery's idempotency key: the same on every retry, so
receivers can drop duplicates), ``webhook-timestamp`` (send time, for replay protection)
and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``).
Any 2xx answer is success; anything else, 3xx included (redirects are not followed: a
moved endpoint is a configuration error to see, not to paper over), is a failure to retry.

:class:`WebhookChannel` is the ``webhook`` channel kind: one ``requests`` session per
delivery thread, never a proxy from the environment.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import requests
from standardwebhooks.webhooks import Webhook

from tracker import __version__
from tracker.net.urls import vet_url
from tracker.notify.kinds import ChannelKind, Destination, register
from tracker.notify.payload import Alert, webhook_payload
from tracker.notify.redact import mask_url, url_secrets
from tracker.notify.result import SendResult

SECRET_PREFIX: Final = "whsec_"
RESPONSE_EXCERPT: Final = 1000  # bytes of the receiver's answer kept with the attempt


def new_secret() -> str:
    """A fresh signing secret in the spec's format: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def validate_secret(secret: str) -> str:
    """The secret unchanged if usable; ValueError otherwise."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw + "==", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret must be 'whsec_' followed by base64") from exc
    if len(key) < 16:
        raise ValueError("webhook secret is too short: use at least 16 random bytes")
    return secret


def validate_url(url: str) -> str:
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"webhook URL must be http:// or https://, not {url!r}")
    # Read as the HTTP client (and a webhook proxy) will read it: see tracker.net.urls.
    vet_url(url, allow_userinfo=True)
    return url


def encode_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signed_headers(body: bytes, *, secret: str, message_id: str, now: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(message_id, now, body.decode("utf-8"))
    return {
        "Content-Type": "application/json",
        "User-Agent": f"tracker/{__version__} (webhook)",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def post(
    session: requests.Session,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
) -> SendResult:
    """POST once; success only on 2xx. ``timeout`` bounds connecting and each read."""
    try:
        with session.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        ) as response:
            excerpt = response.raw.read(RESPONSE_EXCERPT, decode_content=True) or b""
            text = excerpt.decode(response.encoding or "utf-8", "replace")
            ok = 200 <= response.status_code < 300
            error = None
            if not ok:
                error = f"HTTP {response.status_code} {response.reason or ''}".strip()
                if 300 <= response.status_code < 400:
                    location = response.headers.get("Location")
                    error += f" (redirect to {location}: update the channel's URL)"
            return SendResult(ok, response.status_code, text or None, error)
    except requests.Timeout as exc:
        return SendResult(False, error=f"timed out after {timeout:g} s: {exc}")
    except requests.RequestException as exc:
        return SendResult(False, error=f"{type(exc).__name__}: {exc}")


@register
class WebhookChannel(ChannelKind):
    name = "webhook"
    signed = True
    reply_label = "HTTP status"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    @classmethod
    def validate(cls, target: str, secret: str | None) -> tuple[str, str | None]:
        url = validate_url(target.strip())
        secret = validate_secret(secret) if secret else new_secret()
        return url, secret

    @classmethod
    def mask(cls, target: str) -> str:
        return mask_url(target)

    @classmethod
    def secrets(cls, target: str) -> list[str]:
        return url_secrets(target)

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
        body = encode_body(webhook_payload(alerts, key))
        headers = signed_headers(body, secret=destination.secret, message_id=key, now=now)
        return post(
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
