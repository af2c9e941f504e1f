"""End to end through the CLI: a developing story on a real local server, on SQLite and PostgreSQL.

The story evolves like a real one (a promise of an update, the press conference, a new
headline, a removed sentence, a corrected figure) while the page chrome around it changes
on every request. The tracker must keep exactly the article's versions, with the right
change kinds and diffs, and must not make versions of chrome changes or 304s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import cli_runner
from servers import LocalServer

from tracker.cli import main
from tracker.demo.site import STAGES, render_page


@pytest.fixture
def cli(tmp_path: Path, database_url: str):
    return cli_runner(tmp_path / "home", database_url)


def run_json(cli, *args: str):
    return json.loads(cli(*args, "--json").stdout)


def check(cli, url: str) -> dict:
    [report] = run_json(cli, "check", url)
    return report


def test_a_developing_story_keeps_exactly_its_article_versions(cli, server: LocalServer):
    url = server.url("/news/us-iran-talks")
    server.set("/news/us-iran-talks", render_page(STAGES[0], 0))
    assert cli("add", url, "--tag", "iraq").stdout.strip() == f"added: {url}"

    first = check(cli, url)
    assert first["outcome"] == "changed"
    assert first["version"] == 1
    assert first["kinds"] == ["first"]
    assert "promise_made" in first["events"]

    # Chrome changes on every request (most-read order, comment count, "updated N minutes
    # ago", script nonce): never a version.
    for chrome_round in (1, 2, 3):
        server.set("/news/us-iran-talks", render_page(STAGES[0], chrome_round))
        assert check(cli, url)["outcome"] == "unchanged"

    # The press conference: paragraphs added, the promise fulfilled.
    server.set("/news/us-iran-talks", render_page(STAGES[1], 4))
    second = check(cli, url)
    assert second["outcome"] == "changed"
    assert second["version"] == 2
    assert "paragraphs_added" in second["kinds"]
    assert "promise_fulfilled" in second["events"]

    server.set("/news/us-iran-talks", render_page(STAGES[2], 5))
    third = check(cli, url)
    assert third["version"] == 3
    assert "headline" in third["kinds"]

    server.set("/news/us-iran-talks", render_page(STAGES[3], 6))
    fourth = check(cli, url)
    assert fourth["version"] == 4
    assert "paragraphs_removed" in fourth["kinds"]

    server.set("/news/us-iran-talks", render_page(STAGES[4], 7))
    fifth = check(cli, url)
    assert fifth["version"] == 5
    assert fifth["kinds"] == ["text_edited"]

    history = run_json(cli, "history", url)
    assert [v["seq"] for v in history] == [1, 2, 3, 4, 5]
    assert history[2]["title"] == 'Crocker: Talks With Iran "Direct and Serious"'

    latest = run_json(cli, "show", url)
    assert latest["seq"] == 5
    assert "which lasted seven hours" in latest["text"]
    assert "Most read" not in latest["text"]
    assert latest["title"] == 'Crocker: Talks With Iran "Direct and Serious"'
    assert set(latest) >= {"url", "seq", "captured_at", "title", "byline", "text", "kinds"}
    assert run_json(cli, "show", url, "1")["text"].endswith("check back for an update.")

    # The corrected figure, word by word.
    change = run_json(cli, "diff", url)
    ops = [(op["op"], op["text"].strip()) for op in change["diff"]["ops"] if op["op"] != "equal"]
    assert ops == [("delete", "four"), ("insert", "seven")]
    assert change["diff"]["stats"]["words_added"] == 1
    assert change["diff"]["stats"]["words_removed"] == 1

    plain = cli("diff", url, "2", "3", "--no-color").stdout
    assert "v2 → v3" in plain
    assert "[-Heated Exchange" in plain or "Heated" in plain

    [listed] = run_json(cli, "list")
    assert listed["url"] == url
    assert listed["versions"] == 5
    assert listed["status"] == "active"
    assert listed["tags"] == ["iraq"]
    assert listed["last_checked_at"] and listed["last_changed_at"]


def test_conditional_get_304_and_identical_pages_make_no_version(cli, server: LocalServer):
    url = server.url("/story")
    server.set("/story", render_page(STAGES[0], 0), etag='"v1"')
    cli("add", url)
    assert check(cli, url)["outcome"] == "changed"
    assert check(cli, url)["outcome"] == "not_modified"
    assert server.requests_for("/story")[-1].headers["if-none-match"] == '"v1"'
    server.set("/story", render_page(STAGES[0], 1), etag='"v1-chrome"')
    assert check(cli, url)["outcome"] == "unchanged"
    assert [v["seq"] for v in run_json(cli, "history", url)] == [1]
    outcomes = [c["outcome"] for c in run_json(cli, "checks", url)]
    assert outcomes == ["unchanged", "not_modified", "changed"]


def test_errors_are_recorded_checks_not_crashes(cli, server: LocalServer):
    server.set("/pdf", b"%PDF-1.4 binary", headers={"Content-Type": "application/pdf"})
    server.set("/missing", "gone", status=404)
    server.set("/empty", "<html><body><script>var x=1;</script></body></html>")
    cli("add", server.url("/pdf"), server.url("/missing"), server.url("/empty"))
    result = cli("check", "--all", "--json", ok=False)
    assert result.exit_code == 1  # every check failed
    reports = {r["url"].rsplit("/", 1)[1]: r for r in json.loads(result.stdout)}
    assert reports["pdf"]["outcome"] == "error"
    assert "application/pdf" in reports["pdf"]["error"]
    assert reports["missing"]["http_status"] == 404
    assert reports["empty"]["outcome"] == "empty"
    assert "no article" in reports["empty"]["error"]
    failed = run_json(cli, "checks", "--errors")
    assert len(failed) == 3


def test_user_errors_are_one_line_without_traceback(cli, server: LocalServer):
    result = cli("show", "https://example.com/never-added", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no story")
    assert "Traceback" not in result.output + result.stderr

    result = cli("add", "ftp://example.com/x", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error:")

    url = server.url("/a")
    server.set("/a", render_page(STAGES[0]))
    cli("add", url)
    result = cli("diff", url, ok=False)
    assert "no versions yet" in result.stderr
    check(cli, url)
    result = cli("show", url, "7", ok=False)
    assert "has no version 7 (it has only version 1)" in result.stderr
    result = cli("show", "https://example.com/never-added", ok=False)
    assert "`tracker add URL` tracks one" in result.stderr


def test_private_addresses_are_refused_by_default(tmp_path: Path):
    env = {"TRACKER_HOME": str(tmp_path / "home")}
    result = CliRunner().invoke(main, ["add", "http://127.0.0.1:9/story"], env=env)
    assert result.exit_code == 1
    assert "TRACKER_ALLOW_PRIVATE_NETWORKS=1" in result.stderr


def test_add_drops_tracking_parameters_including_the_settings_own(tmp_path: Path):
    env = {
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_TRACKING_PARAMETERS": '["src", "pk_*"]',
    }
    runner = CliRunner()
    url = "https://news.example/story?id=7&utm_source=x&src=feed&pk_campaign=y#top"
    added = runner.invoke(main, ["add", url, "--json"], env=env)
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)[0]["url"] == "https://news.example/story?id=7"
    # The same spelling finds the story again, as the user copied it from the browser.
    history = runner.invoke(main, ["history", url, "--json"], env=env)
    assert history.exit_code == 0, history.stderr
    assert json.loads(history.stdout) == []


def test_the_console_script_runs(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "--home", str(tmp_path / "h"), "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_robots_txt_is_honoured(cli, server: LocalServer):
    server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    server.set("/private/story", render_page(STAGES[0]))
    server.set("/public/story", render_page(STAGES[0]))
    cli("add", server.url("/private/story"), server.url("/public/story"))
    reports = {r["url"]: r for r in run_json(cli, "check", "--all")}
    blocked = reports[server.url("/private/story")]
    assert blocked["outcome"] == "blocked"
    assert "robots.txt" in blocked["error"]
    assert server.count("/private/story") == 0
    assert reports[server.url("/public/story")]["outcome"] == "changed"
