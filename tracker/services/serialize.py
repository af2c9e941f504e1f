"""The fields of a story and of a version, as `--json` in the CLI and the JSON API give them.

One list for both interfaces, so a field added to one cannot be missing from the other.
Times stay ``datetime`` here: the API's models render them, the CLI uses :func:`jsonable`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tracker.core.liveblog import entries_from_json, entry_fields
from tracker.services.stories import story_settings
from tracker.store.models import Story, Version


def story_fields(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "url": story.url,
        "title": story.title,
        "status": story.status,
        "versions": story.version_count,
        "developing": story.developing,
        "promise": story.promise_state,
        "promise_text": story.promise_text,
        "tags": story.tag_names,
        "added_at": story.added_at,
        "last_checked_at": story.last_checked_at,
        "last_changed_at": story.last_changed_at,
        "next_check_at": story.next_check_at,
        "schedule": story.schedule_reason,
        "consecutive_failures": story.consecutive_failures,
        "last_error": story.last_error,
        # "suspect": the stored text is probably not the article (see the latest version's
        # health_reasons for why and what to do); null before the first version.
        "extraction_health": story.extraction_health,
        "fetcher": story.last_fetcher,
        # live, unpublished, redirected or paywalled (tracker.core.lifecycle).
        "lifecycle": story.lifecycle,
        "settings": story_settings(story),
        # When the story was first seen serving headline variants or paragraphs that come
        # and go (GET /stories/{id}/variants lists them); null: never.
        "variants_since": story.variants_since,
    }


def version_summary_fields(version: Version) -> dict[str, Any]:
    """What a list of versions shows: no article text."""
    return {
        "seq": version.seq,
        "captured_at": version.captured_at,
        "title": version.title,
        "kinds": list(version.kinds or []),
        "summary": version.summary,
        "words_added": version.words_added,
        "words_removed": version.words_removed,
        "chars_added": version.chars_added,
        "chars_removed": version.chars_removed,
        "diff_coarse": version.diff_coarse,
        "capture_sha256": version.capture_sha256,
        "health": version.health,
        "health_reasons": list(version.health_reasons or []),
        "text_source": version.text_source,
        "fetcher": version.fetcher,
        "screenshot_sha256": version.screenshot_sha256,
        "edit_types": version.edit_types,
        "content_sha256": version.content_sha256,
        "raw_sha256": version.raw_sha256,
        "chain_sha256": version.chain_sha256,
        **archive_fields(version),
    }


def archive_fields(version: Version) -> dict[str, Any]:
    """The version's web-archive hand-off: the archived copy, and how far the hand-off got."""
    submission = version.archive_submission
    return {
        "archived_url": submission.archived_url if submission else None,
        "archive_status": submission.status if submission else None,
    }


def version_fields(story: Story, version: Version, *, text: bool = True) -> dict[str, Any]:
    """One version in full: the summary, its story, its metadata and (unless `text` is false)
    the article body."""
    fields = {
        "url": story.url,
        "story_id": story.id,
        **version_summary_fields(version),
        "headlines": list(version.headlines or []),
        "byline": version.byline,
        "published": version.published,
        "modified": version.modified,
        "canonical_url": version.canonical_url,
    }
    if text:
        fields["text"] = version.text
    # A live blog's entries (tracker.core.liveblog); null for other pages.
    entries = entries_from_json(version.entries)
    fields["entries"] = [entry_fields(entry) for entry in entries] if entries else None
    return fields


def jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with times as ISO 8601 strings, for ``json.dumps``."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in fields.items()
    }
