"""Reminders of open fact-check tasks: before the due time, when it passes, then to the task's creator.

Every worker runs `queue_task_reminders` once a minute (a job registered in app/main.py). Each reminder is
an outbox row whose dedupe key names the task, the kind and the due time, so it is queued once: across
restarts, with several workers at once (a second insert of the same key is skipped in its own savepoint), and
again only if an editor moves the due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import links
from app.core.outbound import enqueue_for_staff
from app.models import Claim, FactCheckTask, OutboxEmail, TaskState, User
from app.settings import Settings


@dataclass(frozen=True)
class Reminder:
    task: FactCheckTask
    kind: str  # due_soon, overdue, escalated; desk_overdue (to the creator: nobody took it from the desk)
    recipient: User
    checker: User | None

    @property
    def dedupe_key(self) -> str:
        return f"task:{self.task.id}:reminder:{self.kind}:{int(self.task.due_at.timestamp())}"


def kinds_due(task: FactCheckTask, settings: Settings, now: datetime) -> list[str]:
    """The reminders a task has earned by `now` (an overdue task skips the "due soon" one)."""
    due = task.due_at
    kinds: list[str] = []
    before = timedelta(hours=settings.task_remind_before_hours)
    if settings.task_remind_before_hours and due - before <= now < due:
        kinds.append("due_soon")
    if now >= due:
        kinds.append("overdue")
        after = timedelta(hours=settings.task_escalate_after_hours)
        if settings.task_escalate_after_hours and now >= due + after:
            kinds.append("escalated")
    return kinds


async def _candidates(session: AsyncSession, settings: Settings, now: datetime) -> list[Reminder]:
    horizon = now + timedelta(hours=max(settings.task_remind_before_hours, 0))
    tasks = (
        await session.scalars(
            select(FactCheckTask).where(
                col(FactCheckTask.state).in_([TaskState.open, TaskState.in_progress]),
                col(FactCheckTask.due_at) <= horizon,
            )
        )
    ).all()
    people = {
        user.id: user
        for user in (
            await session.scalars(
                select(User).where(
                    col(User.id).in_(
                        {t.assignee_id for t in tasks if t.assignee_id is not None}
                        | {t.creator_id for t in tasks}
                    )
                )
            )
        ).all()
    }
    found: list[Reminder] = []
    for task in tasks:
        if task.assignee_id is None:
            # Waiting at the desk: nobody to remind; once it is overdue, its creator hears nobody took it.
            creator = people.get(task.creator_id)
            if now >= task.due_at and creator is not None and creator.is_active:
                found.append(Reminder(task, "desk_overdue", creator, None))
            continue
        checker = people.get(task.assignee_id)
        if checker is None:
            continue
        for kind in kinds_due(task, settings, now):
            recipient = people.get(task.creator_id) if kind == "escalated" else checker
            if recipient is not None and recipient.is_active:
                found.append(Reminder(task, kind, recipient, checker))
    return found


async def queue_task_reminders(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Queue every reminder that is due and not yet queued; returns how many were queued now."""
    reminders = await _candidates(session, settings, now)
    if not reminders:
        return 0
    queued = set(
        (
            await session.scalars(
                select(col(OutboxEmail.dedupe_key)).where(
                    col(OutboxEmail.dedupe_key).in_([r.dedupe_key for r in reminders])
                )
            )
        ).all()
    )
    count = 0
    for reminder in reminders:
        if reminder.dedupe_key in queued:
            continue
        task = reminder.task
        claims = await session.scalar(select(func.count()).where(col(Claim.task_id) == task.id))
        try:
            async with session.begin_nested():
                await enqueue_for_staff(
                    session,
                    settings=settings,
                    template="staff_task_reminder",
                    user=reminder.recipient,
                    dedupe_key=reminder.dedupe_key,
                    context={
                        "kind": reminder.kind,
                        "task_url": links.absolute(settings, "task_page", task_id=task.id),
                        "due_at": task.due_at.isoformat(),
                        "claims": int(claims or 0),
                        "checker_name": reminder.checker.name if reminder.checker else "",
                    },
                    application_id=task.application_id,
                    now=now,
                )
        except IntegrityError:  # another worker queued it first
            continue
        count += 1
    return count
