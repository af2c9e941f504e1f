"""RFC 3161 timestamps of the stories' chain heads: request one, verify them, show them.

One request covers every story whose head changed since the last granted timestamp: the
message is the sorted leaves of those heads (tracker.core.chain.heads_message), sent to the
configured TSA (``tsa_url``) by the daemon at most every ``tsa_interval``, or now by
``tracker timestamp``. The network request is made outside any database transaction, so a
slow TSA holds no lock; a dead, refusing or wrong TSA is recorded as an ``error`` timestamp
and its heads are tried again next time. The procedure a third party follows is in
docs/evidence.md.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.core.cadence import parse_duration
from tracker.core.chain import heads_message
from tracker.net.tsa import TSAError, load_ca_certificates, request_timestamp, verify_token
from tracker.store.db import Database
from tracker.store.models import Version
from tracker.store.timestamp_models import ChainTimestamp
from tracker.store.timestamps import (
    Head,
    changed_heads,
    covering_timestamps,
    last_attempt_at,
    record_timestamp,
    stamp_heads,
)

__all__ = [
    "StampResult",
    "TimestampCheck",
    "TimestampingOff",
    "export_timestamps",
    "stamp_changed_heads",
    "stamp_due",
    "timestamp_json",
    "verify_timestamps",
]


_PAIRS_PER_QUERY = 500


class TimestampingOff(Exception):
    """No TSA is configured (``tsa_url``): timestamping is off."""


@dataclass(frozen=True)
class StampResult:
    timestamp_id: int | None  # None: nothing changed, nothing requested
    heads: int
    gen_time: datetime | None = None
    error: str | None = None
    message_imprint: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def stamp_due(session: Session, settings: Settings, now: datetime) -> bool:
    """Whether the daemon should request a timestamp: a TSA is set and the last request,
    granted or not, is at least ``tsa_interval`` old (a dead TSA is not hammered)."""
    if not settings.tsa_url:
        return False
    last = last_attempt_at(session)
    return last is None or now - last >= parse_duration(settings.tsa_interval)


def stamp_changed_heads(db: Database, settings: Settings, *, now: datetime) -> StampResult:
    """Timestamp the heads that changed since the last granted timestamp, now; record the
    answer or the error. Raises TimestampingOff when no TSA is configured."""
    if not settings.tsa_url:
        raise TimestampingOff("timestamping is off: set tsa_url (docs/evidence.md)")
    with db.read_session() as session:
        heads = changed_heads(session)
    if not heads:
        return StampResult(None, 0)
    message = heads_message(head.leaf for head in heads)
    imprint = hashlib.new(settings.tsa_hash_algorithm, message).hexdigest()
    response_der: bytes | None = None
    gen_time: datetime | None = None
    error: str | None = None
    try:
        roots = load_ca_certificates(settings.tsa_ca_file) if settings.tsa_ca_file else []
        stamped = request_timestamp(
            settings.tsa_url,
            message,
            hash_algorithm=settings.tsa_hash_algorithm,
            roots=roots,
            headers=settings.tsa_headers,
            username=settings.tsa_username,
            password=settings.tsa_password.get_secret_value() if settings.tsa_password else None,
            timeout=settings.tsa_timeout,
        )
        response_der, gen_time = stamped.response_der, stamped.gen_time
    except TSAError as exc:
        error = str(exc)
    with db.session() as session:
        stamp = record_timestamp(
            session,
            requested_at=now,
            tsa_url=settings.tsa_url,
            hash_algorithm=settings.tsa_hash_algorithm,
            message_imprint=imprint,
            heads=heads,
            response_der=response_der,
            gen_time=gen_time,
            error=error,
        )
        stamp_id = stamp.id
    return StampResult(stamp_id, len(heads), gen_time, error, imprint)


@dataclass
class TimestampCheck:
    """What ``tracker verify`` found of one granted timestamp."""

    timestamp_id: int
    tsa_url: str
    gen_time: datetime | None
    heads: int
    signature_checked: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_timestamps(
    session: Session, settings: Settings, story_ids: Sequence[int] | None = None
) -> list[TimestampCheck]:
    """Check each granted timestamp covering `story_ids` (all when None): its stamped heads
    are still the links of those versions, they give the token's imprint, the token is the
    TSA's over it (signature chaining to ``tsa_ca_file``, when set) and its genTime is the
    one recorded."""
    roots = []
    ca_problem = None
    if settings.tsa_ca_file:
        try:
            roots = load_ca_certificates(settings.tsa_ca_file)
        except TSAError as exc:
            ca_problem = str(exc)
    checks = []
    for stamp in covering_timestamps(session, story_ids):
        heads = stamp_heads(session, stamp.id)
        check = TimestampCheck(
            stamp.id, stamp.tsa_url, stamp.gen_time, len(heads), signature_checked=bool(roots)
        )
        if ca_problem:
            check.problems.append(ca_problem)
        links = _links(session, heads)
        for head in heads:
            if links.get((head.story_id, head.seq)) != head.chain_sha256:
                check.problems.append(
                    f"{head.url} version {head.seq}: the stamped head is not that version's "
                    "link any more (the history was changed after it was timestamped)"
                )
        if len(heads) != stamp.heads_count:
            check.problems.append(
                f"{stamp.heads_count} heads were stamped, {len(heads)} are recorded"
            )
        message = heads_message(head.leaf for head in heads)
        token = verify_token(stamp.response_der or b"", message, roots)
        if token.problem:
            check.problems.append(token.problem)
        elif token.gen_time != stamp.gen_time:
            check.problems.append(
                f"the token's time {token.gen_time} is not the recorded {stamp.gen_time}"
            )
        checks.append(check)
    return checks


def _links(session: Session, heads: Sequence[Head]) -> dict[tuple[int, int], str | None]:
    """The stored link of each stamped (story, seq), a few hundred pairs a query (SQLite
    caps the parameters of one statement)."""
    links: dict[tuple[int, int], str | None] = {}
    for start in range(0, len(heads), _PAIRS_PER_QUERY):
        pairs = [(h.story_id, h.seq) for h in heads[start : start + _PAIRS_PER_QUERY]]
        rows = session.execute(
            select(Version.story_id, Version.seq, Version.chain_sha256).where(
                tuple_(Version.story_id, Version.seq).in_(pairs)
            )
        )
        links.update(((story_id, seq), link) for story_id, seq, link in rows)
    return links


def timestamp_json(
    session: Session, stamp: ChainTimestamp, story_ids: Sequence[int] | None = None
) -> dict[str, Any]:
    """A granted timestamp as exports and the API give it: every leaf (the message can be
    rebuilt without naming the other stories), the heads of `story_ids` (all when None) and
    the TSA's answer, base64 DER."""
    heads = stamp_heads(session, stamp.id)
    wanted = None if story_ids is None else set(story_ids)
    return {
        "id": stamp.id,
        "tsa_url": stamp.tsa_url,
        "requested_at": stamp.requested_at.isoformat(),
        "gen_time": stamp.gen_time.isoformat() if stamp.gen_time else None,
        "hash_algorithm": stamp.hash_algorithm,
        "message_imprint": stamp.message_imprint,
        "leaves": sorted(head.leaf for head in heads),
        "heads": [
            {"url": head.url, "seq": head.seq, "head": head.chain_sha256}
            for head in heads
            if wanted is None or head.story_id in wanted
        ],
        "token": base64.b64encode(stamp.response_der or b"").decode("ascii"),
    }


def export_timestamps(
    session: Session, story_ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """The granted timestamps covering `story_ids` (all when None), as :func:`timestamp_json`."""
    return [
        timestamp_json(session, stamp, story_ids)
        for stamp in covering_timestamps(session, story_ids)
    ]
