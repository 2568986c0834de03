"""Workload and overdue work, as of now: open applications and fact-check tasks per person, and what is late.

The department narrows both; the date range does not (this is the work on the desk today).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import OPEN_STATE_VALUES, Applicant, Application, FactCheckTask, TaskState, User
from app.reports.queries import ReportFilters, in_department

OPEN_TASK_STATES = (TaskState.open.value, TaskState.in_progress.value)
OVERDUE_LISTED = 20
# Where a walk through overdue work resumes: the last due time and id read.
Due = tuple[datetime, int]


@dataclass(frozen=True)
class Workload:
    user_id: int
    name: str
    roles: list[str]
    applications: int
    applications_overdue: int
    tasks: int
    tasks_overdue: int


def _task_in_department(slug: str) -> list[ColumnElement[bool]]:
    if not slug:
        return []
    return [col(FactCheckTask.application_id).in_(select(col(Application.id)).where(*in_department(slug)))]


async def workload(session: AsyncSession, filters: ReportFilters, *, now: datetime) -> list[Workload]:
    """Each active editor's open applications and each fact-checker's open tasks, and how many are overdue."""
    department = filters.department

    def applications(*extra: ColumnElement[bool]) -> Any:
        return (
            select(func.count())
            .select_from(Application)
            .where(
                col(Application.assigned_editor_id) == col(User.id),
                col(Application.state).in_(OPEN_STATE_VALUES),
                *in_department(department),
                *extra,
            )
            .correlate(User)
            .scalar_subquery()
        )

    def tasks(*extra: ColumnElement[bool]) -> Any:
        return (
            select(func.count())
            .select_from(FactCheckTask)
            .where(
                col(FactCheckTask.assignee_id) == col(User.id),
                col(FactCheckTask.state).in_(OPEN_TASK_STATES),
                *_task_in_department(department),
                *extra,
            )
            .correlate(User)
            .scalar_subquery()
        )

    stmt = (
        select(
            col(User.id),
            col(User.name),
            col(User.is_editor),
            col(User.is_fact_checker),
            applications(),
            applications(col(Application.due_at) < now),
            tasks(),
            tasks(col(FactCheckTask.due_at) < now),
        )
        .where(col(User.is_active).is_(True), or_(col(User.is_editor), col(User.is_fact_checker)))
        .order_by(func.lower(col(User.name)), col(User.id))
    )
    return [
        Workload(
            user_id=row[0],
            name=row[1],
            roles=[role for role, on in (("editor", row[2]), ("fact-checker", row[3])) if on],
            applications=int(row[4]),
            applications_overdue=int(row[5]),
            tasks=int(row[6]),
            tasks_overdue=int(row[7]),
        )
        for row in (await session.execute(stmt)).all()
    ]


@dataclass(frozen=True)
class OverdueItem:
    kind: str  # "application" or "task"
    id: int
    application_id: int
    applicant: str
    state: str
    assignee: str | None
    due_at: datetime


@dataclass(frozen=True)
class Overdue:
    """Overdue applications by state and overdue fact-check tasks, with the longest waits."""

    by_state: dict[str, tuple[int, datetime | None]]
    tasks: tuple[int, datetime | None]
    items: list[OverdueItem]

    @property
    def applications(self) -> int:
        return sum(n for n, _ in self.by_state.values())


def overdue_applications(slug: str, now: datetime, after: Due | None = None) -> Select[*tuple[Any, ...]]:
    """Overdue open applications, most overdue first, from after the keyset `after` (due time, id)."""
    stmt: Select[*tuple[Any, ...]] = (
        select(
            literal("application"),
            col(Application.id),
            col(Application.id),
            col(Applicant.name),
            col(Application.state),
            col(User.name),
            col(Application.due_at),
        )
        .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
        .outerjoin(User, col(User.id) == col(Application.assigned_editor_id))
        .where(
            col(Application.state).in_(OPEN_STATE_VALUES),
            col(Application.due_at) < now,
            *in_department(slug),
            *_after(col(Application.due_at), col(Application.id), after),
        )
        .order_by(col(Application.due_at), col(Application.id))
    )
    return stmt


def overdue_tasks(slug: str, now: datetime, after: Due | None = None) -> Select[*tuple[Any, ...]]:
    """Open fact-check tasks past their due time, most overdue first, from after the keyset `after`."""
    stmt: Select[*tuple[Any, ...]] = (
        select(
            literal("task"),
            col(FactCheckTask.id),
            col(FactCheckTask.application_id),
            col(Applicant.name),
            col(FactCheckTask.state),
            col(User.name),
            col(FactCheckTask.due_at),
        )
        .join(Application, col(Application.id) == col(FactCheckTask.application_id))
        .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
        .outerjoin(User, col(User.id) == col(FactCheckTask.assignee_id))
        .where(
            col(FactCheckTask.state).in_(OPEN_TASK_STATES),
            col(FactCheckTask.due_at) < now,
            *_task_in_department(slug),
            *_after(col(FactCheckTask.due_at), col(FactCheckTask.id), after),
        )
        .order_by(col(FactCheckTask.due_at), col(FactCheckTask.id))
    )
    return stmt


def _after(due: Any, key: Any, after: Due | None) -> list[ColumnElement[bool]]:
    """The condition that a row comes after the keyset `after` in (due time, id) order (none at the start)."""
    if after is None:
        return []
    return [or_(due > after[0], and_(due == after[0], key > after[1]))]


def overdue_item(row: Sequence[Any]) -> OverdueItem:
    """A row of `overdue_applications` or `overdue_tasks` (their columns are the item's fields, in order)."""
    return OverdueItem(*row)


async def overdue(session: AsyncSession, filters: ReportFilters, *, now: datetime) -> Overdue:
    """Counts of overdue work and the most overdue applications and tasks."""
    late = col(Application.due_at) < now
    by_state = (
        await session.execute(
            select(col(Application.state), func.count(), func.min(col(Application.due_at)))
            .where(col(Application.state).in_(OPEN_STATE_VALUES), late, *in_department(filters.department))
            .group_by(col(Application.state))
        )
    ).all()
    tasks = (
        await session.execute(
            select(func.count(), func.min(col(FactCheckTask.due_at))).where(
                col(FactCheckTask.state).in_(OPEN_TASK_STATES),
                col(FactCheckTask.due_at) < now,
                *_task_in_department(filters.department),
            )
        )
    ).one()
    items = [
        overdue_item(row)
        for stmt in (overdue_applications(filters.department, now), overdue_tasks(filters.department, now))
        for row in (await session.execute(stmt.limit(OVERDUE_LISTED))).all()
    ]
    items.sort(key=lambda item: (item.due_at, item.kind, item.id))
    return Overdue(
        by_state={str(state): (int(n), oldest) for state, n, oldest in by_state},
        tasks=(int(tasks[0]), tasks[1]),
        items=items[:OVERDUE_LISTED],
    )
