"""The "browser" fetcher renders pages in a real headless Chromium, against local servers.

Every request the page makes goes through the guarded HTTP stack (the server sees the
tracker's own User-Agent on each), third-party requests and images never leave, the pool
survives a killed browser, and without a browser a fetch is an error that says what to
install. Uses Debian's /usr/bin/chromium through Playwright (never a downloaded build); no
test connects to anything but loopback.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from servers import LocalServer, gated, hang

from tracker.net.browser import (
    BrowserFetcher,
    browser_process_tree,
    browser_status,
    find_browser,
    memory_bytes,
    resident_bytes,
    same_site,
    site_of,
)
from tracker.net.fetcher import (
    DEFAULT_USER_AGENT,
    FetchOptions,
    Outcome,
    PageFetcher,
    new_fetcher,
)
from tracker.net.netguard import IPAddress, is_public_address

CHROMIUM = Path("/usr/bin/chromium")

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None,
    reason=f"browser tests need Chromium at {CHROMIUM} (apt install chromium) and playwright",
)

# An app shell: the article arrives from the page's own site as JSON and a script inserts it.
APP_SHELL = """<!DOCTYPE html>
<html><head><title>Live: the story</title><link rel="stylesheet" href="style.css"></head>
<body><main id="app">Loading…</main>
<script>
fetch("data.json", {headers: {"Accept": "application/json"}})
  .then((response) => response.json())
  .then((data) => {
    document.getElementById("app").innerHTML =
      "<article><h1>" + data.headline + "</h1><p>" + data.body + "</p></article>";
  });
</script></body></html>"""
ARTICLE = {"headline": "Talks resume in Geneva", "body": "Délégués arrived on Tuesday."}


def loopback_only_127_0_0_1(address: IPAddress) -> bool:
    """The address policy of these tests: the test servers' 127.0.0.1 passes (as a public
    site would), every other non-public address - 127.0.0.2 included - is refused."""
    return address == ipaddress.ip_address("127.0.0.1") or is_public_address(address)


def options(**overrides: object) -> FetchOptions:
    values: dict[str, object] = {
        "allow_private_networks": False,  # the guard is on; the policy lets 127.0.0.1 in
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
        "deadline": 15.0,
        "browser_executable": str(CHROMIUM),
    }
    values.update(overrides)
    return FetchOptions(**values)  # type: ignore[arg-type]


def guarded_fetcher(**overrides: object) -> BrowserFetcher:
    return BrowserFetcher(options(**overrides), address_allowed=loopback_only_127_0_0_1)


@pytest.fixture(scope="module")
def fetcher() -> Iterator[BrowserFetcher]:
    """One browser for the tests that need nothing special (launching takes a second)."""
    with guarded_fetcher() as shared:
        yield shared


@pytest.fixture
def other_server() -> Iterator[LocalServer]:
    """A second site, on 127.0.0.2: a third party to pages on 127.0.0.1, and an address the
    guard refuses."""
    with LocalServer(host="127.0.0.2") as local:
        yield local


def serve_app_shell(server: LocalServer, path: str = "/story") -> None:
    server.set(path, APP_SHELL)
    folder = path.rsplit("/", 1)[0]
    server.set(f"{folder}/data.json", _json(ARTICLE), content_type="application/json")
    server.set(f"{folder}/style.css", "main { color: black }", content_type="text/css")


def _json(value: dict[str, str]) -> str:
    return json.dumps(value)


# -- rendering ----------------------------------------------------------------------------------


@needs_chromium
def test_an_app_shell_is_rendered_with_the_article_its_script_fetched(fetcher, server):
    serve_app_shell(server)

    result = fetcher.fetch(server.url("/story"))

    assert result.outcome is Outcome.OK, result.error
    assert "<h1>Talks resume in Geneva</h1>" in result.text
    assert "Délégués arrived on Tuesday." in result.text
    assert "Loading…" not in result.text
    # Stored like any capture: the rendered DOM, as UTF-8, said so in its headers.
    assert result.body == result.text.encode("utf-8")
    assert result.encoding == "utf-8"
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert result.status == 200
    assert result.final_url == server.url("/story")
    assert result.redirects == ()
    # Every request reached the server through the tracker's HTTP stack, none from the
    # browser's own network code (it would send Chrome's User-Agent).
    paths = [request.path for request in server.requests]
    assert sorted(paths) == ["/data.json", "/story", "/style.css"]
    assert {request.headers["user-agent"] for request in server.requests} == {DEFAULT_USER_AGENT}


@needs_chromium
def test_a_url_the_browser_writes_differently_is_still_the_page(fetcher, server):
    server.set("/caf%C3%A9/story", APP_SHELL)  # requested percent-encoded, by both stacks
    server.set("/caf%C3%A9/data.json", _json(ARTICLE), content_type="application/json")

    result = fetcher.fetch(server.url("/café/story#live"))

    assert result.outcome is Outcome.OK, result.error
    assert "Talks resume in Geneva" in result.text
    assert result.final_url == server.url("/café/story#live")


@needs_chromium
def test_a_redirect_chain_is_followed_with_every_hop_guarded(server):
    asked: list[IPAddress] = []

    def recording_policy(address: IPAddress) -> bool:
        asked.append(address)
        return loopback_only_127_0_0_1(address)

    server.redirect("/old", "/moved", status=301)
    server.redirect("/moved", "/news/story")
    serve_app_shell(server, "/news/story")
    with BrowserFetcher(options(), address_allowed=recording_policy) as fetcher:
        result = fetcher.fetch(server.url("/old"))

    assert result.outcome is Outcome.OK, result.error
    assert result.final_url == server.url("/news/story")
    assert result.redirects == (server.url("/old"), server.url("/moved"))
    # The page ran at its final URL: its relative "data.json" is the one in /news/.
    assert "Talks resume in Geneva" in result.text
    assert server.count("/news/data.json") == 1
    # The guard was asked about each of the three hops and each of the page's requests.
    assert len(asked) >= 3 + 2
    assert set(asked) == {ipaddress.ip_address("127.0.0.1")}


@needs_chromium
def test_a_redirect_to_a_refused_address_ends_the_fetch(fetcher, server, other_server):
    other_server.set("/admin", "<html><body>secret</body></html>")
    server.redirect("/story", other_server.url("/admin"))

    result = fetcher.fetch(server.url("/story"))

    assert result.error_kind == "private_network"
    assert "127.0.0.2 is a loopback address" in result.error
    assert other_server.count() == 0


@needs_chromium
def test_a_subresource_redirected_to_a_refused_address_is_not_fetched(
    fetcher, server, other_server
):
    other_server.set("/secret.json", _json({"headline": "LEAKED", "body": "x"}))
    serve_app_shell(server)
    server.redirect("/data.json", other_server.url("/secret.json"))

    result = fetcher.fetch(server.url("/story"))

    assert result.outcome is Outcome.OK, result.error  # the page renders without it
    assert "LEAKED" not in result.text
    assert server.count("/data.json") == 1
    assert other_server.count() == 0


@needs_chromium
def test_third_party_images_media_fonts_frames_and_posts_never_leave(fetcher, server, other_server):
    third = other_server.url
    server.set(
        "/story",
        f"""<html><head>
        <style>@font-face {{ font-family: F; src: url(/font.woff2) }} p {{ font-family: F }}</style>
        <script src="{third("/tracker.js")}"></script>
        <link rel="stylesheet" href="{third("/theme.css")}">
        </head><body><p>Text of the story.</p>
        <img src="/photo.jpg"><img src="{third("/pixel.gif")}">
        <video src="/clip.mp4" autoplay muted></video>
        <iframe src="/embed.html"></iframe><iframe src="{third("/ad.html")}"></iframe>
        <script src="/app.js"></script>
        </body></html>""",
    )
    server.set(
        "/app.js",
        "navigator.sendBeacon('/beacon', 'seen');"
        "fetch('/api/comments', {method: 'POST', body: 'x'});"
        "fetch('/api/live.json').then(r => r.json()).then(d => {"
        "  document.body.insertAdjacentHTML('beforeend', '<p>' + d.text + '</p>') });",
        content_type="text/javascript",
    )
    server.set(
        "/api/live.json", _json({"text": "Update at noon."}), content_type="application/json"
    )
    for path in ("/photo.jpg", "/clip.mp4", "/font.woff2", "/embed.html", "/beacon"):
        server.set(path, "x", content_type="application/octet-stream")

    result = fetcher.fetch(server.url("/story"))

    assert result.outcome is Outcome.OK, result.error
    assert "Update at noon." in result.text
    assert sorted(request.path for request in server.requests) == [
        "/api/live.json",
        "/app.js",
        "/story",
    ]
    assert other_server.requests == []


@needs_chromium
def test_the_browser_itself_never_connects_anywhere(fetcher, server):
    """What route interception cannot see - preconnects, WebSockets - finds no network."""
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen()
    listener.settimeout(0)
    elsewhere = f"127.0.0.2:{listener.getsockname()[1]}"
    server.set(
        "/story",
        f"""<html><head><link rel="preconnect" href="http://{elsewhere}">
        <link rel="dns-prefetch" href="http://{elsewhere}"></head>
        <body><p>Story.</p><script>
        for (const url of ["ws://{elsewhere}/live", "ws://127.0.0.1:{server.port}/live"]) {{
          try {{ new WebSocket(url) }} catch (e) {{}}
        }}
        </script></body></html>""",
    )
    try:
        result = fetcher.fetch(server.url("/story"))
        assert result.outcome is Outcome.OK, result.error
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert [request.path for request in server.requests] == ["/story"]


@needs_chromium
@pytest.mark.parametrize(
    "page",
    [
        pytest.param(
            "<html><body><p>The story itself.</p>"
            "<script>location.href = '/elsewhere'</script></body></html>",
            id="a script",
        ),
        # Fires once the page has loaded, racing the wait for it: the refused navigation must
        # not leave that wait hanging until the fetch's deadline.
        pytest.param(
            '<html><head><meta http-equiv="refresh" content="0; url=/elsewhere"></head>'
            "<body><p>The story itself.</p></body></html>",
            id="a meta refresh",
        ),
    ],
)
def test_a_page_that_sends_itself_elsewhere_leaves_the_fetched_document(fetcher, server, page):
    server.set("/story", page)
    server.set("/elsewhere", "<html><body><p>Somewhere else.</p></body></html>")

    result = fetcher.fetch(server.url("/story"))

    assert result.outcome is Outcome.OK, result.error
    assert "The story itself." in result.text
    assert server.count("/elsewhere") == 0


# -- conditional GET and errors of the document ------------------------------------------------


@needs_chromium
def test_not_modified_ends_the_fetch_without_starting_a_browser(server):
    server.set("/story", APP_SHELL, etag='"v1"')
    with guarded_fetcher() as fetcher:
        result = fetcher.fetch(server.url("/story"), etag='"v1"')
        assert fetcher.browser_pids() == []

    assert result.outcome is Outcome.NOT_MODIFIED
    assert result.etag == '"v1"'
    assert server.requests_for("/story")[0].headers["if-none-match"] == '"v1"'


@needs_chromium
def test_a_document_error_is_the_plain_fetchs_error(fetcher, server):
    server.set("/gone", "<html><body>gone</body></html>", status=410)
    server.set("/feed.json", "{}", content_type="application/json")

    gone = fetcher.fetch(server.url("/gone"))
    not_a_page = fetcher.fetch(server.url("/feed.json"))

    assert (gone.error_kind, gone.status) == ("http_status", 410)
    assert not_a_page.error_kind == "not_html"


# -- limits ----------------------------------------------------------------------------------


@needs_chromium
@pytest.mark.slow
def test_a_page_that_never_finishes_loading_ends_at_the_deadline(server):
    server.set("/story", '<html><body><p>Story.</p><script src="/never.js"></script></body></html>')
    server.set_handler("/never.js", hang(20))
    with guarded_fetcher(deadline=3.0) as fetcher:
        result = fetcher.fetch(server.url("/story"))

    assert result.outcome is Outcome.ERROR
    assert result.error_kind == "timeout"
    assert "3 s deadline" in result.error
    assert result.final_url == server.url("/story")
    assert result.body is None


@needs_chromium
def test_two_fetches_at_once_share_one_page_slot(server):
    serve_app_shell(server)
    with guarded_fetcher(browser_pages=1) as fetcher, ThreadPoolExecutor(2) as pool:
        results = list(pool.map(fetcher.fetch, [server.url("/story")] * 2))

    for result in results:
        assert result.outcome is Outcome.OK, result.error
        assert "Talks resume in Geneva" in result.text


@needs_chromium
def test_a_rendered_page_over_the_size_cap_is_refused(server):
    server.set(
        "/story",
        "<html><body><script>document.body.append('x'.repeat(300000))</script></body></html>",
    )
    with guarded_fetcher(max_bytes=100_000) as fetcher:
        result = fetcher.fetch(server.url("/story"))

    assert result.error_kind == "too_large"
    assert "rendered page larger than" in result.error


# -- the browser's life --------------------------------------------------------------------------


@needs_chromium
@pytest.mark.slow
def test_a_browser_killed_mid_page_is_an_error_and_the_next_fetch_relaunches_it(server):
    gate = threading.Event()
    server.set("/story", '<html><body><p>Story.</p><script src="/slow.js"></script></body></html>')
    server.set_handler(
        "/slow.js",
        gated(
            gate,
            lambda exchange: exchange.send(200, {"Content-Type": "text/javascript"}, "1"),
            timeout=10,
        ),
    )
    with guarded_fetcher() as fetcher, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(fetcher.fetch, server.url("/story"))
        _wait_for(lambda: server.count("/slow.js") == 1)
        [browser, *children] = fetcher.browser_pids()
        assert children  # renderer, GPU and utility processes: the memory ceiling sums them
        assert resident_bytes([browser, *children]) > resident_bytes([browser]) > 0
        assert 0 < memory_bytes([browser, *children]) < resident_bytes([browser, *children])
        os.kill(browser, signal.SIGKILL)
        killed = pending.result()
        gate.set()

        again = fetcher.fetch(server.url("/story"))

        assert killed.error_kind == "browser"
        assert "the browser closed while rendering" in killed.error
        assert again.outcome is Outcome.OK, again.error
        assert fetcher.browser_pids()[0] != browser
        assert fetcher.launches == 2
    assert browser_process_tree("no-such-launch") == []


@needs_chromium
@pytest.mark.slow
def test_the_browser_is_restarted_after_its_page_quota_and_over_its_memory_ceiling(server):
    server.set("/story", "<html><body><p>Story.</p></body></html>")
    with guarded_fetcher(browser_max_pages_per_launch=2) as fetcher:
        for _ in range(3):
            assert fetcher.fetch(server.url("/story")).ok
        assert fetcher.launches == 2

    with guarded_fetcher(browser_max_memory_mb=1) as fetcher:  # any browser is over 1 MB
        assert fetcher.fetch(server.url("/story")).ok
        assert fetcher.browser_pids() == []  # closed at once: no page was open in it
        assert fetcher.fetch(server.url("/story")).ok
        assert fetcher.launches == 2


@needs_chromium
def test_close_ends_the_browser_and_is_idempotent(server):
    server.set("/story", "<html><body><p>Story.</p></body></html>")
    fetcher = guarded_fetcher()
    assert fetcher.fetch(server.url("/story")).ok
    pids = fetcher.browser_pids()
    assert pids

    fetcher.close()
    fetcher.close()

    _wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids))
    after = fetcher.fetch(server.url("/story"))
    assert after.error_kind == "browser"
    assert "closed" in after.error


# -- without a browser ----------------------------------------------------------------------


def test_without_the_executable_a_fetch_is_an_error_saying_what_to_install(server):
    server.set("/story", "<html><body>Story.</body></html>")
    with BrowserFetcher(options(browser_executable="/nonexistent/chromium")) as fetcher:
        result = fetcher.fetch(server.url("/story"))

    assert result.outcome is Outcome.ERROR
    assert result.error_kind == "browser"
    assert "apt-get install chromium" in result.error
    assert "'/nonexistent/chromium'" in result.error
    assert server.count() == 0  # nothing fetched for a page that cannot be rendered
    assert browser_status("/nonexistent/chromium") == (False, result.error)


def test_without_the_playwright_package_a_fetch_is_an_error_saying_what_to_install(
    server, monkeypatch
):
    monkeypatch.setitem(sys.modules, "playwright", None)  # as if never installed
    with BrowserFetcher(options()) as fetcher:
        result = fetcher.fetch(server.url("/story"))

    assert result.error_kind == "browser"
    assert "pip install playwright" in result.error
    assert find_browser()[0] is None


def test_plain_requests_of_the_browser_fetcher_need_no_browser(server):
    server.set("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    server.set("/feed.xml", "<rss/>", content_type="application/rss+xml")
    missing = options(browser_executable="/nonexistent/chromium", allow_private_networks=True)
    fetcher = new_fetcher("browser", missing)
    try:
        assert isinstance(fetcher, BrowserFetcher)
        assert isinstance(fetcher, PageFetcher)
        assert fetcher.get_text(server.url("/robots.txt")).text.startswith("User-agent")
        assert fetcher.fetch_resource(server.url("/feed.xml")).ok
    finally:
        fetcher.close()


@needs_chromium
def test_browser_status_names_the_version():
    ok, message = browser_status(str(CHROMIUM))
    assert ok, message
    assert message.startswith("Chromium ")
    assert str(CHROMIUM) in message


def test_the_page_s_site_is_its_registrable_domain():
    assert site_of("www.bbc.co.uk") == "bbc.co.uk"
    assert same_site("static.bbc.co.uk", site_of("www.bbc.co.uk"))
    assert not same_site("ads.example.net", site_of("www.bbc.co.uk"))
    assert not same_site("evilbbc.co.uk", site_of("www.bbc.co.uk"))
    assert site_of("alice.github.io") == "alice.github.io"  # private suffixes count
    assert not same_site("bob.github.io", site_of("alice.github.io"))
    assert site_of("127.0.0.1") == "127.0.0.1"
    assert not same_site("127.0.0.2", site_of("127.0.0.1"))


# -- tracker doctor ------------------------------------------------------------------------


@pytest.fixture
def doctor_env(tmp_path: Path, database_url: str, db) -> dict[str, str]:
    return {
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
    }


def run_doctor(env: dict[str, str], **settings: str):
    from click.testing import CliRunner

    from tracker.cli import main

    extra = {f"TRACKER_{name.upper()}": value for name, value in settings.items()}
    return CliRunner().invoke(main, ["doctor"], env={**env, **extra})


@needs_chromium
def test_doctor_reports_every_check_and_the_browser_version(doctor_env):
    result = run_doctor(doctor_env, browser_executable=str(CHROMIUM))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok    home",
        "ok    database",
        "ok    browser",
    ]
    assert "(the head)" in lines[1]
    assert lines[2].startswith("ok    browser: Chromium ")


def test_doctor_without_a_browser_warns_unless_one_is_needed(doctor_env, db):
    missing = {"browser_executable": "/nonexistent/chromium"}

    auto = run_doctor(doctor_env, **missing)
    required = run_doctor(doctor_env, **missing, render="browser")
    plain = run_doctor(doctor_env, **missing, render="http")

    assert auto.exit_code == 0, auto.output
    assert "warn  browser: browser_executable '/nonexistent/chromium'" in auto.output
    assert "apt-get install chromium" in auto.output
    assert required.exit_code == 1, required.output
    assert "FAIL  browser:" in required.output
    assert "(needed: render = browser)" in required.output
    assert plain.exit_code == 0
    assert "not needed while render = http" in plain.output


def test_doctor_counts_a_story_that_renders_with_the_browser_as_needing_it(doctor_env, db, server):
    from datetime import UTC, datetime

    from sqlalchemy import text

    from tracker.services.stories import add_stories

    with db.session() as session:
        add_stories(
            session, [server.url("/story")], now=datetime.now(UTC), allow_private_networks=True
        )
        session.execute(text("UPDATE stories SET render = 'browser'"))

    result = run_doctor(doctor_env, browser_executable="/nonexistent/chromium")

    assert result.exit_code == 1, result.output
    assert "(needed: 1 story render with it)" in result.output


def test_doctor_fails_on_a_proxy_that_refuses_connections(doctor_env):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = run_doctor(
        doctor_env,
        browser_executable="/nonexistent/chromium",
        proxy_url=f"http://user:s3cret@127.0.0.1:{port}",
    )

    assert result.exit_code == 1
    assert f"FAIL  proxy_url: http://127.0.0.1:{port} does not accept connections" in result.output
    assert "s3cret" not in result.output


def test_doctor_on_a_new_home_changes_nothing(tmp_path):
    home = tmp_path / "new-home"
    result = run_doctor({"TRACKER_HOME": str(home)}, browser_executable="/nonexistent/chromium")

    assert result.exit_code == 0, result.output
    assert "ok    home: " in result.output and "created on first start" in result.output
    assert "warn  database: " in result.output
    assert not home.exists()


def _wait_for(condition, timeout: float = 10.0) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)
