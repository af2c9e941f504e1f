"""``tracker verify``: recompute every story's hash chain and name the first broken link.

Reads versions with plain column selects, a few hundred stories at a time, so verifying a
large history needs neither ORM objects nor much memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.chain import CONTENT_FIELDS, GENESIS, first_break
from tracker.store.models import Story, Version

__all__ = ["BrokenChain", "VerifyReport", "verify_chains"]

_STORIES_PER_QUERY = 500
_COLUMNS = (
    Version.story_id,
    Version.seq,
    Version.captured_at,
    Version.raw_sha256,
    Version.content_sha256,
    Version.chain_sha256,
    *(getattr(Version, name) for name in CONTENT_FIELDS),
)


@dataclass(frozen=True)
class BrokenChain:
    story_id: int
    url: str
    seq: int
    reason: str


@dataclass
class VerifyReport:
    stories: int = 0
    versions: int = 0
    broken: list[BrokenChain] = field(default_factory=list)
    # The newest link of each story verified: what a third party compares an export with.
    heads: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.broken


def verify_chains(
    session: Session,
    story_ids: Sequence[int] | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Verify the chains of `story_ids` (every story when None). `progress` is called with
    the number of stories done after each batch."""
    query = select(Story.id, Story.url).order_by(Story.id)
    if story_ids is not None:
        query = query.where(Story.id.in_(story_ids))
    urls: dict[int, str] = {row[0]: row[1] for row in session.execute(query)}
    ids = list(urls)
    report = VerifyReport()
    for start in range(0, len(ids), _STORIES_PER_QUERY):
        chunk = ids[start : start + _STORIES_PER_QUERY]
        by_story: dict[int, list[dict[str, object]]] = {story_id: [] for story_id in chunk}
        rows = session.execute(
            select(*_COLUMNS)
            .where(Version.story_id.in_(chunk))
            .order_by(Version.story_id, Version.seq)
        ).mappings()
        for row in rows:
            by_story[row["story_id"]].append(dict(row))
        for story_id, versions in by_story.items():
            url = urls[story_id]
            report.stories += 1
            report.versions += len(versions)
            problem = first_break(url, versions)
            if problem is not None:
                report.broken.append(BrokenChain(story_id, url, problem.seq, problem.reason))
            head = versions[-1]["chain_sha256"] if versions else GENESIS
            report.heads[url] = str(head or "")
        if progress is not None:
            progress(report.stories)
    return report
