"""The private-network guard: which URLs and addresses the tracker may contact."""

from __future__ import annotations

import base64
import ipaddress

import pytest
from servers import LocalServer

from tracker.net.netguard import (
    ALLOW_SETTING,
    BadURLError,
    HostLookupError,
    PrivateNetworkError,
    allow_any_address,
    check_host,
    check_url,
    guarded_pool_manager,
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


def test_guarded_pools_refuse_at_connect_time():
    # The pools are the second line of defence (against DNS rebinding between check and
    # connect): used on their own, they must still refuse loopback and never reach the server.
    with LocalServer() as server:
        server.set("/", "<html><body>secret</body></html>")
        refusing = guarded_pool_manager(is_public_address)
        with pytest.raises(PrivateNetworkError, match=r"127\.0\.0\.1"):
            refusing.request("GET", server.url("/"), timeout=2, retries=False)
        assert server.count() == 0

        allowing = guarded_pool_manager(lambda address: address.is_loopback)
        answer = allowing.request("GET", server.url("/"), timeout=2, retries=False)
        assert answer.data == b"<html><body>secret</body></html>"


def test_a_proxy_s_pools_go_to_the_proxy_and_still_hand_over_their_sockets():
    """Through a proxy the sockets go to the operator's proxy (no address check there: the
    fetcher vetted the story's host), but the fetcher still gets each one, so that its
    deadline can end a transfer dripped through the proxy; the proxy's credentials go as
    Proxy-Authorization."""
    manager = guarded_pool_manager(
        is_public_address, proxy="http://us%40r:p%3Ass@127.0.0.1:3128", on_socket=print
    )
    pool = manager.connection_from_url("http://example.com/")
    assert pool.ConnectionCls.address_allowed is allow_any_address
    assert pool.ConnectionCls.on_socket is print
    assert manager.proxy_headers == {
        "proxy-authorization": "Basic " + base64.b64encode(b"us@r:p:ss").decode()
    }
