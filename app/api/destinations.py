"""Where webhooks may connect: in production only to public addresses, unless the host is allowed by name.

A delivery resolves its host once, checks every address the name resolves to, and connects to a checked
address itself (`pick`), so a name cannot resolve to a public address for the check and to an internal one
for the connection. `BYLINE_WEBHOOK_ALLOWED_HOSTS` names receivers inside the network that are meant.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from ipaddress import IPv4Address, IPv6Address

from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.settings import Settings

IPAddress = IPv4Address | IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """A host whose address webhooks may not reach."""


def _kind(address: IPAddress) -> str | None:
    """What makes an address internal ("loopback", "private", ...), or None for a public one."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"
    return None


def internal_kind(address: IPAddress) -> str | None:
    """Like `_kind`, also for IPv4 addresses carried inside IPv6 ones (mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, IPv6Address):
        carried: list[IPv4Address] = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
        if address.teredo:
            carried.extend(address.teredo)
        if address in NAT64:
            carried.append(IPv4Address(int(address) & 0xFFFFFFFF))
        for inner in carried:
            if kind := _kind(inner):
                return kind
    return _kind(address)


def guarded(settings: Settings, host: str) -> bool:
    """Whether connections to `host` must go to public addresses only (production, host not allowed)."""
    allowed = {name.lower().rstrip(".") for name in settings.webhook_allowed_hosts}
    return not settings.is_dev and host.lower().rstrip(".") not in allowed


# Each kind of internal address in words, for the refusal.
KIND_NAMES = {
    "unspecified": N_("an unspecified address"),
    "loopback": N_("a loopback address"),
    "link-local": N_("a link-local address"),
    "multicast": N_("a multicast address"),
    "reserved": N_("a reserved address"),
    "private": N_("a private address"),
    "non-public": N_("a non-public address"),
}


def refusal(host: str, address: IPAddress, kind: str) -> str:
    """The explanation an admin reads for a refused host."""
    named = _(KIND_NAMES.get(kind, KIND_NAMES["non-public"]))
    if literal(host) == address:
        return _(
            "%(host)s is %(kind)s: webhooks only reach public addresses. To reach a receiver inside your "
            "network on purpose, list its host name in BYLINE_WEBHOOK_ALLOWED_HOSTS.",
            host=host,
            kind=named,
        )
    return _(
        "%(host)s resolves to %(address)s, which is %(kind)s: webhooks only reach public addresses. To reach "
        "a receiver inside your network on purpose, list its host name in BYLINE_WEBHOOK_ALLOWED_HOSTS.",
        host=host,
        address=str(address),
        kind=named,
    )


def literal(host: str) -> IPAddress | None:
    """The address when `host` is an IP literal (IPv6 with or without brackets)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve(host: str, port: int, *, seconds: float) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, once each; OSError when it does not."""
    if (address := literal(host)) is not None:
        return [address]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), seconds
        )
    except TimeoutError as exc:
        raise OSError(f"looking up {host} took longer than {seconds:g} s") from exc
    except UnicodeError as exc:  # a label too long or empty for IDNA
        raise OSError(f"{host} is not a valid host name") from exc
    found: list[IPAddress] = []
    for *_info, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise OSError(f"{host} has no address")
    return found


def check(settings: Settings, host: str, addresses: list[IPAddress]) -> None:
    """Raise Refused if any address is internal and the host must reach public addresses only."""
    if not guarded(settings, host):
        return
    for address in addresses:
        if kind := internal_kind(address):
            raise Refused(refusal(host, address, kind))


async def pick(settings: Settings, host: str, port: int) -> list[IPAddress]:
    """The checked addresses to connect to for `host`, resolved once; Refused or OSError otherwise."""
    addresses = await resolve(host, port, seconds=settings.webhook_timeout_seconds)
    check(settings, host, addresses)
    return addresses


async def problem_when_saving(settings: Settings, host: str, port: int) -> str | None:
    """Why a webhook on `host` cannot be saved, or None; a name that does not resolve now is checked later."""
    if not guarded(settings, host):
        return None
    try:
        addresses = await resolve(host, port, seconds=min(settings.webhook_timeout_seconds, 5.0))
    except OSError:
        return None
    try:
        check(settings, host, addresses)
    except Refused as exc:
        return str(exc)
    return None
