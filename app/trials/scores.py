"""The trial rubric: accuracy of facts, analysis, concision, interest, meeting the brief (1-5 each)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.staff import StaffUser
from app.models import Trial


async def panel(session: AsyncSession, trial: Trial, staff: StaffUser) -> dict[str, Any]:
    return {}
