"""Fetchers are found by name: a new way of fetching is one module that registers itself.

Everything that fetches holds a `PageFetcher`; the check engine makes one per kind through
the registry. These tests register a fetcher of their own, as a new fetcher module would,
and check a story with it without touching any other code.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from servers import LocalServer

from tracker.config import Settings
from tracker.demo.site import STAGES, render_page
from tracker.net import fetcher as registry_module
from tracker.net.fetcher import (
    DEFAULT_FETCHER,
    ROBOTS_MAX_BYTES,
    FetcherFactory,
    FetchOptions,
    FetchResult,
    PageFetcher,
    UnknownFetcherError,
    fetcher_names,
    new_fetcher,
    register_fetcher,
)
from tracker.net.http import HttpFetcher
from tracker.pipeline.engine import CheckEngine, fetch_options
from tracker.pipeline.render import FetchPlan
from tracker.pipeline.story_state import StoryState
from tracker.services.stories import add_stories
from tracker.store.db import Database


class RecordingFetcher:
    """A fetcher as a new module would write one: here, plain HTTP that notes each URL."""

    def __init__(self, options: FetchOptions) -> None:
        self.options = options
        self.urls: list[str] = []
        self.closed = False
        self._http = HttpFetcher(options)

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        self.urls.append(url)
        return self._http.fetch(url, etag=etag, last_modified=last_modified)

    def fetch_resource(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        self.urls.append(url)
        return self._http.fetch_resource(url, etag=etag, last_modified=last_modified)

    def get_text(self, url: str, *, max_bytes: int = ROBOTS_MAX_BYTES) -> FetchResult:
        self.urls.append(url)
        return self._http.get_text(url, max_bytes=max_bytes)

    def close(self) -> None:
        self.closed = True
        self._http.close()


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[RecordingFetcher]:
    """Registers "recording" for one test (the registry is restored afterwards); lists every
    RecordingFetcher the registry makes."""
    fetcher_names()  # the built-in fetchers load first, so that the copy includes them
    monkeypatch.setattr(registry_module, "_FACTORIES", dict(registry_module._FACTORIES))
    fetchers: list[RecordingFetcher] = []

    def make(options: FetchOptions) -> RecordingFetcher:
        fetchers.append(RecordingFetcher(options))
        return fetchers[-1]

    register_fetcher("recording", make)
    return fetchers


def test_http_is_registered_and_is_the_default():
    assert DEFAULT_FETCHER == "http"
    assert "http" in fetcher_names()
    options = FetchOptions(max_bytes=1234)
    fetcher = new_fetcher(DEFAULT_FETCHER, options)
    try:
        assert isinstance(fetcher, HttpFetcher)
        assert fetcher.options is options
    finally:
        fetcher.close()


def test_an_unknown_fetcher_is_an_error_that_names_the_known_ones(made):
    with pytest.raises(UnknownFetcherError) as raised:
        new_fetcher("pigeon", FetchOptions())
    assert (
        str(raised.value) == "unknown fetcher 'pigeon' (known fetchers: browser, http, recording)"
    )
    assert isinstance(raised.value, ValueError)  # where settings are validated, a bad value


def test_a_name_is_taken_by_one_fetcher_only(made):
    register_fetcher("http", HttpFetcher)  # the same again: harmless
    with pytest.raises(ValueError, match="a fetcher named 'http' is already registered"):
        register_fetcher("http", RecordingFetcher)
    with pytest.raises(ValueError, match="lower-case letters"):
        register_fetcher("Headless Browser", RecordingFetcher)
    assert fetcher_names() == ("browser", "http", "recording")


def test_the_http_fetcher_is_a_page_fetcher() -> None:
    factory: FetcherFactory = HttpFetcher  # what mypy checks: the class is a factory...
    fetcher: PageFetcher = factory(FetchOptions())  # ...of page fetchers
    try:
        assert isinstance(fetcher, PageFetcher)  # and the same at run time
    finally:
        fetcher.close()
    assert isinstance(RecordingFetcher(FetchOptions()), PageFetcher)
    assert not isinstance(object(), PageFetcher)


def test_the_engine_makes_one_fetcher_per_kind_with_the_settings_limits_and_closes_them(
    made, db: Database, settings: Settings
):
    with CheckEngine(db, settings) as engine:
        assert isinstance(engine.fetcher, HttpFetcher)
        assert engine.fetcher_for(DEFAULT_FETCHER) is engine.fetcher
        recording = engine.fetcher_for("recording")
        assert engine.fetcher_for("recording") is recording
        assert made == [recording]
        assert recording.options == fetch_options(settings)
        with pytest.raises(UnknownFetcherError, match="known fetchers: browser, http, recording"):
            engine.fetcher_for("pigeon")
    assert made[0].closed


def test_a_story_is_checked_with_a_newly_registered_fetcher(
    made, db: Database, settings: Settings, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    """Registering is all it takes: once the engine names the new fetcher for a story, that
    fetcher fetches the page. robots.txt is still read by the default fetcher."""
    server.set("/story", render_page(STAGES[0]))
    with db.session() as session:
        [added] = add_stories(
            session, [server.url("/story")], now=datetime.now(UTC), allow_private_networks=True
        )

    def recording_for_every_story(engine: CheckEngine, state: StoryState) -> FetchPlan:
        return FetchPlan("recording", None, may_escalate=False)  # as a render mode does

    monkeypatch.setattr(CheckEngine, "fetch_plan", recording_for_every_story)
    with CheckEngine(db, settings) as engine:
        [report] = engine.check_now([added.story_id])

    assert str(report.outcome) == "changed"
    assert report.version_seq == 1
    [recording] = made
    assert recording.urls == [server.url("/story")]
    assert server.count("/robots.txt") == 1
    assert recording.closed


def test_a_fake_fetcher_given_to_the_engine_is_its_default(db: Database, settings: Settings):
    fake = RecordingFetcher(fetch_options(settings))
    with CheckEngine(db, settings, fetcher=fake) as engine:
        assert engine.fetcher is fake
        assert engine.fetcher_for(DEFAULT_FETCHER) is fake
    assert fake.closed
