"""Counts in words, the same in the CLI, the web UI and alerts: "1 version", "2 versions"."""

from __future__ import annotations

# The nouns the tracker counts whose plural is not the noun and "s".
_IRREGULAR = {"story": "stories", "entry": "entries", "copy": "copies", "delivery": "deliveries"}


def plural(count: int, noun: str) -> str:
    """`noun` in the number `count` asks for: ``plural(1, "story")`` is "story",
    ``plural(3, "story")`` "stories"."""
    if count == 1:
        return noun
    return _IRREGULAR.get(noun, noun + "s")


def counted(count: int, noun: str) -> str:
    """`count` and its noun: "1 version", "0 versions", "2 stories"."""
    return f"{count} {plural(count, noun)}"
