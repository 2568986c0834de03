"""One sender loop for everything Byline sends from a queue (docs/email.md): outbox mail, webhook deliveries.

A `Channel` says how one row leaves (an SMTP message, a signed HTTP POST) and what the answer means; the
`Sender` does the rest, the same way for both. A round looks whether anything is due (a plain read: an idle
queue takes no write lock), claims a batch (claims.py), sends it over the channel's lanes (rows side by side,
each lane with its own connection) and records every outcome in one transaction: sent; queued again after
a backoff (`BYLINE_DELIVERY_RETRY_BASE_SECONDS`, capped at `..._RETRY_MAX_SECONDS`); failed for good; or dead
after `BYLINE_DELIVERY_MAX_ATTEMPTS`. When the far end refuses Byline itself (the channel says `pause`), the
round stops, the rows not sent go back without spending an attempt and the sender waits the channel's pause.
While rows are due, `run` overlaps the database work with the sending: the next batch is claimed while one is
sent, and a batch's outcomes are recorded while the next is sent (one batch claimed ahead at most). A row is
sent only while its claim is younger than half of `BYLINE_DELIVERY_LOCK_SECONDS`; older ones go back unspent.

A sender that dies holding rows leaves them locked for `BYLINE_DELIVERY_LOCK_SECONDS`; then any sender takes
them again (at least once: the row is sent as it was, with the same Message-ID or delivery id). `stop()`
(SIGTERM) lets each lane finish the row in flight, gives the rest of the claim back unspent and returns from
`run`. Senders run in the web process or in any number of `byline worker` processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import site
from app.core.db import Database
from app.core.outbound import claims
from app.core.outbound.claims import Queued
from app.models import utcnow
from app.settings import Settings

ERROR_PAUSE = 2.0

_ADDRESS = re.compile(r"[^\s<>'\"(),;:]+@[^\s<>'\"(),;:]+")


def masked(text: str) -> str:
    """Log lines carry no email addresses (docs/security.md H3); the stored error keeps them for staff."""
    return _ADDRESS.sub("<address>", text)


class Verdict(enum.Enum):
    sent = "sent"
    retry = "retry"  # try again after a backoff; counts an attempt
    failed = "failed"  # refused for good: not again unless staff retry it
    pause = "pause"  # the far end refuses Byline itself: every row waits, no attempt spent


@dataclass(frozen=True)
class Outcome:
    """What happened to one row, and why when it did not go."""

    verdict: Verdict
    reason: str = ""


SENT = Outcome(Verdict.sent)


class Channel(Generic[Queued]):
    """How rows of one table leave Byline; subclasses set the attributes and write `send`."""

    name: str  # "mail", "webhooks": the logger (byline.<name>) and the sender's name
    item: str  # what one row is called in log lines: "message", "delivery"
    model: type[Queued]
    lanes: int = 1  # rows sent side by side, each lane keeping its own connection
    # The site setting where a pause is noted for staff pages (None: this channel never pauses), and how long.
    pause_key: str | None = None
    pause_seconds: float = 0.0

    async def open(self) -> None:
        """Get ready to send (connections are opened on first use and kept)."""

    async def close(self) -> None:
        """Close what `open` and the sends opened."""

    async def prepare(self, session: AsyncSession, rows: list[Queued]) -> None:
        """Read what sending `rows` needs, in the transaction that claimed them."""

    async def send(self, row: Queued, lane: int) -> Outcome:
        """Send one row over lane number `lane`; never raises for a failure of the far end."""
        raise NotImplementedError


@dataclass
class _Batch(Generic[Queued]):
    """Rows claimed together (`claimed_at`: time.monotonic() then), and what became of each."""

    rows: list[Queued]
    claimed_at: float
    sent: list[int] = field(default_factory=list)
    failed: list[claims.Failed] = field(default_factory=list)
    unsent: list[int] = field(default_factory=list)  # given back without spending an attempt
    pause: Outcome | None = None


# Called in the transaction that records a round's outcomes, with the ids of the rows sent or failed in it.
AfterOutcomes = Callable[[AsyncSession, list[int]], Awaitable[None]]


class Sender(Generic[Queued]):
    def __init__(
        self,
        db: Database,
        settings: Settings,
        channel: Channel[Queued],
        *,
        clock: Callable[[], datetime] = utcnow,
        name: str | None = None,
        after_outcomes: Sequence[AfterOutcomes] = (),
    ) -> None:
        self.db = db
        self.settings = settings
        self.channel: Channel[Queued] = channel
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{channel.name}:{secrets.token_hex(3)}"
        self.after_outcomes = tuple(after_outcomes)
        self.log = logging.getLogger(f"byline.{channel.name}")
        self.sent = 0
        self._stopping = asyncio.Event()
        self._paused_until = 0.0
        self._opened = 0

    def stop(self) -> None:
        """Finish the rows in flight, give back the rest, and return from `run`."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(seconds, 0.0))

    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[None]:
        if self._opened == 0:
            await self.channel.open()
        self._opened += 1
        try:
            yield
        finally:
            self._opened -= 1
            if self._opened == 0:
                await self.channel.close()

    async def run(self) -> None:
        """Send until `stop()`: rounds back to back, or a wait of `BYLINE_DELIVERY_POLL_SECONDS` when nothing
        was due."""
        self.log.info("%s sender %s started", self.channel.name, self.name)
        try:
            async with self._open():
                while not self.stopping:
                    paused = self._paused_until - time.monotonic()
                    if paused > 0:
                        await self._sleep(paused)
                        continue
                    try:
                        handled = await self._drain()
                    except Exception:
                        # The database went away (a restart, a killed connection): nothing half-claimed stays,
                        # because a claim and its outcomes are each one transaction; rows claimed and not yet
                        # recorded wait for their lock to run out. Try again shortly.
                        self.log.exception("%s round failed; retrying", self.channel.name)
                        await self._sleep(ERROR_PAUSE)
                        continue
                    if not handled:
                        await self._sleep(self.settings.delivery_poll_seconds)
        finally:
            self.log.info("%s sender %s stopped after sending %d", self.channel.name, self.name, self.sent)

    async def run_once(self) -> int:
        """One round: claim due rows, send them, record the outcomes; returns how many rows it handled."""
        async with self._open():
            batch = await self._claim()
            if batch is None:
                return 0
            await self._lanes(batch)
            await self._record(batch)
            return len(batch.rows)

    async def _claim(self) -> _Batch[Queued] | None:
        """Claim a batch of due rows (None when nothing is due; an idle queue takes no write lock)."""
        model = self.channel.model
        now = self.clock()
        async with self.db.sessionmaker() as session:
            if not await claims.any_due(session, model=model, now=now):
                return None
        async with self.db.write_session() as session:
            rows = await claims.claim(
                session,
                model=model,
                worker=self.name,
                limit=self.settings.delivery_batch_size,
                now=now,
                lock_seconds=self.settings.delivery_lock_seconds,
            )
            if rows:
                await self.channel.prepare(session, rows)
        return _Batch(rows, time.monotonic()) if rows else None

    async def _drain(self) -> int:
        """Rounds back to back while rows are due; returns how many rows were handled.

        The database work overlaps the sending: the next batch is claimed while this one is sent, and a
        batch's outcomes are recorded while the next one is sent. A claim, and a batch's outcomes, are each
        still one transaction, as in `run_once`; at most one batch is claimed ahead, and its rows go back
        unspent when the sender stops, pauses or fails. Outcome transactions run one at a time, in order.
        """
        handled = 0
        batch = await self._claim()
        ahead: asyncio.Task[_Batch[Queued] | None] | None = None
        recording: asyncio.Task[None] | None = None
        try:
            while batch is not None:
                ahead = None if self.stopping else asyncio.create_task(self._claim())
                await self._lanes(batch)
                handled += len(batch.rows)
                if recording is not None:
                    task, recording = recording, None
                    await task
                if batch.pause is not None or self.stopping:
                    if ahead is not None:
                        task_ahead, ahead = ahead, None
                        following = await task_ahead
                        if following is not None:
                            batch.unsent += [row.id for row in following.rows if row.id is not None]
                    await self._record(batch)
                    return handled
                recording = asyncio.create_task(self._record(batch))
                claiming, ahead = ahead, None
                batch = await claiming if claiming is not None else None
        finally:
            if ahead is not None:
                # Something failed while a batch was claimed ahead: its rows go back if the database lets us,
                # and otherwise wait for their lock to run out, as after a crash.
                try:
                    following = await ahead
                    if following is not None:
                        following.unsent = [row.id for row in following.rows if row.id is not None]
                        await self._record(following)
                except Exception:
                    self.log.exception("%s rows claimed ahead could not be given back", self.channel.name)
            if recording is not None:
                await recording
        return handled

    async def _lanes(self, batch: _Batch[Queued]) -> None:
        """Send a claimed batch over the lanes, noting each row's outcome in `batch`.

        A row is sent only while its claim is younger than half of `BYLINE_DELIVERY_LOCK_SECONDS`; the rest go
        back unspent, so that no other sender takes a row this one is still sending.
        """
        pending = list(reversed(batch.rows))
        fresh_until = batch.claimed_at + self.settings.delivery_lock_seconds / 2

        async def lane(number: int) -> None:
            while pending and batch.pause is None and not self.stopping and time.monotonic() < fresh_until:
                row = pending.pop()
                assert row.id is not None
                try:
                    outcome = await self.channel.send(row, number)
                except Exception as exc:  # a fault of Byline's own: the row is tried again later
                    self.log.exception("%s %s could not be sent", self.channel.item, row.id)
                    outcome = Outcome(Verdict.retry, f"{type(exc).__name__}: {exc}")
                if outcome.verdict is Verdict.sent:
                    batch.sent.append(row.id)
                elif outcome.verdict is Verdict.pause:
                    batch.pause = outcome
                    batch.unsent.append(row.id)
                    return
                else:
                    permanent = outcome.verdict is Verdict.failed
                    batch.failed.append(
                        claims.failure(row, permanent=permanent, error=outcome.reason, settings=self.settings)
                    )

        await asyncio.gather(*(lane(number) for number in range(max(self.channel.lanes, 1))))
        batch.unsent += [row.id for row in pending if row.id is not None]

    async def _record(self, batch: _Batch[Queued]) -> None:
        """Record a sent batch's outcomes in one transaction; give its unsent rows back unspent."""
        model = self.channel.model
        now = self.clock()
        pause = batch.pause
        delay = self.channel.pause_seconds if pause else 0.0
        failed = batch.failed
        async with self.db.write_session() as session:
            await claims.mark_sent(session, model=model, ids=batch.sent, worker=self.name, now=now)
            await claims.record_failures(session, model=model, outcomes=failed, worker=self.name, now=now)
            for hook in self.after_outcomes:
                await hook(session, batch.sent + [outcome.id for outcome in failed])
            reason = pause.reason if pause else None
            await claims.release(
                session, model=model, ids=batch.unsent, worker=self.name, now=now, error=reason, delay=delay
            )
        self.sent += len(batch.sent)
        for outcome in failed:
            self.log.warning(
                "%s %s %s: %s", self.channel.item, outcome.id, outcome.status, masked(outcome.error)
            )
        if pause is not None:
            await self._pause(pause, now)

    async def _pause(self, pause: Outcome, now: datetime) -> None:
        seconds = self.channel.pause_seconds
        self._paused_until = time.monotonic() + seconds
        if self.channel.pause_key is not None:
            until = now + timedelta(seconds=seconds)
            async with self.db.write_session() as session:
                await site.set_setting(
                    session,
                    self.channel.pause_key,
                    {"until": until.isoformat(), "reason": pause.reason, "by": self.name},
                    now,
                )
        self.log.error(
            "ALERT: %s is refused (%s); sending paused for %.0f s, no attempts spent",
            self.channel.name,
            masked(pause.reason),
            seconds,
        )
