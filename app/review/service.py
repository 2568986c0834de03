"""Applying workflow moves: one function changes the state, writes the event and queues the mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app import workflow
from app.errors import Conflict, Invalid
from app.mail.outbox import enqueue
from app.models import Applicant, Application, Event, State, User, utcnow
from app.settings import Settings
from app.workflow import Actor


async def transition(
    session: AsyncSession,
    *,
    settings: Settings,
    application: Application,
    applicant: Applicant,
    to: State,
    actor: Actor,
    user: User | None = None,
    reason: str | None = None,
    message: str | None = None,
    now: datetime | None = None,
) -> Event:
    """Move `application` to `to` if the table allows `actor` to; Conflict otherwise."""
    now = now or utcnow()
    source = State(application.state)
    move = workflow.find_move(source, to, actor)
    if move is None:
        raise Conflict(
            f"This application is {workflow.STAFF_LABELS[source].lower()} and cannot be moved to "
            f"{workflow.STAFF_LABELS[to].lower()} now."
        )
    if move.message_required and not (message or "").strip():
        raise Invalid("A message to the applicant is required.", {"message": "Write a message."})
    if move.reason_required and not (reason or "").strip():
        raise Invalid("A reason is required.", {"reason": "Give a reason (kept internal)."})

    application.state = to
    application.state_changed_at = now
    application.updated_at = now
    due = workflow.DEFAULT_DUE.get(to)
    application.due_at = now + due if due else None
    if workflow.is_final(to):
        application.decided_at = now
    session.add(application)
    event = Event(
        application_id=application.id,  # type: ignore[arg-type]
        kind="state_changed",
        actor=actor.value,
        actor_user_id=user.id if user else None,
        from_state=source,
        to_state=to,
        message=message,
        data={"reason": reason} if reason else {},
        is_public=workflow.PUBLIC_LABELS[source] != workflow.PUBLIC_LABELS[to],
        created_at=now,
    )
    session.add(event)
    try:
        await session.flush()
    except StaleDataError:
        raise Conflict(
            "Someone else changed this application at the same time. Reload it and try again."
        ) from None

    status_url = f"{settings.base_url}/status/{application.public_id}"
    if move.notify.template and source != State.spam:
        await enqueue(
            session,
            settings=settings,
            template=move.notify.template,
            recipient=applicant.email,
            recipient_name=applicant.name,
            dedupe_key=f"event:{event.id}:applicant",
            context={
                "applicant_name": applicant.name,
                "status_url": status_url,
                "state_label": workflow.PUBLIC_LABELS[to],
                "message": message or "",
            },
            application_id=application.id,
            hold=move.notify.hold,
            now=now,
        )
    if actor == Actor.applicant and application.assigned_editor_id is not None:
        editor = await session.get(User, application.assigned_editor_id)
        if editor is not None and editor.is_active:
            await enqueue(
                session,
                settings=settings,
                template="staff_applicant_withdrew" if to == State.withdrawn else "staff_applicant_replied",
                recipient=editor.email,
                recipient_name=editor.name,
                dedupe_key=f"event:{event.id}:user:{editor.id}",
                context={"applicant_name": applicant.name, "application_id": application.id},
                application_id=application.id,
                user_id=editor.id,
                is_staff=True,
                now=now,
            )
    await session.flush()
    return event
