"""Where the bridge may connect: the same rule as webhooks (iotsite/outbound.py).

Any owner can enter a broker, and `mqtt_bridge` connects from inside the operator's
network: unchecked, a broker at 127.0.0.1:6379, a LAN address or the cloud metadata
service would make the server open connections there for them. So a broker must be
a public address, or in a network the operator opens with BRIDGE_ALLOWED_NETWORKS
(the LAN where Home Assistant runs). Link-local and metadata addresses are refused
even then. The check runs when a broker is saved (when its name resolves) and again
each time the bridge connects; a plain connection then goes to the checked address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

from alerts.webhooks import resolve
from iotsite import outbound
from iotsite.outbound import IPAddress


class BrokerRefused(Exception):
    """The broker's host is, or resolves to, an address the bridge may not reach."""


def address_refusal(address: IPAddress) -> str | None:
    refusal = outbound.address_refusal(address, allowed_cidrs=settings.BRIDGE_ALLOWED_NETWORKS)
    if refusal is None:
        return None
    if refusal.reserved:
        return f"{refusal.address} is a link-local, metadata or reserved address"
    return f"{refusal.address} is not a public address (the operator can open its network with BRIDGE_ALLOWED_NETWORKS)"


def broker_addresses(host: str, port: int) -> list[str]:
    """The checked addresses of a broker; BrokerRefused, or OSError when the name does not resolve."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        addresses = [ipaddress.ip_address(raw.split("%", 1)[0]) for raw in resolve(host, port)]
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            # Every address must pass: one public and one private would reach the private on a retry.
            raise BrokerRefused(reason)
    return [str(address) for address in addresses]


def broker_host_refusal(host: str, port: int) -> str | None:
    """Why a broker may not be saved with this host, or None. A name that does not
    resolve now is accepted (the broker may not be up yet); every connection checks again."""
    try:
        broker_addresses(host, port)
    except BrokerRefused as refused:
        return str(refused)
    except (OSError, UnicodeError, ValueError):
        return None
    return None
