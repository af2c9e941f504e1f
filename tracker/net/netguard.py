"""Private-network guard: keep the tracker from being turned against its own network (SSRF).

Anyone who can add a URL could otherwise make the daemon fetch `http://169.254.169.254/`
(cloud metadata), `http://localhost:6379/` or a router admin page, and then read the response
back through the version history. So, unless TRACKER_ALLOW_PRIVATE_NETWORKS=1, every host the
tracker connects to must resolve only to public addresses.

Two layers:

* `check_url()` / `check_host()` resolve the name and refuse non-public answers. The fetcher
  calls this before every request and every redirect hop (and so does the CLI/web when a URL
  is added), which gives a clear message early, also when a proxy is in use.
* `guarded_pool_manager()` repeats the check inside urllib3 at the moment the socket is opened and
  connects to exactly the address it vetted. That closes the DNS-rebinding gap: a name that
  resolved to a public address during the check and to 127.0.0.1 a millisecond later still
  cannot reach 127.0.0.1. Through an HTTP proxy (the `proxy_url` setting) this second layer
  cannot apply: the socket goes to the proxy, which resolves the name again. The first layer
  still does, so a host must resolve here, to public addresses, before the proxy is asked.

Both layers judge the host the HTTP client will read in the URL: `validate_url()` / `vet()`
(`tracker.net.urls`) refuse any URL that Python's and urllib3's parsers read differently
(a backslash or whitespace in the authority, odd user info, zone ids, numeric host
spellings, control characters), since through a proxy the first layer is all there is.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from urllib3 import PoolManager, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NameResolutionError
from urllib3.util import make_headers, parse_url

from tracker.core.article import MAX_URL_CHARS
from tracker.net.urls import BadURLError as BadURLError  # re-exported: callers catch it here
from tracker.net.urls import VettedURL, escape_controls, vet_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]
Resolver = Callable[[str, int], list[IPAddress]]

ALLOW_SETTING = "TRACKER_ALLOW_PRIVATE_NETWORKS=1"

# RFC 6598 shared address space (carrier-grade NAT): not "private" in Python's eyes, yet not
# reachable from the public internet either.
_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
# RFC 6052 well-known NAT64 prefix: on IPv6-only networks with DNS64 every IPv4 site resolves
# to an address in here, so judge it by the IPv4 address it carries.
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class PrivateNetworkError(ValueError):
    """The URL's host is (or resolves to) an address outside the public internet."""


class HostLookupError(OSError):
    """The host name did not resolve."""


def validate_url(url: str, *, allow_userinfo: bool = False) -> str:
    """Check that `url` is an absolute http(s) URL that every URL parser involved reads the
    same way (see `tracker.net.urls`); return it stripped of surrounding whitespace.

    Canonicalisation (case, tracking parameters, fragments) is not done here: that is a question
    of story identity, not of safety.
    """
    return vet(url, allow_userinfo=allow_userinfo).url


def vet(url: str, *, allow_userinfo: bool = False) -> VettedURL:
    """`url` read as the HTTP client will read it (scheme, host, port), or BadURLError."""
    stripped = url.strip()
    if len(stripped) > MAX_URL_CHARS:
        shown = escape_controls(stripped[:60])
        raise BadURLError(f"URL longer than {MAX_URL_CHARS} characters ({len(stripped)}): {shown}…")
    return vet_url(url, allow_userinfo=allow_userinfo)


def is_valid_proxy_url(url: str) -> bool:
    """Can urllib3 use `url` as an HTTP proxy: http(s), a host, a valid port, and user name
    and password percent-encoded? (urllib3's own complaint would quote the password.)"""
    try:
        parsed = parse_url(url)
    except LocationParseError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host)


def non_public_reason(address: IPAddress) -> str | None:
    """Why `address` is not on the public internet ("loopback", "private", …), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return non_public_reason(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "shared (carrier-grade NAT)"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"
    return None


def is_public_address(address: IPAddress) -> bool:
    """The default address policy: only addresses on the public internet."""
    return non_public_reason(address) is None


def allow_any_address(address: IPAddress) -> bool:
    """The address policy when TRACKER_ALLOW_PRIVATE_NETWORKS=1."""
    return True


def address_policy(allow_private: bool) -> AddressPolicy:
    return allow_any_address if allow_private else is_public_address


def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses `host` resolves to, in resolver order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostLookupError(f"DNS lookup failed for {host}: {_gai_reason(exc)}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_host(
    host: str,
    port: int,
    allowed: AddressPolicy = is_public_address,
    *,
    resolver: Resolver = resolve,
) -> list[IPAddress]:
    """Resolve `host` and refuse it unless every address passes `allowed`; return the addresses.

    Every address must pass, not just one: otherwise a name with one public and one private
    record would reach the private one whenever the resolver happened to list it first.
    """
    if allowed is allow_any_address:
        return []
    if _is_ip_literal(host):
        addresses: list[IPAddress] = [ipaddress.ip_address(host.strip("[]"))]
    else:
        addresses = resolver(host, port)
    for address in addresses:
        if not allowed(address):
            raise PrivateNetworkError(refusal_message(host, address))
    return addresses


def check_url(url: str, allow_private: bool = False, *, resolver: Resolver = resolve) -> None:
    """Raise BadURLError, HostLookupError or PrivateNetworkError unless `url` may be fetched."""
    vetted = vet(url)
    if allow_private:
        return
    check_host(vetted.host, vetted.port, is_public_address, resolver=resolver)


def refusal_message(host: str, address: IPAddress) -> str:
    reason = non_public_reason(address) or "disallowed"
    article = "an" if reason[0] in "aeiou" else "a"
    if _is_ip_literal(host):
        subject = f"{address} is {article} {reason} address"
    else:
        subject = f"{host} resolves to {address}, {article} {reason} address"
    return f"refused: {subject}; set {ALLOW_SETTING} to allow"


def guarded_pool_manager(
    allowed: AddressPolicy = is_public_address,
    *,
    proxy: str | None = None,
    on_socket: Callable[[socket.socket], None] | None = None,
    on_release: Callable[[socket.socket], None] | None = None,
    **pool_kwargs: Any,
) -> PoolManager:
    """A urllib3 pool manager whose connections resolve, vet and connect to the vetted
    address only (`pool_kwargs` as for `urllib3.PoolManager`).

    `on_socket`, if given, is called in the requesting thread with the socket each request is
    about to use (fresh or reused, TLS-wrapped where applicable): the fetcher keeps it so that
    it can shut the socket down when a fetch overruns its deadline. `on_release`, if given,
    is called with a connection's socket just before the connection goes back to the pool
    (urllib3 does that as soon as a body is read to its end), while no other request can
    have it yet: from then on that socket is not the releasing fetch's to shut down.

    Through `proxy` (``http://[user:password@]host:port``, as the `proxy_url` setting; its
    user and password are sent as Proxy-Authorization) the sockets go to the operator's
    proxy, not to the story's host: no address check there (the fetcher vetted the host),
    but `on_socket` still gets each socket, so that a deadline can end a transfer dripped
    through the proxy.
    """
    manager: PoolManager
    if proxy is None:
        manager = PoolManager(**pool_kwargs)
    else:
        manager = ProxyManager(proxy, proxy_headers=_proxy_authorization(proxy), **pool_kwargs)
        allowed = allow_any_address
    # Set before the manager is handed out: no pool can be made with the stock classes.
    manager.pool_classes_by_scheme = {
        "http": _pool_class(HTTPConnectionPool, HTTPConnection, allowed, on_socket, on_release),
        "https": _pool_class(HTTPSConnectionPool, HTTPSConnection, allowed, on_socket, on_release),
    }
    return manager


def _proxy_authorization(proxy: str) -> dict[str, str] | None:
    """The Proxy-Authorization header for the user and password in the `proxy` URL, if any
    (percent-decoded, as they are written in a URL)."""
    auth = parse_url(proxy).auth
    if not auth:
        return None
    user, _, password = auth.partition(":")
    if not user:
        return None
    return make_headers(proxy_basic_auth=f"{unquote(user)}:{unquote(password)}")


def _pool_class(
    pool_base: type[HTTPConnectionPool],
    connection_base: type,
    allowed: AddressPolicy,
    on_socket: Callable[[socket.socket], None] | None,
    on_release: Callable[[socket.socket], None] | None,
) -> type:
    connection_class = type(
        f"Guarded{connection_base.__name__}",
        (_GuardedConnectionMixin, connection_base),
        {
            "address_allowed": staticmethod(allowed),
            "on_socket": staticmethod(on_socket) if on_socket else None,
        },
    )

    def _get_conn(pool: Any, timeout: float | None = None) -> Any:
        connection: Any = pool_base._get_conn(pool, timeout)
        if on_socket is not None and connection.sock is not None:
            on_socket(connection.sock)  # a kept-alive connection being reused
        return connection

    def _put_conn(pool: Any, connection: Any) -> None:
        if on_release is not None and connection is not None and connection.sock is not None:
            on_release(connection.sock)  # before anyone else can take it from the pool
        pool_base._put_conn(pool, connection)

    return type(
        f"Guarded{pool_base.__name__}",
        (pool_base,),
        {"ConnectionCls": connection_class, "_get_conn": _get_conn, "_put_conn": _put_conn},
    )


class _GuardedConnectionMixin:
    """Overrides urllib3's `_new_conn` to connect to vetted addresses only.

    urllib3 connects to `self._dns_host`; we point it at one vetted address at a time (trying
    each in resolver order, as urllib3 itself would) and restore the name afterwards so TLS
    still uses the host name for SNI and certificate checks.
    """

    address_allowed: AddressPolicy = staticmethod(is_public_address)
    on_socket: Callable[[socket.socket], None] | None = None
    _dns_host: str
    host: str
    port: int
    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        if self.on_socket is not None and self.sock is not None:
            self.on_socket(self.sock)

    def _new_conn(self) -> socket.socket:
        if self.address_allowed is allow_any_address:
            return super()._new_conn()  # type: ignore[misc]
        hostname = self._dns_host
        try:
            infos = socket.getaddrinfo(hostname, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        candidates: list[str] = []
        for info in infos:
            raw = str(info[4][0])
            address = ipaddress.ip_address(raw.split("%", 1)[0])
            if not self.address_allowed(address):
                raise PrivateNetworkError(refusal_message(self.host, address))
            if raw not in candidates:
                candidates.append(raw)
        last_error: Exception | None = None
        for raw in candidates:
            self._dns_host = raw
            try:
                return super()._new_conn()  # type: ignore[misc]
            except ConnectTimeoutError as exc:  # also NewConnectionError: try the next address
                last_error = exc
            finally:
                self._dns_host = hostname
        assert last_error is not None
        raise last_error


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _gai_reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror) and len(exc.args) > 1:
        return str(exc.args[1])
    return str(exc)
