"""The tamper-evident chain of a story's versions, as stored (see tracker.core.chain).

New versions are linked when written (:func:`link_new_version`); a story whose versions were
legitimately rebuilt (``tracker reextract``, an import) is chained again from its first
version (:func:`rechain`). ``tracker verify`` recomputes stored chains
(tracker.services.verify).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.chain import (
    CONTENT_FIELDS,
    GENESIS,
    chain_link,
    content_digest,
    links_for,
)
from tracker.store.models import Story, Version

__all__ = ["chain_fields", "link_new_version", "rechain"]


def chain_fields(version: Version) -> dict[str, Any]:
    """What the chain hashes of a stored version, plus the digests stored beside it."""
    fields: dict[str, Any] = {name: getattr(version, name) for name in CONTENT_FIELDS}
    fields.update(
        seq=version.seq,
        captured_at=version.captured_at,
        raw_sha256=version.raw_sha256,
        content_sha256=version.content_sha256,
        chain_sha256=version.chain_sha256,
    )
    return fields


def link_new_version(session: Session, story: Story, version: Version) -> None:
    """Set the digests of `version`, the story's newest, chaining it to the one before."""
    previous = GENESIS
    if version.seq > 1:
        stored = session.scalar(
            select(Version.chain_sha256).where(
                Version.story_id == story.id, Version.seq == version.seq - 1
            )
        )
        # Unchained only if an upgrade's back-fill never ran: the break then shows there.
        previous = stored or GENESIS
    version.content_sha256 = content_digest(chain_fields(version))
    version.chain_sha256 = chain_link(
        previous,
        seq=version.seq,
        captured_at=version.captured_at,
        url=story.url,
        content_sha256=version.content_sha256,
        raw_sha256=version.raw_sha256,
    )


def _versions(session: Session, story: Story) -> list[Version]:
    return list(
        session.scalars(select(Version).where(Version.story_id == story.id).order_by(Version.seq))
    )


def rechain(session: Session, story: Story) -> str:
    """Chain every version of `story` again, oldest first; returns the new head."""
    versions = _versions(session, story)
    links = links_for(story.url, [chain_fields(version) for version in versions])
    for version, link in zip(versions, links, strict=True):
        version.content_sha256 = link.content_sha256
        version.chain_sha256 = link.chain_sha256
    session.flush()
    return links[-1].chain_sha256 if links else GENESIS
