"""Import a WARC file: captures become stories and versions, as if the tracker had seen them.

A researcher often starts with captures made elsewhere (a crawler's WARC files, a web
archive's downloads, another tracker's ``tracker export --format warc``). Each HTML response
is treated like a check at the record's date: extracted and fingerprinted by the same pure
``analyse``/``compare`` as a live check, stored as a new version when the article changed.

- Records are read in date order (a first pass indexes them by offset), so files whose
  records are out of order, or several files one after another, still build histories
  forwards.
- History only grows forwards: a capture dated at or before a story's latest version is
  skipped, which makes importing the same file twice a no-op.
- Our own exports carry ``metadata`` records naming the story a capture belongs to and when
  it was the current version; those win over the response's own URL and date.
- ``revisit`` records (the same payload as an earlier capture) cannot change an article.
- Imported versions raise no alerts: they are history, not news.
- A damaged record (garbage in or after its headers, a broken gzip member, a body shorter
  than its Content-Length) is skipped with a message naming its offset; reading goes on at
  the next record (the next ``WARC/`` line, or the next gzip member), so one bad record never
  costs the rest of the file.
"""

from __future__ import annotations

import functools
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from tracker.core.words import counted, plural
from tracker.net.charset import (
    HTML_TYPES,
    NotHTMLError,
    decode_html,
    looks_like_html,
    parse_content_type,
)
from tracker.net.fetcher import archived_response
from tracker.pipeline.check import (
    analyse,
    compare,
    latest_version,
    store_version,
    version_as_article,
)
from tracker.store.db import Database
from tracker.store.models import Story

WARC_TYPES = frozenset(
    {"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion"}
    | {"continuation"}
)

# Why a capture did not become a version, as counted in the report.
SKIP_REASONS = {
    "unchanged": "same article as the version before",
    "older": "dated at or before the story's latest version",
    "not_html": "not an HTML page",
    "not_ok": "not a 200 response",
    "no_article": "no article text found",
    "too_large": "larger than max_body_bytes",
    "truncated": "truncated record (WARC-Truncated)",
    "revisit": "revisit record (payload seen before)",
    "undated": "no readable WARC-Date",
    "future": "dated in the future",
    "bad_url": "URL refused (see the message)",
    "damaged": "damaged record (see the message)",
}
# How far past a damaged record the next one is looked for.
RESYNC_WINDOW = 64 * 1024 * 1024


class WarcReadError(ValueError):
    """The file is not a WARC file warcio can read (or is damaged)."""


@dataclass(frozen=True)
class IndexedResponse:
    """Where one capture is in the file, and which story and moment it stands for."""

    offset: int
    url: str  # the response's own target URI (where the body came from)
    story_url: str  # the story it belongs to (from our metadata, else the target URI)
    captured_at: datetime


@dataclass
class WarcImportReport:
    responses: int = 0
    stories_added: int = 0
    versions_added: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # one line per refused URL

    def summary(self) -> str:
        skipped = ", ".join(
            f"{self.skipped[reason]} {words}"
            for reason, words in SKIP_REASONS.items()
            if self.skipped[reason]
        )
        return (
            f"imported {counted(self.responses, 'capture')}: "
            f"{counted(self.versions_added, 'version')}, "
            f"{self.stories_added} new {plural(self.stories_added, 'story')}"
            + (f"; skipped: {skipped}" if skipped else "")
        )


def is_warc(head: bytes) -> bool:
    """Does a file starting with `head` look like a WARC (plain or gzipped)?"""
    if head.startswith(b"WARC/"):
        return True
    if head.startswith(b"\x1f\x8b"):
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64).startswith(b"WARC/")
        except zlib.error:
            return False
    return False


def index_warc(
    stream: BinaryIO, problems: list[str] | None = None
) -> tuple[list[IndexedResponse], Counter[str]]:
    """First pass: every response record's offset, story and date, oldest first. Damaged
    records are counted as skipped, with a line each in `problems`."""
    responses: list[tuple[int, str, str | None, datetime]] = []  # offset, uri, record id, date
    stories_of: dict[str, list[tuple[str, datetime]]] = {}  # response id -> (story, when)
    skipped: Counter[str] = Counter()
    known = 0
    for offset, record in _records(stream, skipped, problems if problems is not None else []):
        kind = record.rec_type
        # warcio also reads the legacy ARC format, and reads any gzipped text as one.
        known += kind in WARC_TYPES and record.format.startswith("warc")
        if kind == "revisit":
            skipped["revisit"] += 1
        elif kind == "response" and record.http_headers is not None:
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            record_id = record.rec_headers.get_header("WARC-Record-ID")
            date = _warc_date(record.rec_headers.get_header("WARC-Date"))
            if date is None:
                # Not "older than any history": for a new story that would be a version
                # (and a first sighting) in 1970, which the schedule would retire at once.
                skipped["undated"] += 1
            else:
                responses.append((offset, uri, record_id, date))
        elif kind == "metadata":
            about = _our_metadata(record)
            refers_to = record.rec_headers.get_header("WARC-Refers-To")
            if about is not None and refers_to:
                story_url, when = about
                stories_of.setdefault(refers_to, []).append((story_url, when))
    if not known:
        raise WarcReadError("no WARC records in it")
    index: list[IndexedResponse] = []
    # A wrong crawler clock: a version from the future would stay the story's latest for
    # good, and every later capture would be skipped as older. (A day's grace for zones.)
    latest_allowed = datetime.now(UTC) + timedelta(days=1)
    for offset, uri, record_id, date in responses:
        for story_url, when in stories_of.get(record_id or "", [(uri, date)]):
            if when > latest_allowed:
                skipped["future"] += 1
            else:
                index.append(IndexedResponse(offset, uri, story_url, when))
    index.sort(key=lambda item: (item.captured_at, item.offset))
    return index, skipped


def _records(
    stream: BinaryIO, skipped: Counter[str], problems: list[str]
) -> Iterator[tuple[int, Any]]:
    """(offset, record) for every readable record; a damaged one is reported and skipped,
    and reading resumes at the next record after it.

    One record at a time, read to its end, so that where each one ends is known exactly: a
    damaged record is then the one at the position being read, never its neighbour."""
    from warcio.archiveiterator import ArchiveIterator

    position = stream.tell()
    size = stream.seek(0, 2)
    file_format: str | None = None  # "warc" (or "arc"): the first record's
    while position < size:
        stream.seek(position)
        records = ArchiveIterator(stream)
        try:
            record = next(iter(records), None)
            if record is None:
                return
            # What the first pass reads, then the rest: damage fails here, in the index.
            _ = record.rec_type, record.rec_headers, record.http_headers
            file_format = file_format or record.format
            if record.format != file_format or (
                record.format.startswith("warc")
                and not str(record.rec_headers.protocol or "").startswith("WARC/")
            ):
                # warcio reads on where a damaged record left it, in the middle of bytes
                # that are no record: a header without a WARC line, or an "ARC record" of
                # garbage in a WARC file.
                raise ValueError("no record starts here")
            offset = records.get_record_offset()  # from the start of the file
            yield offset, record
            records.read_to_end(record)
            length = records.get_record_length()
        except _read_errors() as exc:
            if not problems and position == 0 and not _looks_like_records(stream):
                raise  # not a WARC at all: the caller says so
            problems.append(f"record at offset {position}: damaged, skipped ({_short(exc)})")
            skipped["damaged"] += 1
            next_start = _next_record_start(stream, position + 1)
            if next_start is None:
                return
            position = next_start
            continue
        if not length:  # nothing was read: look further on for a record
            length = 1
        position = _past_blank_lines(stream, offset + length)


def _past_blank_lines(stream: BinaryIO, position: int) -> int:
    """Past the CRLFs that end an uncompressed record (not counted in its length)."""
    stream.seek(position)
    head = stream.read(64)
    return position + len(head) - len(head.lstrip(b"\r\n"))


def _looks_like_records(stream: BinaryIO) -> bool:
    stream.seek(0)
    return is_warc(stream.read(64 * 1024))


def _next_record_start(stream: BinaryIO, start: int) -> int | None:
    """Where the next record begins after `start`: a line starting "WARC/1." in a plain file,
    or a gzip member header in a compressed one."""
    stream.seek(0)
    gzipped = stream.read(2) == b"\x1f\x8b"
    stream.seek(start)
    window = stream.read(RESYNC_WINDOW)
    if gzipped:
        found = window.find(b"\x1f\x8b\x08")
        return None if found < 0 else start + found
    found = window.find(b"\nWARC/1.")
    return None if found < 0 else start + found + 1


@functools.cache
def _read_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged record raises: warcio's own errors, and what its parsers
    raise on bytes they did not expect (the AttributeError of a record whose headers are
    garbage, a short read, a broken gzip member)."""
    from warcio.exceptions import ArchiveLoadFailed
    from warcio.statusandheaders import StatusAndHeadersParserException

    return (
        ArchiveLoadFailed,
        StatusAndHeadersParserException,
        EOFError,
        OSError,
        zlib.error,
        AttributeError,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
    )


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:160]


def import_warc(
    db: Database,
    path: Path,
    *,
    add_story: Callable[[Session, str, datetime], tuple[Story, bool]],
    max_body_bytes: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> WarcImportReport:
    """Import `path` (one transaction per capture: an error leaves the rest imported).

    `add_story(session, url, first_seen_at)` finds or creates the story for a URL (the CLI
    passes one that applies the usual URL rules) and raises ValueError to refuse it.
    `on_progress(done, total)` is called after each capture."""
    from warcio.archiveiterator import ArchiveIterator

    report = WarcImportReport()
    with path.open("rb") as stream:
        try:
            index, report.skipped = index_warc(stream, report.problems)
        except _read_errors() as exc:
            # warcio quotes the offending bytes; a line of them is enough to recognise.
            raise WarcReadError(str(exc)[:120]) from exc
        for done, item in enumerate(index, start=1):
            stream.seek(item.offset)
            report.responses += 1
            try:
                record = next(iter(ArchiveIterator(stream)))
                outcome = _import_one(db, record, item, add_story, max_body_bytes, report)
            except _read_errors() as exc:
                report.problems.append(
                    f"record at offset {item.offset} ({item.url}): damaged, skipped ({_short(exc)})"
                )
                outcome = "damaged"
            if outcome != "version":
                report.skipped[outcome] += 1
            if on_progress is not None:
                on_progress(done, len(index))
    return report


def _import_one(
    db: Database,
    record: Any,
    item: IndexedResponse,
    add_story: Callable[[Session, str, datetime], tuple[Story, bool]],
    max_body_bytes: int,
    report: WarcImportReport,
) -> str:
    if record.rec_headers.get_header("WARC-Truncated"):
        return "truncated"
    code = (record.http_headers.get_statuscode() or "").strip()
    status = int(code) if code.isdigit() else 0  # a garbled status line is not a 200
    if status != 200:
        return "not_ok"
    headers = {name.lower(): value for name, value in record.http_headers.headers}
    mime, charset = parse_content_type(headers.get("content-type"))
    body = record.content_stream().read(max_body_bytes + 1)  # de-chunked and decompressed
    if len(body) > max_body_bytes:
        return "too_large"
    if (mime is not None and mime not in HTML_TYPES) or (
        mime is None and not looks_like_html(body)
    ):
        return "not_html"
    try:
        html, encoding = decode_html(body, charset)
    except NotHTMLError:
        return "not_html"

    with db.session() as session:
        try:
            story, created = add_story(session, item.story_url, item.captured_at)
        except ValueError as exc:
            report.problems.append(f"{item.story_url}: {exc}")
            return "bad_url"
        report.stories_added += created
        # The daemon may check this story meanwhile: on PostgreSQL, lock the row (as a check
        # does when it records) and read it afresh, so a version it stored since is built on
        # rather than given the same number. SQLite's write lock already orders the two.
        if session.get_bind().dialect.name == "postgresql":
            session.refresh(story, with_for_update=True)
        previous = latest_version(session, story.id)
        if previous is not None and _aware(item.captured_at) <= _aware(previous.captured_at):
            return "older"
        analysis = analyse(html, item.url, story.selector, tuple(story.ignore_patterns or ()))
        if analysis.empty or analysis.article is None:
            return "no_article"
        if analysis.fingerprint == story.last_fingerprint:
            return "unchanged"
        comparison = compare(version_as_article(previous) if previous else None, analysis.article)
        if comparison.identical:  # fingerprint rules changed since that version was stored
            story.last_fingerprint = analysis.fingerprint
            return "unchanged"
        fetched = archived_response(
            item.url, status=status, headers=headers, body=body, text=html, encoding=encoding
        )
        store_version(
            session, story, fetched, analysis, comparison, now=item.captured_at, capture=None
        )
        report.versions_added += 1
    return "version"


def _our_metadata(record: Any) -> tuple[str, datetime] | None:
    """(story URL, when it was the current version) from a `tracker export` metadata record."""
    if record.rec_headers.get_header("Content-Type") != "application/json":
        return None
    try:
        about = json.loads(record.content_stream().read(1_000_000))
        return str(about["story_url"]), _aware(datetime.fromisoformat(about["captured_at"]))
    except (ValueError, KeyError, TypeError):
        return None


def _warc_date(value: str | None) -> datetime | None:
    """A WARC-Date (W3C ISO 8601, UTC), or None if there is none that can be read.
    Exports of tracker 0.1 wrote "+00:00Z"; read those too."""
    text = (value or "").strip()
    if text.endswith("Z"):
        text = text[:-1]
    try:
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        return None


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC); WARC dates are UTC too.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
