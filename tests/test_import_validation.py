"""`tracker import export.json` validates every record as `add`, `set` and the API do.

The class: an export is data from outside. A field that `tracker add` or `tracker set` would
refuse (a URL that is not http(s), a pattern that does not compile or backtracks without end,
an interval out of range, an unknown status, a tag that is not text, a NUL in a column
PostgreSQL refuses) is refused on import too: the record is skipped with its index and the
reason, and the other records are imported. Through the real CLI, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli_runner

GOOD = "http://127.0.0.1:9/news/good"


def story(url: str = GOOD, **fields: object) -> dict:
    return {"url": url, "status": "active", "tags": [], **fields}


def version(seq: int = 1, **fields: object) -> dict:
    return {
        "seq": seq,
        "captured_at": "2026-11-01T10:00:00+00:00",
        "fingerprint": "f" * 64,
        "text": "The council met on Monday.",
        "kinds": ["first"],
        **fields,
    }


BAD_STORIES = {
    "javascript-url": story("javascript:alert(1)"),
    "data-url": story("data:text/html,<script>alert(1)</script>"),
    "url-with-nul": story("http://127.0.0.1:9/a\x00b"),
    "url-not-text": story(12345),  # type: ignore[arg-type]
    "pattern-that-does-not-compile": story(ignore_patterns=["(unclosed"]),
    "pattern-that-backtracks": story(ignore_patterns=["^(a+)+$"]),
    "negative-interval": story(fixed_interval_seconds=-60),
    "zero-interval": story(min_interval_seconds=0),
    "interval-past-ten-years": story(max_interval_seconds=10**12),
    "min-over-max": story(min_interval_seconds=7200, max_interval_seconds=60),
    "interval-as-text": story(fixed_interval_seconds="60"),
    "flag-as-text": story(developing="true"),
    "unknown-status": story(status="sleeping"),
    "unknown-render": story(render="lynx"),
    "tag-not-text": story(tags=[{"name": "x"}]),
    "tag-with-escape": story(tags=["\x1b]0;pwned\x07"]),
    "tags-not-a-list": story(tags="world"),
    "bad-selector": story(selector="div[[["),
    "version-seq-zero": story(versions=[version(0)]),
    "version-seq-twice": story(versions=[version(1), version(1)]),
    "version-text-with-nul": story(versions=[version(text="a\x00b")]),
    "version-without-text": story(versions=[{"seq": 1, "captured_at": "2026-11-01"}]),
    "check-unknown-outcome": story(
        checks=[{"started_at": "2026-11-01T10:00:00+00:00", "outcome": "exploded"}]
    ),
    "event-unknown-kind": story(
        events=[{"created_at": "2026-11-01T10:00:00+00:00", "kind": "hacked"}]
    ),
    "not-an-object": ["http://127.0.0.1:9/a"],
}


@pytest.fixture
def cli(tmp_path: Path, database_url: str):
    return cli_runner(tmp_path / "home", database_url)


def export(tmp_path: Path, stories: list, feeds: list | None = None) -> Path:
    path = tmp_path / "export.json"
    document = {"format": "tracker-export", "format_version": 1, "stories": stories}
    if feeds is not None:
        document["feeds"] = feeds
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad", list(BAD_STORIES))
def test_a_record_add_or_set_would_refuse_is_refused_and_the_rest_imported(
    cli, tmp_path: Path, bad: str
):
    good = story(GOOD, versions=[version()], tags=["world"])
    result = cli("import", str(export(tmp_path, [BAD_STORIES[bad], good])))
    assert result.stdout.startswith("imported 1 story, 1 version")
    [line] = [line for line in result.stderr.splitlines() if line.startswith("skipped:")]
    assert line.startswith("skipped: stories[0]")
    [listed] = json.loads(cli("list", "--json").stdout)
    assert listed["url"] == GOOD and listed["tags"] == ["world"]
    # The survivor is checkable: no stored value breaks a later command.
    assert cli("show", GOOD).exit_code == 0
    assert cli("history", GOOD).exit_code == 0


def test_a_refusal_names_the_field_and_the_problem(cli, tmp_path: Path):
    path = export(tmp_path, [story(ignore_patterns=["(unclosed"]), story(status="sleeping")])
    result = cli("import", str(path))
    assert "stories[0] (http://127.0.0.1:9/news/good): ignore_patterns" in result.stderr
    assert "stories[1]" in result.stderr and "status" in result.stderr


def test_an_imported_record_is_stored_as_add_would_store_it(cli, tmp_path: Path):
    messy = "HTTP://127.0.0.1:9/News/Good?utm_source=x#top"
    cli("import", str(export(tmp_path, [story(messy)])))
    [listed] = json.loads(cli("list", "--json").stdout)
    assert listed["url"] == "http://127.0.0.1:9/News/Good"


@pytest.mark.parametrize(
    "feed",
    [
        {"url": "javascript:alert(1)"},
        {"url": "http://127.0.0.1:9/feed.xml", "include_pattern": "(unclosed"},
        {"url": "http://127.0.0.1:9/feed.xml", "interval_seconds": -5},
        {"url": "http://127.0.0.1:9/feed.xml", "tags": [7]},
        {"url": None},
        {"url": "http://127.0.0.1:9/feed.xml", "interval_seconds": "3600"},
        "http://127.0.0.1:9/feed.xml",
    ],
)
def test_a_bad_feed_record_is_refused_and_the_rest_imported(cli, tmp_path: Path, feed: object):
    good_feed = {"url": "http://127.0.0.1:9/good.xml", "tags": ["world"]}
    result = cli("import", str(export(tmp_path, [story()], feeds=[feed, good_feed])))
    assert result.stdout.startswith("imported 1 story, 0 versions, 1 feed")
    assert "skipped: feeds[0]" in result.stderr


def test_a_file_that_is_not_an_export_is_one_clear_error(cli, tmp_path: Path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    result = cli("import", "--format", "json", str(path), ok=False)
    assert result.exit_code == 1
    assert "not a tracker export" in result.stderr
