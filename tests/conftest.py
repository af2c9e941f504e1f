"""Shared fixtures.

Database tests run on SQLite always and on PostgreSQL when ``TRACKER_TEST_POSTGRES_URL``
is set (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each PostgreSQL test
gets a schema of its own, dropped afterwards. Each SQLite test gets a copy of one database
migrated once per test process (the migrations themselves are tested in test_migrations.py).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from servers import LocalServer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tracker.config import Settings
from tracker.store.db import Database

# The browser tests' fixtures (Chromium, the web app on a free port, a tab).
pytest_plugins = ["browser_support", "alert_support"]

POSTGRES_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_schema_url(schema: str) -> str:
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL)
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema; yields a database URL that uses it."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need TRACKER_TEST_POSTGRES_URL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the head revision, once per test process."""
    home = tmp_path_factory.mktemp("template")
    path = home / "tracker.db"
    Database(make_settings(home, f"sqlite:///{path}")).dispose()
    return path


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database with SQLite's backup API (consistent whatever its journal mode)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "tracker.db"
        copy_sqlite(sqlite_template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_schema")


def make_settings(home: Path, database_url: str | None = None, **overrides: object) -> Settings:
    """Settings for tests: fast, loopback allowed, no politeness delays, no env or file."""
    values: dict[str, object] = {
        "home": home,
        "database_url": database_url,
        "allow_private_networks": True,
        "per_host_min_delay": 0.0,
        "per_host_concurrency": 8,
        "respect_robots_txt": True,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "fetch_deadline": 5.0,
        "extract_processes": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's settings file or TRACKER_* variables."""
    for name in list(os.environ):
        if name.startswith("TRACKER_") and name != "TRACKER_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "home"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "home", database_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


def cli_runner(home: Path, database_url: str) -> Callable[..., Result]:
    """`run(*args, ok=True)`: the tracker command in-process, on `home` and `database_url`,
    loopback allowed, no politeness delay, extraction in-process. With ok, exit status 0 is
    asserted (the output is shown if not)."""
    from tracker.cli import main

    env = {
        "TRACKER_HOME": str(home),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_EXTRACT_PROCESSES": "0",
    }
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    return run
