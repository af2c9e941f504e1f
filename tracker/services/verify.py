"""``tracker verify``: recompute every story's hash chain and name the first broken link.

Reads versions with plain column selects, a few hundred stories at a time, so verifying a
large history needs neither ORM objects nor much memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tracker.core.chain import CONTENT_FIELDS, GENESIS, first_break
from tracker.store.histories import story_histories
from tracker.store.models import Version

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
    report = VerifyReport()
    for story_id, url, versions in story_histories(
        session, _COLUMNS, story_ids, stories_per_query=_STORIES_PER_QUERY
    ):
        report.stories += 1
        report.versions += len(versions)
        problem = first_break(url, versions)
        if problem is not None:
            report.broken.append(BrokenChain(story_id, url, problem.seq, problem.reason))
        head = versions[-1]["chain_sha256"] if versions else GENESIS
        report.heads[url] = str(head or "")
        if progress is not None and report.stories % _STORIES_PER_QUERY == 0:
            progress(report.stories)
    if progress is not None and report.stories % _STORIES_PER_QUERY:
        progress(report.stories)
    return report
