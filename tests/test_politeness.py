"""Politeness: robots.txt is obeyed and cached; requests to one host are limited and spaced."""

from __future__ import annotations

import threading
import time

import pytest
from servers import LocalServer, gated

from tracker.net.fetcher import FetchOptions, Outcome
from tracker.net.http import HttpFetcher
from tracker.net.politeness import HostThrottle, RobotsCache, host_key, product_token, robots_url

UA = "tracker/0.1.0 (live-story update tracker)"


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def server():
    with LocalServer() as local:
        yield local


@pytest.fixture
def fetcher():
    options = FetchOptions(
        allow_private_networks=True, connect_timeout=1.0, read_timeout=1.0, deadline=3.0
    )
    with HttpFetcher(options) as f:
        yield f


def set_robots(server, text, status=200):
    server.set("/robots.txt", text, status, content_type="text/plain")


# -- robots.txt -----------------------------------------------------------------------------------


def test_disallowed_paths_are_refused_and_others_allowed(server, fetcher):
    set_robots(server, "User-agent: *\nDisallow: /private\n")
    robots = RobotsCache(fetcher, UA)

    assert robots.allowed(server.url("/news/story-1"))
    assert not robots.allowed(server.url("/private/story-2"))
    decision = robots.decide(server.url("/private/story-2"))
    assert decision.reason == f"disallowed by {server.url('/robots.txt')}"


def test_a_group_for_our_product_token_wins_over_the_wildcard(server, fetcher):
    set_robots(server, "User-agent: *\nAllow: /\n\nUser-agent: tracker\nDisallow: /\n")

    assert not RobotsCache(fetcher, UA).allowed(server.url("/story"))
    assert RobotsCache(fetcher, "otherbot/2.0").allowed(server.url("/story"))


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_missing_robots_txt_allows_everything(server, fetcher, status):
    set_robots(server, "User-agent: *\nDisallow: /\n", status)  # body of an error page: ignored
    decision = RobotsCache(fetcher, UA).decide(server.url("/story"))
    assert decision.allowed
    assert f"HTTP {status}" in decision.reason


@pytest.mark.parametrize("status", [500, 503, 429])
def test_unreachable_robots_txt_holds_off_until_it_answers(server, fetcher, status):
    clock = FakeClock()
    robots = RobotsCache(fetcher, UA, ttl=3600, clock=clock, retry_ttl=300)
    set_robots(server, "oops", status)

    decision = robots.decide(server.url("/story"))
    assert not decision.allowed
    assert decision.reason.startswith("robots.txt unreachable (HTTP ")

    set_robots(server, "User-agent: *\nAllow: /\n")
    assert not robots.allowed(server.url("/story"))  # the failure is cached for a while…
    clock.sleep(301)
    assert robots.allowed(server.url("/story"))  # …but only for retry_ttl, not the full TTL
    assert server.count("/robots.txt") == 2


def test_an_outage_keeps_the_last_good_rules(server, fetcher):
    clock = FakeClock()
    robots = RobotsCache(fetcher, UA, ttl=3600, clock=clock)
    set_robots(server, "User-agent: *\nDisallow: /private\n")
    assert robots.allowed(server.url("/story"))

    clock.sleep(3601)
    set_robots(server, "down", 503)

    assert robots.allowed(server.url("/story"))
    assert not robots.allowed(server.url("/private/x"))
    assert server.count("/robots.txt") == 2


def test_robots_txt_is_cached_for_the_ttl(server, fetcher):
    clock = FakeClock()
    robots = RobotsCache(fetcher, UA, ttl=3600, clock=clock)
    set_robots(server, "User-agent: *\nAllow: /\n")

    assert robots.allowed(server.url("/a"))
    assert robots.allowed(server.url("/b"))
    assert server.count("/robots.txt") == 1

    set_robots(server, "User-agent: *\nDisallow: /\n")  # the site changes its mind
    clock.sleep(3599)
    assert robots.allowed(server.url("/a"))  # still the cached copy
    clock.sleep(2)
    assert not robots.allowed(server.url("/a"))
    assert server.count("/robots.txt") == 2


def test_each_origin_has_its_own_robots_txt(fetcher):
    with LocalServer() as one, LocalServer() as two:
        set_robots(one, "User-agent: *\nDisallow: /\n")
        set_robots(two, "User-agent: *\nAllow: /\n")
        robots = RobotsCache(fetcher, UA)

        assert not robots.allowed(one.url("/story"))
        assert robots.allowed(two.url("/story"))
        assert (one.count("/robots.txt"), two.count("/robots.txt")) == (1, 1)


def test_concurrent_askers_share_one_fetch(server, fetcher):
    gate = threading.Event()
    server.set_handler(
        "/robots.txt",
        gated(gate, then=lambda ex: ex.send(200, {"Content-Type": "text/plain"}, "")),
    )
    robots = RobotsCache(fetcher, UA)
    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(robots.allowed(server.url("/s"))))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    wait_until(lambda: server.in_flight == 1)
    time.sleep(0.1)  # give any duplicate fetch the chance to show up
    gate.set()
    for thread in threads:
        thread.join()

    assert answers == [True] * 6
    assert server.count("/robots.txt") == 1


def test_crawl_delay_is_reported(server, fetcher):
    set_robots(server, "User-agent: *\nCrawl-delay: 7\n")
    robots = RobotsCache(fetcher, UA)
    assert robots.crawl_delay(server.url("/story")) == 7.0


def test_no_crawl_delay(server, fetcher):
    set_robots(server, "User-agent: *\nDisallow: /private\n")
    assert RobotsCache(fetcher, UA).crawl_delay(server.url("/story")) is None


def test_robots_txt_goes_through_the_private_network_guard(server):
    set_robots(server, "User-agent: *\nDisallow: /\n")
    with HttpFetcher(FetchOptions(allow_private_networks=False)) as guarded:
        decision = RobotsCache(guarded, UA).decide(server.url("/story"))
        page = guarded.fetch(server.url("/story"))

    assert server.count() == 0
    # Allowed here so that the page fetch reports the real reason: the private address.
    assert decision.allowed
    assert "TRACKER_ALLOW_PRIVATE_NETWORKS=1" in decision.reason
    assert (page.outcome, page.error_kind) == (Outcome.ERROR, "private_network")


def test_robots_url_and_tokens():
    assert robots_url("https://WWW.Example.com/a/b?c#d") == "https://www.example.com/robots.txt"
    assert robots_url("http://example.com:8080/x") == "http://example.com:8080/robots.txt"
    assert robots_url("http://user:pw@[::1]:81/") == "http://[::1]:81/robots.txt"
    assert robots_url("ftp://example.com/") is None
    assert product_token(UA) == "tracker"
    assert host_key("https://News.Example.com:8443/story") == "news.example.com"
    assert host_key("News.Example.com") == "news.example.com"


# -- per-host throttle ----------------------------------------------------------------------------


def test_starts_to_one_host_are_spaced_by_the_minimum_delay():
    clock = FakeClock()
    throttle = HostThrottle(min_delay=1.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(3):
        with throttle.slot("https://news.example/a"):
            starts.append(clock())
    assert starts == [0.0, 1.0, 2.0]


def test_delay_is_measured_between_starts_not_from_the_end():
    clock = FakeClock()
    throttle = HostThrottle(min_delay=1.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(3):
        with throttle.slot("news.example"):
            starts.append(clock())
            clock.sleep(0.4)  # the request itself takes a while
    assert starts == [0.0, 1.0, 2.0]


def test_a_slow_request_needs_no_extra_wait():
    clock = FakeClock()
    throttle = HostThrottle(min_delay=1.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(2):
        with throttle.slot("news.example"):
            starts.append(clock())
            clock.sleep(5.0)
    assert starts == [0.0, 5.0]


def test_different_hosts_do_not_delay_each_other():
    clock = FakeClock()
    throttle = HostThrottle(min_delay=1.0, clock=clock, sleep=clock.sleep)
    starts = []
    for host in ("a.example", "b.example", "https://c.example/x"):
        with throttle.slot(host):
            starts.append(clock())
    assert starts == [0.0, 0.0, 0.0]


def test_a_host_delay_can_be_set_for_crawl_delay():
    clock = FakeClock()
    throttle = HostThrottle(min_delay=1.0, clock=clock, sleep=clock.sleep)
    throttle.set_delay("https://slow.example/robots.txt", 5.0)
    assert throttle.min_delay_for("slow.example") == 5.0
    starts = []
    for _ in range(2):
        with throttle.slot("slow.example"):
            starts.append(clock())
    throttle.set_delay("slow.example", None)
    with throttle.slot("slow.example"):
        starts.append(clock())
    assert starts == [0.0, 5.0, 10.0]  # the 5 s reservation made before the reset still holds
    assert throttle.min_delay_for("slow.example") == 1.0


def test_slot_is_released_when_the_body_raises():
    throttle = HostThrottle(per_host=1, min_delay=0)
    with pytest.raises(RuntimeError), throttle.slot("news.example"):
        raise RuntimeError("fetch blew up")
    assert throttle.in_flight("news.example") == 0
    with throttle.slot("news.example"):
        assert throttle.in_flight() == 1


def run_gated_requests(server, throttle, hosts, gate, expected_in_flight):
    """Fetch /page once per entry of `hosts` (throttle keys) in parallel threads; hold the
    server until `expected_in_flight` requests are inside it, then release them all."""
    server.set_handler("/page", gated(gate))
    fetcher = HttpFetcher(FetchOptions(allow_private_networks=True, read_timeout=10, deadline=20))
    results = []

    def fetch(host):
        with throttle.slot(host):
            results.append(fetcher.fetch(server.url("/page")))

    threads = [threading.Thread(target=fetch, args=(host,)) for host in hosts]
    for thread in threads:
        thread.start()
    wait_until(lambda: server.in_flight == expected_in_flight)
    time.sleep(0.2)  # give a throttle bug the chance to let one more through
    peak_while_held = server.in_flight
    gate.set()
    for thread in threads:
        thread.join()
    fetcher.close()
    return peak_while_held, results


@pytest.mark.parametrize("per_host", [1, 2, 3])
def test_per_host_concurrency_is_never_exceeded(server, per_host):
    throttle = HostThrottle(per_host=per_host, min_delay=0)
    peak, results = run_gated_requests(
        server, throttle, ["news.example"] * 5, threading.Event(), per_host
    )
    assert peak == per_host
    assert server.max_in_flight == per_host
    assert [r.outcome for r in results] == [Outcome.OK] * 5


def test_global_limit_caps_requests_across_hosts(server):
    throttle = HostThrottle(per_host=2, min_delay=0, global_limit=3)
    hosts = ["a.example", "a.example", "b.example", "b.example", "c.example", "c.example"]
    peak, results = run_gated_requests(server, throttle, hosts, threading.Event(), 3)
    assert peak == 3
    assert server.max_in_flight == 3
    assert len(results) == 6


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)
