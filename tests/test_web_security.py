"""Authentication (token, login cookie, feed key), unsafe bindings, serving in a thread."""

from __future__ import annotations

import socket

import httpx
import pytest
from test_web_support import csrf_token, insert_story, make_client

from tracker.web import WebConfigError, create_app, start_in_thread
from tracker.web.security import Guard, is_loopback, safe_next

TOKEN = "s3cret-token"


@pytest.fixture
def guarded(db, settings):
    with make_client(db, settings.model_copy(update={"web_token": TOKEN})) as client:
        yield client


def test_binding_beyond_loopback_without_a_token_is_refused(db, settings):
    exposed = settings.model_copy(update={"web_host": "0.0.0.0"})
    with pytest.raises(WebConfigError, match="web_token"):
        create_app(db, exposed)
    create_app(db, exposed.model_copy(update={"web_token": TOKEN}))  # fine with a token


def test_loopback_names():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_the_api_needs_the_bearer_token(guarded):
    refused = guarded.get("/api/v1/stories")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    wrong = guarded.get("/api/v1/stories", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = guarded.get("/api/v1/stories", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert guarded.get("/metrics").status_code == 401
    assert guarded.get("/healthz").status_code == 200  # probes need no credentials


def test_browsers_log_in_with_a_form_and_get_a_session_cookie(guarded, db):
    story = insert_story(db, "https://example.com/s", ["text"])
    first = guarded.get(f"/stories/{story}", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == f"/login?next=%2Fstories%2F{story}"

    token = csrf_token(guarded, "/login")
    wrong = guarded.post("/login", data={"csrf_token": token, "token": "nope", "next": "/"})
    assert wrong.status_code == 401 and "wrong token" in wrong.text
    logged_in = guarded.post(
        "/login",
        data={"csrf_token": token, "token": TOKEN, "next": f"/stories/{story}"},
        follow_redirects=False,
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == f"/stories/{story}"
    assert "httponly" in logged_in.headers["set-cookie"].lower()
    assert guarded.get(f"/stories/{story}").status_code == 200
    # The cookie reads the API but cannot write through it (no CSRF on the JSON API).
    assert guarded.get("/api/v1/stories").status_code == 200
    assert guarded.delete(f"/api/v1/stories/{story}").status_code == 401

    token = csrf_token(guarded, "/")
    guarded.post("/logout", data={"csrf_token": token})
    assert guarded.get(f"/stories/{story}", follow_redirects=False).status_code == 303


def test_feeds_accept_the_feed_key_only_for_feeds(db, settings):
    guard = Guard.from_settings(settings.model_copy(update={"web_token": TOKEN}))
    with make_client(db, settings.model_copy(update={"web_token": TOKEN})) as client:
        assert client.get("/feeds/all.atom").status_code == 401
        assert client.get("/feeds/all.atom", params={"key": guard.feed_key}).status_code == 200
        assert client.get("/feeds/all.atom", params={"key": "wrong"}).status_code == 401
        assert client.get("/api/v1/stories", params={"key": guard.feed_key}).status_code == 401


def test_session_cookies_are_signed_and_expire():
    guard = Guard(token=TOKEN, key=b"k" * 32)
    cookie = guard.new_session(now=1_000_000)
    assert guard.session_ok(cookie, now=1_000_100)
    assert not guard.session_ok(cookie, now=1_000_000 + 31 * 86400)
    assert not guard.session_ok(cookie.replace(cookie[-1], "0" if cookie[-1] != "0" else "1"))
    assert not guard.session_ok("1000000.forged", now=1_000_100)


def test_login_redirects_stay_on_this_site():
    assert safe_next("/stories/1?x=2") == "/stories/1?x=2"
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "", None):
        assert safe_next(target) == "/"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_start_in_thread_serves_until_told_to_exit(db, settings):
    port = _free_port()
    server = start_in_thread(db, settings.model_copy(update={"web_port": port}))
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert response.status_code == 200
        assert response.json()["database"] == "ok"
    finally:
        server.should_exit = True
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        taken = settings.model_copy(update={"web_port": busy.getsockname()[1]})
        with pytest.raises(OSError, match="could not listen"):
            start_in_thread(db, taken)
    finally:
        busy.close()


def test_tracker_serve_refuses_an_unsafe_binding(tmp_path):
    from click.testing import CliRunner

    from tracker.cli import main

    result = CliRunner().invoke(
        main, ["--home", str(tmp_path / "h"), "serve", "--host", "0.0.0.0", "--port", "1"]
    )
    assert result.exit_code == 1
    assert "set web_token" in result.stderr
    assert "Traceback" not in result.output


def test_pages_a_stranger_sees_carry_no_feed_key_and_no_app_links(guarded, settings):
    """The login form and a stranger's error page are public: the app's feed links would
    hand out the feed key, and its navigation leads only back to the login form."""
    feed_key = Guard.from_settings(settings.model_copy(update={"web_token": TOKEN})).feed_key
    assert feed_key
    for path, status in (("/login", 200), ("/login/nowhere", 404)):
        page = guarded.get(path)
        assert page.status_code == status, path
        assert feed_key not in page.text, path
        assert 'aria-label="Main"' not in page.text and "/api/v1/openapi.json" not in page.text
    token = csrf_token(guarded, "/login")
    guarded.post("/login", data={"csrf_token": token, "token": TOKEN, "next": "/"})
    signed_in = guarded.get("/").text
    assert 'aria-label="Main"' in signed_in and f"key={feed_key}" in signed_in


def test_scripts_may_only_be_same_origin_files_and_the_one_there_is_public(db, settings, guarded):
    csp = guarded.get("/login").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    # No inline code, no eval, no other origin, no data: URLs; what falls back to
    # default-src stays 'none'.
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert "unsafe" not in csp and "data:" not in directives["script-src"]
    # The diff page's keys: served without a login (as the stylesheet), as JavaScript,
    # and nosniff keeps anything else of ours (JSON, raw captures) from running as a script.
    script = guarded.get("/static/diff-keys.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert guarded.get("/api/v1/stories").headers["x-content-type-options"] == "nosniff"
