"""Raw HTTP bodies, content-addressed and zstd-compressed: each distinct body is stored once.

Keeping the raw page makes re-extraction (after an extractor upgrade or a new selector)
and WARC export possible without refetching.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import zstandard
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tracker.net.charset import decode_html, parse_content_type
from tracker.store.models import Capture, Story, Version

COMPRESSION_LEVEL = 6


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def compress(body: bytes) -> bytes:
    # Compressor objects are not thread-safe; one per call is cheap enough.
    return zstandard.ZstdCompressor(level=COMPRESSION_LEVEL).compress(body)


def decompress(blob: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(blob)


def store_capture(
    session: Session,
    body: bytes,
    *,
    url: str,
    status: int | None,
    headers: dict[str, str],
    encoding: str | None,
    now: datetime,
    sha256: str | None = None,
    compressed: bytes | None = None,
) -> str:
    """Store ``body`` unless an identical body is already stored; return its sha256.

    ``compressed`` lets a caller compress outside the write transaction.
    """
    digest = sha256 or body_sha256(body)
    if session.get(Capture, digest) is None:
        session.add(
            Capture(
                sha256=digest,
                body_zstd=compressed if compressed is not None else compress(body),
                size=len(body),
                first_captured_at=now,
                url=url,
                status=status,
                headers=headers,
                encoding=encoding,
            )
        )
        session.flush()
    return digest


def load_body(session: Session, sha256: str) -> bytes | None:
    blob = session.scalar(select(Capture.body_zstd).where(Capture.sha256 == sha256))
    return None if blob is None else decompress(blob)


def capture_html(capture: Capture) -> str:
    """The capture's body decoded exactly as the fetcher decoded it."""
    _, charset = parse_content_type(capture.headers.get("content-type"))
    html, _ = decode_html(decompress(capture.body_zstd), charset)
    return html


def prune_captures(session: Session, older_than: datetime) -> int:
    """Delete raw captures (pages and screenshots) first stored before ``older_than``; return
    how many.

    Versions are kept (their ``capture_sha256`` / ``screenshot_sha256`` become NULL). Kept
    regardless: a capture a newer version still uses, and those of each story's latest version
    (so a new selector can still be tried on the current page).
    """
    kept = []
    for column in (Version.capture_sha256, Version.screenshot_sha256):
        kept.append(select(column).where(Version.captured_at >= older_than, column.is_not(None)))
        kept.append(
            select(column)
            .join(Story, Story.id == Version.story_id)
            .where(Version.seq == Story.version_count, column.is_not(None))
        )
    doomed = select(Capture.sha256).where(
        Capture.first_captured_at < older_than,
        *(Capture.sha256.not_in(query) for query in kept),
    )
    shas = list(session.scalars(doomed))
    for start in range(0, len(shas), 500):
        batch = shas[start : start + 500]
        # Explicit, rather than trusting every backend to honour ON DELETE SET NULL.
        session.execute(
            update(Version)
            .where(Version.capture_sha256.in_(batch))
            .values(capture_sha256=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Version)
            .where(Version.screenshot_sha256.in_(batch))
            .values(screenshot_sha256=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(delete(Capture).where(Capture.sha256.in_(batch)))
    return len(shas)
