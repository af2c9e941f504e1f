"""The rows of `tracker list`, read without SQLAlchemy where that gives the same answer.

Start-up time: importing SQLAlchemy takes about as long as the whole command may (issue 14).
The story list is one statement, written once (:func:`story_list_sql`) in SQL that SQLite
and PostgreSQL both run, with ``:name`` parameters that the standard library's sqlite3 and
SQLAlchemy's ``text()`` both bind. Where it runs:

- on a SQLite database named by a plain ``sqlite:///path`` URL (the default), through
  sqlite3 on a read-only connection (:func:`read_sqlite`), when the schema is exactly at
  :data:`SCHEMA_REVISION`;
- everywhere else (PostgreSQL, a URL with options, no database file yet, a schema behind or
  ahead of this tracker, any SQLite error), through :class:`tracker.store.db.Database`,
  opened as for every other command: it upgrades the schema or refuses to open, exactly as
  before, and the same statement runs through ``text()`` (:func:`read_database`).

Either way the same rows make the same dicts (:func:`story_rows`), equal to what
``services.serialize.story_fields`` makes of the ORM stories (as JSON, through ``jsonable``):
``tests/cli/test_list_read_path.py`` checks both.

This module is in ``tracker.cli``, not ``tracker.store``: importing anything under
``tracker.store`` imports every ORM model, and so SQLAlchemy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.cli._app import AppContext
    from tracker.store.db import Database

# The Alembic revision whose schema the statement below is written for: the head revision
# (tests/cli/test_list_read_path.py fails when a new migration makes it stale). A database at
# any other revision is read through Database, which upgrades it or refuses it as usual.
SCHEMA_REVISION = "0020"

# The columns of `stories` that a listed story shows (see story_rows).
_COLUMNS = (
    "id",
    "url",
    "title",
    "status",
    "version_count",
    "developing",
    "promise_state",
    "promise_text",
    "added_at",
    "last_checked_at",
    "last_changed_at",
    "next_check_at",
    "schedule_reason",
    "consecutive_failures",
    "last_error",
    "extraction_health",
    "last_fetcher",
    "lifecycle",
    "fixed_interval_seconds",
    "min_interval_seconds",
    "max_interval_seconds",
    "respect_robots_txt",
    "ignore_patterns",
    "selector",
    "render",
    "variants_since",
)

# The filters of services.stories.stories_query that `tracker list` offers.
_FILTERS = {
    "status": "s.status = :status",
    "tag": "s.id IN (SELECT story_id FROM story_tags WHERE tag = :tag)",
    "developing": "s.developing = :developing",
}


def story_list_sql(
    *, status: str | None = None, tag: str | None = None, developing: bool | None = None
) -> tuple[str, dict[str, Any]]:
    """The statement listing stories, most recently changed first (as
    ``services.stories.list_stories``), one row per story and tag, and its parameters."""
    given = {"status": status or None, "tag": tag or None, "developing": developing}
    params = {name: value for name, value in given.items() if value is not None}
    where = " AND ".join(_FILTERS[name] for name in params)
    sql = (
        f"SELECT {', '.join(f's.{column}' for column in _COLUMNS)}, t.tag"
        " FROM stories AS s LEFT JOIN story_tags AS t ON t.story_id = s.id"
        + (f" WHERE {where}" if where else "")
        + " ORDER BY s.last_changed_at DESC NULLS LAST, s.id"
    )
    return sql, params


def list_rows(
    app: AppContext,
    *,
    status: str | None = None,
    tag: str | None = None,
    developing: bool | None = None,
) -> list[dict[str, Any]]:
    """The listed stories as ``tracker list --json`` prints them."""
    sql, params = story_list_sql(status=status, tag=tag, developing=developing)
    return story_rows(read_rows(app, sql, params))


def daemon_last_seen(app: AppContext) -> datetime | None:
    """The newest heartbeat of any `tracker run` or `tracker worker` (None: none running), read
    as the story rows are, so `tracker list` can say a due story is overdue with no daemon."""
    records = read_rows(app, "SELECT max(last_seen_at) AS last_seen FROM workers", {})
    value = records[0]["last_seen"] if records else None
    if isinstance(value, str):  # SQLite keeps it as ISO text
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def read_rows(app: AppContext, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The statement's rows: through sqlite3 when it can answer, else through Database."""
    records = read_sqlite(app.settings.effective_database_url, sql, params)
    return records if records is not None else read_database(app.db, sql, params)


def sqlite_path(url: str) -> str | None:
    """The file of a plain SQLite URL (``sqlite:///path``), None for any other URL: options
    (``?mode=ro&uri=true``), percent-escapes and other drivers are SQLAlchemy's to read."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url.removeprefix(prefix)
            if path and path != ":memory:" and not any(c in path for c in "?%"):
                return path
    return None


def read_sqlite(url: str, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The statement's rows, read through sqlite3 on a read-only connection; None when this
    cannot answer as opening the database would (see the module's docstring)."""
    path = sqlite_path(url)
    if path is None:
        return None
    import sqlite3

    uri = f"{Path(path).absolute().as_uri()}?mode=ro"  # never creates or writes the file
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    except sqlite3.Error:
        return None  # no database yet: Database creates it
    try:
        connection.execute("BEGIN")  # one snapshot for the revision and the rows
        revisions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        if revisions != [(SCHEMA_REVISION,)]:
            return None
        cursor = connection.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]
    except sqlite3.Error:
        return None  # whatever it is, Database reports it (or recovers) as for any command
    finally:
        connection.close()


def read_database(database: Database, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The statement's rows, read through SQLAlchemy in a read-only session."""
    from sqlalchemy import text

    with database.read_session() as session:
        return [dict(row) for row in session.execute(text(sql), params).mappings()]


def story_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One dict per story from the statement's rows (one per story and tag), with the keys
    and values ``jsonable(story_fields(story))`` gives the ORM story."""
    stories: dict[int, tuple[Mapping[str, Any], list[str]]] = {}
    for record in records:
        _, tags = stories.setdefault(record["id"], (record, []))
        if record["tag"] is not None:
            tags.append(record["tag"])
    return [_story_row(record, tags) for record, tags in stories.values()]


def _story_row(story: Mapping[str, Any], tags: list[str]) -> dict[str, Any]:
    # The fields of services.serialize.story_fields, made JSON-ready as `jsonable` does,
    # from raw column values as either driver returns them.
    return {
        "id": story["id"],
        "url": story["url"],
        "title": story["title"],
        "status": story["status"],
        "versions": story["version_count"],
        "developing": _bool(story["developing"]),
        "promise": story["promise_state"],
        "promise_text": story["promise_text"],
        "tags": sorted(tags),
        "added_at": _iso(story["added_at"]),
        "last_checked_at": _iso(story["last_checked_at"]),
        "last_changed_at": _iso(story["last_changed_at"]),
        "next_check_at": _iso(story["next_check_at"]),
        "schedule": story["schedule_reason"],
        "consecutive_failures": story["consecutive_failures"],
        "last_error": story["last_error"],
        "extraction_health": story["extraction_health"],
        "fetcher": story["last_fetcher"],
        "lifecycle": story["lifecycle"],
        "settings": _settings(story),
        "variants_since": _iso(story["variants_since"]),
    }


def _settings(story: Mapping[str, Any]) -> dict[str, object]:
    # As services.stories.story_settings.
    from tracker.core.cadence import format_duration

    def duration(seconds: int | None) -> str | None:
        return format_duration(timedelta(seconds=seconds)) if seconds else None

    robots = {True: "respect", False: "ignore", None: "default"}
    ignore_patterns = story["ignore_patterns"]
    if isinstance(ignore_patterns, str):  # SQLite hands JSON columns over as text
        ignore_patterns = json.loads(ignore_patterns)
    return {
        "interval": duration(story["fixed_interval_seconds"]),
        "min_interval": duration(story["min_interval_seconds"]),
        "max_interval": duration(story["max_interval_seconds"]),
        "robots": robots[_bool(story["respect_robots_txt"])],
        "ignore_patterns": list(ignore_patterns or []),
        "selector": story["selector"],
        "render": story["render"] or "default",
    }


def _bool(value: object) -> bool | None:
    return None if value is None else bool(value)  # SQLite hands booleans over as 0 and 1


def _iso(value: datetime | str | None) -> str | None:
    """A stored time as the ORM's UTCDateTime reads it (UTC, aware), in ISO 8601: SQLite
    holds naive UTC as text, PostgreSQL hands over aware datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat()
