"""Reading back what requests stored: an application, its samples, tasks and mail, webhook deliveries, trial
fees, timeline events, counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from app.core.db import Database
from app.models import (
    Application,
    Event,
    FactCheckTask,
    OutboxEmail,
    Trial,
    TrialFee,
    TrialPiece,
    User,
    WebhookDelivery,
    WorkSample,
)


async def stored(db: Database, app_id: int) -> Application:
    async with db.sessionmaker() as session:
        application = await session.get(Application, app_id)
        assert application is not None
        return application


async def application_id(db: Database, public_id: str) -> int:
    """The id of the application whose status page is /status/<public_id>."""
    async with db.sessionmaker() as session:
        found = await session.scalar(select(Application.id).where(col(Application.public_id) == public_id))
    assert found is not None, public_id
    return int(found)


async def outbox(
    db: Database, app_id: int | None = None, *, template: str | None = None, to: str | None = None
) -> list[OutboxEmail]:
    """The outbox's rows in the order they were queued: about one application, of one template, to one address."""
    query = select(OutboxEmail).order_by(col(OutboxEmail.id))
    if app_id is not None:
        query = query.where(col(OutboxEmail.application_id) == app_id)
    if template is not None:
        query = query.where(col(OutboxEmail.template) == template)
    if to is not None:
        query = query.where(col(OutboxEmail.recipient) == to)
    async with db.sessionmaker() as session:
        return list((await session.scalars(query)).all())


async def samples_of(db: Database, app_id: int | None = None) -> list[WorkSample]:
    """The work samples of one application (or of all), in the order they were sent."""
    query = select(WorkSample).order_by(col(WorkSample.application_id), col(WorkSample.position))
    if app_id is not None:
        query = query.where(col(WorkSample.application_id) == app_id)
    async with db.sessionmaker() as session:
        return list((await session.scalars(query)).all())


async def tasks_of(db: Database, app_id: int) -> list[FactCheckTask]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(FactCheckTask)
            .where(col(FactCheckTask.application_id) == app_id)
            .order_by(col(FactCheckTask.id))
        )
        return list(rows.all())


async def webhook_deliveries(db: Database) -> list[WebhookDelivery]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(WebhookDelivery).order_by(col(WebhookDelivery.id)))).all())


async def count_rows(db: Database, model: Any) -> int:
    """How many rows the table of `model` holds."""
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def fee_of(db: Database, trial_id: int) -> TrialFee | None:
    """The fee of a trial, if it was accepted for payment."""
    async with db.sessionmaker() as session:
        return (await session.scalars(select(TrialFee).where(col(TrialFee.trial_id) == trial_id))).first()


async def events_of(db: Database, app_id: int, kind: str) -> list[Event]:
    """The application's timeline events of one kind, oldest first."""
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(Event)
            .where(col(Event.application_id) == app_id, col(Event.kind) == kind)
            .order_by(col(Event.id))
        )
        return list(rows.all())


async def staff_member(db: Database, email: str) -> User:
    """The staff account with this address."""
    async with db.sessionmaker() as session:
        return (await session.scalars(select(User).where(col(User.email) == email))).one()


async def trial_of(db: Database, app_id: int) -> Trial:
    """The application's latest trial."""
    async with db.sessionmaker() as session:
        trial = await session.scalar(
            select(Trial).where(col(Trial.application_id) == app_id).order_by(col(Trial.id).desc()).limit(1)
        )
    assert trial is not None, app_id
    return trial


async def trial_piece_of(db: Database, app_id: int) -> TrialPiece | None:
    """The piece (draft or sent) of the application's latest trial, if any."""
    trial = await trial_of(db, app_id)
    async with db.sessionmaker() as session:
        return await session.scalar(select(TrialPiece).where(col(TrialPiece.trial_id) == trial.id))


async def content_names(db: Database) -> tuple[int, dict[str, str]]:
    """The news department's id and every department and topic name as the admin content form posts them."""
    from app.models import Department, Topic

    async with db.sessionmaker() as session:
        news = (await session.scalars(select(Department).where(col(Department.slug) == "news"))).one()
        names = {
            f"{type(item).__name__.lower()}_{item.id}_name_{lang}": getattr(
                item, "name_ru" if lang == "ru" else "name"
            )
            for model in (Department, Topic)
            for item in (await session.scalars(select(model))).all()
            for lang in ("en", "ru")
        }
    return int(news.id), names
