"""URL vetting (issue 13, finding 1): the guard reads a URL exactly as the HTTP client does.

With a proxy the private-network guard is the only check (the proxy resolves the name), so a
URL that Python's `urlsplit` reads as a public host and urllib3 as 127.0.0.1 would reach the
operator's internal network. The proxy here is a fake (tests/proxy_server.RecordingProxy):
it records what it was asked for and never forwards, so nothing leaves loopback; the public
addresses below are documentation/example addresses that are never connected to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import hypothesis
import pytest
from hypothesis import strategies as st
from proxy_server import RecordingProxy
from requests.models import PreparedRequest
from urllib3.util import parse_url

from tracker.net.fetcher import FetchOptions, Outcome
from tracker.net.http import HttpFetcher
from tracker.net.netguard import BadURLError, check_url, validate_url
from tracker.net.urls import vet_url
from tracker.notify.webhook import WebhookChannel
from tracker.services.stories import StoryError, add_stories

PUBLIC = "93.184.216.34"  # never contacted: the fake proxy answers for it

# Each reads as PUBLIC (or some public name) to one parser and as a loopback/internal host to
# another, or is a spelling of an internal address that some reader may accept. {port} is a
# port on 127.0.0.1 (the proxy's own, so "reaching" it would be visible).
DIFFERENTIAL = [
    "http://127.0.0.1:{port}\\@" + PUBLIC + "/x",  # backslash before @
    "http://127.0.0.1:{port}\\\\@" + PUBLIC + "/x",
    "http://127.0.0.1:{port}%5C@" + PUBLIC + "/x",  # the same, percent-encoded
    "http://127.0.0.1:{port}%5c@" + PUBLIC + "/x",
    "http://127.0.0.1:{port}\t@" + PUBLIC + "/x",  # urlsplit drops it, urllib3 keeps it
    "http://127.0.0.1:{port}\n@" + PUBLIC + "/x",
    "http://127.0.0.1:{port}\r\n@" + PUBLIC + "/x",
    "http://127.0.0.1:{port} @" + PUBLIC + "/x",
    "http://127.0.0.1:{port}\u3000@" + PUBLIC + "/x",  # ideographic space
    "http://127.0.0.1:{port}\x00@" + PUBLIC + "/x",
    "http://a@127.0.0.1:{port}@" + PUBLIC + "/x",  # several @
    "http://127.0.0.1:{port}@@" + PUBLIC + "/x",
    "http://127.0.0.1:{port}:@" + PUBLIC + "/x",  # ":" tricks in the user info
    "http://user:127.0.0.1:{port}@" + PUBLIC + "/x",
    "http://127.0.0.1%3A{port}@" + PUBLIC + "/x",
    "http://127.0.0.1:{port}＠" + PUBLIC + "/x",  # fullwidth @ (NFKC)
    "http://" + PUBLIC + "\\.127.0.0.1:{port}/x",
    "http://[::1%25lo]:{port}/x",  # IPv6 zone ids
    "http://[fe80::1%25eth0]:{port}/x",
    "http://[::ffff:127.0.0.1%251]:{port}/x",
    "http://127.1:{port}/x",  # numeric spellings of 127.0.0.1
    "http://2130706433:{port}/x",
    "http://0x7f000001:{port}/x",
    "http://0x7f.0.0.1:{port}/x",
    "http://0177.0.0.1:{port}/x",
    "http://127.0.0.1.:{port}/x",
    "http://127。0。0。1:{port}/x",
    "http://127.0.0.1%2F@" + PUBLIC + ":{port}/x",
]

# Of those, the ones an HTTP Location header can carry (no NUL, CR or LF).
REDIRECT_DIFFERENTIAL = [
    u for u in DIFFERENTIAL if u.isascii() and not any(c in u for c in "\x00\r\n")
]


def _options(proxy: str) -> FetchOptions:
    return FetchOptions(
        proxy=proxy,
        allow_private_networks=False,
        connect_timeout=1.0,
        read_timeout=1.0,
        deadline=3.0,
    )


def _never_resolve(host: str, port: int) -> list:
    raise AssertionError(f"no lookup expected here, yet {host!r} was looked up")


@pytest.fixture
def proxy():
    with RecordingProxy() as running:
        yield running


def _port_of(proxy: RecordingProxy) -> int:
    return int(proxy.url.rsplit(":", 1)[1])


@pytest.mark.parametrize("template", DIFFERENTIAL)
def test_a_url_parsers_disagree_on_is_never_sent_to_the_proxy(proxy, template):
    url = template.format(port=_port_of(proxy))
    with HttpFetcher(_options(proxy.url), resolver=_never_resolve) as fetcher:
        result = fetcher.fetch(url)
    assert result.outcome is Outcome.ERROR
    assert result.error_kind in ("bad_url", "private_network"), result.error
    assert proxy.targets == []  # the proxy was never asked for anything


def test_a_public_url_does_go_through_the_proxy(proxy):
    """The control: the fake proxy does answer, so the refusals above are the guard's."""
    with HttpFetcher(_options(proxy.url), resolver=_never_resolve) as fetcher:
        result = fetcher.fetch(f"http://{PUBLIC}/x")
    assert result.outcome is Outcome.OK, result.error
    assert proxy.targets == [f"http://{PUBLIC}/x"]


@pytest.mark.parametrize("template", REDIRECT_DIFFERENTIAL)
def test_every_redirect_hop_is_vetted_the_same_way(proxy, template):
    location = template.format(port=_port_of(proxy))
    proxy.responses[f"http://{PUBLIC}/moved"] = (302, {"Location": location}, b"")
    with HttpFetcher(_options(proxy.url), resolver=_never_resolve) as fetcher:
        result = fetcher.fetch(f"http://{PUBLIC}/moved")
    assert result.outcome is Outcome.ERROR
    assert result.error_kind in ("bad_url", "private_network"), result.error
    assert proxy.targets == [f"http://{PUBLIC}/moved"]  # the hop was not requested


@pytest.mark.parametrize("template", DIFFERENTIAL)
def test_adding_such_a_url_is_refused_with_a_message(db, template):
    url = template.format(port=8080)
    with db.session() as session, pytest.raises(StoryError) as refused:
        add_stories(session, [url], now=datetime.now(UTC), allow_private_networks=False)
    message = str(refused.value)
    assert "malformed URL" in message or "refused" in message, message
    assert not any(c in message for c in "\x00\t\n\r")  # control characters shown escaped


@pytest.mark.parametrize("template", DIFFERENTIAL)
def test_webhook_targets_are_vetted_the_same_way(template):
    with pytest.raises(ValueError):
        WebhookChannel.validate(template.format(port=8080), None)


def test_a_plain_webhook_target_with_credentials_is_still_accepted():
    url, _ = WebhookChannel.validate("https://desk:pa%40ss@hooks.example/notify?x=1", None)
    assert url == "https://desk:pa%40ss@hooks.example/notify?x=1"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/news/story?id=1#top",
        "HTTP://Example.COM:8080/a/b",
        "https://bücher.example/artikel",
        "http://[2001:db8::1]:8080/x",
        "https://example.com./x",
        "https://cdn_1.example.com/x",
        "https://example.com/a b/c\\d",  # the path is the client's to encode: no host ambiguity
        "  https://example.com/x\n",
    ],
)
def test_ordinary_urls_pass_and_are_read_alike_by_every_parser(url):
    vetted = vet_url(url)
    assert vetted.url == url.strip()
    assert parse_url(vetted.url).port in (None, vetted.port)


def test_check_url_judges_the_host_the_client_will_contact():
    with pytest.raises(BadURLError):
        check_url(f"http://127.0.0.1:80\\@{PUBLIC}/", resolver=_never_resolve)
    check_url(f"http://{PUBLIC}/x", resolver=_never_resolve)  # public: fine


# -- fuzzing: whatever passes, every parser reads the same host ----------------------------

_AUTHORITY_ALPHABET = "a1.:@[]%\\/ \t\n#?-_~" + "5Cc" + "\u3000＠。\x00\x7f"


@hypothesis.settings(max_examples=400, deadline=None, derandomize=True, database=None)
@hypothesis.given(
    userinfo=st.text(_AUTHORITY_ALPHABET, max_size=8),
    host=st.sampled_from(["127.0.0.1", PUBLIC, "example.com", "[::1]", "a"]),
    middle=st.text(_AUTHORITY_ALPHABET, max_size=6),
    tail=st.text(_AUTHORITY_ALPHABET, max_size=8),
)
def test_any_url_that_passes_is_read_alike_by_urlsplit_urllib3_and_requests(
    userinfo, host, middle, tail
):
    url = f"http://{userinfo}{middle}{host}{tail}/p"
    for allow_userinfo in (False, True):
        try:
            vetted = vet_url(url, allow_userinfo=allow_userinfo)
        except BadURLError:
            continue
        split = urlsplit(vetted.url)
        parsed = parse_url(vetted.url)
        prepared = PreparedRequest()
        prepared.prepare_url(vetted.url, None)
        again = urlsplit(prepared.url)
        hosts = {
            (split.hostname or "").strip("[]"),
            (parsed.host or "").strip("[]"),
            (again.hostname or "").strip("[]"),
        }
        assert len(hosts) == 1, (url, hosts)
        assert not any(ord(c) < 32 or c == "\x7f" for c in vetted.url)
        assert validate_url(url, allow_userinfo=allow_userinfo) == vetted.url


# -- through the real CLI ------------------------------------------------------------------


def _cli(tmp_path, database_url, **extra_env):
    from click.testing import CliRunner

    from tracker.cli import main

    env = {
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "0",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_EXTRACT_PROCESSES": "0",
        **extra_env,
    }

    def run(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return run


@pytest.mark.parametrize("template", DIFFERENTIAL[::3])
def test_tracker_add_refuses_such_urls_through_the_cli(tmp_path, database_url, proxy, template):
    run = _cli(tmp_path, database_url, TRACKER_PROXY_URL=proxy.url)
    result = run("add", template.format(port=_port_of(proxy)))
    assert result.exit_code != 0
    assert "malformed URL" in result.stderr or "refused" in result.stderr, result.stderr
    assert "\x00" not in result.stderr and "\t@" not in result.stderr
    assert run("list").output.count("127.0.0.1") == 0
    assert proxy.targets == []


def test_a_story_stored_before_vetting_is_refused_when_checked(tmp_path, database_url, proxy):
    """Rows written by an older version (or by hand) meet the same vetting at fetch time."""
    from sqlalchemy import update

    from tracker.config import Settings
    from tracker.store.db import Database
    from tracker.store.models import Story

    run = _cli(tmp_path, database_url, TRACKER_PROXY_URL=proxy.url)
    assert run("add", f"http://{PUBLIC}/story").exit_code == 0
    bad = f"http://127.0.0.1:{_port_of(proxy)}\\@{PUBLIC}/story"
    database = Database(Settings(home=tmp_path / "home", database_url=database_url))
    try:
        with database.session() as session:
            session.execute(update(Story).values(url=bad))
    finally:
        database.dispose()
    result = run("check", "--all")
    assert "malformed URL" in result.output + result.stderr, result.output + result.stderr
    assert not [t for t in proxy.targets if "127.0.0.1" in t.split("@")[0]], proxy.targets
