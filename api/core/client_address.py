"""Who is calling: the client's address, believing X-Forwarded-For only from trusted proxies.

The address keys the chat's per-client rate limit and the login limits. Behind
a TLS proxy every request comes from the proxy, so the proxy's own address
would make all patients one client; but a header any client can send must
not choose the address either. So X-Forwarded-For is read only when the
direct peer is one of TRUSTED_PROXIES (default none), and from the right:
the first hop that is not a trusted proxy is the client (the hops to its
left were written by the client and prove nothing).

uvicorn runs with --no-proxy-headers (scripts/start.sh, docker/api.Dockerfile),
so `request.client` is always the direct peer and this is the one place
that reads the header.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR = "x-forwarded-for"
# A hop that is not an address is still a key, but a short one.
MAX_HOP_CHARS = 64


@lru_cache(maxsize=8)
def trusted_networks(raw: str) -> tuple[Network, ...]:
    """ "10.0.0.0/8, 127.0.0.1" -> networks; raises ValueError on an entry that is neither."""
    networks = []
    for item in raw.split(","):
        item = item.strip()
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(connection: HTTPConnection, trusted_proxies: str) -> str:
    """The client's address as far as this server can know it."""
    peer = connection.client.host if connection.client else "unknown"
    networks = trusted_networks(trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [
        hop.strip()
        for value in connection.headers.getlist(FORWARDED_FOR)
        for hop in value.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop[:MAX_HOP_CHARS]
    # Only proxies in the chain (or no header): the leftmost one is as close as we get.
    return hops[0][:MAX_HOP_CHARS] if hops else peer
