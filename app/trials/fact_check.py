"""The fact check of a trial piece: the task made when the piece arrives, and its state on the panel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.staff import StaffUser
from app.models import Trial, TrialPiece
from app.settings import Settings


async def create_piece_task(
    session: AsyncSession, settings: Settings, *, trial: Trial, piece: TrialPiece, now: datetime
) -> None:
    """Create the fact-check task on the piece for `trial.fact_checker_id` (or for the desk to take)."""


async def panel(
    session: AsyncSession, trial: Trial, piece: TrialPiece | None, staff: StaffUser
) -> dict[str, Any]:
    return {}
