"""Queueing webhook deliveries: one per active webhook told of the event (a state change, a trial event), in
the transaction of the change itself, so nothing is sent for a change that was rolled back.

The body is fixed here, as JSON text: every attempt sends (and signs) the same bytes, with ids and states
only, never a name or an address. Webhooks are added and signed by app/api (webhooks.py, delivery.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import links
from app.models import EmailStatus, Event, Webhook, WebhookDelivery
from app.settings import Settings

STATE_CHANGED = "application.state_changed"
# The trial's events (app/trials/events.py queues them).
TRIAL_EVENTS = (
    "trial.offered",
    "trial.extended",
    "trial.submitted",
    "trial.declined",
    "trial.cancelled",
    "trial.more_time_requested",
    "trial.fee_status_changed",
)
# Every event a webhook can be told of; each webhook chooses some (none chosen: all of them).
EVENTS = (STATE_CHANGED, *TRIAL_EVENTS)


def state_change_data(settings: Settings, event: Event) -> dict[str, Any]:
    """What a delivery tells of a state change: ids, states, the actor's kind and id, the version, when."""
    return {
        "application_id": event.application_id,
        "application_url": links.absolute(settings, "api_application", application_id=event.application_id),
        "event_id": event.id,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": event.actor,
        "actor_user_id": event.actor_user_id,
        "version": event.data.get("version"),
        "at": event.created_at.isoformat(),
    }


async def queue_state_change(session: AsyncSession, *, settings: Settings, event: Event) -> None:
    """One delivery per active webhook told of state changes, in the caller's transaction."""
    await queue_event(
        session, name=STATE_CHANGED, data=state_change_data(settings, event), at=event.created_at
    )


async def queue_event(session: AsyncSession, *, name: str, data: dict[str, Any], at: datetime) -> int:
    """One delivery of event `name` with `data` per active webhook told of it, in the caller's transaction;
    how many were queued."""
    hooks = (
        await session.execute(select(col(Webhook.id), col(Webhook.events)).where(col(Webhook.is_active)))
    ).all()
    queued = 0
    for hook_id, events in hooks:
        if hook_id is None or (events and name not in events):
            continue
        uid = uuid.uuid4().hex
        body = json.dumps({"id": uid, "type": name, "data": data}, separators=(",", ":"))
        session.add(
            WebhookDelivery(
                webhook_id=hook_id,
                uid=uid,
                event=name,
                body=body,
                status=EmailStatus.queued,
                next_attempt_at=at,
                created_at=at,
            )
        )
        queued += 1
    return queued
