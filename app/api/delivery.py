"""Sending one webhook delivery over HTTP: the webhook channel of the outbound sender (app/core/outbound).

The sender claims, retries and gives up on deliveries exactly as it does mail. Here one delivery is POSTed
with its signature: a 2xx answer is success; 5xx, 408, 425, 429, timeouts and connection trouble are tried
again; any other answer fails at once (no redirects are followed). A delivery whose webhook was turned off
fails, to be retried from /admin/webhooks, and so does one whose host resolves to an address webhooks may
not reach (app/api/destinations.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.api import destinations
from app.api.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from app.core.outbound import SENT, Channel, Outcome, Verdict
from app.models import Webhook, WebhookDelivery, utcnow
from app.settings import Settings

RETRIED_STATUSES = frozenset({408, 425, 429})


class Failed(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class WebhookChannel(Channel[WebhookDelivery]):
    name = "webhooks"
    item = "delivery"
    model = WebhookDelivery

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.clock = clock
        self.lanes = settings.webhook_connections
        self.hooks: dict[int, Webhook] = {}
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=self.settings.webhook_timeout_seconds,
            follow_redirects=False,
            # No connection is kept for reuse: each delivery connects to the address it checked for its own
            # host, and a connection made for one host name must not carry another's request.
            limits=httpx.Limits(max_connections=self.lanes, max_keepalive_connections=0),
            headers={"User-Agent": "Byline-Webhooks/1"},
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def prepare(self, session: AsyncSession, rows: list[WebhookDelivery]) -> None:
        """The webhooks of the claimed deliveries: their addresses and secrets, as they are now."""
        wanted = {row.webhook_id for row in rows}
        found = await session.scalars(select(Webhook).where(col(Webhook.id).in_(wanted)))
        self.hooks = {hook.id: hook for hook in found.all() if hook.id is not None}

    async def send(self, row: WebhookDelivery, lane: int) -> Outcome:
        assert self._client is not None, "open() first"
        try:
            await self._post(self._client, row, self.hooks.get(row.webhook_id))
        except Failed as failure:
            return Outcome(Verdict.failed if failure.permanent else Verdict.retry, failure.reason)
        return SENT

    async def _post(self, client: httpx.AsyncClient, row: WebhookDelivery, hook: Webhook | None) -> None:
        if hook is None or not hook.is_active:
            raise Failed("The webhook is turned off.", permanent=True)
        body = row.body.encode()
        timestamp = str(int(self.clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: row.event,
            DELIVERY_HEADER: row.uid,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
        }
        response = await self._post_pinned(client, hook.url, body, headers)
        if 200 <= response.status_code < 300:
            return
        reason = f"HTTP {response.status_code}: {response.text[:200]}"
        retried = response.status_code >= 500 or response.status_code in RETRIED_STATUSES
        raise Failed(reason, permanent=not retried)

    async def _post_pinned(
        self, client: httpx.AsyncClient, address: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """POST to an address its host resolved to and that passed the check, keeping the host's name.

        The name is resolved once, here: the connection goes to a checked address, while the Host header, TLS
        SNI and the certificate check still use the name, so nothing can resolve it differently in between.
        """
        try:
            url = httpx.URL(address)
            host = url.raw_host.decode("ascii")
        except (httpx.InvalidURL, UnicodeDecodeError) as exc:
            raise Failed(f"Invalid address: {exc}", permanent=True) from exc
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await destinations.pick(self.settings, host, port)
        except destinations.Refused as exc:
            raise Failed(f"Refused: {exc}", permanent=True) from exc
        except OSError as exc:
            raise Failed(f"Could not look up {host}: {exc}", permanent=False) from exc
        pinned_headers = {**headers, "Host": url.netloc.decode("ascii")}
        extensions = {"sni_hostname": host} if url.scheme == "https" else {}
        for index, ip in enumerate(addresses):
            try:
                return await client.post(
                    url.copy_with(host=str(ip)), content=body, headers=pinned_headers, extensions=extensions
                )
            except httpx.ConnectError as exc:
                if index + 1 < len(addresses):
                    continue  # the next checked address of the same name
                raise Failed(f"{type(exc).__name__}: {exc}", permanent=False) from exc
            except httpx.InvalidURL as exc:
                raise Failed(f"Invalid address: {exc}", permanent=True) from exc
            except httpx.HTTPError as exc:
                raise Failed(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        raise Failed(f"{host} has no address", permanent=False)
