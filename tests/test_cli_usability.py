"""The command line as a demanding user meets it: wrong input, edge cases, scripts and pipes.

What every command promises:
- an error is one readable ``error: …`` line on stderr and a non-zero exit, never a traceback;
- every listing takes ``--json`` and prints a JSON document on stdout, even when empty;
- nothing is reported done that was not done (a batch with one bad item changes nothing);
- ``tracker check`` prints a summary line and has a documented exit status.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from servers import Exchange, LocalServer

from tracker.cli import main
from tracker.cli.versions import _want_color
from tracker.demo.site import STAGES, render_page


def env_for(home: Path, database_url: str) -> dict[str, str]:
    return {
        "TRACKER_HOME": str(home),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_EXTRACT_PROCESSES": "0",
    }


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return env_for(tmp_path / "home", database_url)


@pytest.fixture
def cli(env: dict[str, str]):
    runner = CliRunner()

    def run(
        *args: str,
        code: int = 0,
        extra_env: dict[str, str] | None = None,
        error_line: bool = True,
    ) -> Result:
        """Run a command, expecting exit status `code`; a failure (unless `error_line` is
        False: a check pass that failed is a report, not an error) is one error line."""
        result = runner.invoke(main, list(args), env={**env, **(extra_env or {})})
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        if code != 0 and error_line:
            assert_one_error_line(result)
        return result

    run.env = env  # type: ignore[attr-defined]
    return run


def assert_one_error_line(result: Result) -> None:
    """A failure is told in one line on stderr, starting with "error:", without a traceback."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr


def page(server: LocalServer, path: str, stage: int = 0) -> str:
    server.set(path, render_page(STAGES[stage], stage))
    return server.url(path)


@pytest.fixture
def story(cli, server: LocalServer) -> str:
    """A tracked story with three versions."""
    url = page(server, "/news/story")
    cli("add", url)
    for stage in (0, 1, 2):
        page(server, "/news/story", stage)
        cli("check", url)
    return url


# -- unknown stories and versions -------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("history", "99"),
        ("show", "99"),
        ("diff", "99"),
        ("pause", "99"),
        ("resume", "99"),
        ("remove", "99"),
        ("check", "99"),
        ("checks", "99"),
        ("history", "https://example.com/never-added"),
    ],
)
def test_an_unknown_story_is_one_error_line(cli, command: tuple[str, ...]) -> None:
    result = cli(*command, code=1)
    assert "is tracked" in result.stderr


def test_a_version_that_does_not_exist_names_the_versions_there_are(cli, story: str) -> None:
    assert "no version 7" in cli("show", story, "7", code=1).stderr
    assert "no version 7" in cli("diff", story, "1", "7", code=1).stderr
    assert "no version 0" in cli("show", story, "0", code=1).stderr


def test_diff_takes_the_older_version_first(cli, story: str) -> None:
    reversed_ = cli("diff", story, "3", "1", code=1)
    assert "FROM (v3) is newer than TO (v1)" in reversed_.stderr
    assert f"tracker diff {story} 1 3" in reversed_.stderr
    assert "nothing to diff" in cli("diff", story, "2", "2", code=1).stderr
    assert cli("diff", story, "1", "3").stdout.startswith(f"{story}: v1 → v3")


def test_negative_versions_count_back_from_the_latest(cli, story: str) -> None:
    assert "version 2 ·" in cli("show", story, "-2").stdout
    assert cli("diff", story, "-3", "-1").stdout.startswith(f"{story}: v1 → v3")
    assert cli("diff", story, "-1").stdout.startswith(f"{story}: v2 → v3")


# -- adding stories -----------------------------------------------------------------------


def test_a_url_file_may_have_blank_lines_comments_and_a_bom(cli, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(
        "\ufeff# developing stories\n\n  https://example.com/a  \n\t\n# done\nhttps://example.com/b\n",
        encoding="utf-8",
    )
    result = cli("add", "--file", str(urls), "--json")
    assert [row["url"] for row in json.loads(result.stdout)] == [
        "https://example.com/a",
        "https://example.com/b",
    ]


def test_bad_lines_in_a_url_file_are_named_by_line_and_nothing_is_added(
    cli, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("https://example.com/a\nnot a url\n# fine\nftp://example.com/b\n")
    result = CliRunner().invoke(main, ["add", "--file", str(urls)], env=cli.env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"error: {urls}:2: ")
    assert lines[1].startswith(f"error: {urls}:4: ")
    assert "2 bad lines; nothing added" in lines[1]
    assert json.loads(cli("list", "--json").stdout) == []


def test_the_same_problems_in_tracker_import(cli, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("https://example.com/a\nnot a url\n")
    assert f"{urls}:2: " in cli("import", str(urls), code=1).stderr
    assert json.loads(cli("list", "--json").stdout) == []


def test_a_url_file_that_is_not_utf8_is_one_error_line(cli, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_bytes(b"\xff\xfeh\x00t\x00t\x00p\x00")
    assert "not UTF-8 text" in cli("add", "--file", str(urls), code=1).stderr
    assert "not UTF-8 text" in cli("import", "--format", "urls", str(urls), code=1).stderr


def test_a_url_file_with_no_urls_says_so(cli, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("# nothing yet\n\n")
    assert "has no URLs" in cli("add", "--file", str(urls), code=1).stderr


def test_an_empty_or_invalid_selector_is_refused(cli) -> None:
    assert (
        "--selector is empty"
        in cli("add", "https://example.com/a", "--selector", " ", code=1).stderr
    )
    assert (
        "invalid CSS selector"
        in cli("add", "https://example.com/a", "--selector", "div[", code=1).stderr
    )
    assert json.loads(cli("list", "--json").stdout) == []


# -- pause, resume, remove ----------------------------------------------------------------


def test_pausing_twice_and_resuming_an_active_story_say_so(cli) -> None:
    url = "https://example.com/a"
    cli("add", url)
    assert cli("pause", url).stdout == f"paused: {url}\n"
    assert cli("pause", url).stdout == f"already paused: {url}\n"
    assert cli("resume", url).stdout == f"resumed: {url}\n"
    assert cli("resume", url).stdout == f"already active: {url}\n"


def test_an_unknown_story_among_several_changes_none(cli) -> None:
    url = "https://example.com/a"
    cli("add", url)
    result = cli("pause", url, "99", code=1)
    assert "paused" not in result.stdout  # nothing claimed that was rolled back
    [row] = json.loads(cli("list", "--json").stdout)
    assert row["status"] == "active"
    cli("remove", url, "99", code=1)
    assert len(json.loads(cli("list", "--json").stdout)) == 1


def test_removing_twice_is_an_error_the_second_time(cli) -> None:
    url = "https://example.com/a"
    cli("add", url)
    assert cli("remove", url).stdout == f"removed: {url}\n"
    cli("remove", url, code=1)


# -- tracker check ------------------------------------------------------------------------


def test_check_on_an_empty_database_is_not_an_error(cli) -> None:
    result = cli("check", "--all")
    assert "no active stories to check" in result.stderr
    assert json.loads(cli("check", "--all", "--json").stdout) == []


def test_check_wants_stories_or_all_but_not_both(cli) -> None:
    assert "or use --all" in cli("check", code=1).stderr
    cli("add", "https://example.com/a")
    assert "not both" in cli("check", "1", "--all", code=1).stderr


def test_check_prints_a_summary_and_fails_only_when_every_check_failed(
    cli, server: LocalServer
) -> None:
    good = page(server, "/news/good")
    missing = server.url("/news/missing")  # 404
    cli("add", good, missing)

    some_failed = cli("check", "--all")
    assert some_failed.stdout.strip().splitlines()[-1] == (
        "checked 2: 1 changed, 0 unchanged, 0 not modified, 1 error"
    )
    strict = cli("check", "--all", "--strict", code=1, error_line=False)
    assert "checked 2: 0 changed, 1 unchanged, 0 not modified, 1 error" in strict.output

    cli("pause", good)
    everything_failed = cli("check", "--all", code=1, error_line=False)  # the one story checked
    assert "checked 1: 0 changed, 0 unchanged, 0 not modified, 1 error" in everything_failed.stdout


def test_check_json_is_one_document_on_stdout_and_the_summary_goes_to_stderr(
    cli, server: LocalServer
) -> None:
    url = page(server, "/news/good")
    cli("add", url)
    result = cli("check", "--all", "--json")
    [report] = json.loads(result.stdout)
    assert report["outcome"] == "changed"
    assert result.stderr.strip() == "checked 1: 1 changed, 0 unchanged, 0 not modified, 0 errors"


def test_check_timings_say_where_each_check_spent_its_cpu_time(cli, server: LocalServer) -> None:
    cli("add", page(server, "/news/good"))
    result = cli("check", "--all", "--timings")
    *_, summary, timings = result.stdout.strip().splitlines()
    assert summary.startswith("checked 1: 1 changed")
    assert timings.startswith("CPU per check: fetch ")
    stages = dict(part.rsplit(" ", 2)[:2] for part in timings.split(": ", 1)[1].split(", "))
    assert list(stages) == ["fetch", "parse", "extract", "fingerprint", "diff", "write"]
    assert float(stages["extract"]) > 0  # a new page is read in full
    # The progress lines went to stderr, one per story.
    assert result.stderr.splitlines()[-1].startswith("changed")


@pytest.mark.slow
def test_ctrl_c_during_check_all_finishes_in_flight_checks_and_gives_back_the_rest(
    tmp_path: Path, database_url: str, server: LocalServer
) -> None:
    env = {**os.environ, **env_for(tmp_path / "home", database_url)}
    env["TRACKER_PER_HOST_CONCURRENCY"] = "1"
    env["TRACKER_GLOBAL_CONCURRENCY"] = "1"
    env["TRACKER_RESPECT_ROBOTS_TXT"] = "0"
    answer = threading.Event()
    body = render_page(STAGES[0], 0)

    def held(exchange: Exchange) -> None:
        answer.wait(60)
        exchange.send(200, {"Content-Type": "text/html; charset=utf-8"}, body)

    urls = []
    for n in range(5):
        server.set_handler(f"/news/{n}", held)
        urls.append(server.url(f"/news/{n}"))
    tracker = [sys.executable, "-m", "tracker"]
    subprocess.run([*tracker, "add", *urls], env=env, check=True, capture_output=True)

    process = subprocess.Popen(
        [*tracker, "check", "--all"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while server.in_flight == 0:  # the first check is waiting for its page
            assert process.poll() is None, process.communicate()
            threading.Event().wait(0.05)
        process.send_signal(signal.SIGINT)
        # The page answers only once the interruption has been taken in.
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if line.startswith("interrupted: finishing the checks in flight"):
                break
        answer.set()
        stdout, rest = process.communicate(timeout=120)
        stderr = "".join(seen) + rest
    finally:
        answer.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    assert "interrupted: finishing the checks in flight" in stderr
    summary = stdout.strip().splitlines()[-1]
    assert summary.startswith("checked ")
    assert "not checked)" in summary
    # The stories not checked are free for the daemon at once, not after the lease.
    listed = subprocess.run(
        [*tracker, "check", "--all", "--json"], env=env, capture_output=True, text=True
    )
    reports = json.loads(listed.stdout)
    assert len(reports) == 5
    assert not [r for r in reports if r["error"] == "being checked by another worker"]


def test_check_help_documents_the_exit_status(cli) -> None:
    text = cli("check", "--help").stdout
    assert "Exit status:" in text
    assert "--strict" in text
    assert "130" in text


# -- every listing takes --json -------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("list",),
        ("list", "--status", "paused"),
        ("checks",),
        ("checks", "--errors"),
        ("events",),
        ("feed", "list"),
        ("channel", "list"),
        ("deliveries",),
        ("deliveries", "--failed"),
        ("reextract", "--dry-run"),
        ("check", "--all"),
    ],
)
def test_every_listing_prints_json_even_when_empty(cli, command: tuple[str, ...]) -> None:
    assert json.loads(cli(*command, "--json").stdout) == []


def test_history_show_and_diff_take_json(cli, story: str) -> None:
    assert [v["seq"] for v in json.loads(cli("history", story, "--json").stdout)] == [1, 2, 3]
    assert json.loads(cli("show", story, "--json").stdout)["seq"] == 3
    assert json.loads(cli("diff", story, "--json").stdout)["to"] == 3
    assert isinstance(json.loads(cli("config", "show", "--json").stdout), dict)


def test_empty_listings_say_so_on_stderr_and_keep_stdout_clean(cli) -> None:
    for command in (
        ("checks",),
        ("events",),
        ("list",),
        ("feed", "list"),
        ("channel", "list"),
        ("deliveries",),
    ):
        result = cli(*command)
        assert result.stdout == ""
        assert result.stderr.strip()


# -- environment: databases, terminals, pipes, colour ------------------------------------------


def test_a_database_that_cannot_be_reached_is_one_line(cli) -> None:
    result = cli(
        "list",
        code=1,
        extra_env={"TRACKER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"},
    )
    assert result.stderr.startswith("error: cannot open database postgresql+psycopg://nobody@")
    assert "sqlalche.me" not in result.stderr


def test_a_home_that_is_a_file_is_one_line(cli, tmp_path: Path) -> None:
    home = tmp_path / "not-a-directory"
    home.write_text("")
    cli("list", code=1, extra_env={"TRACKER_HOME": str(home), "TRACKER_DATABASE_URL": ""})


def test_an_unexpected_failure_is_one_line_unless_debugging(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr("tracker.cli._story_list.story_rows", broken)
    result = cli("list", code=1)
    assert "unexpected RuntimeError: something broke" in result.stderr
    assert "TRACKER_DEBUG=1" in result.stderr
    debugging = CliRunner().invoke(main, ["list"], env={**cli.env, "TRACKER_DEBUG": "1"})
    assert isinstance(debugging.exception, RuntimeError)


@pytest.mark.slow
def test_a_terminal_that_cannot_show_unicode_gets_question_marks(
    tmp_path: Path, database_url: str
) -> None:
    env = {**os.environ, **env_for(tmp_path / "home", database_url), "PYTHONIOENCODING": "ascii"}
    tracker = [sys.executable, "-m", "tracker"]
    subprocess.run([*tracker, "add", "https://example.com/a"], env=env, check=True)
    listed = subprocess.run([*tracker, "list"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr
    assert "https://example.com/a" in listed.stdout
    assert "?" in listed.stdout  # the "—" of a story never changed


@pytest.mark.slow
def test_output_piped_into_head_ends_quietly(tmp_path: Path, database_url: str) -> None:
    env = {**os.environ, **env_for(tmp_path / "home", database_url)}
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"https://example.com/story-{n}\n" for n in range(400)))
    tracker = [sys.executable, "-m", "tracker"]
    subprocess.run([*tracker, "add", "--file", str(urls)], env=env, check=True, capture_output=True)
    for command in (["list", "--json"], ["list"], ["add", "--file", str(urls)]):
        process = subprocess.Popen(
            [*tracker, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert process.stdout is not None
        process.stdout.readline()
        process.stdout.close()  # what `| head -1` does
        stderr = process.stderr.read().decode() if process.stderr else ""
        process.wait()
        assert "Traceback" not in stderr, stderr
        assert "BrokenPipe" not in stderr, stderr


def test_color_flag_forces_colour_even_into_a_pipe(cli, story: str) -> None:
    assert "\x1b[" in cli("diff", story, "--color").stdout
    assert "\x1b[" not in cli("diff", story).stdout  # CliRunner is not a terminal


def test_colour_by_default_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert _want_color(None) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert _want_color(None) is False
    assert _want_color(True) is True  # the flag wins
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert _want_color(None) is False


# -- settings, files, ports -------------------------------------------------------------------


def test_a_settings_file_that_is_not_toml_is_one_line(cli, tmp_path: Path) -> None:
    settings = tmp_path / "tracker.toml"
    settings.write_text("per_host_concurrency = [\n")
    result = cli("list", code=1, extra_env={"TRACKER_CONFIG": str(settings)})
    assert f"settings file {settings}: not valid TOML" in result.stderr


def test_home_option_reads_the_settings_file_in_that_home(cli, tmp_path: Path) -> None:
    home = tmp_path / "other-home"
    home.mkdir()
    (home / "tracker.toml").write_text("per_host_concurrency = 7\n")
    shown = json.loads(cli("--home", str(home), "config", "show", "--json").stdout)
    assert shown["per_host_concurrency"] == 7
    assert os.environ.get("TRACKER_HOME") != str(home)  # not left behind in the process


def test_a_file_that_cannot_be_written_is_named(cli, tmp_path: Path) -> None:
    target = tmp_path / "missing-directory" / "export.json"
    result = cli("export", "-o", str(target), code=1)
    assert result.stderr.strip() == f"error: {target}: No such file or directory"


def test_serve_on_a_port_in_use_fails_before_announcing_itself(cli) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = cli("serve", "--host", "127.0.0.1", "--port", port, code=1)
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "serving on" not in result.output


def test_feed_poll_without_feeds_says_so(cli) -> None:
    assert "no feeds to poll" in cli("feed", "poll").stderr
    assert json.loads(cli("feed", "poll", "--json").stdout) == []


def test_a_read_only_database_is_one_line_without_the_sql(cli, tmp_path: Path) -> None:
    cli("add", "https://example.com/a")  # creates the database and its schema
    database = tmp_path / "read-only-copy.db"
    source = cli.env["TRACKER_DATABASE_URL"]
    if not source.startswith("sqlite"):
        pytest.skip("a read-only database file is a SQLite matter")
    import sqlite3

    live, copy = sqlite3.connect(source.removeprefix("sqlite:///")), sqlite3.connect(database)
    live.backup(copy)  # the WAL's pages included
    live.close()
    copy.close()
    read_only = {"TRACKER_DATABASE_URL": f"sqlite:///file:{database}?mode=ro&uri=true"}
    assert json.loads(cli("list", "--json", extra_env=read_only).stdout)[0]["id"] == 1
    result = cli("add", "https://example.com/b", code=1, extra_env=read_only)
    assert result.stderr.strip() == "error: database error: attempt to write a readonly database"


# -- help -------------------------------------------------------------------------------------


def every_command(group=main, prefix=()):
    import click

    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from every_command(command, (*prefix, name))


def test_command_lists_show_whole_sentences_not_cut_ones(cli) -> None:
    lists = [cli(*group, "--help").stdout.split("Commands:")[1] for group in [(), ("channel",)]]
    listed = "".join(lists) + cli("feed", "--help").stdout.split("Commands:")[1]
    assert "..." not in listed
    assert "Track stories (URLs, or a file of them)." in listed


def test_every_option_says_what_it_does() -> None:
    undocumented = [
        f"{' '.join(path)} {param.opts[0]}"
        for path, command in every_command()
        for param in command.params
        if param.param_type_name == "option" and not getattr(param, "help", None)
    ]
    assert undocumented == []


def test_story_arguments_say_they_take_a_url_or_an_id(cli) -> None:
    for command in ("history", "show", "diff", "checks", "pause", "resume", "remove"):
        text = cli(command, "--help").stdout.replace("\n  ", " ")
        assert re.search(r"URLs? or ids?", text), command


def test_config_show_masks_tokens_and_database_passwords(cli) -> None:
    secrets = {
        "TRACKER_WEB_TOKEN": "web-token-value",
        "TRACKER_SMTP_PASSWORD": "smtp-password-value",
        "TRACKER_DATABASE_URL": "postgresql+psycopg://desk:db-password-value@db.internal/t",
    }
    for args in (("config", "show"), ("config", "show", "--json")):
        shown = cli(*args, extra_env=secrets).stdout
        for secret in ("web-token-value", "smtp-password-value", "db-password-value"):
            assert secret not in shown
        assert "postgresql+psycopg://desk:**********@db.internal/t" in shown


def test_an_empty_filtered_list_does_not_claim_nothing_is_tracked(cli) -> None:
    assert "no stories tracked yet" in cli("list").stderr
    cli("add", "https://example.com/a")
    filtered = cli("list", "--tag", "nothing-has-this-tag")
    assert filtered.stdout == ""
    assert "no stories match" in filtered.stderr


def test_a_url_without_scheme_gets_a_hint_and_every_bad_url_is_named(cli) -> None:
    result = CliRunner().invoke(
        main, ["add", "https://example.com/ok", "example.com/news", "not a url"], env=cli.env
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert "(did you mean https://example.com/news ?)" in lines[0]
    assert "'not a url'" in lines[1]
    assert "2 bad URLs; nothing added" in lines[1]
    assert json.loads(cli("list", "--json").stdout) == []


def test_history_of_a_story_never_fetched_says_so_once(cli) -> None:
    url = "https://example.com/a"
    cli("add", url)
    lines = cli("history", url).stdout.splitlines()
    assert lines[:2] == ["(no headline yet)", url]  # not the URL twice
    assert lines[2].startswith("no versions yet")


def test_an_opml_import_that_is_not_opml_or_has_no_feeds_says_which(cli, tmp_path: Path) -> None:
    not_xml = tmp_path / "subscriptions.opml"
    not_xml.write_text("just some text\n")
    assert (
        "not an OPML file (no XML in it)"
        in cli("import", "--format", "opml", str(not_xml), code=1).stderr
    )
    empty = tmp_path / "empty.opml"
    empty.write_text('<opml version="2.0"><body><outline text="nothing"/></body></opml>')
    assert "no feeds in it" in cli("import", str(empty), code=1).stderr


def test_remove_asks_first_on_a_terminal_when_versions_would_be_lost(
    cli, story: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tracker.cli.stories._interactive", lambda: True)
    runner = CliRunner()
    declined = runner.invoke(main, ["remove", story], env=cli.env, input="n\n")
    assert declined.exit_code == 1
    assert "remove 1 story and 3 versions? This cannot be undone" in declined.stderr
    assert "error: nothing removed" in declined.stderr
    assert len(json.loads(cli("list", "--json").stdout)) == 1

    assert cli("remove", "--yes", story).stdout == f"removed: {story}\n"
    assert json.loads(cli("list", "--json").stdout) == []


def test_remove_does_not_ask_a_script(cli, story: str) -> None:
    assert cli("remove", story).stdout == f"removed: {story}\n"  # stdin is not a terminal


def test_ctrl_c_in_any_command_exits_130_without_a_traceback(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("tracker.cli._story_list.story_rows", interrupted)
    result = CliRunner().invoke(main, ["list"], env=cli.env)
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted"
