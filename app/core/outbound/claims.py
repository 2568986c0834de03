"""The queued rows a sender takes and gives back (docs/email.md): claims, outcomes, release.

The same code serves outbox email and webhook deliveries (`model`): both tables are `QueuedRow`s, with the
status, attempt and lock columns it works on.

A claim marks due rows `sending` with the worker's name and a lock time in one statement: on PostgreSQL the
rows are picked with `FOR UPDATE SKIP LOCKED`, so workers never wait for or take each other's rows; on SQLite
the statement runs in a `BEGIN IMMEDIATE` transaction, which admits one writer at a time. Each outcome is
written only while the row is still this worker's claim.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import unless_taken
from app.models import EmailStatus, OutboxEmail, WebhookDelivery
from app.settings import Settings

MAX_ERROR = 2000

# A table of queued work: outbox email or webhook deliveries.
Queued = TypeVar("Queued", OutboxEmail, WebhookDelivery)
Table = type[OutboxEmail] | type[WebhookDelivery]


def due(model: Table, now: datetime) -> ColumnElement[bool]:
    """Rows to send now: queued and past their next attempt, or `sending` under a lock that has run out."""
    return or_(
        and_(col(model.status) == EmailStatus.queued, col(model.next_attempt_at) <= now),
        and_(col(model.status) == EmailStatus.sending, col(model.locked_until) < now),
    )


async def any_due(session: AsyncSession, *, model: Table, now: datetime) -> bool:
    """Whether a claim would find anything: a plain read, so an idle queue takes no write lock."""
    found = await session.scalar(
        select(col(model.id))
        .where(col(model.status).in_([EmailStatus.queued, EmailStatus.sending]), due(model, now))
        .limit(1)
    )
    return found is not None


async def claim(
    session: AsyncSession, *, model: type[Queued], worker: str, limit: int, now: datetime, lock_seconds: int
) -> list[Queued]:
    """Take up to `limit` due messages (rows of `model`) for `worker`; each claim counts one attempt.

    Due: queued and past their next attempt, or still `sending` under a lock that has run out (the worker
    holding it died; the message may have gone out already, so it goes again with the same Message-ID).
    """
    picked = (
        select(col(model.id))
        .where(col(model.status).in_([EmailStatus.queued, EmailStatus.sending]), due(model, now))
        .order_by(col(model.next_attempt_at), col(model.id))
        .limit(limit)
    )
    result = await session.scalars(
        update(model)
        .where(col(model.id).in_(unless_taken(picked, session).scalar_subquery()))
        .values(
            status=EmailStatus.sending,
            locked_by=worker,
            locked_until=now + timedelta(seconds=lock_seconds),
            attempts=col(model.attempts) + 1,
        )
        .returning(model)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.all(), key=lambda row: (row.next_attempt_at, row.id or 0))


def _mine(model: Table, ids: list[int], worker: str) -> list[object]:
    return [
        col(model.id).in_(ids),
        col(model.locked_by) == worker,
        col(model.status) == EmailStatus.sending,
    ]


async def mark_sent(
    session: AsyncSession, *, model: Table, ids: list[int], worker: str, now: datetime
) -> None:
    if ids:
        await session.execute(
            update(model)
            .where(and_(*_mine(model, ids, worker)))  # type: ignore[arg-type]
            .values(status=EmailStatus.sent, sent_at=now, locked_by=None, locked_until=None, last_error=None)
            .execution_options(synchronize_session=False)
        )


def backoff(settings: Settings, attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: a random wait up to base * 2^(attempts-1), capped."""
    ceiling = min(
        settings.delivery_retry_max_seconds, settings.delivery_retry_base_seconds * 2 ** max(attempts - 1, 0)
    )
    return (rng or random).uniform(0, ceiling)


@dataclass(frozen=True)
class Failed:
    """What to record for a row that did not go: failed for good, dead, or queued again after `retry_in`."""

    id: int
    attempts: int
    status: EmailStatus
    error: str
    retry_in: float = 0.0


def failure(row: OutboxEmail | WebhookDelivery, *, permanent: bool, error: str, settings: Settings) -> Failed:
    """Failed for good, dead after the last attempt, or queued again after a backoff."""
    assert row.id is not None
    if permanent:
        return Failed(row.id, row.attempts, EmailStatus.failed, error)
    if row.attempts >= settings.delivery_max_attempts:
        return Failed(row.id, row.attempts, EmailStatus.dead, error)
    return Failed(row.id, row.attempts, EmailStatus.queued, error, backoff(settings, row.attempts))


async def record_failures(
    session: AsyncSession, *, model: Table, outcomes: list[Failed], worker: str, now: datetime
) -> None:
    for outcome in outcomes:
        values: dict[str, object] = {
            "status": outcome.status,
            "last_error": outcome.error[:MAX_ERROR],
            "locked_by": None,
            "locked_until": None,
        }
        if outcome.status == EmailStatus.queued:
            values["next_attempt_at"] = now + timedelta(seconds=outcome.retry_in)
        await session.execute(
            update(model)
            .where(and_(*_mine(model, [outcome.id], worker)))  # type: ignore[arg-type]
            .values(**values)
            .execution_options(synchronize_session=False)
        )


async def release(
    session: AsyncSession,
    *,
    model: Table,
    ids: list[int],
    worker: str,
    now: datetime,
    error: str | None = None,
    delay: float = 0,
) -> None:
    """Give claimed, unsent rows back without spending their attempt (shutdown, a paused queue)."""
    if ids:
        values: dict[str, object] = {
            "status": EmailStatus.queued,
            "locked_by": None,
            "locked_until": None,
            "attempts": col(model.attempts) - 1,
            "next_attempt_at": now + timedelta(seconds=delay),
        }
        if error is not None:
            values["last_error"] = error[:MAX_ERROR]
        await session.execute(
            update(model)
            .where(and_(*_mine(model, ids, worker)))  # type: ignore[arg-type]
            .values(**values)
            .execution_options(synchronize_session=False)
        )
