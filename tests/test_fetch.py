"""The fetcher against real local servers: good pages, conditional GET, redirects, every limit."""

from __future__ import annotations

import gzip
import ipaddress
import socket
import ssl
import threading
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from proxy_server import ForwardProxy
from servers import (
    LocalServer,
    endless_chunked,
    gzip_bomb,
    hang,
    reset_after,
    slow_drip,
    slow_headers,
)

from tracker.net.charset import (
    NotHTMLError,
    decode_html,
    looks_like_html,
    meta_charset,
    parse_content_type,
)
from tracker.net.fetcher import MB, FetchOptions, Outcome, format_size
from tracker.net.http import CHUNK_SIZE, HttpFetcher, parse_retry_after
from tracker.net.netguard import is_public_address

PAGE = "<!DOCTYPE html><html><head><title>Story</title></head><body><p>Text.</p></body></html>"
CAP = 1 * MB


def options(**overrides):
    settings = {
        "allow_private_networks": True,  # the test servers live on 127.0.0.1
        "connect_timeout": 1.0,
        "read_timeout": 0.5,
        "deadline": 2.0,
        "max_bytes": CAP,
    }
    return FetchOptions(**(settings | overrides))


@pytest.fixture
def server():
    with LocalServer() as local:
        yield local


@pytest.fixture
def fetcher():
    with HttpFetcher(options()) as f:
        yield f


# -- good pages -----------------------------------------------------------------------------------


def test_fetches_an_html_page(server, fetcher):
    server.set("/story", PAGE, etag='"v1"', last_modified="Wed, 01 May 2024 10:00:00 GMT")

    result = fetcher.fetch(server.url("/story"))

    assert result.outcome is Outcome.OK
    assert result.ok
    assert (result.status, result.error, result.error_kind) == (200, None, None)
    assert result.text == PAGE
    assert result.body == PAGE.encode()
    assert result.encoding == "utf-8"
    assert result.url == result.final_url == server.url("/story")
    assert result.redirects == ()
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 01 May 2024 10:00:00 GMT"
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert result.bytes_read == len(PAGE)


def test_identifies_itself_with_a_descriptive_user_agent(server, fetcher):
    server.set("/", PAGE)
    fetcher.fetch(server.url("/"))
    user_agent = server.requests[0].headers["user-agent"]
    assert user_agent.startswith("tracker/")
    assert "live-story update tracker" in user_agent


def test_conditional_get_with_etag_gives_not_modified(server, fetcher):
    server.set("/story", PAGE, etag='"v1"')

    result = fetcher.fetch(server.url("/story"), etag='"v1"')

    assert server.requests_for("/story")[0].headers["if-none-match"] == '"v1"'
    assert result.outcome is Outcome.NOT_MODIFIED
    assert result.status == 304
    assert result.body is None and result.text is None
    assert result.etag == '"v1"'


def test_conditional_get_with_last_modified_gives_not_modified(server, fetcher):
    stamp = "Wed, 01 May 2024 10:00:00 GMT"
    server.set("/story", PAGE, last_modified=stamp)

    result = fetcher.fetch(server.url("/story"), last_modified=stamp)

    assert server.requests_for("/story")[0].headers["if-modified-since"] == stamp
    assert result.outcome is Outcome.NOT_MODIFIED
    assert result.last_modified == stamp


def test_conditional_get_returns_the_page_when_it_has_changed(server, fetcher):
    server.set("/story", PAGE, etag='"v1"')
    first = fetcher.fetch(server.url("/story"))
    server.set("/story", PAGE.replace("Text.", "Updated text."), etag='"v2"')

    second = fetcher.fetch(server.url("/story"), etag=first.etag)

    assert second.outcome is Outcome.OK
    assert "Updated text." in second.text
    assert second.etag == '"v2"'


def test_gzip_encoded_page_is_decompressed(server, fetcher):
    server.set("/", gzip.compress(PAGE.encode()), headers={"Content-Encoding": "gzip"})
    result = fetcher.fetch(server.url("/"))
    assert result.text == PAGE
    assert result.bytes_read == len(PAGE)


# -- redirects ------------------------------------------------------------------------------------


def test_redirect_chain_is_followed_and_final_url_recorded(server, fetcher):
    server.redirect("/a", server.url("/b"), 301)
    server.redirect("/b", "/c", 302)  # relative Location
    server.redirect("/c", "d", 307)  # path-relative
    server.set("/d", PAGE)

    result = fetcher.fetch(server.url("/a"))

    assert result.outcome is Outcome.OK
    assert result.url == server.url("/a")
    assert result.final_url == server.url("/d")
    assert result.redirects == (server.url("/a"), server.url("/b"), server.url("/c"))
    assert [r.path for r in server.requests] == ["/a", "/b", "/c", "/d"]


def test_redirect_loop_is_reported(server, fetcher):
    server.redirect("/x", "/y")
    server.redirect("/y", "/x")

    result = fetcher.fetch(server.url("/x"))

    assert result.outcome is Outcome.ERROR
    assert result.error_kind == "redirects"
    assert result.error.startswith("redirect loop: ")
    assert server.url("/y") in result.error


def test_five_redirects_are_followed_but_not_six(server, fetcher):
    for n in range(6):
        server.redirect(f"/r{n}", f"/r{n + 1}")
    server.set("/r6", PAGE)

    assert fetcher.fetch(server.url("/r1")).outcome is Outcome.OK  # r1 -> … -> r6: 5 hops
    too_many = fetcher.fetch(server.url("/r0"))  # 6 hops

    assert too_many.error_kind == "redirects"
    assert too_many.error == f"too many redirects (>5) from {server.url('/r0')}"


def test_a_cookie_setting_bounce_is_not_a_loop(server, fetcher):
    def story(exchange):
        if "seen=1" in exchange.request.headers.get("cookie", ""):
            exchange.send(200, {"Content-Type": "text/html"}, PAGE)
        else:
            exchange.send(302, {"Location": "/consent"})

    server.set_handler("/story", story)
    server.set("/consent", b"", 302, {"Location": "/story", "Set-Cookie": "seen=1; Path=/"})

    result = fetcher.fetch(server.url("/story"))

    assert result.outcome is Outcome.OK
    assert result.final_url == server.url("/story")


def test_cookies_do_not_carry_over_between_fetches(server, fetcher):
    server.set("/", PAGE, headers={"Set-Cookie": "visits=1; Path=/"})
    fetcher.fetch(server.url("/"))
    fetcher.fetch(server.url("/"))
    assert "cookie" not in server.requests[1].headers


def test_cookies_of_a_failed_fetch_do_not_carry_over_either(server, fetcher):
    # Each thread reuses its session: its cookie jar is emptied when a fetch starts, however
    # the fetch before it ended.
    server.set("/consent", b"", 302, {"Location": "/broken", "Set-Cookie": "seen=1; Path=/"})
    server.set("/broken", b"oops", 500)
    server.set("/", PAGE)
    assert fetcher.fetch(server.url("/consent")).error_kind == "http_status"
    assert "seen=1" in server.requests_for("/broken")[0].headers.get("cookie", "")
    fetcher.fetch(server.url("/"))
    assert "cookie" not in server.requests_for("/")[0].headers


def test_a_redirects_body_is_not_read(server, fetcher):
    # requests' Session.send read a redirect's whole body, past max_bytes (into memory,
    # decompressed), to hand its connection back: a body that never ends held the fetch
    # until its deadline. The redirect is followed without reading it.
    def endless_redirect(exchange):
        exchange.send_head(302, {"Location": "/page", "Transfer-Encoding": "chunked"})
        exchange.close_connection()
        frame = b"%x\r\n%s\r\n" % (16_000, b"x" * 16_000)
        while not exchange.server.stopping.is_set():
            exchange.wfile.write(frame)

    server.set_handler("/moved", endless_redirect)
    server.set("/page", PAGE)
    result = fetcher.fetch(server.url("/moved"))
    assert result.outcome is Outcome.OK, result.error
    assert result.final_url == server.url("/page")
    assert result.redirects == (server.url("/moved"),)


def test_redirect_to_a_non_http_url_is_a_bad_url(server, fetcher):
    server.redirect("/", "ftp://files.example/story.html")
    result = fetcher.fetch(server.url("/"))
    assert result.error_kind == "bad_url"
    assert "redirected to a bad URL" in result.error


def test_a_header_sent_twice_is_one_entry_with_both_values(server, fetcher):
    body = PAGE.encode()

    def two_link_headers(exchange):
        exchange.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Link: <https://example.com/a>; rel=amphtml\r\n"
            b"Link: <https://example.com/b>; rel=alternate\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    server.set_handler("/", two_link_headers)
    result = fetcher.fetch(server.url("/"))
    assert result.outcome is Outcome.OK
    assert result.headers["link"] == (
        "<https://example.com/a>; rel=amphtml, <https://example.com/b>; rel=alternate"
    )


def test_a_location_in_utf8_is_followed_and_one_that_is_not_is_a_bad_url(server, fetcher):
    # Header bytes arrive decoded as Latin-1; a Location is read as UTF-8, as browsers do.
    server.redirect("/moved", "/café".encode().decode("latin-1"))
    server.set("/caf%C3%A9", PAGE)  # the path as sent: percent-encoded
    followed = fetcher.fetch(server.url("/moved"))
    assert followed.outcome is Outcome.OK
    assert followed.final_url == server.url("/caf%C3%A9")

    server.redirect("/broken", "/caf\xe9")  # a Latin-1 é: not UTF-8
    result = fetcher.fetch(server.url("/broken"))
    assert result.error_kind == "bad_url"
    assert "not UTF-8" in result.error
    assert [r.path for r in server.requests][-1] == "/broken"  # nothing guessed and fetched


# -- the private-network guard --------------------------------------------------------------------


def test_loopback_is_refused_unless_allowed(server):
    server.set("/", PAGE)
    with HttpFetcher(options(allow_private_networks=False)) as guarded:
        result = guarded.fetch(server.url("/"))

    assert result.outcome is Outcome.ERROR
    assert result.error_kind == "private_network"
    assert result.error == (
        "refused: 127.0.0.1 is a loopback address; set TRACKER_ALLOW_PRIVATE_NETWORKS=1 to allow"
    )
    assert server.count() == 0


def loopback_127_0_0_1_or_public(address):
    return address == ipaddress.ip_address("127.0.0.1") or is_public_address(address)


@pytest.mark.parametrize(
    ("target", "refusal"),
    [
        ("http://10.0.0.5/internal", "10.0.0.5 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://127.0.0.2:{port}/", "127.0.0.2 is a loopback address"),
    ],
)
def test_every_redirect_hop_is_checked(server, target, refusal):
    # The first hop (127.0.0.1) is let through by the injected policy; the hop it redirects
    # to must still be refused.
    server.redirect("/", target.format(port=server.port))
    fetcher = HttpFetcher(
        options(allow_private_networks=False), address_allowed=loopback_127_0_0_1_or_public
    )

    result = fetcher.fetch(server.url("/"))

    assert result.error_kind == "private_network"
    assert refusal in result.error
    assert "TRACKER_ALLOW_PRIVATE_NETWORKS=1" in result.error
    assert result.final_url == target.format(port=server.port)
    assert server.count() == 1


def test_injected_policy_lets_an_allowed_first_hop_through(server):
    server.set("/", PAGE)
    fetcher = HttpFetcher(
        options(allow_private_networks=False), address_allowed=loopback_127_0_0_1_or_public
    )
    assert fetcher.fetch(server.url("/")).outcome is Outcome.OK


# -- size, time and connection limits -------------------------------------------------------------


def test_declared_oversized_body_is_refused_without_reading_it(server, fetcher):
    server.set("/", b"<html>" + b"x" * (CAP + 10))
    result = fetcher.fetch(server.url("/"))
    assert result.error_kind == "too_large"
    assert result.error == "body larger than 1 MB cap"
    assert result.bytes_read == 0


def test_undeclared_oversized_body_stops_at_the_cap_while_streaming(server, fetcher):
    server.set_handler("/", endless_chunked())
    result = fetcher.fetch(server.url("/"))
    assert result.error_kind == "too_large"
    assert result.error == "body larger than 1 MB cap"
    assert CAP < result.bytes_read <= CAP + CHUNK_SIZE


def test_gzip_bomb_stops_at_the_cap_without_inflating_into_memory(server, fetcher):
    bomb = gzip_bomb(64 * MB)
    assert len(bomb) < 128 * 1024
    server.set("/", bomb, headers={"Content-Encoding": "gzip"})

    tracemalloc.start()
    try:
        result = fetcher.fetch(server.url("/"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.error_kind == "too_large"
    assert result.bytes_read <= CAP + CHUNK_SIZE
    assert peak < 8 * MB


def test_server_that_never_answers_times_out(server, fetcher):
    server.set_handler("/", hang())
    result = fetcher.fetch(server.url("/"))
    assert result.error_kind == "timeout"
    assert result.error == f"timed out after 0.5 s reading {server.url('/')}"


def test_slow_drip_stops_at_the_deadline(server):
    # The body never ends; the deadline is long enough that a busy machine still sees the
    # headers and some of it before the deadline cuts the fetch (0.6 s once was not).
    server.set_handler("/", slow_drip(interval=0.05))
    with HttpFetcher(options(deadline=2.5, read_timeout=5)) as fetcher:
        result = fetcher.fetch(server.url("/"))
    assert result.error_kind == "timeout"
    assert "2.5 s deadline" in result.error
    assert result.bytes_read > 0


def test_headers_dripped_slowly_stop_at_the_deadline(server):
    server.set_handler("/", slow_headers(interval=0.05))
    with HttpFetcher(options(deadline=0.6, read_timeout=5)) as fetcher:
        result = fetcher.fetch(server.url("/"))
    assert result.error_kind == "timeout"
    assert "0.6 s deadline" in result.error
    assert result.bytes_read == 0


def test_connection_reset_mid_body_is_a_connection_error(server, fetcher):
    server.set_handler("/", reset_after())
    result = fetcher.fetch(server.url("/"))
    assert result.outcome is Outcome.ERROR
    assert result.error_kind == "connection"
    assert result.error.startswith("connection lost after ")
    assert result.status == 200


def test_connection_refused(fetcher):
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    result = fetcher.fetch(f"http://127.0.0.1:{port}/")
    assert result.error_kind == "connection"
    assert result.error == f"connection refused by 127.0.0.1:{port}"


def test_dns_failure_with_the_guard_on():
    with HttpFetcher(options(allow_private_networks=False)) as fetcher:
        result = fetcher.fetch("http://no-such-host.invalid/story")
    assert result.error_kind == "dns"
    assert result.error.startswith("DNS lookup failed for no-such-host.invalid")


def test_dns_failure_with_private_networks_allowed(fetcher):
    result = fetcher.fetch("http://no-such-host.invalid/story")
    assert result.error_kind == "dns"
    assert result.error.startswith("DNS lookup failed for no-such-host.invalid")


def test_tls_failure_is_reported(server, fetcher):
    # Speaking TLS to a plain-HTTP server fails the handshake.
    result = fetcher.fetch(f"https://127.0.0.1:{server.port}/")
    assert result.error_kind == "tls"
    assert result.error.startswith("TLS error: ")


@pytest.fixture(scope="module")
def certificate_authority():
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture
def https_server(certificate_authority):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(context)
    with LocalServer(tls=context) as local:
        yield local


@pytest.fixture
def trusting(certificate_authority, monkeypatch, tmp_path):
    """Make requests trust the test CA (requests reads REQUESTS_CA_BUNDLE)."""
    bundle = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))


def test_https_page_from_a_trusted_certificate(https_server, fetcher, trusting):
    https_server.set("/", PAGE)
    result = fetcher.fetch(https_server.url("/"))
    assert result.outcome is Outcome.OK
    assert result.final_url.startswith("https://")


def test_untrusted_certificate_is_a_tls_error(https_server, fetcher):
    https_server.set("/", PAGE)
    result = fetcher.fetch(https_server.url("/"))
    assert result.error_kind == "tls"
    assert result.error.startswith("TLS error: certificate verify failed")
    assert https_server.count() == 0


def test_slow_drip_over_tls_stops_at_the_deadline(https_server, trusting):
    https_server.set_handler("/", slow_drip(interval=0.05))
    with HttpFetcher(options(deadline=0.6, read_timeout=5)) as fetcher:
        result = fetcher.fetch(https_server.url("/"))
    assert result.error_kind == "timeout"
    assert "0.6 s deadline" in result.error


def test_malformed_url_is_an_error_not_an_exception(fetcher):
    result = fetcher.fetch("not a url")
    assert result.outcome is Outcome.ERROR
    assert result.error_kind == "bad_url"


# -- HTTP errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"), [(404, "HTTP 404 Not Found"), (410, "HTTP 410 Gone")]
)
def test_http_errors_carry_status(server, fetcher, status, message):
    server.set("/", "<html>gone</html>", status)
    result = fetcher.fetch(server.url("/"))
    assert (result.outcome, result.error_kind) == (Outcome.ERROR, "http_status")
    assert result.status == status
    assert result.error == message
    assert result.retry_after is None


def test_429_with_retry_after_seconds(server, fetcher):
    server.set("/", "slow down", 429, {"Retry-After": "120"})
    result = fetcher.fetch(server.url("/"))
    assert (result.status, result.error_kind) == (429, "http_status")
    assert result.retry_after == 120.0


def test_503_with_retry_after_http_date(server):
    server.set("/", "maintenance", 503, {"Retry-After": "Wed, 01 May 2024 10:05:00 GMT"})
    now = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
    with HttpFetcher(options(), now=lambda: now) as fetcher:
        result = fetcher.fetch(server.url("/"))
    assert result.error == "HTTP 503 Service Unavailable"
    assert result.retry_after == 300.0


# -- content type and charset ---------------------------------------------------------------------


def test_non_html_content_type_is_refused_without_download(server, fetcher):
    server.set("/file", b"%PDF-1.7 " + b"x" * 50_000, content_type="application/pdf")
    result = fetcher.fetch(server.url("/file"))
    assert result.error_kind == "not_html"
    assert result.error == "not HTML (application/pdf)"
    assert result.bytes_read == 0


def test_xhtml_is_accepted(server, fetcher):
    server.set("/", PAGE, content_type="application/xhtml+xml")
    assert fetcher.fetch(server.url("/")).outcome is Outcome.OK


def test_missing_content_type_is_sniffed(server, fetcher):
    server.set("/page", PAGE, content_type=None)
    server.set("/data", '{"not": "html"}', content_type=None)
    assert fetcher.fetch(server.url("/page")).outcome is Outcome.OK
    refused = fetcher.fetch(server.url("/data"))
    assert refused.error_kind == "not_html"


def test_binary_served_as_html_is_refused(server, fetcher):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    server.set("/", png, content_type="text/html")
    result = fetcher.fetch(server.url("/"))
    assert result.error_kind == "not_html"
    assert "binary" in result.error


def test_empty_body_is_an_error(server, fetcher):
    server.set("/", b"")
    assert fetcher.fetch(server.url("/")).error_kind == "not_html"


FRENCH = "<html><body><p>Le café d’en face a rouvert — enfin. Déjà « complet ».</p></body></html>"


def test_lying_utf8_header_falls_back_without_mojibake(server, fetcher):
    server.set("/", FRENCH.encode("cp1252"), content_type="text/html; charset=utf-8")
    result = fetcher.fetch(server.url("/"))
    assert result.outcome is Outcome.OK
    assert "\ufffd" not in result.text
    assert "café d’en face" in result.text
    assert result.encoding != "utf-8"


def test_meta_charset_is_used_when_the_header_has_none(server, fetcher):
    html = FRENCH.replace("<html>", '<html><head><meta charset="windows-1252"></head>')
    server.set("/", html.encode("cp1252"), content_type="text/html")
    result = fetcher.fetch(server.url("/"))
    assert result.text == html
    assert result.encoding == "cp1252"


def test_http_equiv_charset_is_used(server, fetcher):
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-15">'
        "</head><body><p>Le café a rouvert : 5 € le déjeuner.</p></body></html>"
    )
    server.set("/", html.encode("iso-8859-15"), content_type="text/html")
    result = fetcher.fetch(server.url("/"))
    assert result.text == html
    assert result.encoding == "iso8859-15"


def test_utf8_body_behind_a_latin1_header_is_read_as_utf8(server, fetcher):
    server.set("/", FRENCH.encode("utf-8"), content_type="text/html; charset=ISO-8859-1")
    result = fetcher.fetch(server.url("/"))
    assert result.text == FRENCH
    assert result.encoding == "utf-8"


def test_declared_charset_is_honoured(server, fetcher):
    server.set("/", FRENCH.encode("cp1252"), content_type="text/html; charset=windows-1252")
    result = fetcher.fetch(server.url("/"))
    assert (result.text, result.encoding) == (FRENCH, "cp1252")


# -- concurrency and robots-style text fetches ----------------------------------------------------


def test_concurrent_fetches_share_the_fetcher_safely(server, fetcher):
    for n in range(16):
        server.set(f"/s{n}", PAGE.replace("Text.", f"Story {n}."))

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda n: fetcher.fetch(server.url(f"/s{n}")), range(16)))

    assert [r.error for r in results] == [None] * 16
    assert all(f"Story {n}." in r.text for n, r in enumerate(results))


def test_get_text_accepts_plain_text_and_truncates(server, fetcher):
    server.set("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    server.set("/big.txt", "#" * 10_000, content_type="text/plain")

    robots = fetcher.get_text(server.url("/robots.txt"))
    big = fetcher.get_text(server.url("/big.txt"), max_bytes=1000)

    assert robots.text == "User-agent: *\nDisallow: /private\n"
    assert (big.outcome, big.text) == (Outcome.OK, "#" * 1000)


def test_fetch_never_raises_under_concurrent_hostility(server, fetcher):
    server.set_handler("/hang", hang())
    server.set_handler("/reset", reset_after())
    server.set("/ok", PAGE)
    paths = ["/hang", "/reset", "/ok", "/missing"]
    results = {}

    def run(path):
        results[path] = fetcher.fetch(server.url(path))

    threads = [threading.Thread(target=run, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert {p: r.error_kind for p, r in results.items()} == {
        "/hang": "timeout",
        "/reset": "connection",
        "/ok": None,
        "/missing": "http_status",
    }


# -- pure helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 01 May 2024 10:01:30 GMT", 90.0),
        ("Wed, 01 May 2024 09:00:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, datetime(2024, 5, 1, 10, 0, tzinfo=UTC)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text/html; charset=UTF-8", ("text/html", "UTF-8")),
        ('Text/HTML; Charset="windows-1252"', ("text/html", "windows-1252")),
        ("application/xhtml+xml", ("application/xhtml+xml", None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_parse_content_type(value, expected):
    assert parse_content_type(value) == expected


def test_byte_order_mark_wins_over_declarations():
    body = "<html>ünïcode</html>".encode("utf-16-le")
    assert decode_html(b"\xff\xfe" + body, "iso-8859-1") == ("<html>ünïcode</html>", "utf-16-le")


def test_undeclared_text_is_detected():
    text, _ = decode_html(FRENCH.encode("cp1252") * 3)
    assert "café d’en face" in text
    assert "\ufffd" not in text


def test_binary_bytes_are_not_html():
    with pytest.raises(NotHTMLError):
        decode_html(bytes(range(256)) * 8, "utf-8")


def test_meta_charset_finds_both_forms():
    assert meta_charset(b'<head><meta charset="utf-8">') == "utf-8"
    assert meta_charset(b"<meta http-equiv=Content-Type content='text/html;charset=gbk'>") == "gbk"
    assert meta_charset(b"<p>charset=utf-8</p>") is None


def test_looks_like_html():
    assert looks_like_html(b"\n  <!DOCTYPE html><p>")
    assert looks_like_html(b"<!-- generated --><html lang=en>")
    assert not looks_like_html(b'{"json": true}')
    assert not looks_like_html(b"plain words")


def test_format_size():
    assert [format_size(n) for n in (10 * MB, MB + MB // 2, 500 * 1024, 12)] == [
        "10 MB",
        "1.5 MB",
        "500 KB",
        "12 bytes",
    ]


# -- through an HTTP proxy (the proxy_url setting) ------------------------------------------------


@pytest.fixture
def proxy():
    with ForwardProxy() as running:
        yield running


def test_pages_are_fetched_through_the_proxy_conditionally(server, proxy):
    server.set("/story", PAGE, etag='"v1"')
    with HttpFetcher(options(proxy=proxy.url)) as fetcher:
        first = fetcher.fetch(server.url("/story"))
        second = fetcher.fetch(server.url("/story"), etag=first.etag)
    assert first.outcome is Outcome.OK
    assert "Text." in first.text
    assert second.outcome is Outcome.NOT_MODIFIED
    assert proxy.requests == [("GET", server.url("/story"))] * 2
    assert server.count("/story") == 2


def test_proxy_credentials_are_sent_and_a_refusal_is_reported():
    with LocalServer() as server, ForwardProxy(credentials=("desk", "s3cret")) as proxy:
        server.set("/story", PAGE)
        with HttpFetcher(options(proxy=proxy.url)) as fetcher:
            assert fetcher.fetch(server.url("/story")).outcome is Outcome.OK
        wrong = proxy.url.replace("s3cret", "wrong")
        with HttpFetcher(options(proxy=wrong)) as fetcher:
            refused = fetcher.fetch(server.url("/story"))
    assert refused.error_kind == "http_status"
    assert refused.error == "HTTP 407 Proxy Authentication Required"
    assert server.count("/story") == 1


def test_https_goes_through_a_connect_tunnel(https_server, trusting, proxy):
    https_server.set("/story", PAGE)
    with HttpFetcher(options(proxy=proxy.url)) as fetcher:
        result = fetcher.fetch(https_server.url("/story"))
    assert result.outcome is Outcome.OK, result.error
    assert proxy.requests == [("CONNECT", f"127.0.0.1:{https_server.port}")]


def test_a_proxy_that_is_down_is_named_in_the_error(server):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead_proxy = f"http://127.0.0.1:{unused.getsockname()[1]}"
    server.set("/story", PAGE)
    with HttpFetcher(options(proxy=dead_proxy)) as fetcher:
        result = fetcher.fetch(server.url("/story"))
    assert result.error_kind == "proxy"
    assert result.error == (
        f"could not fetch {server.url('/story')} through the proxy: connection to the proxy refused"
    )


def test_private_hosts_are_refused_before_the_proxy_is_asked(server, proxy):
    server.set("/story", PAGE)
    with HttpFetcher(options(proxy=proxy.url, allow_private_networks=False)) as fetcher:
        result = fetcher.fetch(server.url("/story"))
    assert result.error_kind == "private_network"
    assert "TRACKER_ALLOW_PRIVATE_NETWORKS=1" in result.error
    assert proxy.requests == []


def test_the_deadline_holds_through_the_proxy(server, proxy):
    server.set_handler("/", slow_drip(interval=0.05))
    with HttpFetcher(options(proxy=proxy.url, deadline=0.6, read_timeout=5)) as fetcher:
        result = fetcher.fetch(server.url("/"))
    assert result.error_kind == "timeout"
    assert "0.6 s deadline" in result.error


def test_a_deadline_passing_after_the_body_is_read_spares_the_reused_connection(
    server, fetcher, monkeypatch
):
    # The first fetch has read its body, so its kept-alive connection is back in the pool,
    # and a second fetch now reads from it. If the first fetch's deadline passes at that
    # moment (while it is still decoding), its watchdog must not shut that socket down.
    import tracker.net.http

    server.set("/first", PAGE)
    second_waiting, first_expired = threading.Event(), threading.Event()

    def second(exchange):
        second_waiting.set()
        first_expired.wait(5)
        exchange.send(200, {"Content-Type": "text/html"}, PAGE)

    server.set_handler("/second", second)
    results = {}
    decode = tracker.net.http.decode_html

    def decode_while_the_deadline_passes(body, charset=None):
        if "second" not in results:
            results["second"] = None
            attempt = fetcher._local.attempt
            other = threading.Thread(
                target=lambda: results.update(second=fetcher.fetch(server.url("/second")))
            )
            other.start()
            assert second_waiting.wait(5)
            attempt.expire()  # what the watchdog does at the first fetch's deadline
            first_expired.set()
            other.join(5)
        return decode(body, charset)

    monkeypatch.setattr(tracker.net.http, "decode_html", decode_while_the_deadline_passes)
    fetcher.fetch(server.url("/first"))

    assert results["second"].error is None
    assert len(server.requests_for("/second")) == 1  # the reused connection, not a retry


@pytest.mark.parametrize(
    "proxy_url",
    [
        "http://desk:s3cret@127.0.0.1:99999",  # no such port
        "http://desk:s3#cret@127.0.0.1:3128",  # a password character left unencoded
        "http://desk:s3/cret@127.0.0.1:3128",
    ],
)
def test_a_malformed_proxy_url_is_a_proxy_error_that_keeps_the_password_out(server, proxy_url):
    # The error is stored with the check and shown in the web UI, the API and the logs.
    server.set("/story", PAGE)
    fetch_options = options(proxy=proxy_url)
    with HttpFetcher(fetch_options) as fetcher:
        result = fetcher.fetch(server.url("/story"))
    assert result.error_kind == "proxy"  # not "bad_url": the story's URL is fine
    assert result.error.startswith(f"could not fetch {server.url('/story')} through the proxy")
    assert "s3" not in result.error
    assert "s3" not in repr(fetch_options)
    assert server.count("/story") == 0


def test_masking_a_short_proxy_password_does_not_garble_the_message():
    from tracker.net.http import _without_password

    proxy = "http://desk:ab@proxy.example:3128"
    assert _without_password("could not fetch http://news.example/tab", proxy) == (
        "could not fetch http://news.example/tab"
    )
    assert _without_password("refused desk:ab@proxy.example", proxy) == (
        "refused desk:***@proxy.example"
    )


def test_a_redirect_to_an_overlong_url_is_a_bad_url_not_a_database_error(server, fetcher):
    long_target = "/next?" + "q=" + "x" * 3000
    server.redirect("/short", long_target)
    result = fetcher.fetch(server.url("/short"))
    assert result.error_kind == "bad_url"
    assert "redirected to a bad URL: URL longer than 2048 characters" in result.error
