"""The database layer: transactions that write take SQLite's write lock; readers do not."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, insert, select, text, update

from tracker.services.stories import add_stories
from tracker.store.db import Database, ReadOnlyError
from tracker.store.models import Story


def statements(db: Database) -> list[str]:
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: seen.append(sql))
    return seen


def test_a_read_session_reads_committed_data_and_writes_nothing(db: Database):
    with db.session() as session:
        add_stories(
            session, ["http://127.0.0.1:9/a"], now=datetime.now(UTC), allow_private_networks=True
        )
    with db.read_session() as session:
        story = session.scalar(select(Story))
        assert story.url == "http://127.0.0.1:9/a"
        with pytest.raises(ReadOnlyError):
            session.execute(update(Story).values(title="changed in a read session"))
        story.title = "changed on the object"
        with pytest.raises(ReadOnlyError):
            session.flush()
        session.expire(story)  # drop the change, or leaving the block would try again
    with db.read_session() as session:
        assert session.scalar(select(Story.title)) is None


def test_on_sqlite_only_writers_take_the_write_lock(db: Database):
    if not db.is_sqlite:
        return  # PostgreSQL readers never block writers anyway (MVCC)
    sql = statements(db)
    with db.read_session() as session:
        session.scalars(select(Story.id)).all()
    assert sql[0] == "BEGIN"
    sql.clear()
    with db.session() as session:
        session.scalars(select(Story.id)).all()
    assert sql[0] == "BEGIN IMMEDIATE"


def test_a_reader_does_not_wait_for_a_writer_holding_the_lock(db: Database):
    with db.session() as session:
        add_stories(
            session, ["http://127.0.0.1:9/a"], now=datetime.now(UTC), allow_private_networks=True
        )
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.session() as session:
            session.execute(update(Story).values(title="being written"))
            session.flush()
            locked.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert locked.wait(10)
        read: list[str | None] = []

        def read_title() -> None:
            with db.read_session() as session:
                read.append(session.scalar(select(Story.title)))

        reader = threading.Thread(target=read_title)
        reader.start()
        reader.join(10)  # a writer-style transaction would wait up to busy_timeout (30 s)
        assert not reader.is_alive()
        assert read == [None]  # the last committed state, not the writer's uncommitted one
    finally:
        release.set()
        thread.join()


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(
            lambda session: session.execute(
                insert(Story.__table__).values(
                    url="http://127.0.0.1:9/core",
                    added_at=datetime.now(UTC),
                    first_seen_at=datetime.now(UTC),
                )
            ),
            id="core-insert",
        ),
        pytest.param(
            lambda session: session.execute(text("UPDATE stories SET title = 'by text()'")),
            id="text",
        ),
        pytest.param(
            lambda session: session.connection().execute(
                update(Story.__table__).values(title="on the connection")
            ),
            id="connection",
        ),
    ],
)
def test_no_write_gets_through_a_read_session(db: Database, write):
    """Whatever path a write takes (ORM, Core, text(), the raw connection), a read session
    refuses it: on SQLite a write there would take the write lock it promised not to."""
    with db.session() as session:
        add_stories(
            session, ["http://127.0.0.1:9/a"], now=datetime.now(UTC), allow_private_networks=True
        )
    with pytest.raises(ReadOnlyError), db.read_session() as session:
        write(session)
    with db.read_session() as session:
        assert session.scalars(select(Story.title)).all() == [None]
