"""Fixtures and helpers shared by the tests of the web UI (imported by tests/test_web_*.py).

Stories get their versions through the real pipeline: a LocalServer serves the evolving
demo story and `CheckEngine.check_now` checks it, as `tracker check` would.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from servers import LocalServer
from sqlalchemy import select

from tracker.config import Settings
from tracker.demo.site import STAGES, render_page
from tracker.services.stories import add_stories
from tracker.store.db import Database
from tracker.store.models import Story, StoryStatus, Version

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx versions
    from fastapi.testclient import TestClient

from tracker.web import create_app

BASE = "http://127.0.0.1"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_client(db: Database, settings: Settings, **kwargs: Any) -> TestClient:
    return TestClient(create_app(db, settings), base_url=BASE, **kwargs)


def csrf_token(client: TestClient, page: str = "/add") -> str:
    response = client.get(page)
    match = _CSRF_RE.search(response.text)
    assert match, f"no CSRF field on {page}"
    return match.group(1)


def submit(client: TestClient, path: str, data: dict[str, str] | None = None, page: str = "/add"):
    """POST a form the way a browser does: with the page's CSRF token, not following redirects."""
    form = {"csrf_token": csrf_token(client, page), **(data or {})}
    return client.post(path, data=form, follow_redirects=False)


def check_now(db: Database, settings: Settings, story_id: int) -> Any:
    from tracker.pipeline.engine import CheckEngine

    with CheckEngine(db, settings) as engine:
        [report] = engine.check_now([story_id])
    return report


def track_demo_story(
    db: Database, settings: Settings, server: LocalServer, *, stages: int = 5, tags=("iraq",)
) -> int:
    """A story that went through the first `stages` demo stages: one version each."""
    path = "/news/us-iran-talks"
    server.set(path, render_page(STAGES[0], 0))
    with db.session() as session:
        [added] = add_stories(
            session, [server.url(path)], now=utcnow(), tags=tags, allow_private_networks=True
        )
    # The chrome rounds of tests/test_end_to_end.py: the article alone changes between them.
    for index, chrome_round in zip(range(stages), (0, 4, 5, 6, 7), strict=False):
        server.set(path, render_page(STAGES[index], chrome_round))
        report = check_now(db, settings, added.story_id)
        assert report.version_seq == index + 1, report
    return added.story_id


def insert_story(
    db: Database,
    url: str,
    texts: list[str],
    *,
    titles: list[str] | None = None,
    start: datetime | None = None,
    step: timedelta = timedelta(minutes=30),
    tags: tuple[str, ...] = (),
    **story_fields: Any,
) -> int:
    """A story with versions written directly (for data the pipeline cannot easily make)."""
    start = start or utcnow() - step * len(texts)
    with db.session() as session:
        [added] = add_stories(session, [url], now=start, tags=tags, allow_private_networks=True)
        story = session.get(Story, added.story_id)
        assert story is not None
        for index, text in enumerate(texts):
            title = titles[index] if titles else f"Headline {index + 1}"
            session.add(
                Version(
                    story_id=story.id,
                    seq=index + 1,
                    captured_at=start + step * index,
                    fingerprint=f"{index:064d}",
                    title=title,
                    headlines=[title],
                    text=text,
                    kinds=["first"] if index == 0 else ["text_edited"],
                    summary=None if index == 0 else "text edited",
                    words_added=len(text.split()) if index == 0 else 3,
                    words_removed=0 if index == 0 else 2,
                )
            )
        story.version_count = len(texts)
        story.title = titles[-1] if titles else f"Headline {len(texts)}"
        story.last_changed_at = start + step * (len(texts) - 1) if texts else None
        story.status = story_fields.pop("status", StoryStatus.ACTIVE)
        for name, value in story_fields.items():
            setattr(story, name, value)
        return story.id


def version_count(db: Database, story_id: int) -> int:
    with db.session() as session:
        return len(list(session.scalars(select(Version.id).where(Version.story_id == story_id))))
