"""The declared shape of a channel (settings file, CLI) and which alerts it wants. Pure.

A channel in the settings file::

    [[channels]]
    name = "desk"
    kind = "email"                  # a registered kind: email | webhook | apprise
    to = ["desk@example.org"]
    tags = ["politics"]             # only stories with one of these tags (default: all)
    min_kind = "text_edited"        # ignore minor, dates-only and byline-only edits
    kinds = ["headline", "correction"]  # only versions with one of these kinds (default: any)
    events = ["changed", "promise_fulfilled", "promise_overdue"]
    digest = "1h"                   # one email per hour listing every change

Kept free of I/O and of the settings module, so ``tracker.config`` can import it. What a
kind needs (``to`` or ``url``, a secret) is asked of the kind in :mod:`tracker.notify.kinds`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from tracker.core.cadence import parse_duration
from tracker.core.kinds import EDIT_TYPES, KIND_ORDER, ChangeKind, meets_minimum
from tracker.notify.kinds import ChannelError, a_channel, kind_named

if TYPE_CHECKING:
    from tracker.store.alert_models import Channel

# Alert on substantive changes by default: minor, dates-only and byline-only edits are noise.
DEFAULT_MIN_KIND: Final = ChangeKind.TEXT_EDITED
KIND_NAMES: Final = tuple(str(kind) for kind in KIND_ORDER)


# tracker.notify.payload (and the live-blog and diff code it imports) is imported where its
# event names are used, not with this module: the settings import this module, and every
# command loads the settings (see "CLI start-up" in CONTRIBUTING.md).


def default_events() -> list[str]:
    from tracker.notify.payload import DEFAULT_EVENTS

    return list(DEFAULT_EVENTS)


def check_events(events: Iterable[str]) -> list[str]:
    from tracker.notify.payload import ALERT_EVENTS

    events = list(dict.fromkeys(events))
    unknown = [e for e in events if e not in ALERT_EVENTS]
    if unknown:
        raise ValueError(f"unknown event(s) {', '.join(unknown)}; known: {', '.join(ALERT_EVENTS)}")
    return events


def check_min_kind(value: str | None) -> str | None:
    if value is None or value in ("", "any", "none"):
        return None
    if value not in KIND_NAMES:
        raise ValueError(f"unknown change kind {value!r}; known: {', '.join(KIND_NAMES)}")
    return value


def check_kinds(values: Iterable[str]) -> list[str]:
    """The change kinds and edit types (tracker.core.edit_types) a channel is limited to,
    known and without repeats (empty: any)."""
    values = list(dict.fromkeys(v for v in values if v))
    known = (*KIND_NAMES, *EDIT_TYPES)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(
            f"unknown change kind(s) {', '.join(unknown)}; known: {', '.join(KIND_NAMES)}; "
            f"edit types: {', '.join(EDIT_TYPES)}"
        )
    return values


def digest_seconds(value: str | None) -> int | None:
    """A digest period ("1h", "1d") in seconds; None or "" for no digest."""
    if not value:
        return None
    period = parse_duration(value)
    if period < timedelta(minutes=1):
        raise ValueError(f"digest period {value!r} is shorter than a minute")
    return int(period.total_seconds())


class ChannelSettings(BaseModel):
    """A channel declared in the settings file (``[[channels]]``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: str
    to: list[str] = Field(default_factory=list, description="Email recipients.")
    url: str | None = Field(default=None, description="Webhook or Apprise URL.")
    secret: SecretStr | None = Field(default=None, description="Webhook secret (whsec_…).")
    tags: list[str] = Field(default_factory=list)
    stories: list[str] = Field(default_factory=list)
    min_kind: str | None = DEFAULT_MIN_KIND.value
    kinds: list[str] = Field(
        default_factory=list,
        description="Only versions with one of these change kinds or edit types, e.g. "
        '`["headline", "correction"]` or `["number_changed", "silent_correction"]` '
        "(empty: any kind that meets `min_kind`).",
    )
    events: list[str] = Field(default_factory=default_events)
    digest: str | None = None
    enabled: bool = True

    @field_validator("kind")
    @classmethod
    def _check_kind(cls, value: str) -> str:
        try:
            kind_named(value)
        except ChannelError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("events")
    @classmethod
    def _check_events(cls, value: list[str]) -> list[str]:
        return check_events(value)

    @field_validator("min_kind")
    @classmethod
    def _check_min_kind(cls, value: str | None) -> str | None:
        return check_min_kind(value)

    @field_validator("kinds")
    @classmethod
    def _check_kinds(cls, value: list[str]) -> list[str]:
        return check_kinds(value)

    @field_validator("digest")
    @classmethod
    def _check_digest(cls, value: str | None) -> str | None:
        digest_seconds(value)
        return value

    @model_validator(mode="after")
    def _target_fits_kind(self) -> ChannelSettings:
        kind = kind_named(self.kind)
        if not getattr(self, kind.target_key):
            raise ValueError(
                f"channel {self.name!r}: {a_channel(self.kind)} needs '{kind.target_key}'"
            )
        if kind.signed and self.secret is None:
            raise ValueError(
                f"channel {self.name!r}: {a_channel(self.kind)} needs 'secret' "
                "(generate one with `tracker channel secret`)"
            )
        return self

    @property
    def target(self) -> str:
        """The target as the channels table stores it (before the kind validates it)."""
        return ", ".join(self.to) if kind_named(self.kind).target_key == "to" else str(self.url)


@dataclass(frozen=True)
class StoryFacts:
    """What the filters look at."""

    id: int
    url: str
    canonical_url: str | None
    tags: frozenset[str]


@dataclass(frozen=True)
class Filters:
    """Which alerts a channel wants. Empty ``tags``/``stories`` mean "all stories"; empty
    ``kinds`` means any change kind that meets ``min_kind``."""

    tags: frozenset[str] = frozenset()
    stories: frozenset[str] = frozenset()
    min_kind: str | None = DEFAULT_MIN_KIND.value
    kinds: frozenset[str] = frozenset()
    events: frozenset[str] = field(default_factory=lambda: frozenset(default_events()))

    @classmethod
    def of(cls, channel: Channel) -> Filters:
        """A channel row's filters."""
        return cls(
            tags=frozenset(channel.tags or ()),
            stories=frozenset(channel.stories or ()),
            min_kind=channel.min_kind,
            kinds=frozenset(channel.kinds or ()),
            events=frozenset(channel.events or ()),
        )

    def covers(self, story: StoryFacts) -> bool:
        if self.tags and not self.tags & story.tags:
            return False
        if self.stories:
            names = {str(story.id), story.url, story.canonical_url or story.url}
            return bool(self.stories & names)
        return True

    def wants_version(
        self,
        story: StoryFacts,
        kinds: Iterable[str],
        *,
        fulfils: bool,
        edit_types: Iterable[str] = (),
    ) -> str | None:
        """The trigger a new version is announced as on this channel, or None. The channel's
        `kinds` list may name change kinds and edit types alike (tracker.core.edit_types);
        `min_kind` ranks change kinds only."""
        if not self.covers(story):
            return None
        kinds = list(kinds)
        if ChangeKind.FIRST in kinds:
            return "new" if "new" in self.events else None
        if (
            "changed" in self.events
            and (self.min_kind is None or meets_minimum(kinds, self.min_kind))
            and (not self.kinds or not self.kinds.isdisjoint([*kinds, *edit_types]))
        ):
            return "changed"
        # A promised update is news whatever its size.
        if fulfils and "promise_fulfilled" in self.events:
            return "promise_fulfilled"
        return None

    def wants_event(self, story: StoryFacts, event: str) -> bool:
        return event in self.events and self.covers(story)
