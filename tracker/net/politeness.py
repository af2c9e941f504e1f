"""Politeness: obey robots.txt, and pace requests per host.

robots.txt outcomes follow RFC 9309, with two documented choices:

* 2xx: the rules apply (parsed by Protego; the longest matching user-agent group wins).
* 4xx ("unavailable"; 401/403 included, as the RFC says) and too many redirects: no rules,
  everything is allowed.
* 5xx, 429 and network failures ("unreachable"): the RFC says to assume complete disallow, and we
  do - a server that cannot serve robots.txt is usually struggling, and hammering its story
  pages would not help. But (1) if an earlier copy was fetched successfully we keep obeying that
  copy instead, and (2) the failure is cached only for `retry_ttl` (5 minutes by default), not
  the full TTL, so a short outage costs one skipped check rather than an hour of them.
* robots.txt refused by the private-network guard (or a bad URL): allowed here, because the page
  fetch that follows will be refused for the same reason and should report that reason.

Requests for robots.txt themselves go through a `PageFetcher` (`get_text`), so they obey the
same guards.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from tracker.net.fetcher import FetchResult, Outcome, PageFetcher

Clock = Callable[[], float]


@dataclass(frozen=True)
class RobotsDecision:
    allowed: bool
    reason: str  # one line for the check record: why allowed or not


@dataclass(frozen=True)
class _RobotsEntry:
    rules: Protego | None  # None: no rules apply
    disallow_all: bool  # robots.txt unreachable and no earlier copy
    note: str  # what we learned, for RobotsDecision.reason
    expires_at: float
    fetched: bool  # rules came from a successful fetch (worth keeping through outages)


class RobotsCache:
    """robots.txt per origin (scheme, host, port), cached for `ttl` seconds. Thread-safe: one
    fetch per origin even when many threads ask at once."""

    def __init__(
        self,
        fetcher: PageFetcher,
        user_agent: str,
        ttl: float = 3600,
        clock: Clock = time.monotonic,
        *,
        retry_ttl: float = 300,
        max_entries: int = 10_000,
    ) -> None:
        self._fetcher = fetcher
        self.product_token = product_token(user_agent)
        self._ttl = ttl
        self._retry_ttl = min(retry_ttl, ttl)
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _RobotsEntry] = OrderedDict()
        self._fetch_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        return self.decide(url).allowed

    def decide(self, url: str) -> RobotsDecision:
        robots = robots_url(url)
        if robots is None:
            return RobotsDecision(True, "not an http(s) URL; robots.txt does not apply")
        entry = self._entry(robots)
        if entry.disallow_all:
            return RobotsDecision(False, entry.note)
        if entry.rules is None:
            return RobotsDecision(True, entry.note)
        if entry.rules.can_fetch(url, self.product_token):
            return RobotsDecision(True, f"allowed by {robots}")
        return RobotsDecision(False, f"disallowed by {robots}")

    def crawl_delay(self, url: str) -> float | None:
        """The Crawl-delay robots.txt asks of us, in seconds, if any."""
        robots = robots_url(url)
        if robots is None:
            return None
        rules = self._entry(robots).rules
        return rules.crawl_delay(self.product_token) if rules is not None else None

    def _entry(self, robots: str) -> _RobotsEntry:
        with self._lock:
            entry = self._entries.get(robots)
            if entry is not None and entry.expires_at > self._clock():
                return entry
            fetch_lock = self._fetch_locks.setdefault(robots, threading.Lock())
        with fetch_lock:
            with self._lock:
                entry = self._entries.get(robots)
                if entry is not None and entry.expires_at > self._clock():
                    return entry  # another thread fetched it while we waited
            fresh = self._load(robots, previous=entry)
            with self._lock:
                self._entries[robots] = fresh
                self._entries.move_to_end(robots)
                while len(self._entries) > self._max_entries:
                    self._entries.popitem(last=False)
                self._fetch_locks.pop(robots, None)
            return fresh

    def _load(self, robots: str, previous: _RobotsEntry | None) -> _RobotsEntry:
        result = self._fetcher.get_text(robots)
        now = self._clock()
        if result.outcome is Outcome.OK:
            return _RobotsEntry(
                Protego.parse(result.text or ""),
                False,
                f"rules from {robots}",
                now + self._ttl,
                True,
            )
        if _unavailable(result):
            note = f"no robots.txt at {robots} ({result.error}); all allowed"
            return _RobotsEntry(None, False, note, now + self._ttl, False)
        retry_at = now + self._retry_ttl
        if result.error_kind in ("private_network", "bad_url"):
            note = f"robots.txt not fetched: {result.error}"
            return _RobotsEntry(None, False, note, retry_at, False)
        if previous is not None and previous.fetched:
            return _RobotsEntry(previous.rules, False, previous.note, retry_at, True)
        note = f"robots.txt unreachable ({result.error}); holding off until it answers"
        return _RobotsEntry(None, True, note, retry_at, False)


def _unavailable(result: FetchResult) -> bool:
    if result.error_kind == "redirects":
        return True
    status = result.status or 0
    return result.error_kind == "http_status" and 400 <= status < 500 and status != 429


def robots_url(url: str) -> str | None:
    """The robots.txt governing `url` (same scheme, host and port), or None if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return f"{parts.scheme.lower()}://{netloc}/robots.txt"


def product_token(user_agent: str) -> str:
    """ "tracker" from "tracker/0.1.0 (…)": the name robots.txt groups are matched against."""
    token = user_agent.strip().split("/", 1)[0].split(None, 1)
    return token[0] if token else user_agent


def host_key(url_or_host: str) -> str:
    """The host a URL's requests count against ("www.example.com"), lower-cased, no port."""
    text = url_or_host.strip()
    if "://" in text:
        try:
            return (urlsplit(text).hostname or text).lower()
        except ValueError:
            return text.lower()
    return text.lower()


@dataclass
class _HostState:
    in_flight: int = 0
    next_start: float = float("-inf")


class HostThrottle:
    """Limits how hard we hit each host: at most `per_host` requests at once, starts at least
    `min_delay` seconds apart (or the host's own delay, see `set_delay`), and at most
    `global_limit` requests at once overall. Thread-safe.

    A caller reserves its start time under the lock and sleeps outside it, so the delay is
    measured between request starts and waiting callers queue up in order of arrival.
    """

    def __init__(
        self,
        per_host: int = 2,
        min_delay: float = 1.0,
        global_limit: int = 16,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_host < 1 or global_limit < 1:
            raise ValueError("per_host and global_limit must be at least 1")
        self.per_host = per_host
        self.min_delay = min_delay
        self.global_limit = global_limit
        self._clock = clock
        self._sleep = sleep
        self._condition = threading.Condition()
        self._hosts: dict[str, _HostState] = {}
        self._delays: dict[str, float] = {}
        self._in_flight = 0

    @contextmanager
    def slot(self, url_or_host: str) -> Iterator[None]:
        """Block until a request to this host may start; hold the slot for the block's body."""
        host = host_key(url_or_host)
        wait = self._acquire(host)
        try:
            if wait > 0:
                self._sleep(wait)
            yield
        finally:
            self._release(host)

    def min_delay_for(self, host: str) -> float:
        return self._delays.get(host_key(host), self.min_delay)

    def set_delay(self, host: str, seconds: float | None) -> None:
        """Use `seconds` between starts for this host (e.g. robots.txt Crawl-delay); None
        restores the default. Callers should cap what they take from robots.txt."""
        with self._condition:
            if seconds is None:
                self._delays.pop(host_key(host), None)
            else:
                self._delays[host_key(host)] = seconds

    def in_flight(self, host: str | None = None) -> int:
        with self._condition:
            if host is None:
                return self._in_flight
            state = self._hosts.get(host_key(host))
            return state.in_flight if state else 0

    def _acquire(self, host: str) -> float:
        with self._condition:
            while True:
                state = self._hosts.setdefault(host, _HostState())
                if self._in_flight < self.global_limit and state.in_flight < self.per_host:
                    break
                self._condition.wait()
            state.in_flight += 1
            self._in_flight += 1
            now = self._clock()
            start_at = max(now, state.next_start)
            state.next_start = start_at + self._delays.get(host, self.min_delay)
            return start_at - now

    def _release(self, host: str) -> None:
        with self._condition:
            state = self._hosts[host]
            state.in_flight -= 1
            self._in_flight -= 1
            if len(self._hosts) > 1024:
                self._forget_idle_hosts()
            self._condition.notify_all()

    def _forget_idle_hosts(self) -> None:
        # A host with nothing in flight and no pending delay has no state worth keeping.
        now = self._clock()
        for host in [h for h, s in self._hosts.items() if s.in_flight == 0 and s.next_start <= now]:
            del self._hosts[host]
