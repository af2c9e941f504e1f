"""A story's headline variants and varying paragraphs, as the CLI, web UI, API and export
show them (recorded by the check: tracker.pipeline.variants, rule in tracker.core.variants)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.store.variant_models import StoryVariant


def story_variants(session: Session, story_id: int) -> list[StoryVariant]:
    """Headlines first, then paragraphs; each kind most served first."""
    return list(
        session.scalars(
            select(StoryVariant)
            .where(StoryVariant.story_id == story_id)
            .order_by(
                StoryVariant.kind, StoryVariant.times_served.desc(), StoryVariant.first_seen_at
            )
        )
    )


def variant_fields(variant: StoryVariant) -> dict[str, Any]:
    return {
        "kind": variant.kind,
        "text": variant.text,
        "times_served": variant.times_served,
        "first_seen_at": variant.first_seen_at,
        "last_seen_at": variant.last_seen_at,
        # Shown by the page as last read.
        "current": variant.present,
    }


def variants_by_story(
    session: Session, story_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The variants of many stories at once (exports), as `variant_fields`."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not story_ids:
        return found
    rows = session.scalars(
        select(StoryVariant)
        .where(StoryVariant.story_id.in_(list(story_ids)))
        .order_by(StoryVariant.story_id, StoryVariant.kind, StoryVariant.times_served.desc())
    )
    for row in rows:
        found.setdefault(row.story_id, []).append(variant_fields(row))
    return found
