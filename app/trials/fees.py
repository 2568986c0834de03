"""The fee of a trial piece accepted for payment: agreed, invoiced, approved, paid; who and when for each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.staff import StaffUser
from app.models import Trial


async def panel(session: AsyncSession, trial: Trial, staff: StaffUser) -> dict[str, Any]:
    return {}
