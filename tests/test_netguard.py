"""The private-network guard: which URLs and addresses the tracker may contact."""

from __future__ import annotations

import ipaddress

import pytest
import requests
from servers import LocalServer

from tracker.net.netguard import (
    ALLOW_SETTING,
    BadURLError,
    GuardedHTTPAdapter,
    HostLookupError,
    PrivateNetworkError,
    check_host,
    check_url,
    is_public_address,
    non_public_reason,
    validate_url,
)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoint
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("100.127.255.254", "shared (carrier-grade NAT)"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "private"),  # documentation range
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 wrapping 10.0.0.1
    ],
)
def test_non_public_addresses_are_named(address, reason):
    assert non_public_reason(ipaddress.ip_address(address)) == reason
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address):
    assert non_public_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://example.com/file", "'ftp'"),
        ("file:///etc/passwd", "'file'"),
        ("javascript:alert(1)", "'javascript'"),
        ("example.com/story", "no scheme"),
        ("http:///story", "no host"),
        ("http://exa mple.com/", "not a valid host name"),
        ("http://example.com:99999/", "malformed"),
        ("http://" + "a" * 64 + ".com/", "not a valid host name"),
    ],
)
def test_validate_url_rejects_what_cannot_be_fetched(url, fragment):
    with pytest.raises(BadURLError, match=fragment):
        validate_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/news/story-1?id=2#top",
        "HTTP://Example.COM:8080/",
        "http://[2606:4700::1111]/",
        "https://bücher.example/",
        "  https://example.com/padded  ",
    ],
)
def test_validate_url_accepts_http_and_https(url):
    assert validate_url(url) == url.strip()


def test_literal_private_ip_is_refused_with_the_setting_named():
    with pytest.raises(PrivateNetworkError) as refused:
        check_url("http://10.0.0.5/admin")
    assert str(refused.value) == (
        f"refused: 10.0.0.5 is a private address; set {ALLOW_SETTING} to allow"
    )
    assert ALLOW_SETTING == "TRACKER_ALLOW_PRIVATE_NETWORKS=1"


def test_host_name_is_judged_by_what_it_resolves_to():
    with pytest.raises(PrivateNetworkError, match=r"localhost resolves to .*loopback address"):
        check_url("http://localhost:8080/")


def test_one_private_record_among_public_ones_is_enough_to_refuse():
    def resolver(host, port):
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.1.2.3")]

    with pytest.raises(PrivateNetworkError, match=r"10\.1\.2\.3"):
        check_url("https://news.example/", resolver=resolver)


def test_public_resolution_passes():
    def resolver(host, port):
        assert (host, port) == ("news.example", 443)
        return [ipaddress.ip_address("93.184.216.34")]

    check_url("https://news.example/story", resolver=resolver)


def test_allowing_private_networks_skips_the_check():
    check_url("http://127.0.0.1:8000/", allow_private=True)
    check_url("http://10.0.0.5/", allow_private=True)


def test_bad_url_is_reported_before_any_lookup():
    with pytest.raises(BadURLError):
        check_url("gopher://10.0.0.5/", allow_private=True)


def test_unresolvable_host_raises_host_lookup_error():
    with pytest.raises(HostLookupError, match=r"DNS lookup failed for no-such-host\.invalid"):
        check_url("http://no-such-host.invalid/")


def test_check_host_uses_the_given_policy():
    def only_loopback(address):
        return address.is_loopback

    assert check_host("127.0.0.1", 80, only_loopback) == [ipaddress.ip_address("127.0.0.1")]
    with pytest.raises(PrivateNetworkError):
        check_host("8.8.8.8", 80, only_loopback)


def test_guarded_adapter_refuses_at_connect_time():
    # The adapter is the second line of defence (against DNS rebinding between check and
    # connect): used on its own, it must still refuse loopback and never reach the server.
    with LocalServer() as server:
        server.set("/", "<html><body>secret</body></html>")
        session = requests.Session()
        session.mount("http://", GuardedHTTPAdapter(is_public_address))
        with pytest.raises(PrivateNetworkError, match=r"127\.0\.0\.1"):
            session.get(server.url("/"), timeout=2)
        assert server.count() == 0

        allowing = requests.Session()
        allowing.mount("http://", GuardedHTTPAdapter(lambda address: address.is_loopback))
        assert allowing.get(server.url("/"), timeout=2).text == "<html><body>secret</body></html>"


def test_a_proxy_manager_is_guarded_before_another_thread_can_use_it(monkeypatch):
    """Many fetches start at once through a new proxy: one creating its pool manager must not
    let another use it before the guarded pool classes are in (a pool made then, with the
    stock classes, would serve every later fetch without the deadline's socket hook)."""
    import threading

    from requests.adapters import HTTPAdapter

    adapter = GuardedHTTPAdapter(on_socket=lambda sock: None)
    create = HTTPAdapter.proxy_manager_for
    pools = []

    def another_fetch_arrives_meanwhile(self, proxy, **kwargs):
        manager = create(self, proxy, **kwargs)
        if not pools:
            pools.append(None)
            other = threading.Thread(
                target=lambda: pools.append(
                    adapter.proxy_manager_for(proxy).connection_from_url("http://example.com/")
                )
            )
            other.start()
            other.join(0.5)  # it either finished meanwhile or waits for this call to end
            pools.append(other)
        return manager

    monkeypatch.setattr(HTTPAdapter, "proxy_manager_for", another_fetch_arrives_meanwhile)
    adapter.proxy_manager_for("http://127.0.0.1:3128")
    pools.pop().join(10)
    [_, pool] = pools
    assert getattr(pool.ConnectionCls, "on_socket", None) is not None  # a guarded pool
