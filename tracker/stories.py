"""Managing the list of stories: add, find, list, pause, resume, remove.

The CLI and the web API both go through these functions, so they behave the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from tracker import netguard
from tracker.models import Story, StoryStatus, StoryTag, Version

if TYPE_CHECKING:
    from tracker.discover import TrackingParameters


class StoryError(Exception):
    """A user-facing problem with a story request; the message is shown as is."""


class StoryNotFound(StoryError):
    pass


@dataclass(frozen=True)
class AddResult:
    url: str
    story_id: int
    created: bool


def normalise_url(url: str, tracking: TrackingParameters | None = None) -> str:
    """The URL as stored: one spelling per article (see :func:`discover.canonicalise_url`):
    scheme and host lower-cased, default port, fragment and tracking parameters (the built-in
    ones, or `tracking`, which the `tracking_parameters` setting extends) dropped."""
    from tracker.discover import canonicalise_url

    return canonicalise_url(netguard.validate_url(url.strip()), tracking)


def add_stories(
    session: Session,
    urls: Iterable[str],
    *,
    now: datetime,
    tags: Sequence[str] = (),
    selector: str | None = None,
    allow_private_networks: bool = False,
    first_seen_at: datetime | None = None,
    tracking: TrackingParameters | None = None,
) -> list[AddResult]:
    """Add stories (due at once). Existing URLs gain the tags; nothing else changes.

    URLs are stored as :func:`normalise_url` spells them, with `tracking` parameters dropped.

    Raises :class:`StoryError` for an invalid URL, a private address (unless allowed) or a
    bad selector, before anything is written.
    """
    if selector:
        from tracker.extract import validate_selector

        try:
            validate_selector(selector)
        except ValueError as exc:
            raise StoryError(str(exc)) from exc
    cleaned: list[str] = []
    for raw in urls:
        try:
            url = normalise_url(raw, tracking)
            netguard.check_url(url, allow_private=allow_private_networks)
        except (netguard.BadURLError, netguard.PrivateNetworkError) as exc:
            raise StoryError(str(exc)) from exc
        except OSError as exc:  # DNS failure: the story may still become reachable
            if not isinstance(exc, netguard.HostLookupError):
                raise StoryError(f"{raw}: {exc}") from exc
        if url not in cleaned:
            cleaned.append(url)

    results: list[AddResult] = []
    for url in cleaned:
        # A page that declared this URL its canonical one is already this story.
        story = session.scalar(select(Story).where(Story.url == url)) or session.scalar(
            select(Story).where(Story.canonical_url == url).order_by(Story.id).limit(1)
        )
        created = story is None
        if story is None:
            story = Story(
                url=url,
                status=StoryStatus.ACTIVE,
                added_at=now,
                first_seen_at=first_seen_at or now,
                next_check_at=now,
                selector=selector,
                ignore_patterns=[],
                developing=False,
                consecutive_failures=0,
                consecutive_gone=0,
                version_count=0,
            )
            session.add(story)
            session.flush()
        existing = {t.tag for t in story.tags}
        for tag in tags:
            if tag and tag not in existing:
                story.tags.append(StoryTag(tag=tag))
                existing.add(tag)
        results.append(AddResult(url, story.id, created))
    return results


def find_story(
    session: Session, ref: str | int, *, tracking: TrackingParameters | None = None
) -> Story:
    """A story by id or URL (as given or normalised, with `tracking` parameters dropped)."""
    story: Story | None = None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        story = session.get(Story, int(ref))
    else:
        story = session.scalar(select(Story).where(Story.url == ref))
        if story is None:
            try:
                story = session.scalar(
                    select(Story).where(Story.url == normalise_url(ref, tracking))
                )
            except netguard.BadURLError:
                story = None
    if story is None:
        raise StoryNotFound(f"no story {ref!r} is tracked (see `tracker list`)")
    return story


def stories_query(
    *,
    status: str | None = None,
    tag: str | None = None,
    developing: bool | None = None,
    search: str | None = None,
) -> Select[tuple[Story]]:
    query = select(Story)
    if status:
        query = query.where(Story.status == status)
    if tag:
        query = query.where(Story.id.in_(select(StoryTag.story_id).where(StoryTag.tag == tag)))
    if developing is not None:
        query = query.where(Story.developing.is_(developing))
    if search:
        pattern = f"%{search}%"
        query = query.where(Story.url.ilike(pattern) | Story.title.ilike(pattern))
    return query


def list_stories(session: Session, **filters: object) -> list[Story]:
    query = (
        stories_query(**filters)  # type: ignore[arg-type]
        .options(selectinload(Story.tags))
        .order_by(Story.last_changed_at.desc().nulls_last(), Story.id)
    )
    return list(session.scalars(query))


def set_status(session: Session, story: Story, status: StoryStatus, *, now: datetime) -> None:
    story.status = status
    if status == StoryStatus.ACTIVE:
        story.next_check_at = now
        story.consecutive_failures = 0
        story.consecutive_gone = 0


def remove_story(session: Session, story: Story) -> None:
    session.delete(story)


def get_version(session: Session, story: Story, seq: int | None) -> Version:
    """Version ``seq`` of a story (the latest when ``seq`` is None); negative counts back."""
    if story.version_count == 0:
        raise StoryError(f"{story.url} has no versions yet (run `tracker check`)")
    if seq is None:
        seq = story.version_count
    elif seq < 0:
        seq = story.version_count + 1 + seq
    version = session.scalar(
        select(Version).where(Version.story_id == story.id, Version.seq == seq)
    )
    if version is None:
        raise StoryError(
            f"{story.url} has no version {seq} (it has versions 1–{story.version_count})"
        )
    return version


def list_versions(session: Session, story: Story) -> list[Version]:
    return list(
        session.scalars(select(Version).where(Version.story_id == story.id).order_by(Version.seq))
    )


def count_stories(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Story)) or 0
