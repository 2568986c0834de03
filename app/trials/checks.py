"""The checks run when a trial piece arrives: words against the limits, lateness, links, similar texts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Trial, TrialPiece
from app.settings import Settings


async def run_checks(
    session: AsyncSession, settings: Settings, *, trial: Trial, piece: TrialPiece, now: datetime
) -> None:
    """Fill `piece.checks` (and index the piece's text for later comparisons), in the caller's transaction."""
    piece.checks = {}
