"""Webhook events of trials (offered, extended, submitted, declined, cancelled, fee status changes).

Each event is queued as one delivery per active webhook told of it, in the transaction of the change, with
ids, states and links only (never a name, an address or the piece's text): `{"id", "type", "data"}` where
`data` holds the trial's and application's ids, the trial's API address, its state, when, and the event's own
data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import links
from app.core.outbound import TRIAL_EVENTS, queue_event
from app.models import Trial
from app.settings import Settings

OFFERED, EXTENDED, SUBMITTED, DECLINED, CANCELLED, MORE_TIME_REQUESTED, FEE_STATUS_CHANGED = TRIAL_EVENTS


async def trial_event(
    session: AsyncSession,
    settings: Settings,
    *,
    trial: Trial,
    name: str,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Queue the webhook deliveries of trial event `name` ("trial.submitted", ...) in this transaction."""
    if name not in TRIAL_EVENTS:
        raise ValueError(f"unknown trial event {name!r}")
    assert trial.id is not None
    at = now or datetime.now(UTC)
    payload = {
        "trial_id": trial.id,
        "application_id": trial.application_id,
        "application_url": links.absolute(settings, "api_application", application_id=trial.application_id),
        "trials_url": links.absolute(settings, "api_trials", application_id=trial.application_id),
        "state": trial.state,
        "at": at.isoformat(),
        **(data or {}),
    }
    await queue_event(session, name=name, data=payload, at=at)
