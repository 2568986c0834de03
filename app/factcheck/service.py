"""Fact-check tasks: an editor turns claims in a work sample into a task for a fact-checker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import links
from app.core.errors import Conflict, Invalid
from app.core.i18n import gettext as _
from app.core.i18n import ngettext
from app.core.limits import MAX_CLAIM_CHARS, MAX_CLAIMS
from app.core.outbound import enqueue_for_staff
from app.core.staff import StaffUser
from app.core.workflow import is_final
from app.models import Application, Claim, Event, FactCheckTask, TaskState, User, WorkSample
from app.settings import Settings


@dataclass(frozen=True)
class TaskInput:
    """A new task as a form or the API gives it, before any check."""

    assignee_id: int | None
    sample_id: int | None
    claims: list[str]
    due_at: datetime | None


def split_claims(text: str) -> list[str]:
    """One claim per non-empty line."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


async def fact_checkers_with_load(session: AsyncSession) -> list[tuple[User, int]]:
    """Active fact-checkers with the number of tasks they have open, lightest first."""
    open_count = (
        select(func.count())
        .where(
            col(FactCheckTask.assignee_id) == col(User.id),
            col(FactCheckTask.state).in_([TaskState.open, TaskState.in_progress]),
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(User, open_count)
        .where(col(User.is_active), col(User.is_fact_checker))
        .order_by(open_count, col(User.name))
    )
    return [(user, int(load)) for user, load in rows.all()]


async def create_task(
    session: AsyncSession,
    *,
    settings: Settings,
    application: Application,
    by: StaffUser,
    assignee_id: int | None,
    sample_id: int | None,
    claims: list[str],
    due_at: datetime | None,
    now: datetime,
) -> FactCheckTask:
    """Create a task with its claims, record it on the timeline and tell the fact-checker."""
    if is_final(application.state):
        raise Conflict(_("This application is closed; it needs no more fact checks."))
    errors: dict[str, str] = {}
    assignee = await session.get(User, assignee_id) if assignee_id else None
    if assignee is None or not assignee.is_active or not assignee.is_fact_checker:
        errors["task_assignee"] = _("Choose a fact-checker.")
    sample = await session.get(WorkSample, sample_id) if sample_id else None
    if sample_id and (sample is None or sample.application_id != application.id):
        errors["task_sample"] = _("Choose one of this application's samples.")
    if not claims:
        errors["task_claims"] = _("Give at least one claim to check, one per line.")
    elif len(claims) > MAX_CLAIMS:
        errors["task_claims"] = ngettext(
            "At most %(num)s claim per task.", "At most %(num)s claims per task.", MAX_CLAIMS
        )
    elif any(len(claim) > MAX_CLAIM_CHARS for claim in claims):
        errors["task_claims"] = ngettext(
            "Each claim can be at most %(num)s character long.",
            "Each claim can be at most %(num)s characters long.",
            MAX_CLAIM_CHARS,
        )
    due_at = due_at or now + timedelta(days=settings.task_due_days)
    if due_at <= now:
        errors["task_due"] = _("The due date must be in the future.")
    if errors:
        raise Invalid(_("The fact-check task is not complete."), errors)
    assert assignee is not None and assignee.id is not None and application.id is not None
    task = FactCheckTask(
        application_id=application.id,
        sample_id=sample.id if sample else None,
        assignee_id=assignee.id,
        creator_id=by.id,
        due_at=due_at,
        state=TaskState.open,
        created_at=now,
    )
    session.add(task)
    await session.flush()
    assert task.id is not None
    for position, quote in enumerate(claims):
        session.add(Claim(task_id=task.id, position=position, quote=quote))
    event = Event(
        application_id=application.id,
        kind="task_created",
        actor="editor",
        actor_user_id=by.id,
        message=f"Fact-check task for {assignee.name}: {len(claims)} claim(s)",
        data={
            "task_id": task.id,
            "assignee_id": assignee.id,
            "assignee_name": assignee.name,
            "claims": len(claims),
        },
        created_at=now,
    )
    session.add(event)
    await session.flush()
    await enqueue_for_staff(
        session,
        settings=settings,
        template="staff_task_assigned",
        user=assignee,
        dedupe_key=f"task:{task.id}:assigned:{assignee.id}",
        context={
            "task_url": links.absolute(settings, "task_page", task_id=task.id),
            "claims": len(claims),
            "due_at": due_at.isoformat(),
            "creator_name": by.name,
        },
        application_id=application.id,
        now=now,
    )
    return task
