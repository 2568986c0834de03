"""Sending webhook deliveries: claimed, retried and given up on with the outbox's code (app/mail/claims.py).

A round claims due deliveries, POSTs each body with its signature, and records every outcome in one
transaction. A 2xx answer is success; 5xx, 408, 425, 429, timeouts and connection trouble are retried with the
outbox's backoff until `mail_max_attempts` (then dead); any other answer fails at once (no redirects are
followed). A delivery whose webhook was turned off fails, to be retried from /admin/webhooks, and so does one
whose host resolves to an address webhooks may not reach (app/api/destinations.py). Like the mail
worker it runs in the web process or in `byline worker`, and a worker that dies leaves its claim to others
once `mail_lock_seconds` pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlmodel import col

from app.api import destinations
from app.api.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from app.core.db import Database
from app.mail import claims
from app.models import EmailStatus, Webhook, WebhookDelivery, utcnow
from app.settings import Settings

log = logging.getLogger("byline.webhooks")
RETRIED_STATUSES = frozenset({408, 425, 429})
ERROR_PAUSE = 2.0


class Failed(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class WebhookSender:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:hooks:{secrets.token_hex(3)}"
        self._stopping = asyncio.Event()
        self.sent = 0

    def stop(self) -> None:
        """Finish the deliveries in flight and return from `run`."""
        self._stopping.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(seconds, 0.0))

    async def run(self) -> None:
        async with self._client() as client:
            while not self._stopping.is_set():
                try:
                    handled = await self.run_once(client)
                except Exception:
                    log.exception("webhook round failed; retrying")
                    await self._sleep(ERROR_PAUSE)
                    continue
                if not handled:
                    await self._sleep(self.settings.mail_poll_seconds)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.settings.webhook_timeout_seconds,
            follow_redirects=False,
            # No connection is kept for reuse: each delivery connects to the address it checked for its own
            # host, and a connection made for one host name must not carry another's request.
            limits=httpx.Limits(max_connections=self.settings.mail_connections, max_keepalive_connections=0),
            headers={"User-Agent": "Byline-Webhooks/1"},
        )

    async def run_once(self, client: httpx.AsyncClient | None = None) -> int:
        """Claim one batch of due deliveries, send them and record the outcomes; returns how many."""
        # A read first: with nothing waiting (no webhooks, most of the time) no write lock is taken.
        async with self.db.sessionmaker() as session:
            waiting = await session.scalar(
                select(col(WebhookDelivery.id))
                .where(col(WebhookDelivery.status).in_([EmailStatus.queued, EmailStatus.sending]))
                .limit(1)
            )
        if waiting is None:
            return 0
        async with self.db.write_session() as session:
            rows = await claims.claim(
                session,
                model=WebhookDelivery,
                worker=self.name,
                limit=self.settings.mail_batch_size,
                now=self.clock(),
                lock_seconds=self.settings.mail_lock_seconds,
            )
            hooks = {
                hook.id: hook
                for hook in (
                    await session.scalars(
                        select(Webhook).where(col(Webhook.id).in_({row.webhook_id for row in rows}))
                    )
                ).all()
            }
        if not rows:
            return 0
        if client is None:
            async with self._client() as own:
                return await self._send(rows, hooks, own)
        return await self._send(rows, hooks, client)

    async def _send(
        self, rows: list[WebhookDelivery], hooks: dict[int | None, Webhook], client: httpx.AsyncClient
    ) -> int:
        sent: list[int] = []
        failed: list[claims.Outcome] = []

        async def deliver(row: WebhookDelivery) -> None:
            assert row.id is not None
            try:
                await self._post(client, row, hooks.get(row.webhook_id))
            except Failed as failure:
                failed.append(
                    claims.failure_outcome(
                        row, permanent=failure.permanent, error=failure.reason, settings=self.settings
                    )
                )
                return
            sent.append(row.id)

        await asyncio.gather(*(deliver(row) for row in rows))
        now = self.clock()
        async with self.db.write_session() as session:
            await claims.mark_sent(session, ids=sent, worker=self.name, now=now, model=WebhookDelivery)
            await claims.record_failures(
                session, outcomes=failed, worker=self.name, now=now, model=WebhookDelivery
            )
        self.sent += len(sent)
        for outcome in failed:
            log.warning("webhook delivery %s %s: %s", outcome.id, outcome.status, outcome.error)
        return len(rows)

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
