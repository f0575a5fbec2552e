"""The one guarded HTTP client: every request CrisisDesk makes to a URL someone typed goes through it.

A feed URL, a Mastodon instance, a webhook: a manager types them, and any of them may point back
inside our own network (``http://127.0.0.1:8123/admin/``, a database on ``10.0.0.5``, the cloud
metadata service on ``169.254.169.254``). ``client()`` refuses those, on the address the connection
really goes to:

- **Checked at connect time, on the resolved address.** Each TCP connection is opened by
  ``_GuardedBackend``: it resolves the host itself (``resolve_host``), refuses if *any* answer is
  disallowed (``refusal``), then connects to the vetted address. It never resolves again, so a DNS
  answer that changes between the check and the connect (DNS rebinding) cannot move the connection.
  TLS (SNI, certificate check) and the ``Host`` header still use the name: httpcore keys the
  connection by its origin and hands only the socket's address to the backend.
- **Redirects too.** httpx follows redirects (at most ``MAX_REDIRECTS``) through the same transport,
  so every hop opens its connection through the same check: a redirect to 127.0.0.1 is refused like
  a direct request. Clients made with ``follow_redirects=False`` (notifications) never follow one.
- **Bounded.** A body larger than ``max_bytes`` (after decompression) raises ``ResponseTooLarge``;
  an exchange running past ``deadline`` seconds raises ``httpx.ReadTimeout`` (httpx's own timeouts
  bound each read, not the total, so a server dripping one byte at a time is cut off here).
- **Allowed networks.** ``settings.OUTBOUND_ALLOWED_NETWORKS`` (CIDRs) lifts the refusal for
  addresses inside them: tests and laptop drills serve from 127.0.0.1. Cloud metadata endpoints stay
  refused even then.

Refusals raise ``OutboundRefused`` (an ``OutboundError``; not an ``httpx.HTTPError``, so generic
"network trouble, retry later" handlers cannot swallow it): callers turn it into a permanent error.
``url_refusal`` is the same rule for config time (forms and services), on today's DNS answer.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_DEADLINE = 120.0
MAX_REDIRECTS = 5

# Refused even inside an allowed network: these hand out cloud credentials.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean …
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
# Shared address space (RFC 6598): carrier-grade NAT and some clouds' internal networks. Python 3.11
# counts it neither private nor global.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
# NAT64 (RFC 6052): a gateway turns these into the IPv4 address in their last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundError(Exception):
    """A request the guard stopped. Permanent: the same request would be stopped again."""


class OutboundRefused(OutboundError):
    """The destination is not a public address (``reason`` says what it is)."""

    def __init__(self, *, host: str, address: IPAddress | str, reason: str) -> None:
        self.host, self.address, self.reason = host, str(address), reason
        where = self.address if host == self.address else f"{host} → {self.address}"
        super().__init__(f"refused: the address is {reason} ({where})")


class ResponseTooLarge(OutboundError):
    """The answer is larger than the client's ``max_bytes``."""


# --- The rule ------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``settings.OUTBOUND_ALLOWED_NETWORKS`` parsed (read on each call, so tests may change it)."""
    return _networks(tuple(getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", ())))


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one really reaches (IPv4-mapped ``::ffff:a.b.c.d``, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def refusal(address: IPAddress) -> str | None:
    """Why a connection to ``address`` is refused (e.g. ``"private"``), or None when it may go ahead."""
    target = _embedded_ipv4(address)
    if target in METADATA_ADDRESSES or address in METADATA_ADDRESSES:
        return "a cloud metadata endpoint"
    if any(target in network for network in allowed_networks()):
        return None
    if target.is_unspecified:
        return "unspecified"
    if target.is_loopback:
        return "loopback"
    if target.is_link_local:
        return "link-local"
    if target.is_multicast:
        return "multicast"
    if isinstance(target, ipaddress.IPv4Address) and target in _SHARED:
        return "shared (carrier-grade NAT)"
    if target.is_private:
        return "private"
    if target.is_reserved:
        return "reserved"
    if not target.is_global:
        return "not public"
    return None


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order. The guard's only DNS lookup.

    ``socket.gaierror`` (an ``OSError``) when the name does not resolve.
    """
    addresses: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        # A scoped IPv6 answer ("fe80::1%eth0") is link-local whatever its scope.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def vet(host: str, port: int) -> list[IPAddress]:
    """The addresses to connect to for ``host``; ``OutboundRefused`` when any of them is disallowed.

    A name answering one public and one private address is refused: which one a client would pick
    is not ours to guess.
    """
    literal = _literal(host)
    addresses = [literal] if literal is not None else resolve_host(host, port)
    for address in addresses:
        reason = refusal(address)
        if reason is not None:
            raise OutboundRefused(host=host, address=address, reason=reason)
    return addresses


def url_refusal(url: str) -> str | None:
    """Why ``url`` would be refused, judged now (config time), or None.

    A literal address is judged as it is; a name by what it resolves to today. A name that does not
    resolve now is not refused here: the connect-time check decides when it is fetched.
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None  # not a URL: the field's own validation says so
    if not host:
        return None
    try:
        vet(host, port or (443 if parts.scheme == "https" else 80))
    except OutboundRefused as refused:
        text = str(refused)
        return f"{text[0].upper()}{text[1:]}; CrisisDesk connects only to public addresses."
    except OSError:
        return None
    return None


# --- The transport -------------------------------------------------------------------------------


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's socket layer with the check in front: vet, then connect to a vetted address."""

    def __init__(self) -> None:
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = vet(host, port)
        except OSError as exc:  # the name does not resolve: network trouble, like httpx's own
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
        last: Exception = httpcore.ConnectError(f"{host} resolved to no address")
        for address in addresses:  # every one vetted: try them in the resolver's order
            try:
                return self._sockets.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise OutboundRefused(host=path, address=path, reason="a local socket")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class _BoundedResponse(httpx.Response):
    """A response whose decoded body may not grow past ``max_bytes`` (a gzip bomb stops here too)."""

    max_bytes: int = DEFAULT_MAX_BYTES

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        received = 0
        for chunk in super().iter_bytes(chunk_size):
            received += len(chunk)
            if received > self.max_bytes:
                raise ResponseTooLarge(f"the answer is larger than {self.max_bytes // 1024} KiB")
            yield chunk


class _DeadlineStream(httpx.SyncByteStream):
    """The raw body, cut off once the exchange has run past its deadline."""

    def __init__(self, stream: Any, *, deadline: float) -> None:
        self._stream, self._deadline = stream, deadline

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if time.monotonic() > self._deadline:
                raise httpx.ReadTimeout("the answer took too long to arrive")
            yield chunk

    def close(self) -> None:
        self._stream.close()


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with every TCP connection made by ``_GuardedBackend`` and bounded answers."""

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES, deadline: float = DEFAULT_DEADLINE) -> None:
        # httpx has no public hook for the network backend: build the connection pool it would
        # build, with ours (tests/security/test_outbound.py proves each connection goes through it).
        # Not calling super().__init__: it would only build a second pool that nobody uses.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,  # httpx's default limits
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(),
        )
        self.max_bytes, self.deadline = max_bytes, deadline

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.deadline
        response = super().handle_request(request)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            response.close()
            raise ResponseTooLarge(f"the answer is larger than {self.max_bytes // 1024} KiB")
        bounded = _BoundedResponse(
            status_code=response.status_code,
            headers=response.headers,
            stream=_DeadlineStream(response.stream, deadline=deadline),
            extensions=response.extensions,
        )
        bounded.max_bytes = self.max_bytes
        return bounded


def client(
    *,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
    follow_redirects: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float = DEFAULT_DEADLINE,
) -> httpx.Client:
    """An httpx client for URLs from configuration or strangers. Use it as a context manager.

    Environment proxies are not used (the transport connects itself, so a proxy would defeat the
    check); ``max_bytes`` bounds each decoded body, ``deadline`` each exchange, in seconds.
    """
    return httpx.Client(
        headers=dict(headers or {}),
        timeout=timeout or DEFAULT_TIMEOUT,
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,
        transport=GuardedTransport(max_bytes=max_bytes, deadline=deadline),
    )
