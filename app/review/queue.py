"""Read side of the queue (`/dashboard`): filters, search, sorting, pages and counts per state.

Every query selects only the columns the page shows; the departments, topics, labels and task progress of a
page's rows come from one query each, whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import (
    Applicant,
    Application,
    ApplicationDepartment,
    ApplicationLabel,
    ApplicationTopic,
    Department,
    FactCheckTask,
    Label,
    State,
    TaskState,
    Topic,
    User,
)
from app.review import search
from app.workflow import OPEN_STATES, STAFF_LABELS

PAGE_SIZE = 50
MAX_PAGE = 10_000
STATE_CHOICES = ("open", "all", *(state.value for state in State))
SORTS = {
    "due": "Due soonest",
    "waited": "Waiting longest",
    "newest": "Newest",
    "oldest": "Oldest",
    "name": "Name A–Z",
}
ORDERED_STATES = [state for state in State if state != State.spam] + [State.spam]


def _flag(value: str) -> bool:
    return value in {"1", "on", "true", "yes"}


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows: read from the query string, every value checked against its choices."""

    state: str = "open"
    department: str = ""
    topic: str = ""
    assignee: str = ""
    label: str = ""
    overdue: bool = False
    repeat: bool = False
    tasks_overdue: bool = False
    q: str = ""
    sort: str = "due"
    page: int = 1

    @classmethod
    def from_query(cls, params: dict[str, str]) -> QueueFilters:
        state = params.get("state", "open")
        assignee = params.get("assignee", "")
        sort = params.get("sort", "due")
        page = params.get("page", "1")
        return cls(
            state=state if state in STATE_CHOICES else "open",
            department=params.get("department", "")[:40],
            topic=params.get("topic", "")[:40],
            assignee=assignee if assignee in {"me", "none"} or assignee.isdigit() else "",
            label=" ".join(params.get("label", "").split())[:40],
            overdue=_flag(params.get("overdue", "")),
            repeat=_flag(params.get("repeat", "")),
            tasks_overdue=_flag(params.get("tasks_overdue", "")),
            q=" ".join(params.get("q", "").split())[:200],
            sort=sort if sort in SORTS else "due",
            page=min(int(page), MAX_PAGE) if page.isdigit() and int(page) > 0 else 1,
        )

    def query(self, **changes: Any) -> str:
        """The query string of these filters with `changes`, leaving defaults out (page 1 unless given)."""
        changed = replace(self, **{"page": 1, **changes})
        pairs = {
            "state": changed.state if changed.state != "open" else "",
            "department": changed.department,
            "topic": changed.topic,
            "assignee": changed.assignee,
            "label": changed.label,
            "overdue": "1" if changed.overdue else "",
            "repeat": "1" if changed.repeat else "",
            "tasks_overdue": "1" if changed.tasks_overdue else "",
            "q": changed.q,
            "sort": changed.sort if changed.sort != "due" else "",
            "page": str(changed.page) if changed.page > 1 else "",
        }
        encoded = urlencode({key: value for key, value in pairs.items() if value})
        return f"?{encoded}" if encoded else "?"

    @property
    def narrowed(self) -> bool:
        """Whether anything besides the state tab narrows the list."""
        return any(
            (self.department, self.topic, self.assignee, self.label, self.overdue, self.repeat, self.q)
        )


@dataclass
class QueueRow:
    id: int
    name: str
    email: str
    state: str
    created_at: datetime
    state_changed_at: datetime
    due_at: datetime | None
    is_repeat: bool
    assignee: str | None
    departments: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    tasks_open: int = 0
    tasks_total: int = 0

    def waited(self, now: datetime) -> timedelta:
        return now - self.state_changed_at

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at < now


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    counts: dict[str, int]
    has_next: bool

    @property
    def open_count(self) -> int:
        return sum(n for state, n in self.counts.items() if state in OPEN_STATES)

    @property
    def all_count(self) -> int:
        return sum(self.counts.values())


def _narrowing(filters: QueueFilters, *, me: int, now: datetime, dialect: str) -> list[ColumnElement[bool]]:
    """Every condition but the state's: the counts per state use these alone."""
    conditions: list[ColumnElement[bool]] = []
    linked: list[tuple[str, Any, Any, Any, Any]] = [
        (
            filters.department,
            ApplicationDepartment,
            Department,
            ApplicationDepartment.department_id,
            Department.slug,
        ),
        (filters.topic, ApplicationTopic, Topic, ApplicationTopic.topic_id, Topic.slug),
        (filters.label, ApplicationLabel, Label, ApplicationLabel.label_id, Label.name),
    ]
    for value, link, target, key, column in linked:
        if value:
            conditions.append(
                col(Application.id).in_(
                    select(col(link.application_id))
                    .join(target, col(target.id) == col(key))
                    .where(col(column) == value)
                )
            )
    if filters.assignee == "me":
        conditions.append(col(Application.assigned_editor_id) == me)
    elif filters.assignee == "none":
        conditions.append(col(Application.assigned_editor_id).is_(None))
    elif filters.assignee:
        conditions.append(col(Application.assigned_editor_id) == int(filters.assignee))
    if filters.overdue:
        conditions.append(col(Application.due_at) < now)
    if filters.repeat:
        conditions.append(col(Application.is_repeat).is_(True))
    if filters.tasks_overdue:
        conditions.append(
            col(Application.id).in_(
                select(col(FactCheckTask.application_id)).where(
                    col(FactCheckTask.state).in_([TaskState.open, TaskState.in_progress]),
                    col(FactCheckTask.due_at) < now,
                )
            )
        )
    words = search.terms(filters.q)
    if words:
        conditions.append(search.matches(dialect, words))
    return conditions


def _state_condition(state: str) -> ColumnElement[bool] | None:
    if state == "all":
        return None
    if state == "open":
        return col(Application.state).in_(sorted(OPEN_STATES))
    return col(Application.state) == state


def _order(sort: str) -> list[Any]:
    if sort == "waited":
        return [col(Application.state_changed_at).asc(), col(Application.id).asc()]
    if sort == "newest":
        return [col(Application.created_at).desc(), col(Application.id).desc()]
    if sort == "oldest":
        return [col(Application.created_at).asc(), col(Application.id).asc()]
    if sort == "name":
        return [func.lower(col(Applicant.name)).asc(), col(Application.id).asc()]
    return [col(Application.due_at).asc().nulls_last(), col(Application.id).asc()]


async def state_counts(session: AsyncSession, conditions: list[ColumnElement[bool]]) -> dict[str, int]:
    rows = await session.execute(
        select(col(Application.state), func.count()).where(*conditions).group_by(col(Application.state))
    )
    return {state: int(count) for state, count in rows.all()}


async def _rows(
    session: AsyncSession, filters: QueueFilters, conditions: list[ColumnElement[bool]]
) -> list[QueueRow]:
    state = _state_condition(filters.state)
    where = [*conditions, state] if state is not None else conditions
    stmt = (
        select(
            col(Application.id),
            col(Applicant.name),
            col(Applicant.email),
            col(Application.state),
            col(Application.created_at),
            col(Application.state_changed_at),
            col(Application.due_at),
            col(Application.is_repeat),
            col(User.name),
        )
        .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
        .outerjoin(User, col(User.id) == col(Application.assigned_editor_id))
        .where(*where)
        .order_by(*_order(filters.sort))
        .limit(PAGE_SIZE + 1)
        .offset((filters.page - 1) * PAGE_SIZE)
    )
    return [QueueRow(*row) for row in (await session.execute(stmt)).all()]  # type: ignore[arg-type]


async def _add_details(session: AsyncSession, rows: list[QueueRow]) -> None:
    """Departments, topics, labels and task progress of the rows: four queries for the whole page."""
    by_id = {row.id: row for row in rows}
    ids = list(by_id)
    lists: list[tuple[Any, Any, Any, str]] = [
        (ApplicationDepartment, Department, ApplicationDepartment.department_id, "departments"),
        (ApplicationTopic, Topic, ApplicationTopic.topic_id, "topics"),
    ]
    for link, target, key, attr in lists:
        found = await session.execute(
            select(col(link.application_id), col(target.name))
            .join(target, col(target.id) == col(key))
            .where(col(link.application_id).in_(ids))
            .order_by(col(link.application_id), col(target.position))
        )
        for app_id, name in found.all():
            getattr(by_id[app_id], attr).append(name)
    labels = await session.execute(
        select(col(ApplicationLabel.application_id), col(Label.name))
        .join(Label, col(Label.id) == col(ApplicationLabel.label_id))
        .where(col(ApplicationLabel.application_id).in_(ids))
        .order_by(col(Label.name))
    )
    for app_id, name in labels.all():
        by_id[app_id].labels.append(name)
    tasks = await session.execute(
        select(col(FactCheckTask.application_id), col(FactCheckTask.state), func.count())
        .where(col(FactCheckTask.application_id).in_(ids))
        .group_by(col(FactCheckTask.application_id), col(FactCheckTask.state))
    )
    tally: dict[int, dict[str, int]] = defaultdict(dict)
    for app_id, task_state, count in tasks.all():
        tally[app_id][task_state] = int(count)
    for app_id, states in tally.items():
        row = by_id[app_id]
        row.tasks_open = states.get(TaskState.open, 0)
        row.tasks_total = sum(n for s, n in states.items() if s != TaskState.cancelled)


async def queue_page(session: AsyncSession, filters: QueueFilters, *, me: int, now: datetime) -> QueuePage:
    """One page of the queue and the counts per state under the same filters."""
    conditions = _narrowing(filters, me=me, now=now, dialect=session.get_bind().dialect.name)
    rows = await _rows(session, filters, conditions)
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if rows:
        await _add_details(session, rows)
    return QueuePage(rows=rows, counts=await state_counts(session, conditions), has_next=has_next)


@dataclass(frozen=True)
class Choices:
    """The options of the filter and bulk-action controls."""

    departments: list[tuple[str, str]]
    topics: list[tuple[str, str]]
    labels: list[str]
    editors: list[tuple[int, str]]
    states: list[tuple[str, str]]

    @property
    def label_options(self) -> list[tuple[str, str]]:
        return [(name, name) for name in self.labels]


async def choices(session: AsyncSession) -> Choices:
    departments = await session.execute(
        select(col(Department.slug), col(Department.name)).order_by(col(Department.position))
    )
    topics = await session.execute(select(col(Topic.slug), col(Topic.name)).order_by(col(Topic.position)))
    labels = await session.scalars(select(col(Label.name)).order_by(col(Label.name)))
    editors = await session.execute(
        select(col(User.id), col(User.name))
        .where(col(User.is_editor).is_(True), col(User.is_active).is_(True))
        .order_by(col(User.name))
    )
    return Choices(
        departments=[(slug, name) for slug, name in departments.all()],
        topics=[(slug, name) for slug, name in topics.all()],
        labels=list(labels.all()),
        editors=[(user_id, name) for user_id, name in editors.all() if user_id is not None],
        states=[(state.value, STAFF_LABELS[state]) for state in ORDERED_STATES],
    )
