"""`tracker list` reads SQLite without SQLAlchemy (tracker/cli/_story_list.py): the same
answer as the SQLAlchemy path and as the ORM stories it replaced, and the same behaviour
when the database is missing, behind or ahead of this tracker."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from servers import LocalServer

from tracker.cli import _story_list, main
from tracker.config import Settings
from tracker.demo.site import STAGES, render_page
from tracker.services.serialize import jsonable, story_fields
from tracker.services.stories import list_stories
from tracker.store.db import Database, head_revision, upgrade

FILTERS = [(), ("--status", "paused"), ("--tag", "desk"), ("--developing",)]


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_EXTRACT_PROCESSES": "0",
    }


def run(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    return result


@pytest.fixture
def stories(env: dict[str, str], server: LocalServer) -> None:
    """Stories with everything a listed story shows: versions, tags, a promise, its own
    settings, a paused one, one whose checks fail."""
    for path in ("/news/a", "/news/b"):
        server.set(path, render_page(STAGES[0], 0))
    developing, updated = server.url("/news/a"), server.url("/news/b")
    missing = server.url("/news/missing")  # no page: checks fail with 404
    run(env, "add", developing, "--tag", "desk", "--tag", "Économie", "--tag", "alpha")
    run(env, "add", updated, missing, "--tag", "desk")
    run(env, "check", "--all")
    server.set("/news/b", render_page(STAGES[1], 1))
    run(env, "check", updated)
    run(env, "add", server.url("/news/never-checked"))
    run(env, "set", updated, "--interval", "5m", "--robots", "ignore", "--ignore", "^Weather")
    run(env, "set", developing, "--min-interval", "90s", "--max-interval", "2h", "--render", "http")
    run(env, "pause", missing)


def orm_rows(settings: Settings, **filters: Any) -> list[dict[str, Any]]:
    """What `tracker list --json` printed before it had a read path of its own."""
    database = Database(settings)
    try:
        with database.session() as session:
            rows = [jsonable(story_fields(s)) for s in list_stories(session, **filters)]
    finally:
        database.dispose()
    return json.loads(json.dumps(rows, default=str))


def filters_of(args: tuple[str, ...]) -> dict[str, Any]:
    options = dict(zip(args[::2], args[1::2], strict=False))
    return {
        "status": options.get("--status"),
        "tag": options.get("--tag"),
        "developing": True if "--developing" in args else None,
    }


@pytest.mark.usefixtures("stories")
def test_list_json_is_the_same_through_sqlite3_sqlalchemy_and_the_orm(
    env: dict[str, str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[bool] = []
    read_sqlite = _story_list.read_sqlite

    def spy(*args: Any) -> Any:
        rows = read_sqlite(*args)
        answered.append(rows is not None)
        return rows

    monkeypatch.setattr(_story_list, "read_sqlite", spy)
    settings = Settings(home=Path(env["TRACKER_HOME"]), database_url=database_url)
    for args in FILTERS:
        answered.clear()
        direct = json.loads(run(env, "list", "--json", *args).stdout)
        # sqlite3 answers on SQLite; PostgreSQL is SQLAlchemy's.
        assert answered == [database_url.startswith("sqlite")], args
        with monkeypatch.context() as forced:
            forced.setattr(_story_list, "read_sqlite", lambda *_: None)
            through_sqlalchemy = json.loads(run(env, "list", "--json", *args).stdout)
        assert direct == through_sqlalchemy == orm_rows(settings, **filters_of(args)), args
    everything = json.loads(run(env, "list", "--json").stdout)
    # The fixture made what the comparison is about: no field is vacuously equal.
    assert len(everything) == 4
    assert any(row["developing"] and row["promise"] == "pending" for row in everything)
    assert any(row["versions"] == 2 and row["promise"] == "fulfilled" for row in everything)
    assert any(row["settings"]["interval"] == "5 min" for row in everything)
    assert any(row["settings"]["min_interval"] == "1 min 30 s" for row in everything)
    assert any(row["tags"] == ["alpha", "desk", "Économie"] for row in everything)
    assert any(row["last_error"] and row["status"] == "paused" for row in everything)
    assert any(row["last_checked_at"] is None for row in everything)
    assert [row["id"] for row in json.loads(run(env, "list", "--json", "--developing").stdout)]


def test_the_schema_revision_of_the_read_path_is_alembics_head(db: Database) -> None:
    assert head_revision(db.engine) == _story_list.SCHEMA_REVISION, (
        "a new migration: check the statement in tracker/cli/_story_list.py still reads "
        "the schema right, then set SCHEMA_REVISION to the new head"
    )


def sqlite_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    path = tmp_path / "home" / "tracker.db"
    return {"TRACKER_HOME": str(tmp_path / "home")}, path


def test_list_without_a_database_creates_it_as_before(tmp_path: Path) -> None:
    env, path = sqlite_env(tmp_path)
    result = run(env, "list")
    assert "no stories tracked yet" in result.stderr
    revision = sqlite3.connect(path).execute("SELECT version_num FROM alembic_version")
    assert revision.fetchall() == [(_story_list.SCHEMA_REVISION,)]


def test_a_database_behind_this_tracker_is_upgraded_then_listed(tmp_path: Path) -> None:
    env, path = sqlite_env(tmp_path)
    database = Database(Settings(home=path.parent), auto_upgrade=False)
    upgrade(database.engine, "0001")
    database.dispose()
    assert json.loads(run(env, "list", "--json").stdout) == []
    revision = sqlite3.connect(path).execute("SELECT version_num FROM alembic_version")
    assert revision.fetchall() == [(_story_list.SCHEMA_REVISION,)]


def test_a_database_of_a_newer_tracker_is_refused_as_by_every_command(tmp_path: Path) -> None:
    env, path = sqlite_env(tmp_path)
    run(env, "add", "https://example.com/a")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'from-the-future'")
    connection.close()
    listed = run(env, "list", code=1)
    assert "Can't locate revision identified by 'from-the-future'" in listed.stderr
    assert listed.stderr == run(env, "history", "1", code=1).stderr


def test_only_plain_sqlite_urls_are_read_without_sqlalchemy() -> None:
    assert _story_list.sqlite_path("sqlite:////srv/tracker/tracker.db") == "/srv/tracker/tracker.db"
    assert _story_list.sqlite_path("sqlite+pysqlite:///data/t.db") == "data/t.db"
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:/srv/t.db?mode=ro&uri=true",
        "sqlite:////srv/a%20b.db",
        "sqlite+pysqlcipher:///secret.db",
        "postgresql+psycopg://tracker@db/tracker",
    ):
        assert _story_list.sqlite_path(url) is None, url
