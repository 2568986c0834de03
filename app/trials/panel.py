"""The trial panel on the editors' application page: the brief, the piece and what each part adds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.staff import StaffUser
from app.models import Application, Trial, TrialPiece
from app.settings import Settings
from app.trials import fact_check, fees, scores


async def editor_panel(
    session: AsyncSession, settings: Settings, application: Application, staff: StaffUser
) -> dict[str, Any] | None:
    """What `templates/trials/_panel.html` shows for the application's latest trial; None without one."""
    trial = (
        await session.scalars(
            select(Trial)
            .where(col(Trial.application_id) == application.id)
            .order_by(col(Trial.id).desc())
            .limit(1)
        )
    ).first()
    if trial is None:
        return None
    piece = (await session.scalars(select(TrialPiece).where(col(TrialPiece.trial_id) == trial.id))).first()
    context: dict[str, Any] = {"trial": trial, "piece": piece}
    context.update(await fact_check.panel(session, trial, piece, staff))
    context.update(await scores.panel(session, trial, staff))
    context.update(await fees.panel(session, trial, staff))
    return context
