"""Read side of the fact-check pages: a person's tasks, one task with its sample, and who may see it.

A fact-checker sees only the tasks assigned to them and what those tasks need: the sample and its claims, not
the applicant's file (docs/security.md C2), and the tasks waiting at the desk for any fact-checker to take.
Editors see every task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import NotFound
from app.core.i18n import gettext as _
from app.core.staff import StaffUser
from app.factcheck import extract
from app.models import Claim, FactCheckTask, SampleKind, TaskState, TrialPiece, User, WorkSample
from app.settings import Settings

DUE_SOON = timedelta(hours=48)
RECENT = timedelta(days=30)


@dataclass(frozen=True)
class TaskRow:
    id: int
    state: str
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None
    overall_verdict: str | None
    sample_title: str | None
    assignee: str | None  # None: waiting at the desk
    claims: int
    trial_piece: bool = False


@dataclass(frozen=True)
class MyTasks:
    overdue: list[TaskRow]
    due_soon: list[TaskRow]
    later: list[TaskRow]
    completed: list[TaskRow]
    created: list[TaskRow]
    desk: list[TaskRow]  # live tasks without a fact-checker, for one to take


async def _task_rows(session: AsyncSession, *conditions: ColumnElement[bool]) -> list[TaskRow]:
    claims = (
        select(func.count()).where(col(Claim.task_id) == col(FactCheckTask.id)).correlate(FactCheckTask)
    ).scalar_subquery()
    rows = await session.execute(
        select(
            col(FactCheckTask.id),
            col(FactCheckTask.state),
            col(FactCheckTask.due_at),
            col(FactCheckTask.created_at),
            col(FactCheckTask.completed_at),
            col(FactCheckTask.overall_verdict),
            col(WorkSample.title),
            col(User.name),
            claims,
            col(FactCheckTask.trial_piece_id).is_not(None),
        )
        .outerjoin(User, col(User.id) == col(FactCheckTask.assignee_id))
        .outerjoin(WorkSample, col(WorkSample.id) == col(FactCheckTask.sample_id))
        .where(*conditions)
        .order_by(col(FactCheckTask.due_at), col(FactCheckTask.id))
        .limit(500)
    )
    return [TaskRow(*row) for row in rows.all()]


async def my_tasks(session: AsyncSession, staff: StaffUser, now: datetime) -> MyTasks:
    """The person's open tasks by urgency, those they finished lately, and (editors) those they created."""
    live = col(FactCheckTask.state).in_([TaskState.open, TaskState.in_progress])
    mine = await _task_rows(session, col(FactCheckTask.assignee_id) == staff.id, live)
    completed = await _task_rows(
        session,
        col(FactCheckTask.assignee_id) == staff.id,
        col(FactCheckTask.state) == TaskState.done,
        col(FactCheckTask.completed_at) >= now - RECENT,
    )
    created = (
        await _task_rows(
            session,
            col(FactCheckTask.creator_id) == staff.id,
            or_(live, col(FactCheckTask.completed_at) >= now - RECENT),
        )
        if staff.is_editor
        else []
    )
    desk = await _task_rows(session, col(FactCheckTask.assignee_id).is_(None), live)
    return MyTasks(
        overdue=[row for row in mine if row.due_at < now],
        due_soon=[row for row in mine if now <= row.due_at < now + DUE_SOON],
        later=[row for row in mine if row.due_at >= now + DUE_SOON],
        completed=sorted(completed, key=lambda row: row.completed_at or now, reverse=True),
        created=created,
        desk=desk,
    )


async def task_for(session: AsyncSession, task_id: int, staff: StaffUser) -> FactCheckTask:
    """The task if this person may see it: its fact-checker, any fact-checker while it waits at the desk,
    or an editor. Anyone else gets a 404 (C2)."""
    task = await session.get(FactCheckTask, task_id)
    at_desk = (
        task is not None
        and task.assignee_id is None
        and task.state in (TaskState.open, TaskState.in_progress)
    )
    if task is None or not (
        staff.is_editor or task.assignee_id == staff.id or (at_desk and staff.is_fact_checker)
    ):
        raise NotFound(_("There is no such task."))
    return task


@dataclass(frozen=True)
class Segment:
    """A piece of the sample's text; `claim` is the 1-based number of the claim it quotes, if any."""

    text: str
    claim: int | None = None


def highlight(text: str, quotes: list[str]) -> list[Segment]:
    """The text cut into plain pieces and the first place each claim is quoted."""
    marks: list[tuple[int, int, int]] = []
    for number, quote in enumerate(quotes, start=1):
        at = text.find(quote) if quote else -1
        if at >= 0 and all(at >= end or at + len(quote) <= start for start, end, _ in marks):
            marks.append((at, at + len(quote), number))
    segments: list[Segment] = []
    position = 0
    for start, end, number in sorted(marks):
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], number))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


@dataclass(frozen=True)
class TaskPage:
    task: FactCheckTask
    claims: list[Claim]
    sample: WorkSample | None
    segments: list[Segment]
    assignee: User | None  # None: waiting at the desk
    creator: User | None
    checkers: list[tuple[User, int]]
    piece: TrialPiece | None = None
    # The trial piece's sentences not yet claims, to pick more claims from.
    sentences: tuple[str, ...] = ()

    @property
    def live(self) -> bool:
        return self.task.state in (TaskState.open, TaskState.in_progress)

    @property
    def located(self) -> set[int]:
        return {segment.claim for segment in self.segments if segment.claim is not None}


async def task_page(
    session: AsyncSession, task: FactCheckTask, *, settings: Settings, checkers: list[tuple[User, int]]
) -> TaskPage:
    claims = list(
        (
            await session.scalars(
                select(Claim).where(col(Claim.task_id) == task.id).order_by(col(Claim.position))
            )
        ).all()
    )
    sample = await session.get(WorkSample, task.sample_id) if task.sample_id else None
    piece = await session.get(TrialPiece, task.trial_piece_id) if task.trial_piece_id else None
    text = extract.sample_text(sample) if sample else piece_text(piece) if piece else ""
    quoted = {claim.quote for claim in claims}
    return TaskPage(
        task=task,
        claims=claims,
        sample=sample,
        segments=highlight(text, [claim.quote for claim in claims]) if text else [],
        assignee=await session.get(User, task.assignee_id) if task.assignee_id else None,
        creator=await session.get(User, task.creator_id),
        checkers=checkers,
        piece=piece,
        sentences=tuple(s for s in extract.sentences(text) if " ".join(s.split()) not in quoted)
        if piece
        else (),
    )


def piece_text(piece: TrialPiece) -> str:
    """A trial piece's text: pasted as it is, a file's text as read at upload ("" if none)."""
    if piece.kind == SampleKind.text:
        return piece.text or ""
    return piece.extracted_text or ""
