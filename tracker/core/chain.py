"""Tamper-evident history: every version of a story is chained to the one before it.

Each stored version carries three SHA-256 digests (hex):

- ``content_sha256``: the article as stored (headline, headlines, byline, dates, canonical
  URL, text, live-blog entries), serialised as canonical JSON;
- ``raw_sha256``: the raw capture the article was read from (the page's bytes as fetched),
  or empty when there was none; kept on the version, so pruning old captures to save space
  does not break the chain;
- ``chain_sha256``: the link, over the previous version's link, this version's number and
  capture time, the story's URL, and the two digests above. The first version links to
  :data:`GENESIS`.

Changing any stored field, deleting or reordering versions, or back-dating one changes a
link, and every link after it. ``tracker verify`` recomputes the chains and names the first
broken link of each story.

This module needs only Python's standard library, on purpose: a third party can copy this
one file and verify an export (``tracker export --format json``) offline, without installing
the tracker::

    python3 chain.py export.json

It prints one line per story and exits 1 when any chain is broken. The procedure, step by
step, is in docs/evidence.md.

Chain heads can be timestamped by an RFC 3161 time-stamping authority (TSA). One request
covers every story whose head changed since the last one: each stamped head is a **leaf**,
SHA-256 of ``tracker-head/1``, the story URL, the version number and the head, one per line;
the **message** sent to the TSA is ``tracker-heads/1`` followed by the leaves, sorted, one
per line. An export carries, for each timestamp covering its stories, every leaf (so the
message can be rebuilt without naming the other stories), the exported stories' heads, and
the TSA's token; this file checks that the leaves and heads agree with the export's chains
and the message with the token's imprint; ``openssl ts -verify`` checks the token itself.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "CONTENT_FIELDS",
    "GENESIS",
    "Break",
    "Link",
    "capture_time",
    "chain_link",
    "content_digest",
    "first_break",
    "head_leaf",
    "heads_message",
    "links_for",
]

# The link before a story's first version.
GENESIS: Final = "0" * 64
# Bumped if what is hashed ever changes; part of every link, so old and new never mix.
SCHEME: Final = "tracker-chain/1"
# The same for the leaves and the message of a timestamp (the heads it covers).
HEAD_SCHEME: Final = "tracker-head/1"
HEADS_SCHEME: Final = "tracker-heads/1"

# The stored fields of the article itself; kinds, summaries and stats are derived from
# these and may be recomputed (``tracker reextract``), so they stay out of the digest.
CONTENT_FIELDS: Final[tuple[str, ...]] = (
    "title",
    "headlines",
    "byline",
    "published",
    "modified",
    "canonical_url",
    "text",
    "entries",
)


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_digest(fields: Mapping[str, Any]) -> str:
    """SHA-256 of a version's article: the :data:`CONTENT_FIELDS` of `fields` as canonical
    JSON (keys sorted, no spaces, UTF-8). A missing field counts as null; an empty list of
    headlines or entries as the empty list."""
    content = {name: fields.get(name) for name in CONTENT_FIELDS}
    content["headlines"] = list(content["headlines"] or [])
    content["entries"] = content["entries"] or None
    return _sha256(_canonical_json(content))


def capture_time(value: datetime | str) -> str:
    """A capture time as hashed: UTC, microseconds, ``2026-12-04T14:05:00.000000Z``.
    Accepts an aware datetime or its ISO form (as exports write it)."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        raise ValueError(f"capture time without a time zone: {value!r}")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_link(
    previous: str,
    *,
    seq: int,
    captured_at: datetime | str,
    url: str,
    content_sha256: str,
    raw_sha256: str | None,
) -> str:
    """The link of one version: SHA-256 of its fields, one per line, in this order::

    tracker-chain/1, previous link, seq, capture time, story URL, content digest, raw digest
    """
    material = "\n".join(
        (
            SCHEME,
            previous,
            str(seq),
            capture_time(captured_at),
            url,
            content_sha256,
            raw_sha256 or "",
        )
    )
    return _sha256(material.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Link:
    """The three digests one version should carry."""

    seq: int
    content_sha256: str
    raw_sha256: str | None
    chain_sha256: str


def links_for(url: str, versions: Iterable[Mapping[str, Any]]) -> list[Link]:
    """The digests of a story's versions (mappings with ``seq``, ``captured_at``,
    ``raw_sha256`` and the content fields), in the order given (oldest first)."""
    previous = GENESIS
    links = []
    for version in versions:
        content = content_digest(version)
        raw = version.get("raw_sha256") or None
        link = chain_link(
            previous,
            seq=version["seq"],
            captured_at=version["captured_at"],
            url=url,
            content_sha256=content,
            raw_sha256=raw,
        )
        links.append(Link(version["seq"], content, raw, link))
        previous = link
    return links


def head_leaf(url: str, seq: int, head: str) -> str:
    """The leaf of one stamped head: SHA-256 of ``tracker-head/1``, the story URL, the
    version number and its link, joined by newlines (no trailing newline), UTF-8."""
    return _sha256("\n".join((HEAD_SCHEME, url, str(seq), head)).encode("utf-8"))


def heads_message(leaves: Iterable[str]) -> bytes:
    """What a timestamp's TSA request covers: ``tracker-heads/1`` and the leaves, sorted,
    one per line (no trailing newline), UTF-8. The token's imprint is its digest."""
    return "\n".join((HEADS_SCHEME, *sorted(leaves))).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Break:
    """The first version whose stored digests do not match what its fields give."""

    seq: int
    reason: str


def first_break(url: str, versions: Sequence[Mapping[str, Any]]) -> Break | None:
    """Recompute a story's chain from its versions as stored (oldest first) and compare
    each with the digests stored beside it; None when every link holds."""
    expected_seq = 1
    for version, link in zip(versions, links_for(url, versions), strict=True):
        seq = version["seq"]
        if seq != expected_seq:
            return Break(seq, f"version {expected_seq} is missing (found {seq} after it)")
        expected_seq += 1
        if not version.get("chain_sha256"):
            return Break(seq, "no chain hash stored")
        if version.get("content_sha256") != link.content_sha256:
            return Break(
                seq, "the article does not match its content hash (changed after it was stored)"
            )
        if version["chain_sha256"] != link.chain_sha256:
            return Break(
                seq,
                "the chain hash does not match (an earlier version, this one's time, number, "
                "URL or raw capture digest changed)",
            )
    return None


def _verify_export(path: str) -> int:
    """Verify every story of a tracker JSON export; print one line each; 1 if any broke."""
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if not isinstance(document, dict) or document.get("format") != "tracker-export":
        print(f"{path}: not a tracker export", file=sys.stderr)
        return 2
    broken = 0
    stories = document.get("stories", [])
    for story in stories:
        versions = sorted(story.get("versions", []), key=lambda v: v["seq"])
        problem = first_break(story["url"], versions)
        head = versions[-1].get("chain_sha256") if versions else GENESIS
        if problem is None:
            print(f"ok      {story['url']}  {len(versions)} versions, head {head}")
        else:
            broken += 1
            print(f"BROKEN  {story['url']}  at version {problem.seq}: {problem.reason}")
    print(f"{len(stories)} stories, {broken} broken")
    bad_stamps = _check_export_timestamps(document)
    return 1 if broken or bad_stamps else 0


def _check_export_timestamps(document: Mapping[str, Any]) -> int:
    """Check the export's timestamps against its chains: each leaf list gives the stamped
    imprint, each stamped head is a link of its story. Prints one line each; returns how
    many failed. The TSA's signature is openssl's part (docs/evidence.md)."""
    links = {
        (story["url"], version["seq"]): version.get("chain_sha256")
        for story in document.get("stories", [])
        for version in story.get("versions", [])
    }
    failed = 0
    for stamp in document.get("timestamps", []):
        algorithm = stamp.get("hash_algorithm", "sha256")
        imprint = hashlib.new(algorithm, heads_message(stamp["leaves"])).hexdigest()
        leaves = set(stamp["leaves"])
        problems = []
        if imprint != stamp["message_imprint"]:
            problems.append("its leaves do not give its message imprint")
        for head in stamp.get("heads", []):
            where = f"{head['url']} version {head['seq']}"
            if head_leaf(head["url"], head["seq"], head["head"]) not in leaves:
                problems.append(f"{where}: its leaf is not in the timestamp")
            elif links.get((head["url"], head["seq"])) != head["head"]:
                problems.append(f"{where}: the stamped head is not that version's link")
        if problems:
            failed += 1
            print(f"BROKEN  timestamp {stamp['gen_time']}: " + "; ".join(problems))
        else:
            print(
                f"stamped {len(stamp.get('heads', []))} heads at {stamp['gen_time']} by "
                f"{stamp['tsa_url']}, imprint {algorithm} {imprint}"
            )
    return failed


if __name__ == "__main__":  # pragma: no cover - exercised by a subprocess in the tests
    if len(sys.argv) != 2:
        print("usage: python3 chain.py EXPORT.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(_verify_export(sys.argv[1]))
