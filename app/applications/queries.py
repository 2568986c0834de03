"""Read-side queries for the public pages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import NotFound
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.models import Applicant, Application, Event, WorkSample

NOT_FOUND = N_("There is no application at this address. Check the link in your confirmation email.")


async def application_by_public_id(session: AsyncSession, public_id: str) -> tuple[Application, Applicant]:
    """The application behind a status link, or NotFound (never a hint that it exists)."""
    if not public_id or len(public_id) > 64:
        raise NotFound(_(NOT_FOUND))
    row = (
        await session.execute(
            select(Application, Applicant)
            .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
            .where(col(Application.public_id) == public_id)
        )
    ).first()
    if row is None:
        raise NotFound(_(NOT_FOUND))
    return row[0], row[1]


@dataclass(frozen=True)
class StatusView:
    application: Application
    applicant: Applicant
    events: list[Event]
    samples: list[WorkSample]


async def status_view(session: AsyncSession, public_id: str) -> StatusView:
    """What the status page shows: the state, the public timeline and the sample titles."""
    application, applicant = await application_by_public_id(session, public_id)
    events = (
        await session.scalars(
            select(Event)
            .where(col(Event.application_id) == application.id, col(Event.is_public))
            .order_by(col(Event.created_at), col(Event.id))
        )
    ).all()
    samples = (
        await session.scalars(
            select(WorkSample)
            .where(col(WorkSample.application_id) == application.id)
            .order_by(col(WorkSample.position))
        )
    ).all()
    return StatusView(application, applicant, list(events), list(samples))
