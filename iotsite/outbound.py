"""Which addresses the server may open connections to on a user's behalf.

Webhooks (alerts/webhooks.py) and the Home Assistant bridge (protocols/bridge) both
connect from inside the operator's network to a host a user typed in. Unchecked, that
host could be 127.0.0.1:6379, a LAN address or the cloud metadata service (SSRF). The
rule, shared by both: public addresses only, plus the networks the operator opens;
link-local and metadata addresses never, whatever is opened.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused even inside the networks an operator opens: link-local (169.254.169.254 is
# the metadata service of most clouds) and the metadata addresses outside that range.
ALWAYS_REFUSED = [
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud
    ipaddress.ip_network("0.0.0.0/8"),  # "this host": 0.0.0.0 reaches the server's own ports
    ipaddress.ip_network("::/128"),
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Refusal:
    address: IPAddress  # as judged: the IPv4 address inside a mapped or NAT64 one
    reserved: bool  # never allowed, whatever the operator opens


def embedded_ipv4(address: IPAddress) -> IPAddress:
    # ::ffff:127.0.0.1 and 64:ff9b::7f00:1 reach 127.0.0.1: judge the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_refusal(address: IPAddress, *, allowed_cidrs: Iterable[str]) -> Refusal | None:
    """Why the server may not connect to this address, or None when it may."""
    address = embedded_ipv4(address)
    if address.is_link_local or address.is_multicast or any(address in network for network in ALWAYS_REFUSED):
        return Refusal(address, reserved=True)
    allowed = [ipaddress.ip_network(cidr, strict=False) for cidr in allowed_cidrs]
    if any(address.version == network.version and address in network for network in allowed):
        return None
    if address.is_global:
        return None
    return Refusal(address, reserved=False)
