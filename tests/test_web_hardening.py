"""Issue 13, finding 2 and the login limit: DNS rebinding, cross-site writes, token guessing.

Through the real app (TestClient) and, where a browser's view of hosts matters, a real
uvicorn server on 127.0.0.1.
"""

from __future__ import annotations

import socket

import httpx
import pytest
from test_web_support import csrf_token, insert_story, make_client

from tracker.web import start_in_thread
from tracker.web.security import LOGIN_MAX_FAILURES, HostPolicy, LoginLimiter, split_host_header

TOKEN = "s3cret-token"

# Names a rebinding page could have (its own), and malformed Host values.
FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:8765",
    "rebind.127.0.0.1.nip.io:8765",
    "127.0.0.1.evil.example",
    "localhost.evil.example",
    "evil.example.:80",
    "127.0.0.1@evil.example",
    "127.0.0.1:8765/evil",
    "127.0.0.1 evil.example",
    "[::1",
    "127.0.0.1:80x",
    "",
]
LOOPBACK_HOSTS = [
    "127.0.0.1",
    "127.0.0.1:8765",
    "[::1]",
    "[::1]:9000",
    "localhost:8765",
    "LOCALHOST",
]


@pytest.fixture
def client(db, settings):
    with make_client(db, settings) as test_client:
        yield test_client


# -- Host ------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_foreign_host_header_is_refused_on_pages_and_the_api(client, host):
    for path in ("/", "/add", "/api/v1/stories"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code in (400, 421), (path, host, response.status_code)
    refused = client.post("/api/v1/stories", json={"urls": []}, headers={"Host": host})
    assert refused.status_code in (400, 421)


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_loopback_literals_are_answered_with_any_port(client, host):
    assert client.get("/api/v1/stories", headers={"Host": host}).status_code == 200


def test_the_configured_names_are_answered(db, settings):
    configured = settings.model_copy(
        update={
            "base_url": "https://desk.example/tracker/",
            "web_token": TOKEN,
            "web_host": "0.0.0.0",
        }
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with make_client(db, configured) as client:
        for host in ("desk.example", "DESK.example:443", "127.0.0.1:8765"):
            assert client.get("/api/v1/stories", headers={"Host": host, **auth}).status_code == 200
        assert (
            client.get("/api/v1/stories", headers={"Host": "evil.example", **auth}).status_code
            == 421
        )
    named = settings.model_copy(update={"web_host": "192.0.2.7", "web_token": TOKEN})
    with make_client(db, named) as client:
        assert client.get("/healthz", headers={"Host": "192.0.2.7:8765"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "192.0.2.8:8765"}).status_code == 421


def test_host_header_parsing():
    assert split_host_header("Example.COM.:8080") == ("example.com", 8080)
    assert split_host_header("[::1]:80") == ("::1", 80)
    assert split_host_header("[::1]") == ("::1", None)
    for bad in ("a b", "a:b", "[::1]x", "a/b", "a@b", "a\\b", ""):
        assert split_host_header(bad) is None


def test_bound_to_all_interfaces_with_a_token_and_no_base_url_any_name_is_answered(settings):
    policy = HostPolicy.from_settings(
        settings.model_copy(update={"web_host": "0.0.0.0", "web_token": TOKEN})
    )
    assert policy.host_ok("tracker.lan:8765")  # the token still guards every request


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_rebinding_page_can_neither_read_nor_remove_through_a_real_server(db, settings):
    """The attack as reported: a page on a rebinding name fetches a form, then submits it
    with its own (matching) Origin. Both steps now fail on the Host."""
    story = insert_story(db, "https://example.com/kept", ["text"])
    port = _free_port()
    server = start_in_thread(db, settings.model_copy(update={"web_port": port}))
    try:
        base = f"http://127.0.0.1:{port}"
        rebound = {"Host": f"rebind.evil.example:{port}"}
        with httpx.Client(base_url=base, timeout=5) as browser:
            assert browser.get("/api/v1/stories", headers=rebound).status_code == 421
            assert browser.get("/add", headers=rebound).status_code == 421
            # Even with a valid token and cookie (taken from the real origin) the write is refused.
            token = csrf_token(browser, "/add")
            removed = browser.post(
                f"/stories/{story}/remove",
                data={"csrf_token": token},
                headers={**rebound, "Origin": f"http://rebind.evil.example:{port}"},
            )
            assert removed.status_code == 421
            assert browser.get(f"/api/v1/stories/{story}").status_code == 200
    finally:
        server.should_exit = True


# -- API writes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/json",
        "application/jsonp",
    ],
)
def test_an_api_write_without_a_json_body_type_is_refused(client, db, content_type):
    story = insert_story(db, "http://127.0.0.1:9/s", ["text"])
    body = '{"urls": ["http://127.0.0.1:9/new"]}'
    headers = {"Content-Type": content_type, "Origin": "https://evil.example"}
    added = client.post("/api/v1/stories", content=body, headers=headers)
    assert added.status_code == 415, added.text
    checked = client.post(f"/api/v1/stories/{story}/check", content="x", headers=headers)
    assert checked.status_code == 415
    patched = client.patch(
        f"/api/v1/stories/{story}", content='{"status": "paused"}', headers=headers
    )
    assert patched.status_code == 415
    assert client.request("DELETE", f"/api/v1/stories/{story}", headers=headers).status_code == 415
    listing = client.get("/api/v1/stories").json()
    assert [item["url"] for item in listing["items"]] == ["http://127.0.0.1:9/s"]
    assert listing["items"][0]["status"] == "active"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_a_body_less_cross_site_api_write_is_refused(client, db, headers):
    """fetch(url, {method: "POST", mode: "no-cors"}) sends no body type at all."""
    story = insert_story(db, "http://127.0.0.1:9/s", ["text"])
    # (Were it let through, the check would fetch 127.0.0.1:9, which refuses: no version.)
    assert client.post(f"/api/v1/stories/{story}/check", headers=headers).status_code == 403
    assert client.request("DELETE", f"/api/v1/stories/{story}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/stories/{story}").status_code == 200


def test_json_and_script_writes_still_work(client, db):
    story = insert_story(db, "https://example.com/s", ["text"])
    paused = client.patch(
        f"/api/v1/stories/{story}",
        json={"status": "paused"},
        headers={"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"},
    )
    assert paused.status_code == 200
    resumed = client.patch(
        f"/api/v1/stories/{story}",
        content='{"status": "active"}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resumed.status_code in (200, 415, 422)  # a JSON type passes the guard
    assert client.request("DELETE", f"/api/v1/stories/{story}").status_code == 204  # curl-like


def test_with_a_token_the_bearer_is_what_counts(db, settings):
    with make_client(db, settings.model_copy(update={"web_token": TOKEN})) as client:
        story = insert_story(db, "https://example.com/s", ["text"])
        no_token = client.post(
            "/api/v1/stories", content="{}", headers={"Content-Type": "text/plain"}
        )
        assert no_token.status_code == 401
        deleted = client.request(
            "DELETE", f"/api/v1/stories/{story}", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert deleted.status_code == 204


# -- forms: Origin, else Referer -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1.evil.example"},
        {"Origin": "http://localhost"},  # another name than the one the page was loaded from
        {"Origin": "http://127.0.0.1:1"},
        {"Referer": "https://evil.example/page"},
        {"Referer": "http://127.0.0.1.evil.example/add"},
        {"Referer": "not a url"},
    ],
)
def test_a_cross_site_form_is_refused_even_with_a_valid_csrf_token(client, db, headers):
    story = insert_story(db, "https://example.com/s", ["text"])
    token = csrf_token(client, "/add")
    removed = client.post(
        f"/stories/{story}/remove",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert removed.status_code == 403
    assert client.get(f"/stories/{story}").status_code == 200


@pytest.mark.parametrize(
    "headers", [{"Origin": "http://127.0.0.1"}, {"Referer": "http://127.0.0.1/add"}, {}]
)
def test_a_same_site_form_is_accepted(client, db, headers):
    story = insert_story(db, "https://example.com/s", ["text"])
    token = csrf_token(client, "/add")
    paused = client.post(
        f"/stories/{story}/pause",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert paused.status_code == 303


def test_forms_accept_the_base_url_origin_behind_a_reverse_proxy(db, settings):
    configured = settings.model_copy(update={"base_url": "https://desk.example"})
    with make_client(db, configured) as client:
        story = insert_story(db, "https://example.com/s", ["text"])
        token = csrf_token(client, "/add")
        paused = client.post(
            f"/stories/{story}/pause",
            data={"csrf_token": token},
            headers={"Origin": "https://desk.example"},
            follow_redirects=False,
        )
        assert paused.status_code == 303


# -- login attempts --------------------------------------------------------------------------


def test_wrong_tokens_are_limited_per_client_then_answered_429(db, settings):
    with make_client(db, settings.model_copy(update={"web_token": TOKEN})) as client:
        token = csrf_token(client, "/login")
        for _ in range(LOGIN_MAX_FAILURES):
            wrong = client.post("/login", data={"csrf_token": token, "token": "guess"})
            assert wrong.status_code == 401
        limited = client.post("/login", data={"csrf_token": token, "token": "guess"})
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert "try again" in limited.text
        # The right token does not get through during the wait either (or guessing would go on).
        right = client.post("/login", data={"csrf_token": token, "token": TOKEN})
        assert right.status_code == 429


def test_the_login_limiter_forgets_failures_after_its_window_and_on_success():
    limiter = LoginLimiter(max_failures=3, window=60)
    for second in range(3):
        assert limiter.retry_after("a", now=100 + second) == 0
        limiter.failed("a", now=100 + second)
    assert limiter.retry_after("a", now=103) == 57
    assert limiter.retry_after("b", now=103) == 0  # per client
    assert limiter.retry_after("a", now=160.5) == 0  # the first failure left the window
    limiter.failed("a", now=161)
    limiter.succeeded("a")
    assert limiter.retry_after("a", now=161) == 0


def test_the_login_limiter_remembers_a_bounded_number_of_clients():
    limiter = LoginLimiter(max_failures=1, window=60, max_clients=100)
    for n in range(1000):
        limiter.failed(f"10.0.{n // 256}.{n % 256}", now=1)
    assert len(limiter._failures) == 100


def test_fifty_wrong_tokens_through_a_real_server_end_in_429(db, settings):
    port = _free_port()
    server = start_in_thread(db, settings.model_copy(update={"web_port": port, "web_token": TOKEN}))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as browser:
            token = csrf_token(browser, "/login")
            statuses = [
                browser.post("/login", data={"csrf_token": token, "token": f"guess{n}"}).status_code
                for n in range(50)
            ]
    finally:
        server.should_exit = True
    assert statuses[:LOGIN_MAX_FAILURES] == [401] * LOGIN_MAX_FAILURES
    assert set(statuses[LOGIN_MAX_FAILURES:]) == {429}
