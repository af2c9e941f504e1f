"""What an alert says, built from a version or an event. Pure: no database, clock or network.

One :class:`Alert` feeds every channel: the email templates, the webhook JSON (documented
by ``docs/webhook-payload.schema.json``) and Apprise's title and body all read from it, so
the channels can never disagree about what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

from tracker.core import diffing, liveblog
from tracker.core.article import Entry
from tracker.core.kinds import kind_label
from tracker.notify.sanitize import clean_payload

# What a channel can subscribe to. "new" (the first version of a story) is opt-in: adding
# a hundred stories from a feed should not send a hundred alerts.
ALERT_EVENTS: Final = (
    "new",
    "changed",
    "promise_fulfilled",
    "promise_overdue",
    "story_gone",
    "checks_failing",
    "extraction_suspect",
    # The article's lifecycle (tracker.core.lifecycle.LIFECYCLE_EVENTS).
    "unpublished",
    "redirected",
    "slug_changed",
    "paywalled",
    "republished",
    "variants_detected",
)
DEFAULT_EVENTS: Final = tuple(e for e in ALERT_EVENTS if e != "new")
# 2: a version carries a live blog's entries added, edited and removed ("entries").
PAYLOAD_VERSION: Final = 2


class VersionLike(Protocol):
    """The fields of `tracker.store.models.Version` an alert reads (read-only)."""

    @property
    def seq(self) -> int: ...

    @property
    def captured_at(self) -> datetime: ...

    @property
    def title(self) -> str | None: ...

    @property
    def text(self) -> str: ...

    @property
    def kinds(self) -> list[str]: ...

    @property
    def summary(self) -> str | None: ...

    @property
    def words_added(self) -> int: ...

    @property
    def words_removed(self) -> int: ...

    @property
    def chars_added(self) -> int: ...

    @property
    def chars_removed(self) -> int: ...


@dataclass(frozen=True)
class StoryInfo:
    id: int
    url: str
    title: str | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Links:
    original: str  # the story's own page
    story: str | None = None  # the tracker's page for the story (needs base_url)
    diff: str | None = None  # the tracker's diff of this change (needs base_url)


@dataclass(frozen=True)
class Change:
    """One version against its predecessor (``previous_seq`` None: the first version)."""

    seq: int
    previous_seq: int | None
    captured_at: datetime
    kinds: tuple[str, ...]
    summary: str
    stats: diffing.DiffStats
    title_before: str | None
    title_after: str | None
    diff: diffing.WordDiff | None  # None for a first version
    unified: str  # paragraph-level unified diff, title included; "" for a first version
    text: str  # the new version's text
    # A live blog compared entry by entry (both versions read as entries); else None.
    entries: liveblog.EntryDiff | None = None
    # What a desk calls the edit (tracker.core.edit_types); empty when not typed.
    edit_types: tuple[str, ...] = ()

    @property
    def added(self) -> list[str]:
        if self.entries is not None:  # the new entries themselves, then words added inside
            return [_entry_text(entry) for entry in self.entries.added] + [
                run for edit in self.entries.edited for run in text_runs(edit.diff, diffing.INSERT)
            ]
        return [self.text] if self.diff is None else text_runs(self.diff, diffing.INSERT)

    @property
    def removed(self) -> list[str]:
        if self.entries is not None:
            return [_entry_text(entry) for entry in self.entries.removed] + [
                run for edit in self.entries.edited for run in text_runs(edit.diff, diffing.DELETE)
            ]
        return [] if self.diff is None else text_runs(self.diff, diffing.DELETE)

    @property
    def coarse(self) -> bool:
        return self.diff is not None and self.diff.coarse

    @property
    def headline_changed(self) -> bool:
        return "headline" in self.kinds


@dataclass(frozen=True)
class Alert:
    """Everything any channel says about one change or event."""

    trigger: str  # one of ALERT_EVENTS, or "test"
    story: StoryInfo
    occurred_at: datetime
    links: Links
    events: tuple[str, ...] = ()  # everything that applies, trigger included
    change: Change | None = None
    detail: str | None = None  # the event's detail (promise text, error, …)

    @property
    def title(self) -> str:
        if self.change is not None and self.change.title_after:
            return self.change.title_after
        return self.story.title or self.story.url


def _entry_text(entry: Entry) -> str:
    return "\n\n".join(liveblog.entry_lines(entry))


def _entries_of(version: VersionLike) -> tuple[Entry, ...]:
    # Not in VersionLike: versions stored before live blogs were read have none.
    return liveblog.entries_from_json(getattr(version, "entries", None))


def describe_change(before: VersionLike | None, after: VersionLike) -> Change:
    """Diff ``after`` against ``before`` (word level and unified) for an alert; a live blog
    read as entries both times, entry by entry too."""
    stats = diffing.DiffStats(
        after.words_added, after.words_removed, after.chars_added, after.chars_removed
    )
    kinds = tuple(after.kinds or ())
    summary = after.summary or ", ".join(kind_label(kind) for kind in kinds)
    if before is None:
        return Change(
            seq=after.seq,
            previous_seq=None,
            captured_at=after.captured_at,
            kinds=kinds,
            summary=summary,
            stats=stats,
            title_before=None,
            title_after=after.title,
            diff=None,
            unified="",
            text=after.text,
        )
    diff = diffing.word_diff(before.text, after.text)
    unified = diffing.render_unified(
        (before.title or "") + "\n\n" + before.text,
        (after.title or "") + "\n\n" + after.text,
        from_label=f"v{before.seq}",
        to_label=f"v{after.seq}",
    )
    old_entries, new_entries = _entries_of(before), _entries_of(after)
    entries = (
        liveblog.diff_entries(old_entries, new_entries) if old_entries and new_entries else None
    )
    return Change(
        seq=after.seq,
        previous_seq=before.seq,
        captured_at=after.captured_at,
        kinds=kinds,
        summary=summary,
        stats=stats,
        title_before=before.title,
        title_after=after.title,
        diff=diff,
        unified=unified,
        text=after.text,
        edit_types=tuple(getattr(after, "edit_types", None) or ()),
        entries=entries,
    )


def make_links(base_url: str | None, story: StoryInfo, seq: int | None = None) -> Links:
    """Links into the web UI when its public ``base_url`` is known."""
    if not base_url:
        return Links(original=story.url)
    base = base_url.rstrip("/")
    story_link = f"{base}/stories/{story.id}"
    # The web UI's permalink of the change that made version ``seq``.
    diff_link = f"{story_link}/diff/{seq - 1}/{seq}" if seq is not None and seq > 1 else None
    return Links(original=story.url, story=story_link, diff=diff_link)


def text_runs(diff: diffing.WordDiff, op: int) -> list[str]:
    """The inserted (or deleted) stretches of text, in order, whitespace-trimmed."""
    runs: list[str] = []
    current: list[str] = []
    for code, text in diff.ops:
        if code == op:
            current.append(text)
        elif code == diffing.EQUAL and current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return [run.strip() for run in runs if run.strip()]


_EVENT_SUBJECTS: Final = {
    "promise_overdue": "Promised update overdue",
    "story_gone": "Story gone",
    "checks_failing": "Checks failing",
    "extraction_suspect": "Not reading the article",
    "unpublished": "Unpublished",
    "redirected": "Redirected away",
    "slug_changed": "Moved to a new address",
    "paywalled": "Paywalled",
    "republished": "Republished",
    "variants_detected": "Serves variants (A/B test)",
    "test": "Test alert",
}


def subject(alert: Alert) -> str:
    """The email subject / notification title: names the change and the story."""
    title = _shorten(alert.title, 120)
    change = alert.change
    if change is None:
        return f"{_EVENT_SUBJECTS.get(alert.trigger, alert.trigger)}: {title}"
    if change.previous_seq is None:
        return f"Now tracking: {title}"
    if change.headline_changed:
        return f"Headline changed: {title}"
    prefix = "Promised update" if "promise_fulfilled" in alert.events else "Update"
    return f"{prefix}: {change.summary} — {title}"


def digest_subject(alerts: Sequence[Alert]) -> str:
    stories = {alert.story.id for alert in alerts}
    if len(alerts) == 1:
        return subject(alerts[0])
    noun = "story" if len(stories) == 1 else "stories"
    return f"{len(alerts)} updates to {len(stories)} {noun}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def alert_data(alert: Alert) -> dict[str, Any]:
    """The ``data`` object of the webhook payload (see docs/webhook-payload.schema.json)."""
    change = alert.change
    change_data: dict[str, Any] | None = None
    if change is not None:
        change_data = {
            "seq": change.seq,
            "previous_seq": change.previous_seq,
            "captured_at": _iso(change.captured_at),
            "kinds": list(change.kinds),
            "edit_types": list(change.edit_types),
            "summary": change.summary,
            "stats": {
                "words_added": change.stats.words_added,
                "words_removed": change.stats.words_removed,
                "chars_added": change.stats.chars_added,
                "chars_removed": change.stats.chars_removed,
            },
            "title_before": change.title_before,
            "title_after": change.title_after,
            "added": change.added,
            "removed": change.removed,
            "unified_diff": change.unified,
            "coarse": change.coarse,
            "entries": _entries_data(change.entries),
        }
    return {
        "trigger": alert.trigger,
        "events": list(alert.events),
        "story": {
            "id": alert.story.id,
            "url": alert.story.url,
            "title": alert.story.title,
            "tags": list(alert.story.tags),
        },
        "version": change_data,
        "detail": alert.detail,
        "links": {
            "original": alert.links.original,
            "story": alert.links.story,
            "diff": alert.links.diff,
        },
    }


def _entries_data(entries: liveblog.EntryDiff | None) -> dict[str, Any] | None:
    """A live blog's entries added, edited (with the words added and removed inside each)
    and removed; None when the change was not compared entry by entry."""
    if entries is None:
        return None
    return {
        "added": [liveblog.entry_fields(entry) for entry in entries.added],
        "edited": [
            {
                **liveblog.entry_fields(edit.after),
                "added": text_runs(edit.diff, diffing.INSERT),
                "removed": text_runs(edit.diff, diffing.DELETE),
            }
            for edit in entries.edited
        ],
        "removed": [liveblog.entry_fields(entry) for entry in entries.removed],
    }


def webhook_payload(alerts: Sequence[Alert], message_id: str) -> dict[str, Any]:
    """The JSON body of a webhook, in the Standard Webhooks shape {type, timestamp, data}.

    One alert: ``data`` describes it. A digest: ``data.alerts`` lists them. The body does
    not depend on when it is sent, so every retry of a delivery sends identical bytes.
    Every string is cleaned of control characters (:func:`clean_payload`): receivers log
    titles and URLs, and a CR/LF from a page must not start a line of their log.
    """
    return clean_payload(_payload(alerts, message_id))


def _payload(alerts: Sequence[Alert], message_id: str) -> dict[str, Any]:
    first = alerts[0]
    if len(alerts) == 1:
        return {
            "type": f"story.{first.trigger}",
            "timestamp": _iso(first.occurred_at),
            "id": message_id,
            "payload_version": PAYLOAD_VERSION,
            "data": alert_data(first),
        }
    return {
        "type": "digest",
        "timestamp": _iso(max(alert.occurred_at for alert in alerts)),
        "id": message_id,
        "payload_version": PAYLOAD_VERSION,
        "data": {"alerts": [alert_data(alert) for alert in alerts]},
    }


@dataclass(frozen=True)
class _SampleVersion:
    seq: int
    captured_at: datetime
    title: str | None
    text: str
    kinds: list[str] = field(default_factory=list)
    summary: str | None = None
    words_added: int = 0
    words_removed: int = 0
    chars_added: int = 0
    chars_removed: int = 0


SAMPLE_STORY: Final = StoryInfo(
    id=0, url="https://example.com/tracker-test-alert", title="Test alert: council approves budget"
)


def sample_alert(
    now: datetime,
    base_url: str | None = None,
    *,
    story: StoryInfo | None = None,
    versions: int = 0,
) -> Alert:
    """A realistic made-up change, for ``tracker channel test``.

    It is about `story`, a real tracked story (with its number of `versions`) when there is
    one, so that its links lead somewhere: with `base_url`, ``links.story`` is the story's
    page in the web UI and ``links.diff`` its latest change (when it has one). Without a
    story it is about a sample one, whose ``links.story`` is the web UI's story list. As in
    every alert, the links into the web UI are null when `base_url` is not set."""
    before = _SampleVersion(
        seq=1,
        captured_at=now,
        title="Test alert: council votes on budget",
        text="The council met on Tuesday.\n\nA vote is expected later today. "
        "Check back for an update.",
    )
    text = "The council met on Tuesday.\n\nThe budget was approved by seven votes to two."
    stats = diffing.word_diff(before.text, text).stats
    after = _SampleVersion(
        seq=2,
        captured_at=now,
        title="Test alert: council approves budget",
        text=text,
        kinds=["headline", "text_edited"],
        summary=f"Headline changed; 1 paragraph edited (+{stats.words_added}/"
        f"-{stats.words_removed} words)",
        words_added=stats.words_added,
        words_removed=stats.words_removed,
        chars_added=stats.chars_added,
        chars_removed=stats.chars_removed,
    )
    if story is not None:
        links = make_links(base_url, story, seq=versions if versions > 1 else None)
    else:
        story = SAMPLE_STORY
        base = base_url.rstrip("/") if base_url else None
        links = Links(original=story.url, story=f"{base}/" if base else None)
    return Alert(
        trigger="test",
        story=story,
        occurred_at=now,
        links=links,
        events=("test",),
        change=describe_change(before, after),
        detail="This is a test alert sent by `tracker channel test`.",
    )
