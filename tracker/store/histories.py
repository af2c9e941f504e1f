"""Every story's versions, oldest first, read for whole-history work (``tracker verify``,
the research export) without ORM objects and with bounded memory.

Stories are read a few hundred at a time: one query for their versions' chosen columns,
grouped by story.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tracker.store.models import Story, Version

__all__ = ["story_histories"]


def story_histories(
    session: Session,
    columns: Sequence[InstrumentedAttribute[Any]],
    story_ids: Sequence[int] | None = None,
    *,
    stories_per_query: int = 200,
) -> Iterator[tuple[int, str, list[dict[str, Any]]]]:
    """(story id, story URL, its versions as {column: value}, oldest first) for every story
    of `story_ids` (all when None), in story id order; a story without versions too."""
    query = select(Story.id, Story.url).order_by(Story.id)
    if story_ids is not None:
        query = query.where(Story.id.in_(story_ids))
    urls: dict[int, str] = {row[0]: row[1] for row in session.execute(query)}
    ids = list(urls)
    wanted = [Version.story_id, *(c for c in columns if c is not Version.story_id)]
    for start in range(0, len(ids), stories_per_query):
        chunk = ids[start : start + stories_per_query]
        by_story: dict[int, list[dict[str, Any]]] = {story_id: [] for story_id in chunk}
        rows = session.execute(
            select(*wanted)
            .where(Version.story_id.in_(chunk))
            .order_by(Version.story_id, Version.seq)
        ).mappings()
        for row in rows:
            by_story[row["story_id"]].append(dict(row))
        for story_id, versions in by_story.items():
            yield story_id, urls[story_id], versions
