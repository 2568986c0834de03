"""Webhook events of trials (offered, extended, submitted, declined, cancelled, fee status changes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Trial
from app.settings import Settings


async def trial_event(
    session: AsyncSession, settings: Settings, *, trial: Trial, name: str, data: dict[str, Any] | None = None
) -> None:
    """Queue the webhook deliveries of trial event `name` ("trial.submitted", ...) in this transaction."""
