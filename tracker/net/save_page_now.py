"""The HTTP side of the web-archive hand-off: one request to a Save Page Now style API,
read by :mod:`tracker.core.web_archive`. Never raises for the archive's sake: a network
error, a timeout or a garbled answer is an :class:`Answer` to retry.

The endpoint is the operator's own setting (like a webhook URL), so it is not put through
the SSRF guard; redirects are not followed (the simple form reads them itself).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from tracker import __version__
from tracker.core.web_archive import Answer, Outcome, read_save, read_simple, read_status


class SavePageNow:
    """A client for one archive endpoint (``api``: ``spn2`` or ``simple``)."""

    def __init__(
        self,
        endpoint: str,
        *,
        api: str = "spn2",
        replay_base: str,
        timeout: float,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.api = api
        self.replay_base = replay_base
        headers = {"User-Agent": f"tracker/{__version__}", "Accept": "application/json"}
        if access_key and secret_key:
            headers["Authorization"] = f"LOW {access_key}:{secret_key}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,  # never an environment proxy: the archive is addressed directly
        )

    def save(self, url: str) -> Answer:
        """Ask the archive to save ``url``: a job to poll (spn2) or the copy (simple)."""
        try:
            if self.api == "simple":
                reply = self._client.get(f"{self.endpoint}/save/{url}")
                location = reply.headers.get("content-location") or reply.headers.get("location")
                return read_simple(reply.status_code, location, self.endpoint, self.replay_base)
            reply = self._client.post(f"{self.endpoint}/save", data={"url": url})
            return read_save(reply.status_code, _json(reply))
        except httpx.HTTPError as exc:
            return _network_error(exc)

    def status(self, job_id: str) -> Answer:
        """How the SPN2 job ``job_id`` is doing."""
        try:
            reply = self._client.get(f"{self.endpoint}/save/status/{job_id}")
            return read_status(reply.status_code, _json(reply), self.replay_base)
        except httpx.HTTPError as exc:
            return _network_error(exc)

    def close(self) -> None:
        self._client.close()


def _json(reply: httpx.Response) -> Any:
    try:
        return reply.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _network_error(exc: httpx.HTTPError) -> Answer:
    detail = str(exc) or type(exc).__name__
    return Answer(Outcome.RETRY, error=f"{type(exc).__name__}: {detail}"[:500])
