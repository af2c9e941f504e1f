"""Engine and session factory; SQLite pragmas; schema upgrade through Alembic on start."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    # Alembic (about 0.1 s to import) is imported by the functions that run it.
    from alembic.config import Config

    from tracker.config import Settings


class DatabaseError(Exception):
    """The database cannot be opened or upgraded; the message says why."""


def migrations_dir() -> Path:
    """The Alembic script directory: ``migrations/`` in a checkout, bundled in a wheel."""
    for candidate in (
        Path(__file__).resolve().parents[2] / "migrations",
        Path(__file__).resolve().parents[1] / "_migrations",
    ):
        if (candidate / "env.py").is_file():
            return candidate
    raise DatabaseError("Alembic migrations not found (expected migrations/env.py)")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs for a multi-threaded daemon."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        _configure_sqlite(engine)
        event.listen(engine, "before_cursor_execute", _refuse_write_statements)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "before_cursor_execute", _refuse_write_statements)
    return engine


# Execution option marking a transaction that only reads (see Database.read_session).
READ_ONLY = "tracker_read_only"


class ReadOnlyError(RuntimeError):
    """Something tried to write in a read-only session (a bug)."""


# How statements that only read begin (BEGIN, SAVEPOINT and ROLLBACK run in any transaction).
_READING_STATEMENTS = frozenset(
    {"select", "with", "values", "explain", "show", "pragma", "begin", "savepoint", "release"}
    | {"rollback"}
)


def _refuse_write_statements(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
    """The read-only guard: every statement of a read session passes through here, whether
    the ORM flushed it, or it was Core, text() or run on ``session.connection()``."""
    if not connection.get_execution_options().get(READ_ONLY):
        return
    words = statement.split(None, 1)
    if words and words[0].lower() not in _READING_STATEMENTS:
        raise ReadOnlyError(
            f"a read-only session cannot run {words[0].upper()} (use Database.session)"
        )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that "begin" below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # A reader: in WAL mode a deferred transaction reads a snapshot and never waits
            # for (or holds up) the writer.
            connection.exec_driver_sql("BEGIN")
            return
        # SQLite has one writer. A deferred transaction that reads and then writes can fail
        # with "database is locked" without waiting when another writer got in between;
        # IMMEDIATE takes the write lock up front and waits for it (busy_timeout) instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # configparser interpolates "%": escape it (URL-encoded query strings are full of them).
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# A migration's file: its revision, then its name (0001_initial_schema.py has revision 0001;
# tests/test_migrations.py holds every file to it).
_MIGRATION_FILE = re.compile(r"(\d{4})_\w+\.py")


def shipped_head() -> str | None:
    """The head revision of the migrations this tracker ships, read from their file names
    without Alembic (importing it and reading every script costs about 0.1 s of each command);
    None when a file is not named as a migration is, so that only Alembic can tell."""
    revisions: list[str] = []
    for path in (migrations_dir() / "versions").iterdir():
        if path.suffix != ".py":
            continue
        named = _MIGRATION_FILE.fullmatch(path.name)
        if named is None:
            return None
        revisions.append(named.group(1))
    return max(revisions, default=None)


def at_shipped_head(engine: Engine) -> bool:
    """Whether the database's schema is exactly at :func:`shipped_head`: then upgrading it
    would do nothing. Any doubt (no such table yet, another revision, an error) is False, and
    the caller upgrades through Alembic, which creates, upgrades or refuses as it always did."""
    head = shipped_head()
    if head is None:
        return False
    try:
        # Read-only: on SQLite a read takes no write lock, so this never waits for a writer.
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except SQLAlchemyError:
        return False
    return [tuple(row) for row in rows] == [(head,)]


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


class Database:
    """The engine and session factory of one configured database."""

    def __init__(self, settings: Settings, *, auto_upgrade: bool = True) -> None:
        self.settings = settings
        self.url = settings.effective_database_url
        try:
            self.engine = make_engine(self.url)
            # Most opens find the schema current: that is one small read, not Alembic.
            if auto_upgrade and not at_shipped_head(self.engine):
                upgrade(self.engine)
        except DatabaseError:
            raise
        except Exception as exc:  # driver errors vary by backend; say which database failed
            safe_url = make_url(self.url).render_as_string(hide_password=True)
            raise DatabaseError(f"cannot open database {safe_url}: {exc}") from exc
        self.sessions = session_factory(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: on SQLite it takes no write lock, so it neither waits
        for the checks being written nor holds them up. Writing in it raises ReadOnlyError.
        (It ends with a commit, which writes nothing, so loaded objects stay readable.)"""
        with self.sessions.begin() as session:
            session.connection(execution_options={READ_ONLY: True})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
