"""Decisions of the web-archive hand-off, with no I/O: what an archive's answer means, when
to try again, how much room the rate limit leaves.

The archive speaks the Wayback Machine's "Save Page Now" API. Two forms are understood:

- ``spn2``: ``POST {endpoint}/save`` (form field ``url``, ``Accept: application/json``)
  answers ``{"url": …, "job_id": …}``; ``GET {endpoint}/save/status/{job_id}`` answers
  ``{"status": "pending"}`` until ``{"status": "success", "timestamp": …,
  "original_url": …}`` or ``{"status": "error", "status_ext": …, "message": …}``.
- ``simple``: ``GET {endpoint}/save/{url}`` saves at once and points at the copy with a
  ``Content-Location`` header or a redirect ``Location`` (``/web/{timestamp}/{url}``).

The archived copy is ``{replay_base}/{timestamp}/{original_url}``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin

# SPN2 errors that another attempt cannot fix: the page or the URL itself is refused.
PERMANENT_ERRORS = frozenset(
    {
        "error:blocked-url",
        "error:blocked",
        "error:invalid-url-syntax",
        "error:invalid-host-resolution",
        "error:no-access",
        "error:not-implemented",
        "error:filesize-limit",
    }
)
# HTTP answers worth trying again: the archive is busy, down or asks us to slow down.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_REPLAY_PATH = re.compile(r"/web/(\d{14})(?:[a-z]{2}_)?/(.+)$")
ERROR_TEXT_LIMIT = 500


class Outcome(StrEnum):
    ARCHIVED = "archived"  # the copy exists: timestamp (and original_url) are known
    ACCEPTED = "accepted"  # SPN2 took the job: poll job_id
    PENDING = "pending"  # the job is still running: poll again later
    RETRY = "retry"  # failed this time; another attempt may succeed
    FAILED = "failed"  # failed for good


@dataclass(frozen=True)
class Answer:
    """What one request to the archive came to."""

    outcome: Outcome
    job_id: str | None = None
    timestamp: str | None = None
    original_url: str | None = None
    archived_url: str | None = None
    error: str | None = None


def archived_url(replay_base: str, timestamp: str, original_url: str) -> str:
    return f"{replay_base.rstrip('/')}/{timestamp}/{original_url}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_TEXT_LIMIT else text[: ERROR_TEXT_LIMIT - 1] + "…"


def _http_error(status: int, body: Any) -> Answer:
    detail = ""
    if isinstance(body, dict):
        detail = str(body.get("message") or body.get("status_ext") or "")
    error = _short(f"HTTP {status}" + (f": {detail}" if detail else ""))
    if status in TRANSIENT_STATUSES or status >= 500:
        return Answer(Outcome.RETRY, error=error)
    return Answer(Outcome.FAILED, error=error)


def _spn_error(body: dict[str, Any]) -> Answer:
    code = str(body.get("status_ext") or "error")
    message = str(body.get("message") or "")
    error = _short(f"{code}: {message}" if message else code)
    if code in PERMANENT_ERRORS:
        return Answer(Outcome.FAILED, error=error)
    return Answer(Outcome.RETRY, error=error)


def read_save(status: int, body: Any) -> Answer:
    """The answer to an SPN2 save request (``body``: the decoded JSON, or None)."""
    if status != 200:
        return _http_error(status, body)
    if not isinstance(body, dict):
        return Answer(Outcome.RETRY, error="the archive's answer is not a JSON object")
    if body.get("job_id"):
        return Answer(Outcome.ACCEPTED, job_id=str(body["job_id"]))
    if body.get("status") == "error":
        return _spn_error(body)
    return Answer(Outcome.RETRY, error=_short(f"no job_id in the archive's answer: {body}"))


def read_status(status: int, body: Any, replay_base: str) -> Answer:
    """The answer to an SPN2 status request."""
    if status != 200:
        return _http_error(status, body)
    if not isinstance(body, dict):
        return Answer(Outcome.RETRY, error="the archive's answer is not a JSON object")
    state = body.get("status")
    if state == "pending":
        return Answer(Outcome.PENDING)
    if state == "success":
        timestamp, original = body.get("timestamp"), body.get("original_url")
        if not timestamp or not original:
            return Answer(Outcome.RETRY, error="success without timestamp and original_url")
        return Answer(
            Outcome.ARCHIVED,
            timestamp=str(timestamp),
            original_url=str(original),
            archived_url=archived_url(replay_base, str(timestamp), str(original)),
        )
    if state == "error":
        return _spn_error(body)
    return Answer(Outcome.RETRY, error=_short(f"unknown job status {state!r}"))


def read_simple(status: int, location: str | None, endpoint: str, replay_base: str) -> Answer:
    """The answer to a ``GET {endpoint}/save/{url}``: the copy named by ``location``
    (``Content-Location``, or a redirect's ``Location``), relative to the endpoint."""
    if status >= 400:
        return _http_error(status, None)
    if not location:
        return Answer(Outcome.RETRY, error=f"HTTP {status} without the archived copy's location")
    found = _REPLAY_PATH.search(urljoin(endpoint.rstrip("/") + "/", location))
    if found is None:
        return Answer(Outcome.RETRY, error=_short(f"not an archived copy's address: {location}"))
    timestamp, original = found.groups()
    return Answer(
        Outcome.ARCHIVED,
        timestamp=timestamp,
        original_url=original,
        archived_url=archived_url(replay_base, timestamp, original),
    )


@dataclass(frozen=True)
class HandoffPolicy:
    """How hard the hand-off tries, and how fast it may go."""

    per_minute: int = 4
    max_attempts: int = 6
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_cap: timedelta = timedelta(hours=6)
    poll_every: timedelta = timedelta(seconds=30)
    poll_for: timedelta = timedelta(minutes=15)
    lease: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.per_minute < 1:
            raise ValueError("archive_max_attempts and archive_per_minute must be at least 1")
        # The rate limit counts rows saved within the last minute: a row must not be saved
        # twice in one minute, or it would count once for two requests.
        if self.backoff_base < timedelta(minutes=1) or self.backoff_cap < self.backoff_base:
            raise ValueError("archive back-off: need 1m <= archive_backoff_base <= _cap")


def room(policy: HandoffPolicy, saved_last_minute: int) -> int:
    """How many save requests the rate limit allows now."""
    return max(0, policy.per_minute - saved_last_minute)


def retry_at(attempts: int, policy: HandoffPolicy, now: datetime) -> datetime | None:
    """When to try a save again after ``attempts`` failed ones; None: give up."""
    if attempts >= policy.max_attempts:
        return None
    exponent = attempts - 1
    if exponent * math.log(2) >= math.log(policy.backoff_cap / policy.backoff_base):
        return now + policy.backoff_cap
    return now + policy.backoff_base * (2**exponent)
