"""Where a webhook may post, checked when the channel is saved and again before each send.

Any user can create a webhook channel, and the `sendalerts` worker posts from inside
the operator's network: without a check, a channel pointed at 127.0.0.1:6379, a LAN
address or the cloud metadata service would make the server post there on the user's
behalf (SSRF). So a webhook goes only to global addresses, plus the networks the
operator opens with WEBHOOK_ALLOWED_NETWORKS (Home Assistant or Node-RED on the LAN).
Link-local addresses, where cloud metadata services answer, are refused even then.

The name is resolved once, every address it resolves to is checked, and the request
then goes to a checked address (the URL's host stays in the Host header and the TLS
server name), so a DNS answer that changes between check and connect cannot redirect
it. Redirects are never followed: a 3xx could point anywhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpx
from django.conf import settings

from iotsite import outbound
from iotsite.outbound import IPAddress


class WebhookRefused(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


def resolve(host: str, port: int) -> list[str]:
    """The addresses a name resolves to; tests replace this function to fake DNS."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_refusal(address: IPAddress) -> str | None:
    """Why a webhook may not go to this address, or None when it may."""
    refusal = outbound.address_refusal(address, allowed_cidrs=settings.WEBHOOK_ALLOWED_NETWORKS)
    if refusal is None:
        return None
    if refusal.reserved:
        return f"{refusal.address} is a link-local, metadata or reserved address; webhooks never go there"
    return f"{refusal.address} is not a public address (an operator can open it with WEBHOOK_ALLOWED_NETWORKS)"


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _checked(addresses: Iterable[IPAddress]) -> list[IPAddress]:
    checked = list(addresses)
    for address in checked:
        reason = address_refusal(address)
        if reason:
            # Every address must pass: a name resolving to one public and one private
            # address would otherwise reach the private one on a retry.
            raise WebhookRefused(reason)
    return checked


def webhook_addresses(url: str) -> list[IPAddress]:
    """The checked addresses to post to; WebhookRefused, or OSError when the name does not resolve."""
    parsed = httpx.URL(url)
    literal = _literal_address(parsed.host)
    if literal is not None:
        return _checked([literal])
    addresses = [ipaddress.ip_address(raw.split("%", 1)[0]) for raw in resolve(parsed.host, parsed.port or 443)]
    if not addresses:
        raise OSError(f"{parsed.host} resolves to no address")
    return _checked(addresses)


def webhook_url_refusal(url: str) -> str | None:
    """Why a channel may not be saved with this URL, or None.

    A name that does not resolve now is accepted: DNS may be down for a moment, or the
    receiver not set up yet; every send checks again."""
    try:
        webhook_addresses(url)
    except WebhookRefused as refused:
        return str(refused)
    except (OSError, UnicodeError, ValueError):
        return None
    return None


def webhook_post(url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> httpx.Response:
    """POST to the first checked address that accepts a connection; the body is not read.

    Raises WebhookRefused, OSError (name resolution) or httpx.HTTPError."""
    parsed = httpx.URL(url)
    addresses = webhook_addresses(url)
    extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    # trust_env=False: no HTTP_PROXY, which would resolve the name again on its own.
    with httpx.Client(trust_env=False, follow_redirects=False, timeout=timeout) as client:
        for position, address in enumerate(addresses):
            request = client.build_request(
                "POST",
                parsed.copy_with(host=str(address)),
                content=content,
                headers={**headers, "Host": parsed.netloc.decode("ascii")},
                extensions=extensions,
            )
            try:
                response = client.send(request, stream=True)
            except httpx.ConnectError:
                if position == len(addresses) - 1:
                    raise
                continue
            response.close()
            return response
    raise AssertionError("unreachable: webhook_addresses returns at least one address")
