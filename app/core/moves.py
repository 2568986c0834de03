"""Workflow moves: the one place an application changes state.

`transition` checks the workflow table (app/core/workflow.py), the person's role, the form's version
and the guards, writes exactly one event, keeps the per-state counts and queues the mail and webhook
deliveries the move's policy asks for, all in the caller's transaction. Every feature that moves an
application (the editors' pages and API, the applicant's reply and withdrawal, erasure) calls it.
"""

from __future__ import annotations

from datetime import datetime

from litestar.datastructures import FormMultiDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from app.core import counts, links, site, workflow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.forms import int_or_none
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.core.outbound import enqueue, enqueue_for_staff, queue_state_change
from app.core.staff import StaffUser
from app.core.workflow import Actor, Facts
from app.models import (
    Applicant,
    Application,
    Event,
    FactCheckTask,
    State,
    TaskState,
    Trial,
    TrialState,
    User,
    utcnow,
)
from app.settings import Settings


def version_of(form: FormMultiDict) -> int:
    """The application version a form was rendered from; a form without one is refused."""
    version = int_or_none(form.get("version"))
    if version is None:
        raise Conflict(
            N_(
                "This form does not say which version of the application it was made from, so nothing was "
                "saved. Reload the page and try again."
            )
        )
    return version


class StaleForm(Conflict):
    """A form rendered from an older version of the application; the page shows what changed since."""

    template = "review/conflict.html"


async def load_facts(session: AsyncSession, application_id: int, *, now: datetime | None = None) -> Facts:
    """What the workflow guards need: the application's live fact-check tasks and how many are still open,
    and its offered trial (if any): whether it is still running at `now` (no piece in, the deadline ahead)."""
    rows = (
        await session.execute(
            select(col(FactCheckTask.state), func.count())
            .where(col(FactCheckTask.application_id) == application_id)
            .group_by(col(FactCheckTask.state))
        )
    ).all()
    counts = {state: int(n) for state, n in rows}
    open_tasks = counts.get(TaskState.open, 0) + counts.get(TaskState.in_progress, 0)
    offered = (
        await session.scalars(
            select(col(Trial.deadline_at)).where(
                col(Trial.application_id) == application_id, col(Trial.state) == TrialState.offered
            )
        )
    ).all()
    now = now or utcnow()
    return Facts(
        tasks=open_tasks + counts.get(TaskState.done, 0),
        open_tasks=open_tasks,
        trial_offered=bool(offered),
        trial_running=any(deadline > now for deadline in offered),
    )


async def load_application(session: AsyncSession, application_id: int) -> tuple[Application, Applicant]:
    row = (
        await session.execute(
            select(Application, Applicant)
            .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
            .where(col(Application.id) == application_id)
        )
    ).first()
    if row is None:
        raise NotFound(N_("There is no application with this number."))
    return row[0], row[1]


async def check_version(session: AsyncSession, application: Application, seen_version: int | None) -> None:
    """StaleForm when the form was rendered from another version than the one stored now."""
    if seen_version is None or seen_version == application.version:
        return
    events = (
        await session.scalars(
            select(Event)
            .where(col(Event.application_id) == application.id)
            .order_by(col(Event.created_at), col(Event.id))
        )
    ).all()
    changes = [event for event in events if int(event.data.get("version", 0)) > seen_version]
    raise StaleForm(
        N_(
            "Someone else changed this application after you opened it. Nothing was saved: "
            "look at what changed, then try again."
        ),
        application=application,
        changes=changes,
    )


def _stale() -> Conflict:
    return Conflict(N_("Someone else changed this application at the same time. Reload it and try again."))


async def flush_versioned(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError:
        raise _stale() from None


async def transition(
    session: AsyncSession,
    *,
    settings: Settings,
    application: Application,
    applicant: Applicant,
    to: State,
    actor: Actor,
    user: StaffUser | None = None,
    reason: str | None = None,
    message: str | None = None,
    expected_version: int | None = None,
    data: dict[str, object] | None = None,
    now: datetime | None = None,
) -> Event:
    """Make one workflow move if the table, the person's role and the guards allow it; Conflict otherwise."""
    now = now or utcnow()
    if application.erased_at is not None:
        raise Conflict(N_("This application's personal data was erased: it can no longer be moved."))
    source = State(application.state)
    move = workflow.find_move(source, to, actor)
    if move is None:
        raise Conflict(
            _(
                "This application is at “%(state)s” and cannot be moved to “%(target)s” now.",
                state=_(workflow.STAFF_LABELS[source]),
                target=_(workflow.STAFF_LABELS[to]),
            )
        )
    if move.role is not None and (user is None or not workflow.may_make(move, user.roles)):
        raise Forbidden(N_("Your role does not allow this move."))
    await check_version(session, application, expected_version)
    assert application.id is not None
    problems = workflow.problems(move, await load_facts(session, application.id, now=now))
    if problems:
        raise Conflict(" ".join(problems))
    message = (message or "").strip() or None
    reason = (reason or "").strip() or None
    if move.message_required and not message:
        raise Invalid(N_("A message to the applicant is required."), {"message": N_("Write a message.")})
    if move.reason_required and not reason:
        raise Invalid(N_("A reason is required."), {"reason": N_("Give a reason (kept internal).")})

    application.state = to
    application.state_changed_at = now
    application.updated_at = now
    due = workflow.due_after(to, await site.due_days(session))
    application.due_at = now + due if due else None
    application.decided_at = now if workflow.is_final(to) else None
    session.add(application)
    await flush_versioned(session)
    await counts.shift(session, application.id, source, to)
    event = Event(
        application_id=application.id,
        kind="state_changed",
        actor=actor.value,
        actor_user_id=user.id if user else None,
        from_state=source,
        to_state=to,
        message=message,
        data={"version": application.version, **(data or {}), **({"reason": reason} if reason else {})},
        is_public=workflow.PUBLIC_LABELS[source] != workflow.PUBLIC_LABELS[to],
        created_at=now,
    )
    session.add(event)
    await session.flush()
    await queue_state_change(session, settings=settings, event=event)

    # Spam looks like a received application to its sender: leaving spam tells them nothing.
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
                "status_url": links.status_url(settings, application.public_id),
                "state": to.value,
                "state_label": workflow.PUBLIC_LABELS[to],
                "message": message or "",
            },
            application_id=application.id,
            hold=move.notify.hold,
            now=now,
            locale=application.locale,
        )
    if actor == Actor.applicant and application.assigned_editor_id is not None:
        await notify_user(
            session,
            settings=settings,
            user_id=application.assigned_editor_id,
            template="staff_applicant_withdrew" if to == State.withdrawn else "staff_applicant_replied",
            event=event,
            application=application,
            applicant=applicant,
            now=now,
        )
    await session.flush()
    return event


async def notify_user(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: int,
    template: str,
    event: Event,
    application: Application,
    applicant: Applicant,
    now: datetime,
) -> None:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        return
    await enqueue_for_staff(
        session,
        settings=settings,
        template=template,
        user=user,
        dedupe_key=f"event:{event.id}:user:{user.id}",
        context={
            "applicant_name": applicant.name,
            "application_url": links.absolute(settings, "application", application_id=application.id),
            "message": event.message or "",
        },
        application_id=application.id,
        now=now,
    )
