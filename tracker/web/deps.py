"""What every route needs from the app: the database, the settings, checks, raw captures."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request, Response

from tracker.config import Settings
from tracker.services.stories import get_version
from tracker.store.captures import load_body
from tracker.store.db import Database
from tracker.store.models import Capture
from tracker.web import queries
from tracker.web.security import RAW_CSP

if TYPE_CHECKING:
    from tracker.pipeline.engine import CheckEngine
    from tracker.pipeline.story_state import CheckReport


def database(request: Request) -> Database:
    return request.app.state.db


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


class EngineHolder:
    """One CheckEngine for "check now", made on first use and closed with the app."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        # Extraction in the request's thread: a web process should not fork workers.
        self._settings = settings.model_copy(update={"extract_processes": 0})
        self._engine: CheckEngine | None = None
        self._lock = threading.Lock()

    def get(self) -> CheckEngine:
        with self._lock:
            if self._engine is None:
                from tracker.pipeline.engine import CheckEngine

                self._engine = CheckEngine(self._db, self._settings)
            return self._engine

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None


def run_check(request: Request, story_id: int) -> CheckReport:
    holder: EngineHolder = request.app.state.engines
    [report] = holder.get().check_now([story_id])
    return report


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def raw_capture_response(
    request: Request, story_id: int, seq: int, *, download: bool = False
) -> Response:
    """The raw HTTP body of a version, never as live HTML in our origin.

    Served as text/plain (nosniff, so no browser second-guesses it) with a sandbox CSP; with
    `download`, as an attachment.
    """
    body, encoding, number = _stored_capture(request, story_id, seq, screenshot=False)
    try:
        text = body.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    headers = {
        "Content-Security-Policy": RAW_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
    }
    if download:
        name = _UNSAFE_FILENAME.sub("-", f"story-{story_id}-v{number}.html")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return Response(body, media_type="application/octet-stream", headers=headers)
    return Response(text, media_type="text/plain; charset=utf-8", headers=headers)


def screenshot_response(request: Request, story_id: int, seq: int) -> Response:
    """The PNG screenshot of a version rendered in the browser (browser_screenshots)."""
    body, _, _ = _stored_capture(request, story_id, seq, screenshot=True)
    headers = {
        "Content-Security-Policy": RAW_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=86400",
    }
    return Response(body, media_type="image/png", headers=headers)


def _stored_capture(
    request: Request, story_id: int, seq: int, *, screenshot: bool
) -> tuple[bytes, str | None, int]:
    """A version's raw capture (or its screenshot), the capture's encoding and the version's
    number (`seq` may count back from the latest); 404 when it was never stored or has been
    pruned."""
    what = "screenshot" if screenshot else "raw capture"
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        version = get_version(session, story, seq)
        sha = version.screenshot_sha256 if screenshot else version.capture_sha256
        if sha is None:
            raise HTTPException(404, f"version {version.seq} has no {what} stored")
        body = load_body(session, sha)
        capture = session.get(Capture, sha)
        encoding = capture.encoding if capture is not None else None
        number = version.seq
    if body is None:
        raise HTTPException(404, f"the {what} of version {number} is no longer stored")
    return body, encoding, number
