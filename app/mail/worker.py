"""The outbox worker: claims due messages, sends them over persistent SMTP connections, records outcomes.

It runs inside the web process (one machine) or as any number of `byline worker` processes. A round claims a
batch, the connections send it, and one transaction records what happened; a worker that dies mid-round leaves
its rows locked until `mail_lock_seconds` pass, then another worker sends them again with the same Message-ID
(at least once). Once a minute it also queues task reminders and daily digests.
On stop (SIGTERM) it finishes the messages in flight, gives back the rest of its claim and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from app.core import i18n, site
from app.core.db import Database
from app.factcheck.reminders import queue_task_reminders
from app.mail import claims
from app.mail.digest import queue_daily_digests
from app.mail.outbox import PAUSE_KEY
from app.mail.render import RenderError, build
from app.mail.smtp import Connection, Failure, Verdict
from app.models import OutboxEmail, utcnow
from app.privacy.service import forget_confirmation_addresses
from app.settings import Settings

log = logging.getLogger("byline.mail")
SCHEDULE_EVERY = 60.0
ERROR_PAUSE = 2.0


_ADDRESS = re.compile(r"[^\s<>'\"(),;:]+@[^\s<>'\"(),;:]+")


def _masked(text: str) -> str:
    """Log lines carry no email addresses (docs/security.md H3); the stored error keeps them for staff."""
    return _ADDRESS.sub("<address>", text)


class Worker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        # Rows queued without a language (before it was recorded) are written in the site's.
        i18n.configure(settings.default_locale, settings.time_zone)
        self.db = db
        self.settings = settings
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._stopping = asyncio.Event()
        self._paused_until = 0.0
        self._last_schedule = float("-inf")
        self.sent = 0

    def stop(self) -> None:
        """Finish the messages in flight, give back the rest, and return from `run`."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(seconds, 0.0))

    async def run(self) -> None:
        target = self.settings.smtp_target
        if target is None:
            log.warning("no SMTP relay configured (BYLINE_SMTP_HOST): mail stays queued in the outbox")
            return
        host, port, security = target
        connections = [
            Connection(self.settings, host, port, security) for _ in range(self.settings.mail_connections)
        ]
        log.info("mail worker %s sending through %s:%s", self.name, host, port)
        try:
            while not self.stopping:
                try:
                    await self._round(connections)
                except Exception:
                    # The database went away (a restart, a killed connection): nothing half-claimed stays,
                    # because a claim and its outcome are each one transaction. Try again shortly.
                    log.exception("mail worker round failed; retrying")
                    await self._sleep(ERROR_PAUSE)
        finally:
            for connection in connections:
                await connection.close()
            log.info("mail worker %s stopped after sending %d", self.name, self.sent)

    async def _round(self, connections: list[Connection]) -> None:
        if time.monotonic() - self._last_schedule >= SCHEDULE_EVERY:
            await self.run_schedule(self.clock())
            self._last_schedule = time.monotonic()
        paused = self._paused_until - time.monotonic()
        if paused > 0:
            await self._sleep(min(paused, SCHEDULE_EVERY))
            return
        async with self.db.write_session() as session:
            rows = await claims.claim(
                session,
                model=OutboxEmail,
                worker=self.name,
                limit=self.settings.mail_batch_size,
                now=self.clock(),
                lock_seconds=self.settings.mail_lock_seconds,
            )
        if not rows:
            await self._sleep(self.settings.mail_poll_seconds)
            return
        await self.send(rows, connections)

    async def run_schedule(self, now: datetime) -> None:
        """The minute's chores: task reminders and daily digests, each queued once whatever the workers."""
        async with self.db.write_session() as session:
            await queue_task_reminders(session, self.settings, now)
        async with self.db.write_session() as session:
            await queue_daily_digests(session, self.settings, now)

    async def send(self, rows: list[OutboxEmail], connections: list[Connection]) -> None:
        """Send a claimed batch over the connections, then record every outcome in one transaction."""
        pending = list(reversed(rows))
        sent: list[int] = []
        failed: list[claims.Outcome] = []
        pause: Failure | None = None
        held_back: list[int] = []

        async def sender(connection: Connection) -> None:
            nonlocal pause
            while pending and pause is None and not self.stopping:
                row = pending.pop()
                assert row.id is not None
                try:
                    message = build(row, self.settings)
                except RenderError as exc:
                    failed.append(
                        claims.failure_outcome(row, permanent=True, error=str(exc), settings=self.settings)
                    )
                    continue
                try:
                    await connection.send(message)
                except Failure as failure:
                    if failure.verdict is Verdict.pause:
                        pause = failure
                        held_back.append(row.id)
                        return
                    permanent = failure.verdict is Verdict.permanent
                    failed.append(
                        claims.failure_outcome(
                            row, permanent=permanent, error=failure.reason, settings=self.settings
                        )
                    )
                    continue
                sent.append(row.id)

        await asyncio.gather(*(sender(connection) for connection in connections))
        unsent = held_back + [row.id for row in pending if row.id is not None]
        now = self.clock()
        async with self.db.write_session() as session:
            await claims.mark_sent(session, ids=sent, worker=self.name, now=now)
            await claims.record_failures(session, outcomes=failed, worker=self.name, now=now)
            await forget_confirmation_addresses(session, sent + [o.id for o in failed])
            await claims.release(
                session,
                ids=unsent,
                worker=self.name,
                now=now,
                error=pause.reason if pause else None,
                delay=self.settings.mail_pause_seconds if pause else 0,
            )
        self.sent += len(sent)
        for outcome in failed:
            log.warning("message %s %s: %s", outcome.id, outcome.status, _masked(outcome.error))
        if pause is not None:
            self._paused_until = time.monotonic() + self.settings.mail_pause_seconds
            until = now + timedelta(seconds=self.settings.mail_pause_seconds)
            async with self.db.write_session() as session:
                await site.set_setting(
                    session,
                    PAUSE_KEY,
                    {"until": until.isoformat(), "reason": pause.reason, "by": self.name},
                    now,
                )
            log.error(
                "ALERT: the mail relay refuses Byline (%s); queue paused for %.0f s, no attempts spent",
                _masked(pause.reason),
                self.settings.mail_pause_seconds,
            )
