"""The research export: one row per version, one per sentence-level edit and one per
lifecycle event (unpublished, redirected, moved, paywalled, republished), as Parquet or CSV
(``tracker export --format parquet|csv -o DIR``). The schema is in docs/research-export.md.

Versions are read with plain column selects a few hundred stories at a time, and rows are
written in batches, so memory stays flat on a large history.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.edit_types import edit_types, is_silent_correction
from tracker.core.lifecycle import LIFECYCLE_EVENTS
from tracker.core.sentences import align, split_sentences
from tracker.store.archive_models import ArchiveSubmission, SubmissionStatus
from tracker.store.histories import story_histories
from tracker.store.models import Event, Story, Version
from tracker.store.timestamp_models import ChainTimestamp, TimestampStatus
from tracker.store.timestamps import first_stamps

__all__ = [
    "EDIT_COLUMNS",
    "LIFECYCLE_COLUMNS",
    "VERSION_COLUMNS",
    "ResearchExport",
    "export_research",
]

FORMATS: Final = ("parquet", "csv")
_STORIES_PER_QUERY = 200
_ROWS_PER_BATCH = 10_000

# (column, Arrow type name) in file order; docs/research-export.md describes each.
VERSION_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("story_id", "int64"),
    ("url", "string"),
    ("seq", "int32"),
    ("captured_at", "timestamp"),
    ("title", "string"),
    ("byline", "string"),
    ("kinds", "list"),
    ("words_added", "int32"),
    ("words_removed", "int32"),
    ("sentences", "int32"),
    ("sentences_added", "int32"),
    ("sentences_removed", "int32"),
    ("sentences_changed", "int32"),
    ("sentences_moved", "int32"),
    ("silent_correction", "bool"),
    ("chain_sha256", "string"),
    ("archived_url", "string"),
    ("timestamped_at", "timestamp"),
    ("text", "string"),
)
EDIT_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("story_id", "int64"),
    ("url", "string"),
    ("from_seq", "int32"),
    ("to_seq", "int32"),
    ("from_captured_at", "timestamp"),
    ("to_captured_at", "timestamp"),
    ("operation", "string"),
    ("sentence_index_before", "int32"),
    ("sentence_index_after", "int32"),
    ("sentence_before", "string"),
    ("sentence_after", "string"),
    ("similarity", "float64"),
    ("edit_type", "string"),
    ("edit_types", "list"),
    ("numbers_before", "list"),
    ("numbers_after", "list"),
)

LIFECYCLE_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("story_id", "int64"),
    ("url", "string"),
    ("event", "string"),
    ("occurred_at", "timestamp"),
    ("detail", "string"),
    ("from_url", "string"),
    ("to_url", "string"),
    ("http_status", "int32"),
)
_TABLES: Final = ("versions", "edits", "lifecycle")


@dataclass
class ResearchExport:
    stories: int = 0
    versions: int = 0
    edits: int = 0
    lifecycle_events: int = 0
    files: tuple[Path, ...] = ()

    @property
    def bytes(self) -> int:
        return sum(path.stat().st_size for path in self.files)


# What the tables need of each version (tracker.store.histories reads them).
_VERSION_COLUMNS = (
    Version.seq,
    Version.captured_at,
    Version.title,
    Version.byline,
    Version.kinds,
    Version.words_added,
    Version.words_removed,
    Version.chain_sha256,
    Version.text,
)


def _rows(
    session: Session, story_ids: Sequence[int] | None, report: ResearchExport
) -> Iterator[tuple[str, dict[str, Any]]]:
    """("versions" | "edits", row), story by story, oldest version first."""
    archived = _archived_urls(session, story_ids)
    any_stamps = session.scalar(_granted.limit(1)) is not None
    for story_id, url, versions in story_histories(
        session, _VERSION_COLUMNS, story_ids, stories_per_query=_STORIES_PER_QUERY
    ):
        report.stories += 1
        stamps = first_stamps(session, story_id) if any_stamps else []
        previous: dict[str, Any] | None = None
        previous_sentences: list[str] = []
        for version in versions:
            sentences = split_sentences(version["text"] or "")
            edits = align(previous_sentences, sentences) if previous is not None else []
            typed = [
                edit_types(
                    edit,
                    before_text=previous["text"] if previous is not None else None,
                    after_text=version["text"],
                )
                for edit in edits
            ]
            counts = {op: 0 for op in ("added", "removed", "changed", "moved")}
            for edit, types in zip(edits, typed, strict=True):
                counts[edit.operation.value] += 1
                assert previous is not None
                yield (
                    "edits",
                    {
                        "story_id": story_id,
                        "url": url,
                        "from_seq": previous["seq"],
                        "to_seq": version["seq"],
                        "from_captured_at": previous["captured_at"],
                        "to_captured_at": version["captured_at"],
                        "operation": edit.operation.value,
                        "sentence_index_before": edit.before_index,
                        "sentence_index_after": edit.after_index,
                        "sentence_before": edit.before,
                        "sentence_after": edit.after,
                        "similarity": edit.similarity,
                        "edit_type": types.primary,
                        "edit_types": list(types.types),
                        "numbers_before": [old for old, _ in types.numbers],
                        "numbers_after": [new for _, new in types.numbers],
                    },
                )
                report.edits += 1
            yield (
                "versions",
                {
                    "story_id": story_id,
                    "url": url,
                    "seq": version["seq"],
                    "captured_at": version["captured_at"],
                    "title": version["title"],
                    "byline": version["byline"],
                    "kinds": list(version["kinds"] or []),
                    "words_added": version["words_added"],
                    "words_removed": version["words_removed"],
                    "sentences": len(sentences),
                    "sentences_added": counts["added"],
                    "sentences_removed": counts["removed"],
                    "sentences_changed": counts["changed"],
                    "sentences_moved": counts["moved"],
                    "silent_correction": is_silent_correction(zip(edits, typed, strict=True)),
                    "chain_sha256": version["chain_sha256"],
                    "archived_url": archived.get((story_id, version["seq"])),
                    "timestamped_at": next(
                        (stamp.gen_time for stamp in stamps if stamp.seq >= version["seq"]), None
                    ),
                    "text": version["text"],
                },
            )
            report.versions += 1
            previous, previous_sentences = version, sentences
    yield from _lifecycle_rows(session, story_ids, report)


# Any granted timestamp: without one, no story's versions are read for stamps.
_granted = select(ChainTimestamp.id).where(ChainTimestamp.status == TimestampStatus.OK)


def _archived_urls(session: Session, story_ids: Sequence[int] | None) -> dict[tuple[int, int], str]:
    """(story id, seq) → the web archive's copy of that version, for the versions archived
    (the hand-off is off by default: then none)."""
    query = (
        select(ArchiveSubmission.story_id, Version.seq, ArchiveSubmission.archived_url)
        .join(Version, Version.id == ArchiveSubmission.version_id)
        .where(
            ArchiveSubmission.status == SubmissionStatus.ARCHIVED,
            ArchiveSubmission.archived_url.is_not(None),
        )
    )
    if story_ids is not None:
        query = query.where(ArchiveSubmission.story_id.in_(story_ids))
    return {(story_id, seq): url for story_id, seq, url in session.execute(query) if url}


def _lifecycle_rows(
    session: Session, story_ids: Sequence[int] | None, report: ResearchExport
) -> Iterator[tuple[str, dict[str, Any]]]:
    """("lifecycle", row) for each lifecycle event, story by story, oldest first."""
    query = (
        select(Event.story_id, Story.url, Event.kind, Event.created_at, Event.detail, Event.data)
        .join(Story, Story.id == Event.story_id)
        .where(Event.kind.in_(LIFECYCLE_EVENTS))
        .order_by(Event.story_id, Event.created_at, Event.id)
    )
    if story_ids is not None:
        query = query.where(Event.story_id.in_(story_ids))
    for row in session.execute(query.execution_options(yield_per=_ROWS_PER_BATCH)):
        facts = row.data or {}
        status = facts.get("status")
        yield (
            "lifecycle",
            {
                "story_id": row.story_id,
                "url": row.url,
                "event": row.kind,
                "occurred_at": row.created_at,
                "detail": row.detail,
                "from_url": facts.get("from"),
                "to_url": facts.get("to"),
                "http_status": status if isinstance(status, int) else None,
            },
        )
        report.lifecycle_events += 1


class _CsvTable:
    """A CSV file: lists as JSON arrays, times in ISO 8601, empty cells for nulls."""

    def __init__(self, path: Path, columns: tuple[tuple[str, str], ...]) -> None:
        self._handle = path.open("w", encoding="utf-8", newline="")
        self._columns = columns
        self._writer = csv.writer(self._handle)
        self._writer.writerow([name for name, _ in columns])

    def write(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._writer.writerow([_csv_cell(row[name], kind) for name, kind in self._columns])

    def close(self) -> None:
        self._handle.close()


def _csv_cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "list":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class _ParquetTable:
    def __init__(self, path: Path, columns: tuple[tuple[str, str], ...]) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:  # the `research` extra
            raise RuntimeError(
                "Parquet needs pyarrow: pip install 'tracker[research]' (or use --format csv)"
            ) from exc
        types = {
            "int64": pa.int64(),
            "int32": pa.int32(),
            "string": pa.string(),
            "bool": pa.bool_(),
            "float64": pa.float64(),
            "timestamp": pa.timestamp("us", tz="UTC"),
            "list": pa.list_(pa.string()),
        }
        self._pa = pa
        self._schema = pa.schema([(name, types[kind]) for name, kind in columns])
        self._writer = pq.ParquetWriter(path, self._schema, compression="zstd")

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._writer.write_table(self._pa.Table.from_pylist(rows, schema=self._schema))

    def close(self) -> None:
        self._writer.close()


def export_research(
    session: Session,
    directory: Path,
    file_format: str,
    *,
    story_ids: Sequence[int] | None = None,
    progress: Callable[[ResearchExport], None] | None = None,
) -> ResearchExport:
    """Write ``versions.<format>``, ``edits.<format>`` and ``lifecycle.<format>`` into
    `directory` (created if needed). `progress` is called after each batch of rows."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown research format {file_format!r} (parquet or csv)")
    directory.mkdir(parents=True, exist_ok=True)
    table = _ParquetTable if file_format == "parquet" else _CsvTable
    paths = {name: directory / f"{name}.{file_format}" for name in _TABLES}
    report = ResearchExport(files=tuple(paths.values()))
    tables = {
        "versions": table(paths["versions"], VERSION_COLUMNS),
        "edits": table(paths["edits"], EDIT_COLUMNS),
        "lifecycle": table(paths["lifecycle"], LIFECYCLE_COLUMNS),
    }
    batches: dict[str, list[dict[str, Any]]] = {name: [] for name in _TABLES}
    try:
        for name, row in _rows(session, story_ids, report):
            batch = batches[name]
            batch.append(row)
            if len(batch) >= _ROWS_PER_BATCH:
                tables[name].write(batch)
                batch.clear()
                if progress is not None:
                    progress(report)
        for name, batch in batches.items():
            if batch:
                tables[name].write(batch)
    finally:
        for each in tables.values():
            each.close()
    return report
