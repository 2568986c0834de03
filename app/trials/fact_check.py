"""The fact check of a trial piece: the task made when the piece arrives, and its state on the panel.

The task has no claims yet: its fact-checker picks them from the piece's sentences on the task page. When the
editor chose no fact-checker (or the one chosen has left), the task waits at the desk until one takes it, and
every active fact-checker is told once. Like any other task it holds a decision until it is done or cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import links
from app.core.outbound import enqueue_for_staff
from app.core.staff import StaffUser
from app.models import Application, Claim, Event, FactCheckTask, TaskState, Trial, TrialPiece, User
from app.settings import Settings


async def _creator_id(session: AsyncSession, trial: Trial) -> int | None:
    """Who the task is from: the editor who offered the trial, else the application's editor, else any."""
    if trial.offered_by_id is not None:
        return trial.offered_by_id
    application = await session.get(Application, trial.application_id)
    if application is not None and application.assigned_editor_id is not None:
        return application.assigned_editor_id
    return await session.scalar(
        select(col(User.id)).where(col(User.is_active), col(User.is_editor)).order_by(col(User.id)).limit(1)
    )


async def create_piece_task(
    session: AsyncSession, settings: Settings, *, trial: Trial, piece: TrialPiece, now: datetime
) -> FactCheckTask | None:
    """Create the fact-check task on the piece for `trial.fact_checker_id` (or for the desk to take)."""
    creator_id = await _creator_id(session, trial)
    if creator_id is None:  # no editor at all: nobody could read the result
        return None
    checker = await session.get(User, trial.fact_checker_id) if trial.fact_checker_id else None
    if checker is not None and not (checker.is_active and checker.is_fact_checker):
        checker = None
    due_at = now + timedelta(days=settings.task_due_days)
    task = FactCheckTask(
        application_id=trial.application_id,
        sample_id=None,
        trial_piece_id=piece.id,
        assignee_id=checker.id if checker else None,
        creator_id=creator_id,
        due_at=due_at,
        state=TaskState.open,
        created_at=now,
    )
    session.add(task)
    await session.flush()
    assert task.id is not None
    session.add(
        Event(
            application_id=trial.application_id,
            kind="trial_task_created",
            actor="system",
            message=(
                f"Fact-check task #{task.id} on the trial piece for {checker.name}"
                if checker
                else f"Fact-check task #{task.id} on the trial piece waits at the desk"
            ),
            data={
                "task_id": task.id,
                "trial_id": trial.id,
                "piece_id": piece.id,
                "assignee_id": checker.id if checker else None,
                "assignee_name": checker.name if checker else None,
            },
            created_at=now,
        )
    )
    await session.flush()
    creator = await session.get(User, creator_id)
    context = {
        "task_url": links.absolute(settings, "task_page", task_id=task.id),
        "claims": 0,
        "due_at": due_at.isoformat(),
        "creator_name": creator.name if creator else "",
        "piece": True,
        "desk": checker is None,
    }
    recipients = (
        [checker]
        if checker
        else (
            await session.scalars(
                select(User).where(col(User.is_active), col(User.is_fact_checker)).order_by(col(User.id))
            )
        ).all()
    )
    for user in recipients:
        await enqueue_for_staff(
            session,
            settings=settings,
            template="staff_task_assigned",
            user=user,
            dedupe_key=f"task:{task.id}:{'desk' if checker is None else 'assigned'}:{user.id}",
            context=context,
            application_id=trial.application_id,
            now=now,
        )
    return task


@dataclass(frozen=True)
class PieceTask:
    """A fact-check task on the trial piece as the panel shows it."""

    id: int
    state: str
    assignee: str | None  # None: waiting at the desk
    overall_verdict: str | None
    due_at: datetime
    claims: int


async def panel(
    session: AsyncSession, trial: Trial, piece: TrialPiece | None, staff: StaffUser
) -> dict[str, Any]:
    """The piece's fact-check tasks (`piece_tasks`), newest last."""
    if piece is None or piece.id is None:
        return {"piece_tasks": []}
    rows = (
        await session.execute(
            select(FactCheckTask, col(User.name))
            .outerjoin(User, col(User.id) == col(FactCheckTask.assignee_id))
            .where(col(FactCheckTask.trial_piece_id) == piece.id)
            .order_by(col(FactCheckTask.id))
        )
    ).all()
    counts: dict[int, int] = {}
    if rows:
        for task_id in (
            await session.scalars(
                select(col(Claim.task_id)).where(col(Claim.task_id).in_([task.id for task, _ in rows]))
            )
        ).all():
            counts[task_id] = counts.get(task_id, 0) + 1
    return {
        "piece_tasks": [
            PieceTask(
                id=task.id or 0,
                state=task.state,
                assignee=name,
                overall_verdict=task.overall_verdict,
                due_at=task.due_at,
                claims=counts.get(task.id or 0, 0),
            )
            for task, name in rows
        ]
    }
