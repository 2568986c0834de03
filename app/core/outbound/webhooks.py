"""Queueing webhook deliveries: one per active webhook for each state change, in the transaction of the move
itself, so nothing is sent for a move that was rolled back.

The body is fixed here, as JSON text: every attempt sends (and signs) the same bytes, with ids and states
only, never a name or an address. Webhooks are added and signed by app/api (webhooks.py, delivery.py).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import links
from app.models import EmailStatus, Event, Webhook, WebhookDelivery
from app.settings import Settings

STATE_CHANGED = "application.state_changed"


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
    """One delivery per active webhook for a state change, in the caller's transaction."""
    hook_ids: list[int] = list(
        (await session.scalars(select(col(Webhook.id)).where(col(Webhook.is_active)))).all()  # type: ignore[arg-type]
    )
    if not hook_ids:
        return
    data = state_change_data(settings, event)
    for hook_id in hook_ids:
        uid = uuid.uuid4().hex
        body = json.dumps({"id": uid, "type": STATE_CHANGED, "data": data}, separators=(",", ":"))
        session.add(
            WebhookDelivery(
                webhook_id=hook_id,
                uid=uid,
                event=STATE_CHANGED,
                body=body,
                status=EmailStatus.queued,
                next_attempt_at=event.created_at,
                created_at=event.created_at,
            )
        )
