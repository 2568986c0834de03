"""Deadline reminders to the applicant, 48 hours and 6 hours before a trial's deadline, each sent once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.settings import Settings


async def queue_trial_reminders(session: AsyncSession, settings: Settings, now: datetime) -> int:
    return 0
